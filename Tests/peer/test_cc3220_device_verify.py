"""otarig device-verify --profile cc3220-simplelink: the C agent with the CC3220SF port, whose close is the C model of the
network processor's sl_FsClose (Firmware/source/hil_simplelink.c).

Peers: openssl makes the roots, intermediates, signers and the file signatures (TI's recipe: openssl dgst -sha1 -sign),
and gives its own verdict on each chain (openssl verify) and signature (openssl dgst -sha1 -verify). The expected
SimpleLink codes are the spec's rows (spec/simplelink-close.md) with TI's errors.h values; the PAL status is
otaPal_CloseFile's mapping (aws/amazon-freertos vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c).
"""
import base64
import json
import os

import pytest

CATALOG_ROOT = "/CN=dummy-root-ca-cert"


@pytest.fixture
def lab(run, tmp_path):
    """A device file system (fs/), a catalog holding TI's development root by name (catalog/), and fw.bin."""
    (tmp_path / "fs").mkdir()
    (tmp_path / "catalog").mkdir()
    (tmp_path / "fw.bin").write_bytes(os.urandom(30_000))
    make_root(run, "root", CATALOG_ROOT)
    (tmp_path / "catalog" / "dummy-root-ca-cert.pem").write_bytes((tmp_path / "root.pem").read_bytes())
    return tmp_path


def make_root(run, name, subject, bits=2048):
    run.openssl("req", "-x509", "-newkey", f"rsa:{bits}", "-nodes", "-keyout", f"{name}.key", "-subj", subject, "-days", "3650",
                "-sha256", "-out", f"{name}.pem", "-addext", "basicConstraints=critical,CA:TRUE")


def issue(run, tmp_path, name, subject, issuer, bits=2048, digest="-sha1", ca=False):
    """A certificate for a fresh key, signed by `issuer`; its DER next to its PEM."""
    run.openssl("req", "-new", "-newkey", f"rsa:{bits}", "-nodes", "-keyout", f"{name}.key", "-subj", subject, "-out", f"{name}.csr")
    (tmp_path / f"{name}.ext").write_text("basicConstraints=critical,CA:TRUE\n" if ca else "basicConstraints=CA:FALSE\n")
    run.openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key", "-set_serial",
                str(int.from_bytes(os.urandom(8), "big")), "-days", "365", digest, "-extfile", f"{name}.ext", "-out", f"{name}.pem")
    run.openssl("x509", "-in", f"{name}.pem", "-outform", "DER", "-out", f"{name}.der")


def sign(run, tmp_path, signer, certfile):
    """TI's recipe over fw.bin, and the job document AWS IoT would hold for it (sig-sha1-rsa)."""
    run.openssl("dgst", "-sha1", "-sign", f"{signer}.key", "-out", f"{signer}.sig", "fw.bin")
    signature = base64.b64encode((tmp_path / f"{signer}.sig").read_bytes()).decode()
    doc = {"afr_ota": {"protocols": ["MQTT"], "streamname": "AFR_OTA-cc3220", "files": [
        {"filepath": "/sys/mcuflashimg.bin", "filesize": (tmp_path / "fw.bin").stat().st_size, "fileid": 0,
         "certfile": certfile, "sig-sha1-rsa": signature}]}}
    (tmp_path / "job.json").write_text(json.dumps(doc))
    return len((tmp_path / f"{signer}.sig").read_bytes())


def openssl_chain_ok(run, leaf, untrusted=None):
    args = ["verify", "-auth_level", "0", "-CAfile", "root.pem"] + (["-untrusted", untrusted] if untrusted else []) + [f"{leaf}.pem"]
    return run.openssl(*args, check=False).returncode == 0


def openssl_signature_ok(run, signer):
    run.openssl("x509", "-in", f"{signer}.pem", "-noout", "-pubkey", "-out", f"{signer}.pub")
    return run.openssl("dgst", "-sha1", "-verify", f"{signer}.pub", "-signature", f"{signer}.sig", "fw.bin", check=False).returncode == 0


def device_verify(run, *extra):
    args = ["device-verify", "--profile", "cc3220-simplelink", "--image", "fw.bin", "--job-doc", "job.json", "--cert-dir", "fs",
            "--root-catalog", "catalog", *extra]
    result = run.otarig_run(*args, check=False)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    as_json = run.otarig_run(*args, "--json", check=False)
    return result, json.loads(as_json.stdout)


def sub(code):
    return code & 0xFFFFFF


