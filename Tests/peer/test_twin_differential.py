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


def flip_bit(data, rng):
    """A copy of `data` with one seeded bit flipped."""
    out = bytearray(data)
    out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return out


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

    if mutation == "payload-flip":
        payload = flip_bit(payload, rng)
    elif mutation == "signature-flip":
        signature = bytes(flip_bit(signature, rng))
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


# --- cc3220-simplelink: the twin against the openssl CLI -------------------------------------------------------
#
# The network processor's checks (the CC3220SF PAL, aws/amazon-freertos @41244b00
# vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c, and TI's SimpleLink `fs.h`), each made here by
# openssl in the spec's order (spec/simplelink-close.md): the certificate file as exactly one DER certificate
# (`openssl x509 -inform DER -outform DER` gives back the same bytes), an RSA key, the chain to a catalog root through
# the intermediate stored under its commonName (`openssl verify -no_check_time`, error 20 = no such root, 7 = a link's
# signature), the catalog's revocation list over the chain (SHA-1 fingerprints from `openssl x509 -fingerprint`), the
# signature's length against the modulus, then
# RSA PKCS#1 v1.5 over the file's SHA-1 (`openssl pkeyutl -verify -rawin -digest sha1`). The SimpleLink code that says
# which check failed is compared, as the status word the PAL reports.

CC3220_CASES = int(os.environ.get("OTARIG_CC3220_CASES", "400"))
SL = {"ok": "0x00000000", "name-length": "0xe3ffd7ce", "no-file": "0xe3ffd77c", "chain": "0xe3ffd7cc", "revoked": "0xe3ffd7df",
      "root-unknown": "0xe3ffd7d1", "illegal-signature": "0xe3ffd785", "wrong-signature": "0xe3ffd7cf"}


