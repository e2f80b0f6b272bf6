"""The host twin against the devices it predicts, on cases generated from a seed.

esp32-mbedtls: `otarig verify --device-only` against `otarig device-verify` (the C core over Debian's mbedTLS), on
accept/reject, the PAL status, and every log line and job-status message.
posix-openssl: `otarig verify --profile posix-openssl --device-only` against the openssl CLI (`openssl x509 -inform
PEM` reads the certificate as PEM_read_bio_X509 does; `openssl pkeyutl -verify -rawin -digest sha256` checks the
whole signature over [0, filesize) as EVP_DigestVerifyFinal does). Not `openssl dgst -verify`: it reads at most
EVP_PKEY_size bytes of the signature file, so a signature with a trailing byte passes there but not on the device.
Job documents the agent refuses before the PAL runs are judged by the C core's agent.

OTARIG_DIFF_CASES (default 2000) and OTARIG_DIFF_SEED (default 20261122) choose the cases; a disagreement prints the
case (seed, index, mutation, files kept under the pytest tmp dir) so it can be replayed.
"""
import base64
import datetime
import json
import os
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CASES = int(os.environ.get("OTARIG_DIFF_CASES", "2000"))
SEED = int(os.environ.get("OTARIG_DIFF_SEED", "20261122"))
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
NOW = datetime.datetime.now(datetime.timezone.utc)


def certificate(key, name, *, eku=True, critical_unknown=False, not_before=None, not_after=None):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - datetime.timedelta(days=1))
               .not_valid_after(not_after or NOW + datetime.timedelta(days=365))
               .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=False))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    if critical_unknown:
        builder = builder.add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00"), critical=True)
    digest = hashes.SHA256()
    return builder.sign(key, digest)


