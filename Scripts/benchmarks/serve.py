"""Scripts/bench serve: throughput and latency of `otarig serve` beside moto_server (PyPI moto[server]) on this machine.

Reads (GetSigningProfile, ListSigningPlatforms): each server gets the same SigV4-signed request, replayed by wrk with
1 and 16 connections for a few seconds (a signature stays valid for 15 minutes, and moto does not check it).
Jobs (StartSigningJob → Succeeded, 1 MiB image): a boto3 client starts a job and polls DescribeSigningJob until it
succeeds, 1 and 16 at a time; moto has no StartSigningJob, so this is otarig alone against the 50 ms p99 target.
Ratios are otarig / moto throughput; nothing here asserts.

`--database postgres` measures the scaled-out service instead: the SQLite single instance beside 1 and 3 instances on
one PostgreSQL database (a throw-away cluster) with objects in moto_server, the 3 behind nginx (round robin). It prints
GetSigningProfile req/s (wrk, 16 connections, through nginx for 3) and StartSigningJob → Succeeded jobs/s (16 boto3
clients), and the CPU seconds each process used in each run: on a 2-core machine, 3 instances share the same 2 cores
with PostgreSQL, moto, nginx and the load generators, so the numbers say what the set-up costs, not how it scales.
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "peer"))
from signer_server import SignerServer  # noqa: E402

DURATION = os.environ.get("BENCH_DURATION", "5s")
JOBS = int(os.environ.get("BENCH_JOBS", "200"))
ONLY = os.environ.get("BENCH_ONLY", "")  # "reads" or "jobs" to run one half


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_headers(endpoint, path, access_key, secret):
    request = AWSRequest(method="GET", url=endpoint + path)
    SigV4Auth(Credentials(access_key, secret), "signer", "us-east-1").add_auth(request)
    return {k: v for k, v in request.headers.items()}


def wrk(endpoint, path, headers, connections):
    threads = 1 if connections == 1 else 2
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{DURATION}", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(args + [endpoint + path], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{endpoint}{path} answered {non2xx.group(1)} non-2xx responses under load:\n{out}")

    def latency(label):
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else (value * 1000 if unit == "s" else value)
    return rps, latency("50"), latency("99")


def cpu_seconds(pids):
    """utime + stime of each process and its waited-for children, in seconds (/proc/<pid>/stat), and the load
    generator's own (`clients`: boto3 threads and wrk)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = {"clients": load_generator_seconds()}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total[name] = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / ticks
        except (OSError, IndexError, ValueError):
            total[name] = 0.0
    return total


def children_of(parent):
    """The processes whose parent is `parent` (nginx's workers)."""
    pids = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    pids[f"nginx:{entry.name}"] = int(entry.name)
            except (OSError, IndexError, ValueError):
                pass
    return pids


def load_generator_seconds():
    """CPU of this process (the boto3 clients) and its finished children (wrk)."""
    import resource
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def postgres_pids(cluster):
    """Every process of the throw-away PostgreSQL cluster (the postmaster and its backends)."""
    pids = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if command.startswith("postgres") or str(cluster.data) in command:
            pids[f"postgres:{entry.name}"] = int(entry.name)
    return pids


def measure(label, endpoint, clients_for, processes, setup_client, tmp, otarig):
    """GetSigningProfile req/s through `endpoint`, then StartSigningJob → Succeeded jobs/s, with each process's CPU."""
    signer = setup_client("signer")
    signer.put_signing_profile(profileName="bench_profile", platformId="AWSLambda-SHA384-ECDSA")
    s3 = setup_client("s3")
    s3.create_bucket(Bucket="bench-fw")
    s3.put_bucket_versioning(Bucket="bench-fw", VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket="bench-fw", Key="app.bin", Body=os.urandom(1 << 20))["VersionId"]
    cert, key = tmp / "c.pem", tmp / "k.pem"
    if not cert.exists():
        subprocess.run([str(otarig), "cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", cert, "--key-out", key],
                       check=True, capture_output=True)
    arn = setup_client("acm").import_certificate(Certificate=cert.read_bytes(), PrivateKey=key.read_bytes())["CertificateArn"]
    signer.put_signing_profile(profileName="bench_esp32", platformId="AmazonFreeRTOS-Default", signingMaterial={"certificateArn": arn})
    request = dict(source={"s3": {"bucketName": "bench-fw", "key": "app.bin", "version": version}},
                   destination={"s3": {"bucketName": "bench-fw", "prefix": "signed/"}}, profileName="bench_esp32")

    path = "/signing-profiles/bench_profile"
    headers = signed_headers(endpoint, path, "AKIAALICEEXAMPLE0001", "alice/secret/EXAMPLEKEY+0000000000000")
    before = cpu_seconds(processes())
    reads = wrk(endpoint, path, headers, 16)
    after_reads = cpu_seconds(processes())
    local = threading.local()

    def one_job(_):
        if not hasattr(local, "client"):
            local.client = clients_for("signer")
        started = time.perf_counter()
        job_id = local.client.start_signing_job(**request)["jobId"]
        while (job := local.client.describe_signing_job(jobId=job_id))["status"] == "InProgress":
            time.sleep(0.002)
        if job["status"] != "Succeeded":
            raise SystemExit(f"{label}: job {job_id} {job['status']}: {job.get('statusReason')}")
        return (time.perf_counter() - started) * 1000

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        latencies = sorted(pool.map(one_job, range(JOBS)))
    elapsed = time.perf_counter() - began
    after_jobs = cpu_seconds(processes())
    read_cpu = {name: after_reads.get(name, 0) - before.get(name, 0) for name in after_reads}
    job_cpu = {name: after_jobs.get(name, 0) - after_reads.get(name, 0) for name in after_jobs}
    return reads, (JOBS / elapsed, statistics.median(latencies), latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]), read_cpu, job_cpu


