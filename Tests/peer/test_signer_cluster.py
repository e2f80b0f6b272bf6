"""Several `otarig serve` on one PostgreSQL database and one S3-compatible store (moto_server), behind nginx: a dead
instance's jobs are finished by another once their lease expires, a database restart costs clients only retries,
instances starting together on an empty database all come up, and keys and rate limits hold across instances.

The expectations are the issue's (14) and AWS's: botocore retries 5xx answers (`standard` retry mode), a
clientRequestToken names one job whatever instance answers, and every acknowledged job reaches Succeeded.
"""
import os
import re
import signal
import threading
import time
import urllib.request
import json
import uuid

import botocore
import pytest
from botocore.config import Config

from signer_cluster import SignerCluster
from signer_server import SignerServer
from test_signer_durability import job_request, prepare

pytestmark = pytest.mark.cluster

LEASE = 5  # seconds: short, so a dead instance's jobs are taken over quickly


@pytest.fixture
def cluster(otarig_bin, tmp_path, postgres_cluster, moto_s3):
    moto_s3.reset()
    cluster = SignerCluster(otarig_bin, tmp_path, postgres_cluster, moto_s3, instances=3, lease_seconds=LEASE)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def retrying(cluster, service="signer", attempts=12):
    return cluster.client(service, config=Config(retries={"max_attempts": attempts, "mode": "standard"}, connect_timeout=5, read_timeout=30))


class Burst:
    """Threads starting signing jobs through the cluster, each with a fresh clientRequestToken, until `stop()`:
    `acknowledged` maps each token a client got an answer for to its job id; `errors` holds what retries did not hide."""

    def __init__(self, cluster, version, clients, attempts=12, pause=0.0):
        self.acknowledged, self.errors = {}, []
        self._lock, self._stop, self._pause = threading.Lock(), threading.Event(), pause
        self._version = version
        # botocore sessions are not safe to share while creating clients: make them before the threads start.
        self._threads = [threading.Thread(target=self._run, args=(retrying(cluster, attempts=attempts),)) for _ in range(clients)]
        for thread in self._threads:
            thread.start()

    def _run(self, client):
        while not self._stop.is_set():
            token = str(uuid.uuid4())
            try:
                job_id = client.start_signing_job(**job_request(self._version), clientRequestToken=token)["jobId"]
            except botocore.exceptions.ClientError as error:
                with self._lock:
                    self.errors.append(error)
                continue
            with self._lock:
                self.acknowledged[token] = job_id
            time.sleep(self._pause)

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=180)


def instance_id(server):
    for line in server.startup_lines:
        match = re.search(r"instance ([0-9a-f-]{36})", line)
        if match:
            return match.group(1)
    raise AssertionError(f"otarig serve printed no instance id:\n{''.join(server.startup_lines)}")


def statuses(cluster, job_ids, timeout):
    """Polls until every job is Succeeded or Failed, or `timeout` passes; returns {job id: (status, reason)}."""
    signer = retrying(cluster)
    deadline = time.monotonic() + timeout
    final = {}
    while time.monotonic() < deadline and len(final) < len(job_ids):
        for job_id in job_ids:
            if job_id in final:
                continue
            job = signer.describe_signing_job(jobId=job_id)
            if job["status"] != "InProgress":
                final[job_id] = (job["status"], job.get("statusReason"))
        time.sleep(0.1)
    return final


def database_jobs(cluster):
    """(job id, status, token) of every job, read from PostgreSQL itself."""
    rows = cluster.postgres.psql("SELECT job_id, status, COALESCE(token, '') FROM job ORDER BY job_id", database=cluster.database_name)
    return [tuple(line.split("|")) for line in rows.splitlines() if line]


def test_instances_started_together_on_an_empty_database_all_come_up(cluster, run):
    # The fixture launched all three before waiting for any; each printed how it found the schema.
    outcomes = ["".join(line for line in server.startup_lines if "schema" in line).strip() for server in cluster.servers]
    applied = [text for text in outcomes if "applied" in text]
    assert len(applied) == 1, f"exactly one instance applies the migrations, the others find them applied: {outcomes}"
    status = run.otarig_run("serve", "status", "--database", cluster.database_url).stdout
    assert "pending: none" in status, status
    # Each instance answers, directly and through nginx.
    for server in cluster.servers:
        assert server.client("signer").list_signing_platforms()["platforms"]
    assert cluster.client("signer").list_signing_platforms()["platforms"]