class Material:
    """Keys and certificates shared by all cases; certificate files live in one directory."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.dir.mkdir()
        self.keys = {
            "ec1": ec.generate_private_key(ec.SECP256R1()),
            "ec2": ec.generate_private_key(ec.SECP256R1()),
            "rsa1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "rsa2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        }
        self.certs = {}
        for name, key in self.keys.items():
            self.write(f"{name}.crt", certificate(key, f"signer {name}"))
        key = self.keys["ec1"]
        self.write("ec1-critical.crt", certificate(key, "critical", critical_unknown=True))
        self.write("ec1-noeku.crt", certificate(key, "no eku", eku=False))
        self.write("ec1-expired.crt", certificate(key, "expired", not_before=NOW - datetime.timedelta(days=800),
                                                  not_after=NOW - datetime.timedelta(days=400)))
        self.write("ec1-future.crt", certificate(key, "future", not_before=NOW + datetime.timedelta(days=400),
                                                 not_after=NOW + datetime.timedelta(days=800)))
        self.write("rsa1-critical.crt", certificate(self.keys["rsa1"], "critical", critical_unknown=True))
        (self.dir / "ec1.der").write_bytes(x509.load_pem_x509_certificate((self.dir / "ec1.crt").read_bytes()).public_bytes(serialization.Encoding.DER))

    def write(self, name, cert):
        (self.dir / name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def sign(key, data, hash_name):
    digest = hashes.SHA1() if hash_name == "sha1" else hashes.SHA256()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(digest))
    return key.sign(data, padding.PKCS1v15(), digest)


def der_int(value_bytes):
    return bytes([0x02]) + der_len(len(value_bytes)) + value_bytes


def der_len(n, long_form=False):
    if n < 0x80 and not long_form:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8 or 1, "big")
    return bytes([0x80 | len(body)]) + body


def minimal(v):
    b = v.to_bytes((v.bit_length() + 7) // 8 or 1, "big")
    return b"\x00" + b if b[0] & 0x80 else b


MUTATIONS = ["valid", "payload-flip", "signature-flip", "truncate", "size-plus-one", "size-minus-one", "der-leading-zero",
             "der-long-sequence", "der-long-integer", "der-trailing-byte", "der-inner-trailing", "high-s", "wrong-key",
             "rsa-short", "rsa-long", "cert-critical", "cert-noeku", "cert-expired", "cert-future", "cert-der",
             "quoted-size", "hex-size", "octal-size", "missing-fileid", "missing-certfile", "missing-signature",
             "missing-filesize", "bad-base64", "misplaced-padding", "empty-signature", "execution-form", "sha1-rsa",
             "missing-cert-file", "wrong-rsa-key"]


def make_case(index, rng, material, root: Path):
    mutation = MUTATIONS[index % len(MUTATIONS)]
    size = rng.choice([1, 100, 4095, 4096, 4097, 8192, 10000, 20001])
    payload = bytearray(rng.getrandbits(8) for _ in range(size))
    use_rsa = mutation in ("rsa-short", "rsa-long", "sha1-rsa", "wrong-rsa-key") or (mutation not in (
        "der-leading-zero", "der-long-sequence", "der-long-integer", "der-trailing-byte", "der-inner-trailing", "high-s",
        "cert-critical", "cert-noeku", "cert-expired", "cert-future", "cert-der") and rng.random() < 0.3)
    key_name = "rsa1" if use_rsa else "ec1"
    hash_name = "sha1" if mutation == "sha1-rsa" else "sha256"
    job_key = ("sig-sha1-rsa" if hash_name == "sha1" else "sig-sha256-rsa") if use_rsa else "sig-sha256-ecdsa"
    signature = sign(material.keys[key_name], bytes(payload), hash_name)
    certfile = f"{key_name}.crt"
    filesize = str(size)
    fields_extra = {}

    if mutation == "payload-flip":
        payload[rng.randrange(size)] ^= 1 << rng.randrange(8)
    elif mutation == "signature-flip":
        s = bytearray(signature)
        s[rng.randrange(len(s))] ^= 1 << rng.randrange(8)
        signature = bytes(s)
    elif mutation == "truncate":
        payload = payload[: max(0, size - rng.randint(1, min(size, 5000)))]
    elif mutation == "size-plus-one":
        filesize = str(size + 1)
    elif mutation == "size-minus-one":
        filesize = str(size - 1) if size > 1 else "2"
    elif mutation.startswith("der-") or mutation == "high-s":
        r, s = decode_dss_signature(signature)
        if mutation == "high-s":
            s = P256_N - s
        rb, sb = minimal(r), minimal(s)
        if mutation == "der-leading-zero":
            rb = b"\x00" + rb
        inner = der_int(rb) + der_int(sb)
        if mutation == "der-long-integer":
            inner = bytes([0x02]) + der_len(len(rb), long_form=True) + rb + der_int(sb)
        if mutation == "der-inner-trailing":
            inner += b"\x00"
        signature = bytes([0x30]) + der_len(len(inner), long_form=(mutation == "der-long-sequence")) + inner
        if mutation == "der-trailing-byte":
            signature += b"\x00"
    elif mutation == "wrong-key":
        certfile = "ec2.crt"
    elif mutation == "wrong-rsa-key":
        certfile = "rsa2.crt"
    elif mutation == "rsa-short":
        signature = signature[1:]
    elif mutation == "rsa-long":
        signature = signature + b"\x00"
    elif mutation.startswith("cert-"):
        certfile = {"cert-critical": "ec1-critical.crt", "cert-noeku": "ec1-noeku.crt", "cert-expired": "ec1-expired.crt",
                    "cert-future": "ec1-future.crt", "cert-der": "ec1.der"}[mutation]
    elif mutation == "missing-cert-file":
        certfile = "nowhere.crt"

    sig_text = base64.b64encode(signature).decode()
    if mutation == "bad-base64":
        sig_text = sig_text[:10] + "*" + sig_text[11:]
    elif mutation == "misplaced-padding":
        sig_text = sig_text[:8] + "=" + sig_text[9:]
    elif mutation == "empty-signature":
        sig_text = "=="
    size_json = filesize
    if mutation == "quoted-size":
        size_json = json.dumps(filesize)
    elif mutation == "hex-size":
        size_json = json.dumps(hex(int(filesize)))
    elif mutation == "octal-size":
        size_json = json.dumps("0" + oct(int(filesize))[2:])

    parts = [f'"filepath":"/ota/fw.bin"']
    if mutation != "missing-filesize":
        parts.append(f'"filesize":{size_json}')
    if mutation != "missing-fileid":
        parts.append('"fileid":0')
    if mutation != "missing-certfile":
        parts.append(f'"certfile":"{certfile}"')
    if mutation != "missing-signature":
        parts.append(f'"{job_key}":"{sig_text}"')
    document = '{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-diff","files":[{' + ",".join(parts) + "}]}}"
    if mutation == "execution-form":
        document = '{"clientToken":"0:diff","execution":{"jobId":"AFR_OTA-diff-%d","jobDocument":%s}}' % (index, document)

    # What the device ends up holding: no signature bytes when the key is absent or decodes to nothing, no
    # certfile when the key is absent.
    if mutation in ("missing-signature", "empty-signature"):
        signature = b""
    if mutation == "missing-certfile":
        certfile = ""
    case_dir = root / f"case{index:05d}"
    case_dir.mkdir()
    (case_dir / "fw.bin").write_bytes(bytes(payload))
    (case_dir / "job.json").write_text(document)
    (case_dir / "sig.bin").write_bytes(signature)
    return {"index": index, "mutation": mutation, "dir": case_dir, "key": job_key, "certfile": certfile,
            "filesize": filesize, "signature": signature}


def run_json(args):
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if result.returncode not in (0, 1):
        return None, result
    return json.loads(result.stdout), result


def openssl_posix(case, material_dir: Path):
    """What the POSIX PAL decides, by the openssl CLI: PEM certificate, then SHA-256 verify over [0, filesize)."""
    cert = material_dir / case["certfile"]
    if not case["certfile"] or not cert.is_file():
        return "0xe7000000"
    pub = case["dir"] / "pub.pem"
    read = subprocess.run(["openssl", "x509", "-inform", "PEM", "-in", str(cert), "-noout", "-pubkey", "-out", str(pub)], capture_output=True)
    if read.returncode != 0:
        return "0xe7000000"
    image = (case["dir"] / "fw.bin").read_bytes()[: int(case["filesize"], 0)]
    (case["dir"] / "signed.bin").write_bytes(image)
    verify = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin", "-digest", "sha256",
                             "-in", str(case["dir"] / "signed.bin"), "-sigfile", str(case["dir"] / "sig.bin")], capture_output=True)
    return "0x00000000" if verify.returncode == 0 else "0xe3000000"


def judge(case, otarig, material_dir):
    d = case["dir"]
    common = ["--image", str(d / "fw.bin"), "--job-doc", str(d / "job.json"), "--cert-dir", str(material_dir),
              "--signature-key", case["key"], "--json"]
    problems = []
    device, raw = run_json([otarig, "device-verify", *common])
    if device is None:
        return [f"device-verify exited {raw.returncode}: {raw.stderr.strip()}"]
    twin, raw = run_json([otarig, "verify", "--profile", "esp32-mbedtls", "--device-only", *common])
    if twin is None:
        return [f"verify exited {raw.returncode}: {raw.stderr.strip()}"]
    t = twin["device"]
    if (t["accepted"], t["palStatus"]) != (device["verdict"] == "accepted", device["palStatus"]):
        problems.append(f"esp32: twin {t['outcome']} {t['palStatus']} vs device {device['outcome']} {device['palStatus']}")
    if t["outcome"] != device["outcome"]:
        problems.append(f"esp32 outcome: twin {t['outcome']} vs device {device['outcome']}")
    if t["log"] != device["log"]:
        problems.append("esp32 log lines differ:\n  twin:   " + "\n          ".join(f"[{x['level']}] {x['text']}" for x in t["log"]) +
                        "\n  device: " + "\n          ".join(f"[{x['level']}] {x['text']}" for x in device["log"]))
    if t["statuses"] != device["statuses"]:
        problems.append(f"esp32 statuses differ: twin {t['statuses']} vs device {device['statuses']}")

    posix, raw = run_json([otarig, "verify", "--profile", "posix-openssl", "--device-only", *common])
    if posix is None:
        return problems + [f"verify posix exited {raw.returncode}: {raw.stderr.strip()}"]
    p = posix["device"]
    if device["outcome"] in ("accepted", "rejected-signature"):
        expected = openssl_posix(case, material_dir)
        if p["palStatus"] != expected:
            problems.append(f"posix: twin {p['outcome']} {p['palStatus']} vs openssl {expected}")
    elif (p["outcome"], p["palStatus"]) != (device["outcome"], device["palStatus"]):
        problems.append(f"posix (agent): twin {p['outcome']} {p['palStatus']} vs C agent {device['outcome']} {device['palStatus']}")
    return problems


def test_twin_agrees_with_mbedtls_and_openssl(otarig_bin, openssl_bin, tmp_path):
    rng = random.Random(SEED)
    material = Material(tmp_path / "certs")
    cases = [make_case(i, rng, material, tmp_path) for i in range(CASES)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda c: (c, judge(c, str(otarig_bin), material.dir)), cases))
    disagreements = [(c, p) for c, p in results if p]
    outcomes = {}
    for case, _ in results:
        outcomes[case["mutation"]] = outcomes.get(case["mutation"], 0) + 1
    report = "\n".join(f"case {c['index']} ({c['mutation']}, seed {SEED}, files in {c['dir']}):\n  " + "\n  ".join(p)
                       for c, p in disagreements[:20])
    assert not disagreements, f"{len(disagreements)} of {len(cases)} cases disagree:\n{report}"
    assert len(outcomes) == len(MUTATIONS), f"mutations not reached: {sorted(set(MUTATIONS) - set(outcomes))}"
