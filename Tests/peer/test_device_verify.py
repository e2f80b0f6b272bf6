"""otarig device-verify: the C device verifier (mbedTLS) on images signed by otarig and by the openssl CLI.

Peers: openssl makes keys, certificates and signatures of its own; Python's hashlib recomputes the digest the
device reports. Exit status: 0 accepted, 1 rejected, 2 bad input (one line on stderr).
"""
import base64
import hashlib
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CERT_CONFIG, OPENSSL_KEYGEN

# name -> (platform, otarig key type, encryption, hash, openssl keygen, openssl digest, job key)
CASES = {
    "ecdsa": ("AmazonFreeRTOS-Default", "ec-p256", "ECDSA", "SHA256",
              OPENSSL_KEYGEN["ec-p256"], "-sha256", "sig-sha256-ecdsa"),
    "rsa-sha256": ("AmazonFreeRTOS-Default", "rsa-2048", "RSA", "SHA256", OPENSSL_KEYGEN["rsa-2048"], "-sha256", "sig-sha256-rsa"),
    "rsa-sha1": ("AmazonFreeRTOS-TI-CC3220SF", "rsa-2048", "RSA", "SHA1", OPENSSL_KEYGEN["rsa-2048"], "-sha1", "sig-sha1-rsa"),
}


def device_verify(run, *args, check=False):
    return run.otarig_run("device-verify", *args, check=check)


def report(result):
    return json.loads(result.stdout)


@pytest.fixture
def firmware(tmp_path):
    data = os.urandom(50_000)
    (tmp_path / "fw.bin").write_bytes(data)
    (tmp_path / "certs").mkdir()
    return data


def sign_with_otarig(run, tmp_path, name):
    platform, key_type, enc, hash_alg, *_ = CASES[name]
    cert = f"{name}-otarig.crt"
    run.otarig_run("cert", "create", "--key-type", key_type, "--cert-out", f"certs/{cert}", "--key-out", f"{name}.key")
    run.otarig_run("sign", "--platform", platform, "--encryption-algorithm", enc, "--hash-algorithm", hash_alg,
                   "--cert", f"certs/{cert}", "--key", f"{name}.key", "--in", "fw.bin", "--out", f"{name}.signed.json",
                   "--job-doc", f"{name}-otarig.json", "--certname", cert, "--data-dir", "state")
    return f"{name}-otarig.json"


def sign_with_openssl(run, tmp_path, name, payload="fw.bin"):
    *_, keygen, digest, job_key = CASES[name]
    (tmp_path / "cert_config.txt").write_text(CERT_CONFIG)
    cert = f"{name}-openssl.crt"
    run.openssl(*keygen, "-out", f"{name}-openssl.key")
    run.openssl("req", "-new", "-x509", "-config", "cert_config.txt", "-extensions", "my_exts", "-nodes", "-days", "365",
                "-key", f"{name}-openssl.key", "-out", f"certs/{cert}")
    run.openssl("dgst", digest, "-sign", f"{name}-openssl.key", "-out", f"{name}.sig", payload)
    signature = base64.b64encode((tmp_path / f"{name}.sig").read_bytes()).decode()
    doc = {"afr_ota": {"protocols": ["MQTT"], "streamname": "AFR_OTA-openssl", "files": [
        {"filepath": "/ota/fw.bin", "filesize": (tmp_path / payload).stat().st_size, "fileid": 0, "certfile": cert,
         job_key: signature}]}}
    (tmp_path / f"{name}-openssl.json").write_text(json.dumps(doc))
    return f"{name}-openssl.json"


