"""State survives a restart, and `kill -9` in the middle of a burst of StartSigningJob loses no acknowledged job."""
import os
import threading
import time

import botocore

from signer_server import SignerServer


def prepare(server, run, payload_size=64 * 1024):
    s3, acm, signer = server.client("s3"), server.client("acm"), server.client("signer")
    s3.create_bucket(Bucket="durable-fw")
    s3.put_bucket_versioning(Bucket="durable-fw", VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket="durable-fw", Key="app.bin", Body=os.urandom(payload_size))["VersionId"]
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", "d.pem", "--key-out", "d.key", "--force")
    arn = acm.import_certificate(Certificate=(run.cwd / "d.pem").read_bytes(), PrivateKey=(run.cwd / "d.key").read_bytes())["CertificateArn"]
    signer.put_signing_profile(profileName="durable", platformId="AmazonFreeRTOS-Default", signingMaterial={"certificateArn": arn})
    return version, arn


def job_request(version):
    return dict(source={"s3": {"bucketName": "durable-fw", "key": "app.bin", "version": version}},
                destination={"s3": {"bucketName": "durable-fw", "prefix": "signed/"}}, profileName="durable")


def wait_succeeded(signer, job_ids, timeout=60):
    deadline = time.monotonic() + timeout
    pending = set(job_ids)
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            status = signer.describe_signing_job(jobId=job_id)["status"]
            assert status != "Failed", signer.describe_signing_job(jobId=job_id)["statusReason"]
            if status == "Succeeded":
                pending.discard(job_id)
        time.sleep(0.05)
    assert not pending, f"{len(pending)} jobs never finished"


def test_restart_keeps_profiles_jobs_buckets_and_certificates(run, otarig_bin, tmp_path):
    server = SignerServer(otarig_bin, tmp_path).start()
    try:
        version, arn = prepare(server, run)
        job_id = server.client("signer").start_signing_job(**job_request(version))["jobId"]
        wait_succeeded(server.client("signer"), [job_id])
    finally:
        server.stop()
    server.start()
    try:
        signer, s3, acm = server.client("signer"), server.client("s3"), server.client("acm")
        assert signer.get_signing_profile(profileName="durable")["signingMaterial"]["certificateArn"] == arn
        job = signer.describe_signing_job(jobId=job_id)
        assert job["status"] == "Succeeded"
        assert s3.get_object(Bucket="durable-fw", Key=f"signed/{job_id}")["ContentLength"] > 64 * 1024
        assert s3.get_object(Bucket="durable-fw", Key="app.bin", VersionId=version)["ContentLength"] == 64 * 1024
        assert [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]] == [arn]
        assert s3.get_bucket_versioning(Bucket="durable-fw")["Status"] == "Enabled"
    finally:
        server.stop()


def test_kill_9_during_a_burst_loses_no_acknowledged_job(run, otarig_bin, tmp_path):
    server = SignerServer(otarig_bin, tmp_path).start()
    version, _ = prepare(server, run, payload_size=512 * 1024)
    acknowledged = []
    failures = []
    lock = threading.Lock()
    stop = threading.Event()

    def burst(signer):
        while not stop.is_set():
            try:
                job_id = signer.start_signing_job(**job_request(version))["jobId"]
            except Exception as error:  # after the kill every call fails; before it, any failure is reported below
                with lock:
                    failures.append(error)
                return
            with lock:
                acknowledged.append(job_id)

    # botocore sessions are not safe to share while creating clients: make them before the threads start.
    clients = [server.client("signer") for _ in range(4)]
    threads = [threading.Thread(target=burst, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.stop(kill=True)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= 40, f"only {len(acknowledged)} jobs were acknowledged before the kill; failures: {failures[:4]}"

    server.start()
    resumed = "".join(line for line in server.startup_lines if "in progress" in line).strip() or "no job was in progress"
    try:
        signer = server.client("signer")
        for job_id in acknowledged:
            assert signer.describe_signing_job(jobId=job_id)["jobId"] == job_id
        wait_succeeded(signer, acknowledged)
        print(f"\nkill -9 after {len(acknowledged)} acknowledged jobs ({resumed}): all found and signed after restart")
    finally:
        server.stop()


def test_sigterm_finishes_the_jobs_in_flight_before_exiting(run, otarig_bin, tmp_path):
    """Graceful shutdown: a job running when SIGTERM arrives is finished by the same process, so the next start
    finds nothing in progress."""
    server = SignerServer(otarig_bin, tmp_path).start()
    s3, signer = server.client("s3"), server.client("signer")
    s3.create_bucket(Bucket="drain-fw")
    s3.put_bucket_versioning(Bucket="drain-fw", VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket="drain-fw", Key="big.zip", Body=os.urandom(96 * 1024 * 1024))["VersionId"]
    signer.put_signing_profile(profileName="lambda_drain", platformId="AWSLambda-SHA384-ECDSA")
    job_id = signer.start_signing_job(source={"s3": {"bucketName": "drain-fw", "key": "big.zip", "version": version}},
                                      destination={"s3": {"bucketName": "drain-fw"}}, profileName="lambda_drain")["jobId"]
    server.stop()
    log = server.log_text()
    draining = log.find("finishing the signing jobs in flight")
    finished = log.find(f"job={job_id}")
    assert 0 <= draining < finished, f"the job was not in flight at SIGTERM, or was not finished after it:\n{log[-2000:]}"
    server.start()
    try:
        assert not [line for line in server.startup_lines if "in progress" in line], server.startup_lines
        assert server.client("signer").describe_signing_job(jobId=job_id)["status"] == "Succeeded"
    finally:
        server.stop()