def test_a_signer_issued_by_the_catalog_root_is_accepted(run, lab):
    issue(run, lab, "tisigner", "/CN=tisigner", "root")
    (lab / "fs" / "tisigner.crt.der").write_bytes((lab / "tisigner.der").read_bytes())
    sign(run, lab, "tisigner", "tisigner.crt.der")
    assert openssl_chain_ok(run, "tisigner") and openssl_signature_ok(run, "tisigner")

    console, out = device_verify(run)
    assert console.returncode == 0, console.stdout + console.stderr
    assert "simplelink: sl_FsClose returned SL_RET_CODE_OK (0)" in console.stdout
    assert "[INFO] Authenticating and closing file." in console.stdout
    assert console.stdout.splitlines()[0].startswith("device: CC3220SF PAL (SimpleLink network processor)")
    assert out["verdict"] == "accepted" and out["palStatus"] == "0x00000000"
    assert out["simpleLinkNWP"]["code"] == 0 and out["simpleLinkNWP"]["error"] == "SL_RET_CODE_OK"
    assert out["simpleLinkNWP"]["chain"][-1]["subject"] == "CN=dummy-root-ca-cert"


def test_a_tampered_file_is_a_wrong_signature_security_alert(run, lab):
    issue(run, lab, "tisigner", "/CN=tisigner", "root")
    (lab / "fs" / "tisigner.crt.der").write_bytes((lab / "tisigner.der").read_bytes())
    sign(run, lab, "tisigner", "tisigner.crt.der")
    data = bytearray((lab / "fw.bin").read_bytes())
    data[1234] ^= 0x01
    (lab / "fw.bin").write_bytes(bytes(data))
    assert not openssl_signature_ok(run, "tisigner")

    console, out = device_verify(run)
    assert console.returncode == 1
    assert "SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT (-10289)" in console.stdout
    assert out["simpleLinkNWP"]["code"] == -10289 and out["simpleLinkNWP"]["securityAlert"]
    assert out["simpleLinkNWP"]["securityAlerts"] == 1
    assert out["palStatus"] == f"0x{0xE3 << 24 | sub(-10289):08x}"
    assert {"level": "ERROR", "text": "Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3ffd7cf)"} in out["log"]


def test_a_root_outside_the_catalog_is_unknown(run, lab):
    make_root(run, "stranger", "/CN=otarig stranger root")
    issue(run, lab, "tisigner", "/CN=tisigner", "stranger")
    (lab / "fs" / "tisigner.crt.der").write_bytes((lab / "tisigner.der").read_bytes())
    sign(run, lab, "tisigner", "tisigner.crt.der")
    assert not openssl_chain_ok(run, "tisigner") and openssl_signature_ok(run, "tisigner")

    console, out = device_verify(run)
    assert console.returncode == 1
    assert out["simpleLinkNWP"]["code"] == -10287 and out["simpleLinkNWP"]["error"] == "SL_ERROR_FS_ROOT_CA_IS_UNKOWN"
    assert out["palStatus"] == f"0x{0xE3 << 24 | sub(-10287):08x}"
    assert not out["simpleLinkNWP"]["securityAlert"]


def test_an_intermediate_is_found_under_its_issued_to_name_only(run, lab):
    issue(run, lab, "int", "/CN=dummy-trusted-ca-cert", "root", ca=True)
    issue(run, lab, "tisigner", "/CN=tisigner", "int", digest="-sha256")
    (lab / "fs" / "tisigner.crt.der").write_bytes((lab / "tisigner.der").read_bytes())
    sign(run, lab, "tisigner", "tisigner.crt.der")
    assert openssl_chain_ok(run, "tisigner", untrusted="int.pem") and openssl_signature_ok(run, "tisigner")

    # Under another name the network processor cannot find it: the chain stops at an unknown issuer.
    (lab / "fs" / "intermediate.der").write_bytes((lab / "int.der").read_bytes())
    _, out = device_verify(run)
    assert out["simpleLinkNWP"]["code"] == -10287

    # Under its "Issued To" name (the commonName of the signer's issuer) the chain reaches the catalog root.
    (lab / "fs" / "dummy-trusted-ca-cert").write_bytes((lab / "int.der").read_bytes())
    console, out = device_verify(run)
    assert console.returncode == 0, console.stdout
    assert out["simpleLinkNWP"]["code"] == 0
    assert [entry.get("file") for entry in out["simpleLinkNWP"]["chain"]] == ["tisigner.crt.der", "dummy-trusted-ca-cert", None]