def test_round_robin_reaches_every_instance_and_state_is_shared(cluster, run):
    version, _ = prepare(cluster, run)
    signer = cluster.client("signer")
    job_ids = [signer.start_signing_job(**job_request(version), clientRequestToken=str(uuid.uuid4()))["jobId"] for _ in range(9)]
    final = statuses(cluster, job_ids, timeout=30)
    assert {status for status, _ in final.values()} == {"Succeeded"}, final
    for index, server in enumerate(cluster.servers):
        assert "StartSigningJob" in server.log_text(), f"instance {index} got no StartSigningJob from nginx's round robin"
        # Every instance sees every job and the profile, whichever instance made them.
        direct = server.client("signer")
        assert {job["jobId"] for job in direct.list_signing_jobs()["jobs"]} == set(job_ids)
    # One client token names one job whichever instance answers: the same request sent to each instance directly.
    token = str(uuid.uuid4())
    same = {server.client("signer").start_signing_job(**job_request(version), clientRequestToken=token)["jobId"] for server in cluster.servers}
    assert len(same) == 1, f"one token gave {len(same)} jobs across the instances"
    job_ids.append(same.pop())
    assert {status for status, _ in statuses(cluster, job_ids[-1:], timeout=30).values()} == {"Succeeded"}
    # The signed objects are in moto, not on any instance's disk.
    import boto3
    moto = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{cluster.moto.port}", region_name="us-east-1",
                        aws_access_key_id="AKIAMOTOEXAMPLE00001", aws_secret_access_key="moto/secret/EXAMPLEKEY+000000000000")
    keys = {item["Key"] for item in moto.list_objects_v2(Bucket="durable-fw", Prefix="signed/").get("Contents", [])}
    assert keys == {f"signed/{job_id}" for job_id in job_ids}


def test_kill_9_of_one_instance_during_a_burst_loses_no_acknowledged_job(cluster, run):
    version, _ = prepare(cluster, run, payload_size=2 << 20)
    victim = cluster.servers[1]
    victim_id = instance_id(victim)
    burst = Burst(cluster, version, clients=4)
    acknowledged, errors = burst.acknowledged, burst.errors
    killed_holding = 0
    try:
        deadline = time.monotonic() + 60
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        # Freeze the victim, and kill it only while it holds acknowledged jobs in progress: that is the case to prove.
        while time.monotonic() < deadline:
            os.kill(victim.process.pid, signal.SIGSTOP)
            held = cluster.postgres.psql(f"SELECT job_id FROM job WHERE status = 'InProgress' AND lease_owner = '{victim_id}'",
                                         database=cluster.database_name).split()
            if held:
                os.kill(victim.process.pid, signal.SIGKILL)
                killed_holding = len(held)
                break
            os.kill(victim.process.pid, signal.SIGCONT)
            time.sleep(0.02)
        killed_at = time.monotonic()
        assert killed_holding > 0, "the victim never held a job in progress while the burst ran"
        # The jobs the victim held are finished by the survivors once their leases expire, while the burst goes on.
        orphans = statuses(cluster, held, timeout=LEASE + 15)
        takeover_seconds = time.monotonic() - killed_at
        assert {status for status, _ in orphans.values()} == {"Succeeded"} and len(orphans) == len(held), orphans
        while len(acknowledged) < 60 and time.monotonic() < killed_at + 60:
            time.sleep(0.01)
    finally:
        burst.stop()
    victim.process.wait(timeout=10)
    assert len(acknowledged) >= 40, f"only {len(acknowledged)} jobs acknowledged; errors: {errors[:3]}"
    assert not errors, f"clients saw errors botocore did not retry away: {errors[:3]}"

    final = statuses(cluster, sorted(set(acknowledged.values())), timeout=LEASE + 10)
    all_done_after_kill = time.monotonic() - killed_at
    missing = set(acknowledged.values()) - set(final)
    assert not missing, f"{len(missing)} acknowledged jobs never finished within the lease ({LEASE} s) + 10 s"
    failed = {job: reason for job, (status, reason) in final.items() if status != "Succeeded"}
    assert not failed, failed
    # None twice: one job per client token, and no job the clients were not told about.
    rows = database_jobs(cluster)
    by_token = {}
    for job_id, _, token in rows:
        by_token.setdefault(token, []).append(job_id)
    assert all(len(ids) == 1 for ids in by_token.values()), {t: ids for t, ids in by_token.items() if len(ids) > 1}
    assert {token: ids[0] for token, ids in by_token.items()} == acknowledged
    taken_over = sum(server.log_text().count("taking over a job whose lease expired") for server in cluster.servers if server is not victim)
    assert taken_over >= killed_holding, f"the survivors took over {taken_over} jobs; the victim held {killed_holding}"
    print(f"\nkill -9 of 1 of 3 instances holding {killed_holding} job(s) in progress, after {len(acknowledged)} acknowledged jobs: "
          f"all Succeeded, {taken_over} taken over by the survivors, the victim's {killed_holding} within {takeover_seconds:.1f} s of the kill "
          f"(lease {LEASE} s); all jobs done {all_done_after_kill:.1f} s after it")


