"""otarig sign, judged by the openssl CLI: every platform with every key type it allows."""
import base64
import json
import os

import pytest

from conftest import CERT_CONFIG, OPENSSL_KEYGEN, read_signed_object, signature_bytes

# (platform, key type as otarig cert create names it, openssl digest, job-document key)
CASES = [
    ("AmazonFreeRTOS-Default", "ec-p256", "sha256", "sig-sha256-ecdsa"),
    ("AmazonFreeRTOS-Default", "rsa-2048", "sha256", "sig-sha256-rsa"),
    ("AmazonFreeRTOS-Default", "rsa-3072", "sha256", "sig-sha256-rsa"),
    ("AmazonFreeRTOS-Default", "rsa-4096", "sha256", "sig-sha256-rsa"),
    ("AmazonFreeRTOS-TI-CC3220SF", "rsa-2048", "sha1", "sig-sha1-rsa"),
    ("AmazonFreeRTOS-TI-CC3220SF", "rsa-3072", "sha1", "sig-sha1-rsa"),
    ("AmazonFreeRTOS-TI-CC3220SF", "rsa-4096", "sha1", "sig-sha1-rsa"),
    ("AWSIoTDeviceManagement-SHA256-ECDSA", "ec-p256", "sha256", "sig-sha256-ecdsa"),
    ("AWSLambda-SHA384-ECDSA", "ec-p384", "sha384", "sig-sha384-ecdsa"),
    ("Notation-OCI-SHA384-ECDSA", "ec-p384", "sha384", "sig-sha384-ecdsa"),
]


def firmware(path, size=70_001):
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def make_material(run, tmp_path, key_type, maker):
    """A key and certificate made by otarig or by openssl with the FreeRTOS recipe."""
    cert, key = tmp_path / "signer.crt.pem", tmp_path / "signer.key.pem"
    if maker == "otarig":
        run.otarig_run("cert", "create", "--key-type", key_type, "--cert-out", cert, "--key-out", key)
    else:
        (tmp_path / "cert_config.txt").write_text(CERT_CONFIG)
        run.openssl(*OPENSSL_KEYGEN[key_type], "-out", key)
        run.openssl("req", "-new", "-x509", "-config", "cert_config.txt", "-extensions", "my_exts", "-nodes",
                    "-days", "365", "-key", key, "-out", cert)
    return cert, key


def openssl_verify(run, tmp_path, cert, digest, signature: bytes, payload_path):
    pub = tmp_path / "pub.pem"
    run.openssl("x509", "-in", cert, "-pubkey", "-noout", "-out", pub)
    sig = tmp_path / "sig.bin"
    sig.write_bytes(signature)
    return run.openssl("dgst", f"-{digest}", "-verify", pub, "-signature", sig, payload_path, check=False)