def test_signatures_longer_than_256_bytes(run, lab):
    # RSA-3072: a 384-byte signature reaches sl_FsClose (the agent holds up to 384), which takes at most 256.
    issue(run, lab, "signer3072", "/CN=signer3072", "root", bits=3072)
    (lab / "fs" / "signer3072.der").write_bytes((lab / "signer3072.der").read_bytes())
    assert sign(run, lab, "signer3072", "signer3072.der") == 384
    assert openssl_chain_ok(run, "signer3072") and openssl_signature_ok(run, "signer3072")
    console, out = device_verify(run)
    assert console.returncode == 1
    assert "SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH (-10290)" in console.stdout
    assert out["palStatus"] == f"0x{0xE3 << 24 | sub(-10290):08x}"

    # RSA-4096: a 512-byte signature does not fit the agent's signature buffer (kOTA_MaxSignatureSize, 384 bytes,
    # ota_private.h), so the FreeRTOS agent refuses the job document and sl_FsClose never sees it (on UniFlash's
    # direct close it is -10290, E2E 1159293, which test_hil_simplelink checks).
    issue(run, lab, "signer4096", "/CN=signer4096", "root", bits=4096)
    (lab / "fs" / "signer4096.der").write_bytes((lab / "signer4096.der").read_bytes())
    assert sign(run, lab, "signer4096", "signer4096.der") == 512
    assert openssl_signature_ok(run, "signer4096")
    console, out = device_verify(run)
    assert console.returncode == 1
    assert out["outcome"] == "rejected-job-document"
    assert "simpleLinkNWP" in out and out["simpleLinkNWP"].get("code") is None
    assert "simplelink: sl_FsClose did not run" in console.stdout


def test_the_device_locks_at_the_fifteenth_alert(run, lab):
    issue(run, lab, "tisigner", "/CN=tisigner", "root")
    (lab / "fs" / "tisigner.crt.der").write_bytes((lab / "tisigner.der").read_bytes())
    sign(run, lab, "tisigner", "tisigner.crt.der")
    good = (lab / "fw.bin").read_bytes()
    (lab / "fw.bin").write_bytes(bytes([good[0] ^ 1]) + good[1:])

    # The fifteenth alert returns its own code and locks the device.
    _, out = device_verify(run, "--security-alerts", "14")
    assert out["simpleLinkNWP"]["code"] == -10289 and out["simpleLinkNWP"]["locked"]

    # A locked device refuses even a good file: SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT, OtaPalFileClose.
    (lab / "fw.bin").write_bytes(good)
    assert openssl_signature_ok(run, "tisigner")
    console, out = device_verify(run, "--security-alerts", "15")
    assert console.returncode == 1
    assert "SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT (-28674)" in console.stdout
    assert out["palStatus"] == f"0x{0xEE << 24 | sub(-28674):08x}"
    assert out["simpleLinkNWP"]["securityAlerts"] == 15


def test_a_revoked_signer_and_a_file_over_512_kib(run, lab):
    issue(run, lab, "tisigner", "/CN=tisigner", "root")
    (lab / "fs" / "tisigner.crt.der").write_bytes((lab / "tisigner.der").read_bytes())
    sign(run, lab, "tisigner", "tisigner.crt.der")
    fingerprint = run.openssl("x509", "-in", "tisigner.pem", "-noout", "-fingerprint", "-sha256").stdout.strip().split("=")[1]
    (lab / "catalog" / "revoked.txt").write_text(f"# revoked by openssl's fingerprint\n{fingerprint}\n")
    _, out = device_verify(run)
    assert out["simpleLinkNWP"]["code"] == -10273
    assert out["palStatus"] == f"0x{0xE3 << 24 | sub(-10273):08x}"

    (lab / "catalog" / "revoked.txt").unlink()
    (lab / "fw.bin").write_bytes(os.urandom(512 * 1024 + 1))
    sign(run, lab, "tisigner", "tisigner.crt.der")
    console, out = device_verify(run)
    assert console.returncode == 1
    assert out["outcome"] == "rejected-file-create"
    assert out["palStatus"] == "0xe5080000"
    assert {"level": "ERROR", "text": "Error (-10310) trying to create receive file."} in out["log"]
    assert out["statuses"][-1]["payload"] == '{"status":"FAILED","statusDetails":{"reason":"aborted: 0xe5080000"}}'
