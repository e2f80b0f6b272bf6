"""`otarig verify` and `otarig explain` on images a signing job made: the aws CLI drives `otarig serve`, the facts
come back over SigV4 (`otarig facts capture`, `verify --signer`), and the policy layer fails a revoked job, a profile
version revoked before the signing time and an expired signature while the device layer still accepts. Bad input
exits 2 with one line, never a crash."""
import base64
import json
import os
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from test_signer_cli import make_signer


def sign_with_service(run, tmp_path, server, platform, profile_name="ota_profile", certname="codesign.crt"):
    """One signing job through the aws CLI; returns (job id, signed-object path, signer cert, CA cert or None)."""
    aws = server.aws
    firmware = tmp_path / "firmware.bin"
    firmware.write_bytes(os.urandom(150_001))
    buckets = json.loads(aws("s3api", "list-buckets").stdout).get("Buckets", [])
    if not any(b["Name"] == "ota-firmware" for b in buckets):
        aws("s3api", "create-bucket", "--bucket", "ota-firmware")
        aws("s3api", "put-bucket-versioning", "--bucket", "ota-firmware", "--versioning-configuration", "Status=Enabled")
    version = json.loads(aws("s3api", "put-object", "--bucket", "ota-firmware", "--key", "app/firmware.bin", "--body", firmware).stdout)["VersionId"]
    cert, key, chain, _ = make_signer(run, tmp_path, platform)
    imported = ["acm", "import-certificate", "--certificate", f"fileb://{cert}", "--private-key", f"fileb://{key}"]
    if chain:
        imported += ["--certificate-chain", f"fileb://{chain}"]
    arn = json.loads(aws(*imported).stdout)["CertificateArn"]
    aws("signer", "put-signing-profile", "--profile-name", profile_name, "--platform-id", platform,
        "--signing-material", f"certificateArn={arn}", "--signing-parameters", f"certname={certname}")
    job_id = json.loads(aws("signer", "start-signing-job", "--source", f"s3={{bucketName=ota-firmware,key=app/firmware.bin,version={version}}}",
                            "--destination", "s3={bucketName=ota-firmware,prefix=signed/}", "--profile-name", profile_name).stdout)["jobId"]
    aws("signer", "wait", "successful-signing-job", "--job-id", job_id)
    signed = tmp_path / f"signed-{job_id}.json"
    aws("s3api", "get-object", "--bucket", "ota-firmware", "--key", f"signed/{job_id}", signed)
    return job_id, signed, cert, chain


def device_files(run, tmp_path, platform, cert, chain, certname):
    """The certificate directory (and root catalog) the device has."""
    fs = tmp_path / "device-fs"
    fs.mkdir(exist_ok=True)
    args = ["--cert-dir", fs, "--certfile", certname]
    if platform == "AmazonFreeRTOS-TI-CC3220SF":
        run.openssl("x509", "-in", cert, "-outform", "DER", "-out", fs / certname)
        catalog = tmp_path / "catalog"
        catalog.mkdir(exist_ok=True)
        (catalog / "root.pem").write_bytes(chain.read_bytes())
        return args + ["--profile", "cc3220-simplelink", "--root-catalog", catalog]
    (fs / certname).write_bytes(cert.read_bytes())
    return args + ["--profile", "esp32-mbedtls"]


