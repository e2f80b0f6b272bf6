"""Bad input: one line on stderr naming the problem and the fix, exit status 2, and no output file."""
import os

import pytest


@pytest.fixture
def material(run, tmp_path):
    run.otarig_run("cert", "create", "--key-type", "ec-p256", "--cert-out", "ec.crt.pem", "--key-out", "ec.key.pem")
    run.otarig_run("cert", "create", "--key-type", "rsa-2048", "--cert-out", "rsa.crt.pem", "--key-out", "rsa.key.pem")
    (tmp_path / "fw.bin").write_bytes(os.urandom(4096))
    (tmp_path / "garbage.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n")
    (tmp_path / "noise.bin").write_bytes(os.urandom(300))
    with open(tmp_path / "huge.bin", "wb") as f:
        f.truncate(16 * 1024 * 1024 + 1)
    os.mkdir(tmp_path / "adir")
    return tmp_path


def sign(platform, cert, key, payload="fw.bin", *extra):
    return ["sign", "--platform", platform, "--cert", cert, "--key", key, "--in", payload, "--out", "out.json", *extra]


BAD = {
    "rsa key on an ECDSA-only platform": (sign("AWSIoTDeviceManagement-SHA256-ECDSA", "rsa.crt.pem", "rsa.key.pem"),
                                          ["RSA-2048", "AWSIoTDeviceManagement-SHA256-ECDSA", "ECDSA"]),
    "ecdsa key on CC3220SF": (sign("AmazonFreeRTOS-TI-CC3220SF", "ec.crt.pem", "ec.key.pem"), ["use a key of type RSA"]),
    "SHA-1 on a platform that does not allow it": (sign("AmazonFreeRTOS-Default", "ec.crt.pem", "ec.key.pem", "fw.bin", "--hash-algorithm", "SHA1"),
                                                   ["does not allow hash algorithm SHA1", "allowed: SHA256"]),
    "payload above maxSizeInMB": (sign("AmazonFreeRTOS-Default", "ec.crt.pem", "ec.key.pem", "huge.bin"), ["at most 16 MiB", "maxSizeInMB"]),
    "key not matching the certificate": (sign("AmazonFreeRTOS-Default", "ec.crt.pem", "rsa.key.pem"), ["does not belong to the certificate"]),
    "garbage PEM key": (sign("AmazonFreeRTOS-Default", "ec.crt.pem", "garbage.pem"), ["PEM"]),
    "binary noise as key": (sign("AmazonFreeRTOS-Default", "ec.crt.pem", "noise.bin"), ["not a private key"]),
    "key passed as certificate": (sign("AmazonFreeRTOS-Default", "ec.key.pem", "ec.key.pem"), ["no CERTIFICATE block", "not the key"]),
    "missing payload": (sign("AmazonFreeRTOS-Default", "ec.crt.pem", "ec.key.pem", "missing.bin"), ["no such file"]),
    "directory as payload": (sign("AmazonFreeRTOS-Default", "ec.crt.pem", "ec.key.pem", "adir"), ["not a regular file"]),
    "missing key file": (sign("AmazonFreeRTOS-Default", "ec.crt.pem", "nokey.pem"), ["no such file"]),
    "unknown platform": (sign("AmazonFreeRTOS-ESP32", "ec.crt.pem", "ec.key.pem"), ["unknown platform", "AmazonFreeRTOS-Default"]),
    "detached without a location": (sign("AWSIoTDeviceManagement-SHA256-ECDSA", "ec.crt.pem", "ec.key.pem"), ["--payload-location"]),
    "empty payload": (sign("AmazonFreeRTOS-Default", "ec.crt.pem", "ec.key.pem", "empty.bin"), ["empty"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_sign_input_gets_one_line_exit_2_and_no_output(run, material, case):
    (material / "empty.bin").write_bytes(b"")
    args, words = BAD[case]
    result = run.otarig_run(*args, check=False)
    assert result.returncode == 2, f"{case}: exit {result.returncode}\n{result.stderr}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"{case}: expected one line, got:\n{result.stderr}"
    assert lines[0].startswith("otarig: error: ")
    for word in words:
        assert word in lines[0], f"{case}: '{word}' not in: {lines[0]}"
    assert not (material / "out.json").exists(), f"{case}: a partial output file was left behind"
    assert not [p for p in os.listdir(material) if ".tmp-" in p]


def test_import_refuses_a_key_that_does_not_match(run, material):
    result = run.otarig_run("cert", "import", "--certificate", "ec.crt.pem", "--private-key", "rsa.key.pem", "--data-dir", "state", check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("otarig: error: the private key (RSA-2048) does not match the certificate")
    assert result.stderr.count("\n") == 1


def test_cert_create_never_overwrites_a_key_without_force(run, material):
    before = (material / "ec.key.pem").read_bytes()
    result = run.otarig_run("cert", "create", "--cert-out", "ec.crt.pem", "--key-out", "ec.key.pem", check=False)
    assert result.returncode == 2 and "--force" in result.stderr
    assert (material / "ec.key.pem").read_bytes() == before
    run.otarig_run("cert", "create", "--cert-out", "ec.crt.pem", "--key-out", "ec.key.pem", "--force")
    assert (material / "ec.key.pem").read_bytes() != before


def test_usage_errors_exit_2_and_help_exits_0(run, material):
    assert run.otarig_run("sign", "--platform", "AmazonFreeRTOS-Default", "--in", "fw.bin", check=False).returncode == 2
    help_text = run.otarig_run("sign", "--help")
    assert "--certificate-arn" in help_text.stdout and "Examples:" in help_text.stdout