@pytest.mark.parametrize("signer", ["otarig", "openssl"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_accepts_images_from_otarig_and_openssl(run, tmp_path, firmware, signer, name):
    job = (sign_with_otarig if signer == "otarig" else sign_with_openssl)(run, tmp_path, name)
    result = device_verify(run, "--image", "fw.bin", "--job-doc", job, "--cert-dir", "certs", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    out = report(result)
    assert out["verdict"] == "accepted" and out["outcome"] == "accepted"
    assert out["palStatus"] == "0x00000000" and out["palMain"] == "OtaPalSuccess"
    assert out["signatureKey"] == CASES[name][6]
    expected = hashlib.sha1(firmware) if name == "rsa-sha1" else hashlib.sha256(firmware)
    assert out["digest"] == expected.hexdigest()
    assert out["bytesReceived"] == len(firmware)
    assert out["log"][-1] == {"level": "INFO", "text": "Received entire update and validated the signature."}
    assert out["statuses"][-1]["payload"] == '{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready","updatedBy":"0x01000000"}}'

    console = device_verify(run, "--image", "fw.bin", "--job-doc", job, "--cert-dir", "certs")
    assert console.returncode == 0
    assert "[INFO] Received entire update and validated the signature.\n" in console.stdout
    assert console.stdout.splitlines()[-1].startswith("ACCEPTED: the signature over 50000 bytes")


def test_console_is_the_agents_text(run, tmp_path, firmware):
    """The console of an openssl-signed ECDSA image, line for line (aws/ota-for-aws-iot-embedded-sdk ota.c / ota_mqtt.c @477ee9a5)."""
    job = sign_with_openssl(run, tmp_path, "ecdsa")
    signature = json.loads((tmp_path / job).read_text())["afr_ota"]["files"][0]["sig-sha256-ecdsa"]
    result = device_verify(run, "--image", "fw.bin", "--job-doc", job, "--cert-dir", "certs", "--running-version", "1.0.1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:-1] == [
        "[INFO] Extracted parameter: [key: value]=[execution.jobId: AFR_OTA-otarig-device-verify]",
        "[INFO] Extracted parameter: [key: value]=[execution.jobDocument.afr_ota.streamname: AFR_OTA-openssl]",
        '[INFO] Extracted parameter: [key: value]=[execution.jobDocument.afr_ota.protocols: ["MQTT"]]',
        "[INFO] Extracted parameter: [key: value]=[filepath: /ota/fw.bin]",
        "[INFO] Extracted parameter: [key: value]=[filesize: 50000]",
        "[INFO] Extracted parameter: [key: value]=[fileid: 0]",
        "[INFO] Extracted parameter: [key: value]=[certfile: ecdsa-openssl.crt]",
        f"[INFO] Extracted parameter [ sig-sha256-ecdsa: {signature[:32]}... ]",
        "[INFO] Job document was accepted. Attempting to begin the update.",
        "[INFO] Job parsing success: OtaJobParseErr_t=OtaJobParseErrNone, Job name=AFR_OTA-otarig-device-verify",
        "[INFO] Setting OTA data interface.",
        'publish $aws/things/<thing>/jobs/AFR_OTA-otarig-device-verify/update {"status":"IN_PROGRESS","statusDetails":{"receive":"1/13"}}',
        "[INFO] Received final block of the update.",
        "[INFO] Using cert with label: ecdsa-openssl.crt OK",
        "[INFO] Received entire update and validated the signature.",
        'publish $aws/things/<thing>/jobs/AFR_OTA-otarig-device-verify/update {"status":"IN_PROGRESS","statusDetails":{"self_test":"ready","updatedBy":"0x01000001"}}',
    ]


@pytest.mark.parametrize("name", sorted(CASES))
def test_rejects_a_flipped_payload_bit(run, tmp_path, firmware, name):
    job = sign_with_openssl(run, tmp_path, name)
    flipped = bytearray(firmware)
    flipped[len(flipped) // 2] ^= 0x10
    (tmp_path / "fw.bin").write_bytes(bytes(flipped))
    result = device_verify(run, "--image", "fw.bin", "--job-doc", job, "--cert-dir", "certs", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    out = report(result)
    assert out["verdict"] == "rejected" and out["outcome"] == "rejected-signature"
    assert out["palStatus"] == "0xe3000000"
    assert out["imageState"] == "Rejected"
    assert {"level": "ERROR", "text": "Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3000000)"} in out["log"]
    assert out["statuses"][-1]["payload"] == '{"status":"FAILED","statusDetails":{"reason":"0x000000e3: 0x00000000"}}'
    assert out["mbedtlsError"] != 0


def test_missing_certificate_and_the_fallback(run, tmp_path, firmware):
    job = sign_with_otarig(run, tmp_path, "ecdsa")
    os.rename(tmp_path / "certs" / "ecdsa-otarig.crt", tmp_path / "compiled-in.crt")
    (tmp_path / "certs" / "unrelated.crt").write_text("not this one")
    result = device_verify(run, "--image", "fw.bin", "--job-doc", job, "--cert-dir", "certs")
    assert result.returncode == 1
    assert "[ERROR] Cert read failed" in result.stdout
    assert "REJECTED: OtaPalBadSignerCert (status 0xe7000000)" in result.stdout
    assert "hint: no certificate 'ecdsa-otarig.crt' in 'certs'" in result.stdout

    result = device_verify(run, "--image", "fw.bin", "--job-doc", job, "--cert-dir", "certs", "--fallback-cert", "compiled-in.crt")
    assert result.returncode == 0, result.stdout
    assert "[INFO] No such certificate file: ecdsa-otarig.crt. Using certificate in ota_demo_config.h." in result.stdout


def test_self_test_rollback_rules(run, tmp_path, firmware):
    """Running 1.0.1: an update made by 1.0.0 starts its self test; by 1.0.1 or 2.0.0 it is rejected."""
    job = json.loads((tmp_path / sign_with_openssl(run, tmp_path, "ecdsa")).read_text())
    for updated_by, code, outcome in [("0x1000000", 0, "self-test-started"), ("0x1000001", 1, "rejected-version"),
                                      ("0x2000000", 1, "rejected-version")]:
        execution = {"execution": {"jobId": "AFR_OTA-selftest", "statusDetails": {"self_test": "ready", "updatedBy": updated_by},
                                   "jobDocument": job}}
        (tmp_path / "exec.json").write_text(json.dumps(execution))
        result = device_verify(run, "--image", "fw.bin", "--job-doc", "exec.json", "--cert-dir", "certs", "--running-version", "1.0.1",
                               "--platform-state", "pending-commit", "--json")
        assert result.returncode == code, result.stdout + result.stderr
        out = report(result)
        assert out["outcome"] == outcome
        if updated_by == "0x2000000":
            assert out["otaError"] == "OtaErrDowngradeNotAllowed"
            assert out["statuses"] == [{"jobId": "AFR_OTA-selftest", "payload": '{"status":"FAILED","statusDetails":{"reason":"rejected: 0x0000000f"}}'}]
            assert out["reset"] is True


@pytest.fixture
def bad_input(run, tmp_path, firmware):
    job = sign_with_otarig(run, tmp_path, "ecdsa")
    (tmp_path / "empty").mkdir()
    (tmp_path / "malformed.json").write_text('{"afr_ota": {"files": [')
    (tmp_path / "array.json").write_text("[1, 2]")
    (tmp_path / "custom.json").write_text('{"operation": "reboot"}')
    two = json.loads((tmp_path / job).read_text())
    two["afr_ota"]["files"][0]["sig-sha1-rsa"] = "AAAA"
    (tmp_path / "two-keys.json").write_text(json.dumps(two))
    (tmp_path / "huge.json").write_text(" " * 70_000 + "{}")
    return job


BAD = {
    "missing image": (["--image", "nope.bin"], ["image 'nope.bin'", "no such file"]),
    "image is a directory": (["--image", "certs"], ["image 'certs'", "it is a directory"]),
    "missing job document": (["--job-doc", "nope.json"], ["job document 'nope.json'", "no such file"]),
    "malformed JSON": (["--job-doc", "malformed.json"], ["not valid JSON", "--raw"]),
    "not a JSON object": (["--job-doc", "array.json"], ["not a JSON object"]),
    "not an OTA job": (["--job-doc", "custom.json"], ["neither afr_ota nor execution"]),
    "oversized job document": (["--job-doc", "huge.json"], ["at most 32 KiB"]),
    "two signature keys": (["--job-doc", "two-keys.json"], ["sig-sha1-rsa and sig-sha256-ecdsa", "--signature-key"]),
    "empty certificate directory": (["--cert-dir", "empty"], ["'empty' is empty", "--fallback-cert"]),
    "missing certificate directory": (["--cert-dir", "nowhere"], ["'nowhere' does not exist"]),
    "certificate directory is a file": (["--cert-dir", "fw.bin"], ["is a file, not a directory"]),
    "missing fallback certificate": (["--fallback-cert", "nope.pem"], ["fallback certificate 'nope.pem'", "no such file"]),
    "bad running version": (["--running-version", "1.256.0"], ["not a FreeRTOS version", "at most 255"]),
    "bad signature key": (["--signature-key", "ecdsa"], ["not a signature key"]),
    "bad platform state": (["--platform-state", "booting"], ["platform-state"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_one_line(run, bad_input, case):
    overrides, fragments = BAD[case]
    args = {"--image": "fw.bin", "--job-doc": bad_input, "--cert-dir": "certs"}
    extra = []
    for flag, value in zip(overrides[::2], overrides[1::2]):
        if flag in args:
            args[flag] = value
        else:
            extra += [flag, value]
    result = device_verify(run, *[x for pair in args.items() for x in pair], *extra)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("otarig: error:") and "Error:" not in lines[0], result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.binary(max_size=600),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                 lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                     st.sampled_from(["execution", "jobId", "jobDocument", "afr_ota", "files", "filesize", "fileid",
                                      "certfile", "protocols", "sig-sha256-ecdsa", "statusDetails", "self_test"]),
                     inner, max_size=5), max_leaves=20).map(lambda v: json.dumps(v).encode())))
def test_never_crashes_on_arbitrary_documents(run, tmp_path, document):
    """Whatever the bytes, --raw gives a device verdict (0 or 1), never a crash or a sanitizer-style abort."""
    (tmp_path / "fw.bin").write_bytes(b"\x00" * 5000)
    (tmp_path / "certs").mkdir(exist_ok=True)
    (tmp_path / "certs" / "c.crt").write_text("x")
    (tmp_path / "doc.json").write_bytes(document)
    result = device_verify(run, "--image", "fw.bin", "--job-doc", "doc.json", "--cert-dir", "certs", "--raw")
    assert result.returncode in (0, 1, 2), result.stderr
    if result.returncode == 2:
        assert result.stderr.startswith("otarig: error:"), result.stderr
    assert "Fatal error" not in result.stderr