def verify_json(run, *args, env=None):
    result = subprocess.run([str(run.otarig), "verify", *map(str, args), "--json"], cwd=run.cwd, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode in (0, 1), f"exit {result.returncode}\n{result.stderr}"
    return result.returncode, json.loads(result.stdout)


def finding(report, check):
    return next(f for f in report["policy"]["findings"] if f["check"] == check)


@pytest.mark.parametrize("platform", ["AmazonFreeRTOS-Default", "AmazonFreeRTOS-TI-CC3220SF"])
def test_revoked_job_fails_policy_while_the_device_accepts(run, tmp_path, signer_server, platform):
    certname = "codesign.der" if "CC3220" in platform else "codesign.crt"
    job_id, signed, cert, chain = sign_with_service(run, tmp_path, signer_server, platform, certname=certname)
    device = device_files(run, tmp_path, platform, cert, chain, certname)
    env = signer_server.env()

    # Before revocation: facts captured over SigV4, device and policy accept.
    captured = subprocess.run([str(run.otarig), "facts", "capture", "--out", tmp_path / "facts.json"], env=env,
                              capture_output=True, text=True, timeout=120)
    assert captured.returncode == 0, captured.stderr
    assert "captured 1 signing jobs (0 revoked)" in captured.stdout
    facts = json.loads((tmp_path / "facts.json").read_text())
    assert facts["format"] == "otarig-signer-facts/1"
    [job] = facts["signingJobs"]
    assert job["jobId"] == job_id and job["signature"] == json.loads(signed.read_text())["signature"]
    assert job["revokedEntities"] == []
    code, report = verify_json(run, "--signed-object", signed, *device, "--revocations", tmp_path / "facts.json")
    assert code == 0, report
    assert report["device"]["accepted"] and report["policy"]["passed"]
    assert finding(report, "signature-revoked")["result"] == "pass"
    assert finding(report, "profile-revoked")["result"] == "pass"

    # Revoke the signature on the service; read the facts live.
    signer_server.aws("signer", "revoke-signature", "--job-id", job_id, "--reason", "key compromised")
    code, report = verify_json(run, "--signed-object", signed, *device, "--signer", signer_server.endpoint, env=env)
    assert code == 1
    assert report["device"]["accepted"] is True and report["device"]["palStatus"] == "0x00000000"
    assert report["verdict"] == "rejected" and report["policy"]["passed"] is False
    revoked = finding(report, "signature-revoked")
    assert revoked["result"] == "fail" and "key compromised" in revoked["detail"]
    # --device-only decides on the device layer and still reports the policy.
    code, report = verify_json(run, "--signed-object", signed, *device, "--signer", signer_server.endpoint, "--device-only", env=env)
    assert code == 0 and finding(report, "signature-revoked")["result"] == "fail"
    # The console says the same in words.
    text = subprocess.run([str(run.otarig), "verify", "--signed-object", signed, *map(str, device), "--signer", signer_server.endpoint],
                          env=env, capture_output=True, text=True, timeout=120)
    assert text.returncode == 1, text.stderr
    assert "verdict: REJECT (device accepts, policy fails (signature-revoked))" in text.stdout


def test_profile_version_revoked_before_signing_fails_after_does_not(run, tmp_path, signer_server):
    platform = "AmazonFreeRTOS-Default"
    job_id, signed, cert, chain = sign_with_service(run, tmp_path, signer_server, platform)
    device = device_files(run, tmp_path, platform, cert, chain, "codesign.crt")
    env = signer_server.env()
    version = json.loads(signer_server.aws("signer", "get-signing-profile", "--profile-name", "ota_profile").stdout)["profileVersion"]
    time.sleep(2)

    # Revoked from a moment after the signature: the signature stays good.
    after = (datetime.now(timezone.utc) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    signer_server.aws("signer", "revoke-signing-profile", "--profile-name", "ota_profile", "--profile-version", version,
                      "--reason", "rotated", "--effective-time", after)
    code, report = verify_json(run, "--signed-object", signed, *device, "--signer", signer_server.endpoint, env=env)
    assert code == 0, report
    assert finding(report, "profile-revoked")["result"] == "pass"
    assert "after this signature" in finding(report, "profile-revoked")["detail"]

    # Moved earlier, before the signing time: the policy fails, the device still accepts.
    before = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    signer_server.aws("signer", "revoke-signing-profile", "--profile-name", "ota_profile", "--profile-version", version,
                      "--reason", "rotated", "--effective-time", before)
    subprocess.run([str(run.otarig), "facts", "capture", "--out", tmp_path / "facts.json"], env=env, check=True, capture_output=True, timeout=120)
    facts = json.loads((tmp_path / "facts.json").read_text())
    [revocation] = facts["profileRevocations"]
    assert revocation["profileVersion"] == version
    # The service's own GetRevocationStatus agrees: the version ARN is revoked at the signing time.
    assert facts["signingJobs"][0]["profileVersionArn"] in facts["signingJobs"][0]["revokedEntities"]
    code, report = verify_json(run, "--signed-object", signed, *device, "--revocations", tmp_path / "facts.json")
    assert code == 1
    assert report["device"]["accepted"] is True
    failed = finding(report, "profile-revoked")
    assert failed["result"] == "fail" and "at or before the signing time" in failed["detail"]


def test_expired_signature_in_the_snapshot_fails_policy(run, tmp_path, signer_server):
    platform = "AmazonFreeRTOS-Default"
    job_id, signed, cert, chain = sign_with_service(run, tmp_path, signer_server, platform)
    device = device_files(run, tmp_path, platform, cert, chain, "codesign.crt")
    subprocess.run([str(run.otarig), "facts", "capture", "--out", tmp_path / "facts.json"], env=signer_server.env(), check=True,
                   capture_output=True, timeout=120)
    facts = json.loads((tmp_path / "facts.json").read_text())
    facts["signingJobs"][0]["signatureExpiresAt"] = "2020-01-01T00:00:00Z"
    (tmp_path / "expired.json").write_text(json.dumps(facts))
    code, report = verify_json(run, "--signed-object", signed, *device, "--revocations", tmp_path / "expired.json")
    assert code == 1
    assert report["device"]["accepted"] is True
    expired = finding(report, "signature-expired")
    assert expired["result"] == "fail" and "2020-01-01T00:00:00Z" in expired["detail"]


def test_explain_names_the_failing_step_and_the_cause(run, tmp_path):
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", "signer.pem", "--key-out", "signer.key")
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", "other.pem", "--key-out", "other.key")
    (tmp_path / "fw.bin").write_bytes(os.urandom(9000))
    run.otarig_run("sign", "--platform", "AmazonFreeRTOS-Default", "--cert", "signer.pem", "--key", "signer.key", "--in", "fw.bin",
                   "--job-doc", "job.json", "--certname", "codesign.crt")
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "codesign.crt").write_bytes((tmp_path / "other.pem").read_bytes())
    (certs / "signer.pem").write_bytes((tmp_path / "signer.pem").read_bytes())

    wrong = run.otarig_run("explain", "--image", "fw.bin", "--job-doc", "job.json", "--cert-dir", certs, check=False)
    assert wrong.returncode == 1, wrong.stderr
    assert "verdict: REJECT at step 'signature check' (OtaPalSignatureCheckFailed 0xe3000000)" in wrong.stdout
    assert "the signature verifies with 'signer.pem'" in wrong.stdout and "certfile names the wrong certificate" in wrong.stdout

    (certs / "codesign.crt").write_bytes((tmp_path / "signer.pem").read_bytes())
    data = bytearray((tmp_path / "fw.bin").read_bytes())
    data[4000] ^= 0x01
    (tmp_path / "tampered.bin").write_bytes(bytes(data))
    result = subprocess.run([str(run.otarig), "explain", "--image", "tampered.bin", "--job-doc", "job.json", "--cert-dir", certs, "--json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["failedStep"] == "signature check"
    hashed = next(s for s in report["steps"] if s["step"] == "hash")
    import hashlib
    assert hashlib.sha256(bytes(data)).hexdigest() in hashed["evidence"][0]
    assert "verifies with none" in report["probes"][0]

    # One byte missing: the receive step fails before any hash.
    (tmp_path / "short.bin").write_bytes(bytes(data[:-1]))
    short = run.otarig_run("explain", "--image", "short.bin", "--job-doc", "job.json", "--cert-dir", certs, check=False)
    assert short.returncode == 1
    assert "verdict: REJECT at step 'receive'" in short.stdout and "1 bytes short of the job's filesize" in short.stdout


BAD_INPUTS = {
    "unparseable job document": (lambda p: (p / "job.json").write_text('{"afr_ota": '), ["--image", "fw.bin", "--job-doc", "job.json"], "not valid JSON"),
    "non-UTF-8 job document": (lambda p: (p / "job.json").write_bytes(bytes(range(256)) * 4), ["--image", "fw.bin", "--job-doc", "job.json"], "not valid JSON"),
    "missing image": (lambda p: None, ["--image", "nope.bin", "--job-doc", "good.json"], "nope.bin"),
    "missing job document": (lambda p: None, ["--image", "fw.bin", "--job-doc", "nope.json"], "nope.json"),
    "missing certificate directory": (lambda p: None, ["--image", "fw.bin", "--job-doc", "good.json", "--cert-dir", "nowhere"], "nowhere"),
    "garbage signed object": (lambda p: (p / "so.json").write_bytes(os.urandom(300)), ["--signed-object", "so.json"], "signed object"),
    "unsupported algorithm": (lambda p: (p / "so.json").write_text(json.dumps({"rawPayloadSize": 3, "signature": "AAAA", "signatureAlgorithm": "SHA512withEd25519", "payload": "AAAA"})),
                              ["--signed-object", "so.json"], "SHA512withEd25519"),
    "detached without payload": (lambda p: (p / "so.json").write_text(json.dumps({"rawPayloadSize": 3, "signature": "AAAA", "signatureAlgorithm": "SHA256withECDSA", "payloadLocation": {"s3": {"bucketName": "b", "key": "k", "version": "v"}}})),
                                 ["--signed-object", "so.json"], "--payload"),
    "garbage signer facts": (lambda p: (p / "facts.json").write_bytes(b"\xff\xfe garbage"), ["--image", "fw.bin", "--job-doc", "good.json", "--revocations", "facts.json"], "signer facts"),
    "facts of another format": (lambda p: (p / "facts.json").write_text('{"format":"x/9","signingJobs":[],"profileRevocations":[]}'),
                                ["--image", "fw.bin", "--job-doc", "good.json", "--revocations", "facts.json"], "otarig-signer-facts/1"),
    "unknown profile": (lambda p: None, ["--image", "fw.bin", "--job-doc", "good.json", "--profile", "esp8266"], "esp8266"),
    "cc3220 without a catalog": (lambda p: None, ["--image", "fw.bin", "--job-doc", "good.json", "--profile", "cc3220-simplelink"], "--root-catalog"),
    "garbage root catalog": (lambda p: ((p / "cat").mkdir(), (p / "cat" / "root.pem").write_bytes(os.urandom(100))),
                             ["--image", "fw.bin", "--job-doc", "good.json", "--profile", "cc3220-simplelink", "--root-catalog", "cat"], "root.pem"),
    "security alerts on a PAL without a tamper lock": (lambda p: None, ["--image", "fw.bin", "--job-doc", "good.json", "--security-alerts", "3"], "--security-alerts"),
    "unreachable signer": (lambda p: None, ["--image", "fw.bin", "--job-doc", "good.json", "--signer", "http://127.0.0.1:9"], "127.0.0.1:9"),
}


@pytest.mark.parametrize("command", ["verify", "explain"])
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_clear_line(run, tmp_path, case, command):
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", "signer.pem", "--key-out", "signer.key")
    (tmp_path / "fw.bin").write_bytes(os.urandom(2000))
    run.otarig_run("sign", "--platform", "AmazonFreeRTOS-Default", "--cert", "signer.pem", "--key", "signer.key", "--in", "fw.bin",
                   "--job-doc", "good.json", "--certname", "codesign.crt")
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "codesign.crt").write_bytes((tmp_path / "signer.pem").read_bytes())
    prepare, args, expected = BAD_INPUTS[case]
    prepare(tmp_path)
    if "--cert-dir" not in args:
        args = args + ["--cert-dir", "certs"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret")
    result = subprocess.run([str(run.otarig), command, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2, f"{case}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("otarig: error: "), result.stderr
    assert expected in lines[0], lines[0]
    assert result.stdout == ""