def summarize_cpu(cpu):
    grouped = {}
    for name, seconds in cpu.items():
        group = name.split(":")[0]
        grouped[group] = grouped.get(group, 0) + seconds
    return ", ".join(f"{name} {seconds:.1f}s" for name, seconds in sorted(grouped.items()) if seconds >= 0.05)


def main_postgres(otarig):
    from signer_cluster import MotoServer, PostgresCluster, SignerCluster
    print(f"GetSigningProfile: wrk, 16 connections, {DURATION}; jobs: {JOBS} × StartSigningJob → Succeeded (1 MiB image), 16 boto3 clients")
    print(f"{'set-up':38} {'reads/s':>8} {'p99 ms':>7} {'jobs/s':>7} {'p50 ms':>7} {'p99 ms':>7}   CPU (reads | jobs)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="otarig-bench-pg-") as tmp:
        tmp = Path(tmp)
        (tmp / "sqlite").mkdir()
        server = SignerServer(otarig, tmp / "sqlite", extra_args=["--log-level", "warning"]).start()
        try:
            result = measure("sqlite", server.endpoint, server.client, lambda: {"otarig": server.process.pid}, server.client, tmp, otarig)
            rows.append(("SQLite + disk, 1 instance", result))
        finally:
            server.stop()
        postgres = PostgresCluster().start()
        moto = MotoServer(tmp).start()
        try:
            (tmp / "pgdisk").mkdir()
            url = postgres.create_database("bench_disk")
            server = SignerServer(otarig, tmp / "pgdisk", extra_args=["--log-level", "warning", "--database", url]).start()
            try:
                def direct():
                    pids = {"otarig": server.process.pid}
                    pids.update(postgres_pids(postgres))
                    return pids
                result = measure("postgres disk", server.endpoint, server.client, direct, server.client, tmp, otarig)
                rows.append(("PostgreSQL + disk, 1 instance", result))
            finally:
                server.stop()
            for instances in (1, 3):
                moto.reset()
                directory = tmp / f"pg{instances}"
                directory.mkdir()
                cluster = SignerCluster(otarig, directory, postgres, moto, instances=instances, extra_args=["--log-level", "warning"]).start()
                try:
                    def processes():
                        pids = {f"otarig:{i}": s.process.pid for i, s in enumerate(cluster.servers)}
                        pids.update(postgres_pids(postgres))
                        pids["moto"] = moto.process.pid
                        pids["nginx"] = cluster.nginx.process.pid
                        pids.update(children_of(cluster.nginx.process.pid))
                        return pids
                    result = measure(f"postgres x{instances}", cluster.endpoint, cluster.client, processes, cluster.client, tmp, otarig)
                    rows.append((f"PostgreSQL + moto, {instances} instance{'s' if instances > 1 else ''}, nginx", result))
                finally:
                    cluster.stop()
        finally:
            moto.stop()
            postgres.destroy()
    for label, (reads, jobs, read_cpu, job_cpu) in rows:
        print(f"{label:38} {reads[0]:8.0f} {reads[2]:7.2f} {jobs[0]:7.1f} {jobs[1]:7.1f} {jobs[2]:7.1f}   {summarize_cpu(read_cpu)} | {summarize_cpu(job_cpu)}")
    base = rows[0][1]
    for label, (reads, jobs, _, _) in rows[1:]:
        print(f"{label}: reads {reads[0] / base[0][0]:.2f}x, jobs {jobs[0] / base[1][0]:.2f}x the SQLite single instance")


def main():
    parser = argparse.ArgumentParser(description="otarig serve throughput beside moto_server, or on PostgreSQL with several instances")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite",
                        help="postgres: SQLite x1 beside PostgreSQL x1 and x3 behind nginx (needs PostgreSQL, nginx, moto_server)")
    arguments = parser.parse_args()
    if arguments.database == "postgres":
        for tool in ("wrk", "moto_server", "nginx"):
            if shutil.which(tool) is None and not (tool == "nginx" and os.path.exists("/usr/sbin/nginx")):
                raise SystemExit(f"bench serve --database postgres needs {tool}: run Scripts/bootstrap")
        print("building otarig (release)…", file=sys.stderr)
        build = ["swift", "build", "-c", "release", "--static-swift-stdlib", "--scratch-path", str(ROOT / ".build-release")]
        subprocess.run(build + ["--product", "otarig"], cwd=ROOT, check=True, capture_output=True)
        otarig = Path(subprocess.run(build + ["--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()) / "otarig"
        return main_postgres(otarig)
    if shutil.which("wrk") is None or shutil.which("moto_server") is None:
        raise SystemExit("bench serve needs wrk and moto_server: run Scripts/bootstrap (and pip install 'moto[server]')")
    print("building otarig (release)…", file=sys.stderr)
    build = ["swift", "build", "-c", "release", "--static-swift-stdlib", "--scratch-path", str(ROOT / ".build-release")]
    subprocess.run(build + ["--product", "otarig"], cwd=ROOT, check=True, capture_output=True)
    otarig = Path(subprocess.run(build + ["--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()) / "otarig"

    with tempfile.TemporaryDirectory(prefix="otarig-bench-serve-") as tmp:
        tmp = Path(tmp)
        server = SignerServer(otarig, tmp, extra_args=["--log-level", "warning"]).start()
        moto_port = free_port()
        moto = subprocess.Popen(["moto_server", "-p", str(moto_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            moto_endpoint = f"http://127.0.0.1:{moto_port}"
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", moto_port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            moto_signer = boto3.client("signer", endpoint_url=moto_endpoint, region_name="us-east-1",
                                       aws_access_key_id="testing", aws_secret_access_key="testing")
            moto_signer.put_signing_profile(profileName="bench_profile", platformId="AWSLambda-SHA384-ECDSA")
            signer = server.client("signer")
            signer.put_signing_profile(profileName="bench_profile", platformId="AWSLambda-SHA384-ECDSA")

            print(f"reads: wrk replaying one signed request for {DURATION} (throughput, p50, p99)")
            print(f"{'operation':22} {'conns':>5} {'otarig req/s':>13} {'p50 ms':>7} {'p99 ms':>7} {'moto req/s':>11} {'p99 ms':>7} {'ratio':>7}")
            for operation, path in [] if ONLY == "jobs" else [("GetSigningProfile", "/signing-profiles/bench_profile"), ("ListSigningPlatforms", "/signing-platforms")]:
                ours_headers = signed_headers(server.endpoint, path, "AKIAALICEEXAMPLE0001", "alice/secret/EXAMPLEKEY+0000000000000")
                moto_headers = signed_headers(moto_endpoint, path, "testing", "testing")
                for connections in (1, 16):
                    ours = wrk(server.endpoint, path, ours_headers, connections)
                    theirs = wrk(moto_endpoint, path, moto_headers, connections)
                    print(f"{operation:22} {connections:5} {ours[0]:13.0f} {ours[1]:7.2f} {ours[2]:7.2f} {theirs[0]:11.0f} {theirs[2]:7.2f} {ours[0] / theirs[0]:6.1f}x")

            s3 = server.client("s3")
            s3.create_bucket(Bucket="bench-fw")
            s3.put_bucket_versioning(Bucket="bench-fw", VersioningConfiguration={"Status": "Enabled"})
            version = s3.put_object(Bucket="bench-fw", Key="app.bin", Body=os.urandom(1 << 20))["VersionId"]
            cert, key = tmp / "c.pem", tmp / "k.pem"
            subprocess.run([str(otarig), "cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", cert, "--key-out", key],
                           check=True, capture_output=True)
            arn = server.client("acm").import_certificate(Certificate=cert.read_bytes(), PrivateKey=key.read_bytes())["CertificateArn"]
            signer.put_signing_profile(profileName="bench_esp32", platformId="AmazonFreeRTOS-Default", signingMaterial={"certificateArn": arn})
            request = dict(source={"s3": {"bucketName": "bench-fw", "key": "app.bin", "version": version}},
                           destination={"s3": {"bucketName": "bench-fw", "prefix": "signed/"}}, profileName="bench_esp32")
            local = threading.local()

            def one_job(_):
                if not hasattr(local, "client"):
                    local.client = server.client("signer")
                started = time.perf_counter()
                job_id = local.client.start_signing_job(**request)["jobId"]
                while local.client.describe_signing_job(jobId=job_id)["status"] == "InProgress":
                    time.sleep(0.001)
                return (time.perf_counter() - started) * 1000

            if ONLY == "reads":
                return
            print(f"\njobs: StartSigningJob → DescribeSigningJob until Succeeded, 1 MiB image, {JOBS} jobs (boto3 client latency included)")
            print(f"{'clients':>7} {'jobs/s':>8} {'p50 ms':>7} {'p99 ms':>7}")
            for clients in (1, 16):
                began = time.perf_counter()
                with ThreadPoolExecutor(max_workers=clients) as pool:
                    latencies = sorted(pool.map(one_job, range(JOBS)))
                elapsed = time.perf_counter() - began
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
                print(f"{clients:7} {JOBS / elapsed:8.1f} {statistics.median(latencies):7.1f} {p99:7.1f}")
        finally:
            moto.terminate()
            moto.wait(timeout=30)
            server.stop()


if __name__ == "__main__":
    main()