def test_postgres_restart_gives_retryable_errors_and_loses_no_job(cluster, run):
    version, _ = prepare(cluster, run)
    seen_during_outage = []
    probe = cluster.client("signer")  # no retries: sees the raw answer during the outage
    burst = Burst(cluster, version, clients=3, attempts=20, pause=0.02)
    acknowledged, errors = burst.acknowledged, burst.errors
    try:
        time.sleep(1.0)
        before = len(acknowledged)
        cluster.postgres.stop("fast")
        outage_started = time.monotonic()
        while time.monotonic() < outage_started + 2.0:
            try:
                probe.get_signing_profile(profileName="durable")
            except botocore.exceptions.ClientError as error:
                seen_during_outage.append((error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"]["Code"]))
            time.sleep(0.1)
        health = urllib.request.Request(f"{cluster.endpoint}/health")
        try:
            urllib.request.urlopen(health, timeout=10)
            raise AssertionError("/health answered 200 while PostgreSQL was down")
        except urllib.error.HTTPError as error:
            assert error.code == 503
            assert "store" in json.loads(error.read())
        cluster.postgres.start()
        time.sleep(3.0)
    finally:
        burst.stop()
    assert seen_during_outage, "no request failed while PostgreSQL was down"
    assert all(status >= 500 for status, _ in seen_during_outage), seen_during_outage
    assert {code for _, code in seen_during_outage} <= {"InternalServiceErrorException", "ServiceUnavailableException"}, seen_during_outage
    assert not errors, f"errors left after botocore's retries: {errors[:3]}"
    assert len(acknowledged) > before, "no job was acknowledged after PostgreSQL came back"

    final = statuses(cluster, sorted(set(acknowledged.values())), timeout=LEASE + 30)
    assert len(final) == len(set(acknowledged.values()))
    assert {status for status, _ in final.values()} == {"Succeeded"}, {j: s for j, s in final.items() if s[0] != "Succeeded"}
    rows = database_jobs(cluster)
    assert len(rows) == len(acknowledged), f"{len(rows)} jobs in the database, {len(acknowledged)} acknowledged"
    print(f"\nPostgreSQL restart: {len(seen_during_outage)} probe answers during the outage, all "
          f"{sorted({c for _, c in seen_during_outage})}; {len(acknowledged)} jobs acknowledged, all Succeeded, none twice")


def test_job_rate_limit_is_shared_across_instances(otarig_bin, tmp_path, postgres_cluster, moto_s3, run):
    moto_s3.reset()
    cluster = SignerCluster(otarig_bin, tmp_path, postgres_cluster, moto_s3, instances=3,
                            extra_args=["--job-rate", "0.5", "--job-burst", "4"]).start()
    try:
        version, _ = prepare(cluster, run)
        signer = cluster.client("signer")
        accepted = refused = 0
        began = time.monotonic()
        for _ in range(15):  # 5 rounds of nginx's round robin: each instance sees 5
            try:
                signer.start_signing_job(**job_request(version), clientRequestToken=str(uuid.uuid4()))
                accepted += 1
            except botocore.exceptions.ClientError as error:
                assert error.response["Error"]["Code"] == "TooManyRequestsException", error.response
                refused += 1
        elapsed = time.monotonic() - began
        # One shared bucket: the burst of 4 plus 0.5 per second, whichever instance answers. Per-instance buckets
        # would have accepted up to 3 × 4.
        assert accepted <= 4 + int(elapsed * 0.5) + 1, f"{accepted} accepted in {elapsed:.1f}s"
        assert accepted >= 4 and refused >= 15 - (4 + int(elapsed * 0.5) + 1)
    finally:
        cluster.stop()


def test_an_access_key_added_on_one_instance_works_on_all(cluster, tmp_path, otarig_bin):
    import boto3
    carol = """[carol]
aws_access_key_id = AKIACAROLEXAMPLE0003
aws_secret_access_key = carol/secret/EXAMPLEKEY+000000000000
account_id = 333333333333
principal_arn = arn:aws:iam::333333333333:user/carol
"""
    # A fourth instance on the same database whose credentials file names a new key: it records it in the database,
    # and the three that started before carol existed learn it from there on her first request.
    (tmp_path / "fourth").mkdir()
    fourth = SignerServer(otarig_bin, tmp_path / "fourth", extra_args=cluster.servers[0].extra_args)
    fourth.credentials.write_text(carol)
    fourth.start()
    try:
        for server in cluster.servers:
            signer = boto3.client("signer", endpoint_url=server.endpoint, region_name="us-east-1",
                                  aws_access_key_id="AKIACAROLEXAMPLE0003", aws_secret_access_key="carol/secret/EXAMPLEKEY+000000000000",
                                  config=Config(inject_host_prefix=False, retries={"max_attempts": 1}))
            assert signer.list_signing_profiles()["profiles"] == []
        wrong = boto3.client("signer", endpoint_url=cluster.endpoint, region_name="us-east-1",
                             aws_access_key_id="AKIACAROLEXAMPLE0003", aws_secret_access_key="not-carols-secret",
                             config=Config(inject_host_prefix=False, retries={"max_attempts": 1}))
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            wrong.list_signing_profiles()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        fourth.stop()


def test_a_second_otarig_serve_as_the_object_store(otarig_bin, tmp_path, run):
    """The second S3 implementation: one instance on SQLite keeps its objects in another `otarig serve`'s S3 subset
    (its own account there); the aws CLI workflow signs, and the signed object is in the other server."""
    (tmp_path / "store").mkdir()
    (tmp_path / "signer").mkdir()
    store = SignerServer(otarig_bin, tmp_path / "store").start()
    try:
        objects_credentials = tmp_path / "store-key"
        objects_credentials.write_text(store.credentials.read_text())
        signer_server = SignerServer(otarig_bin, tmp_path / "signer", extra_args=[
            "--objects", f"s3://127.0.0.1:{store.port}/", "--objects-credentials", str(objects_credentials), "--objects-profile", "bob"]).start()
        try:
            version, _ = prepare(signer_server, run)
            job_id = signer_server.client("signer").start_signing_job(**job_request(version))["jobId"]
            final = statuses(signer_server, [job_id], timeout=30)
            assert final[job_id][0] == "Succeeded", final
            # In the store server the bucket belongs to bob, the signing service's own account there.
            held = store.client("s3", profile="bob").list_objects_v2(Bucket="durable-fw")["Contents"]
            assert {item["Key"] for item in held} == {"app.bin", f"signed/{job_id}"}
            assert not (signer_server.data_dir / "objects").exists() or not any((signer_server.data_dir / "objects").iterdir())
            health = json.loads(urllib.request.urlopen(f"{signer_server.endpoint}/health", timeout=10).read())
            assert health["objects"] == "ok" and health["store"] == "ok", health
        finally:
            signer_server.stop()
        # The store gone: /health names it, with 503.
        signer_server.start()
        try:
            store.stop()
            try:
                urllib.request.urlopen(f"{signer_server.endpoint}/health", timeout=10)
                raise AssertionError("/health answered 200 with the object store stopped")
            except urllib.error.HTTPError as error:
                assert error.code == 503
                body = json.loads(error.read())
                assert body["objects"].startswith("unreachable") and f"127.0.0.1:{store.port}" in body["objects"], body
        finally:
            signer_server.stop()
    finally:
        store.stop()
