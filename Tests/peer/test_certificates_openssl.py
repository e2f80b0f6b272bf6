"""otarig cert create / create-ca / import, judged by openssl and pyca/cryptography."""
import datetime
import re
import stat

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ARN = re.compile(r"^arn:aws:acm:us-east-1:123456789012:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_created_certificate_shows_ku_and_eku_in_openssl_text(run, tmp_path):
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default", "--common-name", "bench signer")
    text = run.openssl("x509", "-in", tmp_path / "codesign.crt.pem", "-noout", "-text").stdout
    assert re.search(r"X509v3 Key Usage:\s*\n\s*Digital Signature\n", text), text
    assert re.search(r"X509v3 Extended Key Usage:\s*\n\s*Code Signing\n", text), text
    assert "Version: 3 (0x2)" in text
    assert "ASN1 OID: prime256v1" in text
    assert "Subject: CN = bench signer" in text
    mode = stat.S_IMODE((tmp_path / "codesign.key.pem").stat().st_mode)
    assert mode == 0o600
    # openssl reads the key and it belongs to the certificate
    key_pub = run.openssl("pkey", "-in", tmp_path / "codesign.key.pem", "-pubout").stdout
    cert_pub = run.openssl("x509", "-in", tmp_path / "codesign.crt.pem", "-pubkey", "-noout").stdout
    assert key_pub == cert_pub


def test_cc3220_chain_verifies_with_openssl_and_uses_sha1(run, tmp_path):
    run.otarig_run("cert", "create-ca", "--cert-out", "ca.crt.pem", "--key-out", "ca.key.pem")
    ca_text = run.openssl("x509", "-in", tmp_path / "ca.crt.pem", "-noout", "-text").stdout
    assert "CA:TRUE" in ca_text
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-TI-CC3220SF", "--ca-cert", "ca.crt.pem",
                   "--ca-key", "ca.key.pem", "--cert-out", "tisigner.crt.pem", "--key-out", "tisigner.key.pem")
    text = run.openssl("x509", "-in", tmp_path / "tisigner.crt.pem", "-noout", "-text").stdout
    assert "Signature Algorithm: sha1WithRSAEncryption" in text
    assert "Public-Key: (2048 bit)" in text
    assert "Code Signing" in text and "Digital Signature" in text
    verified = run.openssl("verify", "-auth_level", "0", "-CAfile", tmp_path / "ca.crt.pem", tmp_path / "tisigner.crt.pem")
    assert verified.stdout.strip().endswith(": OK")
    # The DER copy the CC3220 flashes reads back the same.
    run.openssl("x509", "-in", tmp_path / "tisigner.crt.pem", "-out", tmp_path / "tisigner.crt.der", "-outform", "DER")

    # A different CA does not verify it.
    run.otarig_run("cert", "create-ca", "--cert-out", "other.crt.pem", "--key-out", "other.key.pem")
    refused = run.openssl("verify", "-auth_level", "0", "-CAfile", tmp_path / "other.crt.pem", tmp_path / "tisigner.crt.pem", check=False)
    assert refused.returncode != 0


def test_import_returns_an_acm_arn_and_list_never_shows_the_key(run, tmp_path):
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default")
    arn = run.otarig_run("cert", "import", "--certificate", "codesign.crt.pem", "--private-key", "codesign.key.pem",
                         "--data-dir", "state").stdout.strip()
    assert ARN.match(arn), arn
    listing = run.otarig_run("cert", "list", "--data-dir", "state").stdout
    assert arn in listing
    as_json = run.otarig_run("cert", "list", "--json", "--data-dir", "state").stdout
    assert arn in as_json and "PRIVATE KEY" not in as_json and "PRIVATE KEY" not in listing
    key_files = list((tmp_path / "state" / "keys").glob("*/key.pem"))
    assert len(key_files) == 1 and stat.S_IMODE(key_files[0].stat().st_mode) == 0o600


def test_import_accepts_the_cc3220_chain_from_openssl(run, tmp_path):
    """The TI recipe done entirely with openssl, imported with its chain."""
    (tmp_path / "cert_config.txt").write_text(
        "[ req ]\nprompt = no\ndistinguished_name = my dn\n[ my dn ]\ncommonName = test_signer@amazon.com\n"
        "[ my_exts ]\nkeyUsage = digitalSignature\nextendedKeyUsage = codeSigning\n")
    run.otarig_run("cert", "create-ca", "--cert-out", "root.pem", "--key-out", "root.key")
    run.openssl("req", "-config", "cert_config.txt", "-extensions", "my_exts", "-nodes", "-days", "365",
                "-newkey", "rsa:2048", "-keyout", "tisigner.key", "-out", "tisigner.csr")
    run.openssl("x509", "-extfile", "cert_config.txt", "-extensions", "my_exts", "-req", "-days", "365",
                "-in", "tisigner.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "01",
                "-out", "tisigner.crt.pem", "-sha1")
    arn = run.otarig_run("cert", "import", "--certificate", "tisigner.crt.pem", "--private-key", "tisigner.key",
                         "--certificate-chain", "root.pem", "--data-dir", "state").stdout.strip()
    assert ARN.match(arn)


def _write_dated_certificate(tmp_path, not_before, not_after):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dated")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "dated.crt.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "dated.key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                               serialization.NoEncryption()))


def test_import_refuses_expired_and_not_yet_valid_certificates(run, tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc)
    for start, end, word in [(now - datetime.timedelta(days=30), now - datetime.timedelta(days=1), "expired"),
                             (now + datetime.timedelta(days=1), now + datetime.timedelta(days=30), "not yet valid")]:
        _write_dated_certificate(tmp_path, start, end)
        result = run.otarig_run("cert", "import", "--certificate", "dated.crt.pem", "--private-key", "dated.key.pem",
                                "--data-dir", "state", check=False)
        assert result.returncode == 2, result.stderr
        assert word in result.stderr and "validity period" in result.stderr
        assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert not list((tmp_path / "state" / "keys").glob("*/key.pem"))