def issued(key, name, issuer_key, issuer_name, *, ca=False, expired=False):
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)])).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=800 if expired else 1))
               .not_valid_after(NOW - datetime.timedelta(days=400) if expired else NOW + datetime.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class TIMaterial:
    """A root catalog, a SimpleLink file system of signer certificates (DER), and the PEM copies openssl reads."""

    def __init__(self, directory: Path):
        self.dir = directory
        (directory / "fs").mkdir(parents=True)
        (directory / "catalog").mkdir()
        (directory / "pem").mkdir()
        new = lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
        root_key, other_root_key, forged_key, inter_key = new(), new(), new(), new()
        self.key1, self.key2 = new(), new()
        root = issued(root_key, "otarig test root", root_key, "otarig test root", ca=True)
        other_root = issued(other_root_key, "other root", other_root_key, "other root", ca=True)
        intermediate = issued(inter_key, "otarig intermediate", root_key, "otarig test root", ca=True)
        self.certs = {
            "signer": issued(self.key1, "signer", root_key, "otarig test root"),
            "signer2": issued(self.key2, "signer two", root_key, "otarig test root"),
            "signer-other-root": issued(self.key1, "signer other", other_root_key, "other root"),
            "signer-forged": issued(self.key1, "signer forged", forged_key, "otarig test root"),
            "signer-revoked": issued(self.key1, "signer revoked", root_key, "otarig test root"),
            "signer-expired": issued(self.key1, "signer expired", root_key, "otarig test root", expired=True),
            "signer-via-intermediate": issued(self.key1, "signer via intermediate", inter_key, "otarig intermediate"),
            "signer-ecdsa": issued(ec.generate_private_key(ec.SECP256R1()), "signer ecdsa", root_key, "otarig test root"),
        }
        self.intermediate = intermediate
        # TI's own recipe signs the signer certificate with SHA-1 (openssl x509 -req -sha1); pyca refuses to, so openssl makes it.
        pem = lambda key: key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        (directory / "root.key").write_bytes(pem(root_key))
        (directory / "key1.pem").write_bytes(pem(self.key1))
        (directory / "root-ca.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
        subprocess.run(["openssl", "req", "-new", "-key", str(directory / "key1.pem"), "-subj", "/CN=signer sha1", "-out", str(directory / "sha1.csr")],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", str(directory / "sha1.csr"), "-CA", str(directory / "root-ca.pem"), "-CAkey",
                        str(directory / "root.key"), "-sha1", "-set_serial", "7", "-days", "30", "-out", str(directory / "sha1.pem")],
                       check=True, capture_output=True)
        self.certs["signer-sha1-cert"] = x509.load_pem_x509_certificate((directory / "sha1.pem").read_bytes())
        (directory / "catalog" / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
        (directory / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
        (directory / "intermediate.pem").write_bytes(intermediate.public_bytes(serialization.Encoding.PEM))
        for name, cert in self.certs.items():
            (directory / "fs" / f"{name}.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
            (directory / "pem" / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        # TI's layout (reference cc3220-bootloader.md §5.3 item 4): the intermediate is a file of its own, named exactly
        # its "Issued To" commonName, relative to the file system's root.
        (directory / "fs" / "otarig intermediate").write_bytes(intermediate.public_bytes(serialization.Encoding.DER))
        (directory / "fs" / "signer-as-pem.der").write_bytes(self.certs["signer"].public_bytes(serialization.Encoding.PEM))
        (directory / "pem" / "signer-as-pem.pem").write_bytes(self.certs["signer"].public_bytes(serialization.Encoding.PEM))
        fingerprint = self.certs["signer-revoked"].fingerprint(hashes.SHA1()).hex(":").upper()
        (directory / "catalog" / "revoked.txt").write_text(f"# revoked by the catalog\n{fingerprint}\n")


CC3220_MUTATIONS = ["valid", "payload-flip", "signature-flip", "truncate", "size-plus-one", "rsa-short", "rsa-long", "wrong-key",
                    "other-root", "forged-issuer", "revoked", "expired", "intermediate", "pem-in-fs", "ecdsa-cert",
                    "missing-cert-file", "missing-certfile", "sha256-signature", "cert-signed-sha1", "bad-base64"]


def make_cc3220_case(index, rng, material, root: Path):
    mutation = CC3220_MUTATIONS[index % len(CC3220_MUTATIONS)]
    size = rng.choice([1, 100, 4095, 4096, 4097, 10000, 20001])
    payload = bytearray(rng.getrandbits(8) for _ in range(size))
    signature = material.key1.sign(bytes(payload), padding.PKCS1v15(), hashes.SHA1())
    cert = {"wrong-key": "signer2", "other-root": "signer-other-root", "forged-issuer": "signer-forged", "revoked": "signer-revoked",
            "expired": "signer-expired", "intermediate": "signer-via-intermediate", "pem-in-fs": "signer-as-pem",
            "ecdsa-cert": "signer-ecdsa", "cert-signed-sha1": "signer-sha1-cert"}.get(mutation, "signer")
    certfile = f"{cert}.der"
    filesize = size
    if mutation == "payload-flip":
        payload = flip_bit(payload, rng)
    elif mutation == "signature-flip":
        signature = bytes(flip_bit(signature, rng))
    elif mutation == "truncate":
        payload = payload[: max(0, size - rng.randint(1, min(size, 3000)))]
    elif mutation == "size-plus-one":
        filesize = size + 1
    elif mutation == "rsa-short":
        signature = signature[1:]
    elif mutation == "rsa-long":
        signature = signature + b"\x00"
    elif mutation == "sha256-signature":
        signature = material.key1.sign(bytes(payload), padding.PKCS1v15(), hashes.SHA256())
    elif mutation == "missing-cert-file":
        certfile = "nowhere.der"
    elif mutation == "missing-certfile":
        certfile = ""
    sig_text = base64.b64encode(signature).decode()
    if mutation == "bad-base64":
        sig_text = sig_text[:6] + "!" + sig_text[7:]
    document = ('{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-ti","files":[{"filepath":"/sys/mcuflashimg.bin",'
                f'"filesize":{filesize},"fileid":0,"certfile":"{certfile}","sig-sha1-rsa":"{sig_text}"}}]}}}}')
    case_dir = root / f"ti{index:05d}"
    case_dir.mkdir()
    (case_dir / "fw.bin").write_bytes(bytes(payload))
    (case_dir / "job.json").write_text(document)
    (case_dir / "sig.bin").write_bytes(signature)
    return {"index": index, "mutation": mutation, "dir": case_dir, "cert": cert, "certfile": certfile, "filesize": filesize,
            "signature": signature, "image_size": len(payload)}


def openssl_cc3220(case, material: TIMaterial):
    """The spec's sl_FsClose (spec/simplelink-close.md), every check made by openssl; the expected PAL status word."""
    d, m = case["dir"], material.dir
    signature = case["signature"]
    if not case["certfile"] or not signature or len(signature) > 256:
        return SL["name-length"]
    fs_file = m / "fs" / case["certfile"]
    if not fs_file.is_file():
        return SL["no-file"]
    pem = m / "pem" / f"{case['cert']}.pem"
    # Exactly one DER certificate: openssl reads it and writes back the same bytes.
    reencoded = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(fs_file), "-outform", "DER"], capture_output=True)
    if reencoded.returncode != 0 or reencoded.stdout != fs_file.read_bytes():
        return SL["chain"]
    text = subprocess.run(["openssl", "x509", "-in", str(pem), "-noout", "-text"], capture_output=True, text=True).stdout
    if "rsaEncryption" not in text.split("Subject Public Key Info", 1)[1][:200]:
        return SL["chain"]
    # The chain walk: the intermediate is the file under its commonName in fs/ (openssl gets it as -untrusted).
    untrusted = ["-untrusted", str(m / "intermediate.pem")] if case["cert"] == "signer-via-intermediate" else []
    chain = subprocess.run(["openssl", "verify", "-no_check_time", "-auth_level", "0", "-CAfile", str(m / "root.pem"), *untrusted, str(pem)],
                           capture_output=True, text=True)
    if chain.returncode != 0:
        output = chain.stdout + chain.stderr
        return SL["root-unknown"] if "error 20 " in output or "error 2 " in output else SL["chain"]
    # Revocation after the chain, over every certificate of it (spec step 7).
    revoked = {line.strip().upper() for line in (m / "catalog" / "revoked.txt").read_text().splitlines() if line and not line.startswith("#")}
    chain_pems = [pem, *([m / "intermediate.pem"] if untrusted else []), m / "root.pem"]
    for chain_pem in chain_pems:
        fingerprint = subprocess.run(["openssl", "x509", "-in", str(chain_pem), "-noout", "-fingerprint", "-sha1"], capture_output=True,
                                     text=True).stdout.strip().split("=", 1)[1].upper()
        if fingerprint in revoked:
            return SL["revoked"]
    modulus = subprocess.run(["openssl", "x509", "-in", str(pem), "-noout", "-modulus"], capture_output=True, text=True).stdout.strip()
    if len(signature) != len(modulus.split("=", 1)[1]) // 2:
        return SL["illegal-signature"]
    pub = d / "pub.pem"
    subprocess.run(["openssl", "x509", "-in", str(pem), "-noout", "-pubkey", "-out", str(pub)], check=True, capture_output=True)
    image = (d / "fw.bin").read_bytes()[: case["filesize"]]
    (d / "signed.bin").write_bytes(image)
    verify = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin", "-digest", "sha1",
                             "-in", str(d / "signed.bin"), "-sigfile", str(d / "sig.bin")], capture_output=True)
    return SL["ok"] if verify.returncode == 0 else SL["wrong-signature"]


def judge_cc3220(case, otarig, material: TIMaterial):
    d = case["dir"]
    twin, raw = run_json([otarig, "verify", "--profile", "cc3220-simplelink", "--device-only", "--image", str(d / "fw.bin"),
                          "--job-doc", str(d / "job.json"), "--cert-dir", str(material.dir / "fs"),
                          "--root-catalog", str(material.dir / "catalog"), "--json"])
    if twin is None:
        return [f"verify exited {raw.returncode}: {raw.stderr.strip()}"]
    t = twin["device"]
    if case["mutation"] == "bad-base64":
        return [] if t["outcome"] == "rejected-job-document" else [f"bad base64: twin {t['outcome']}"]
    if case["image_size"] != case["filesize"]:
        return [] if t["outcome"] == "rejected-block" else [f"filesize vs image: twin {t['outcome']} {t['palStatus']}"]
    expected = openssl_cc3220(case, material)
    case["status"] = expected
    if t["palStatus"] != expected:
        return [f"cc3220: twin {t['outcome']} {t['palStatus']} ({(t.get('simpleLink') or {}).get('error')}) vs openssl {expected}"]
    if (t["palStatus"] == SL["ok"]) != t["accepted"]:
        return [f"cc3220: accepted={t['accepted']} with status {t['palStatus']}"]
    return []


def test_cc3220_twin_agrees_with_openssl(otarig_bin, openssl_bin, tmp_path):
    rng = random.Random(SEED + 3220)
    material = TIMaterial(tmp_path / "ti")
    cases = [make_cc3220_case(i, rng, material, tmp_path) for i in range(CC3220_CASES)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda c: (c, judge_cc3220(c, str(otarig_bin), material)), cases))
    disagreements = [(c, p) for c, p in results if p]
    report = "\n".join(f"case {c['index']} ({c['mutation']}, seed {SEED + 3220}, files in {c['dir']}):\n  " + "\n  ".join(p)
                       for c, p in disagreements[:20])
    assert not disagreements, f"{len(disagreements)} of {len(cases)} cases disagree:\n{report}"
    reached = {c["mutation"] for c, _ in results}
    assert reached == set(CC3220_MUTATIONS), f"mutations not reached: {sorted(set(CC3220_MUTATIONS) - reached)}"
    statuses = {c.get("status") for c, _ in results}
    assert set(SL.values()) <= statuses, f"SimpleLink outcomes never judged: {sorted(set(SL.values()) - statuses)}"
