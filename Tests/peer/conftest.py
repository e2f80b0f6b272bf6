"""Shared fixtures for the peer tests: the otarig binary, and helpers to run it and openssl.

These tests drive real peers nobody here wrote (openssl, the aws CLI, boto3, esptool, umockdev).
A peer that cannot run fails the test with the reason; nothing is skipped.
"""
import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# openssl genpkey arguments per key type, as otarig cert create names the types.
OPENSSL_KEYGEN = {
    "ec-p256": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:named_curve"],
    "ec-p384": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-pkeyopt", "ec_param_enc:named_curve"],
    "rsa-2048": ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "rsa-3072": ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
    "rsa-4096": ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
}

# The FreeRTOS recipe's cert_config.txt (FreeRTOS User Guide, awsdocs/aws-freertos-docs @38314d0a
# doc_source/userguide/ota-code-sign-cert-esp.md).
CERT_CONFIG = """[ req ]
prompt             = no
distinguished_name = my_dn
[ my_dn ]
commonName = test_signer@amazon.com
[ my_exts ]
keyUsage         = digitalSignature
extendedKeyUsage = codeSigning
"""


def _otarig_path() -> Path:
    explicit = os.environ.get("OTARIG_BIN")
    path = Path(explicit) if explicit else ROOT / ".build" / "debug" / "otarig"
    return path


@pytest.fixture(scope="session")
def otarig_bin() -> Path:
    path = _otarig_path()
    if not path.is_file():
        pytest.fail(f"otarig binary not found at {path}: run 'swift build' first or set OTARIG_BIN")
    return path


@pytest.fixture(scope="session")
def openssl_bin() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.fail("the openssl CLI is not installed: run Scripts/bootstrap")
    return path


class Runner:
    def __init__(self, otarig: Path, cwd: Path):
        self.otarig = otarig
        self.cwd = cwd

    def otarig_run(self, *args, check=True):
        result = subprocess.run([str(self.otarig), *map(str, args)], cwd=self.cwd, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"otarig {' '.join(map(str, args))} exited {result.returncode}\n{result.stderr}")
        return result

    def openssl(self, *args, check=True):
        result = subprocess.run(["openssl", *map(str, args)], cwd=self.cwd, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"openssl {' '.join(map(str, args))} exited {result.returncode}\n{result.stdout}{result.stderr}")
        return result


@pytest.fixture
def run(otarig_bin, openssl_bin, tmp_path) -> Runner:
    return Runner(otarig_bin, tmp_path)


def read_signed_object(path: Path) -> dict:
    return json.loads(path.read_text())


def signature_bytes(signed: dict) -> bytes:
    return base64.b64decode(signed["signature"], validate=True)


@pytest.fixture(scope="session")
def postgres_cluster():
    """One PostgreSQL cluster for the session (each test gets its own database), destroyed at the end."""
    from signer_cluster import PostgresCluster
    cluster = PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory):
    """One moto_server for the session, reset before each test that uses it."""
    from signer_cluster import MotoServer
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    try:
        yield server.start()
    finally:
        server.stop()


# The stores a signing-service test runs against: `sqlite` is one `otarig serve` on its data directory (the default
# set-up); `cluster` is three instances on one PostgreSQL database and moto_server, behind nginx. Mark a test
# `@both_stores` to run it on each.
both_stores = pytest.mark.parametrize("signer_server", ["sqlite", pytest.param("cluster", marks=pytest.mark.cluster)], indirect=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster: runs on PostgreSQL, moto_server and nginx (Scripts/test runs these as their own stage)")


@pytest.fixture(params=["sqlite"])
def signer_server(request, otarig_bin, tmp_path):
    """A running signing service (see `both_stores`), stopped (SIGTERM) when the test ends."""
    from signer_server import SignerServer
    if request.param == "sqlite":
        server = SignerServer(otarig_bin, tmp_path).start()
    else:
        from signer_cluster import SignerCluster
        moto = request.getfixturevalue("moto_s3")
        moto.reset()
        server = SignerCluster(otarig_bin, tmp_path, request.getfixturevalue("postgres_cluster"), moto).start()
    try:
        yield server
    finally:
        server.stop()