@pytest.mark.parametrize("maker", ["otarig", "openssl"])
@pytest.mark.parametrize("platform,key_type,digest,sig_key", CASES)
def test_signature_verifies_with_openssl_and_fails_after_a_bit_flip(run, tmp_path, platform, key_type, digest, sig_key, maker):
    cert, key = make_material(run, tmp_path, key_type, maker)
    payload_path = tmp_path / "fw.bin"
    payload = firmware(payload_path)
    args = ["sign", "--platform", platform, "--cert", cert, "--key", key, "--in", payload_path,
            "--out", tmp_path / "signed.json", "--job-doc", tmp_path / "job.json", "--certname", "codesign.crt"]
    if platform in ("AWSIoTDeviceManagement-SHA256-ECDSA", "AWSLambda-SHA384-ECDSA", "Notation-OCI-SHA384-ECDSA"):
        args += ["--payload-location", "s3://firmware/fw.bin?versionId=3HL4kqtJlcpXroDTDmJ"]
    run.otarig_run(*args)
    signed = read_signed_object(tmp_path / "signed.json")
    signature = signature_bytes(signed)

    verified = openssl_verify(run, tmp_path, cert, digest, signature, payload_path)
    assert verified.returncode == 0 and "Verified OK" in verified.stdout, verified.stdout + verified.stderr

    flipped = tmp_path / "flipped.bin"
    changed = bytearray(payload)
    changed[len(changed) // 2] ^= 0x10
    flipped.write_bytes(bytes(changed))
    refused = openssl_verify(run, tmp_path, cert, digest, signature, flipped)
    assert refused.returncode != 0 and "Verification failure" in refused.stdout + refused.stderr

    # Round trip: the object's fields and the job document agree with the input.
    assert signed["rawPayloadSize"] == len(payload)
    if "payload" in signed:
        assert base64.b64decode(signed["payload"], validate=True) == payload
    else:
        assert signed["payloadLocation"] == {"s3": {"bucketName": "firmware", "key": "fw.bin", "version": "3HL4kqtJlcpXroDTDmJ"}}
    job = json.loads((tmp_path / "job.json").read_text())
    file_entry = job["afr_ota"]["files"][0]
    assert file_entry[sig_key] == signed["signature"]
    assert file_entry["filesize"] == signed["rawPayloadSize"]
    assert file_entry["certfile"] == "codesign.crt"
    assert file_entry["fileid"] == 0
    assert job["afr_ota"]["protocols"] == ["MQTT"]


@pytest.mark.parametrize("digest,platform", [("sha256", "AmazonFreeRTOS-Default"), ("sha1", "AmazonFreeRTOS-TI-CC3220SF")])
def test_rsa_signature_is_byte_identical_to_openssl_dgst_sign(run, tmp_path, digest, platform):
    cert, key = make_material(run, tmp_path, "rsa-2048", "openssl")
    payload_path = tmp_path / "fw.bin"
    firmware(payload_path)
    run.otarig_run("sign", "--platform", platform, "--cert", cert, "--key", key, "--in", payload_path,
                   "--out", tmp_path / "signed.json", "--signature-out", tmp_path / "ours.sig")
    run.openssl("dgst", f"-{digest}", "-sign", key, "-out", tmp_path / "theirs.sig", payload_path)
    assert (tmp_path / "ours.sig").read_bytes() == (tmp_path / "theirs.sig").read_bytes()
    assert signature_bytes(read_signed_object(tmp_path / "signed.json")) == (tmp_path / "ours.sig").read_bytes()


def test_signed_object_is_compact_json_in_aws_key_order(run, tmp_path):
    cert, key = make_material(run, tmp_path, "ec-p256", "otarig")
    payload_path = tmp_path / "fw.bin"
    firmware(payload_path, size=10)
    run.otarig_run("sign", "--platform", "AmazonFreeRTOS-Default", "--cert", cert, "--key", key, "--in", payload_path,
                   "--out", tmp_path / "signed.json")
    text = (tmp_path / "signed.json").read_text()
    assert list(json.loads(text).keys()) == ["rawPayloadSize", "signature", "signatureAlgorithm", "payload"]
    assert text.startswith('{"rawPayloadSize":10,"signature":"')
    assert '"signatureAlgorithm":"SHA256withECDSA","payload":"' in text
    assert " " not in text and "\n" not in text and "\\/" not in text


def test_signs_with_an_imported_certificate_arn(run, tmp_path):
    cert, key = make_material(run, tmp_path, "ec-p256", "openssl")
    arn = run.otarig_run("cert", "import", "--certificate", cert, "--private-key", key, "--data-dir", tmp_path / "state").stdout.strip()
    payload_path = tmp_path / "fw.bin"
    firmware(payload_path)
    run.otarig_run("sign", "--platform", "AmazonFreeRTOS-Default", "--certificate-arn", arn, "--in", payload_path,
                   "--out", tmp_path / "signed.json", "--data-dir", tmp_path / "state")
    signature = signature_bytes(read_signed_object(tmp_path / "signed.json"))
    verified = openssl_verify(run, tmp_path, cert, "sha256", signature, payload_path)
    assert "Verified OK" in verified.stdout


def test_platforms_json_is_the_list_signing_platforms_body(run):
    body = json.loads(run.otarig_run("platforms", "--json").stdout)
    ids = [p["platformId"] for p in body["platforms"]]
    assert ids == ["AWSIoTDeviceManagement-SHA256-ECDSA", "AWSLambda-SHA384-ECDSA", "AmazonFreeRTOS-TI-CC3220SF",
                   "AmazonFreeRTOS-Default", "Notation-OCI-SHA384-ECDSA"]
    for platform in body["platforms"]:
        assert set(platform) == {"platformId", "displayName", "partner", "target", "category", "signingConfiguration",
                                 "signingImageFormat", "maxSizeInMB", "revocationSupported"}
    assert body["platforms"][0]["displayName"].endswith(" ")
