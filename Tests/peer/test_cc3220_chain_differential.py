"""The CC3220SF signed close, chain by chain: `otarig verify --profile cc3220-simplelink` against an oracle built
from the openssl CLI and the shared spec (spec/simplelink-close.md).

The SimpleLink file system is laid out as TI documents it (reference cc3220-bootloader.md §5.3 item 4: "the filename
of the root and intermediate certificates ... should match exactly the value of the certificate's 'Issued To'
field ... relative to the file system's root folder"): the signer certificate under the job's certfile, each
intermediate under its own commonName, all DER; the root in the trusted-root catalog (`--root-catalog`, with
`revoked.txt`).

The oracle never asks otarig. It reads every certificate with openssl (`openssl x509 -inform DER -outform DER` must
give back the file's exact bytes: exactly one DER certificate; `-subject/-issuer -nameopt RFC2253,dump_all,dump_der`
for byte-level name comparison; `-nameopt multiline,utf8` for the issuer's commonName, the file name to look up;
`-fingerprint`, `-modulus`), checks each chain link with `openssl verify -partial_chain -check_ss_sig` (the issuer
as the only trust anchor), the file's signature with `openssl pkeyutl -verify -rawin -digest sha1`, and applies the
spec's order of checks (0 lock, 1 name, 2 signature length, 3 file, 4 store, 5 signer, 6 chain walk, 7 revocation,
8 modulus, 9 signature) and the PAL's status mapping (ota_pal.c otaPal_CloseFile / otaPal_CreateFileForRx).

Columns: `TOOLS` names each implementation the oracle judges; `predictions(tool, case)` runs one of them on a case
and returns what it decided. A third column (the C device model) is one more entry in TOOLS.

OTARIG_CC3220_CHAIN_SEED (default 3220) chooses the cases; a disagreement prints the case and keeps its files.
"""
import base64
import hashlib
import json
import os
import random
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SEED = int(os.environ.get("OTARIG_CC3220_CHAIN_SEED", "3220"))

# The SimpleLink codes (errors.h, reference §5.4) and the PAL's mapping (otaPal_CloseFile): the ten FS codes are
# SignatureCheckFailed (0xe3), any other FileClose (0xee), sub-code = code & 0xFFFFFF.
OK, NAME_LENGTH, REVOKED, ROOT_UNKNOWN, CHAIN, ILLEGAL_SIGNATURE, WRONG_SIGNATURE = 0, -10290, -10273, -10287, -10292, -10363, -10289
WRONG_CERT_NAME, NO_STORE, LOCKED = -10372, -10242, -28674
TEN_CODES = {-10289, -10290, -10273, -10274, -10287, -10292, -10341, -10363, -10372, -10242}
SECURITY_ALERTS = {-10289, -10292, -10273}
MAX_NAME = 180          # SL_FS_MAX_FILE_NAME_LENGTH
MAX_SIGNATURE = 256     # [TI] "RSA 256 or 128 bytes"
MAX_ISSUER_FILES = 3    # the spec's bound (OURS)
MAX_FILE = 512 * 1024   # otaPal_CreateFileForRx: OTA_MAX_MCU_IMAGE_SIZE
# The agent's signature buffer (FreeRTOS OTA library OTA_MAX_SIGNATURE_SIZE, 384 bytes; the twin's
# JobDocumentLimits.maxSignatureSize): a longer decoded signature never reaches the PAL.
AGENT_MAX_SIGNATURE = 384


def pal_status(code):
    if code == OK:
        return "0x00000000"
    main = 0xE3 if code in TEN_CODES else 0xEE
    return f"0x{(main << 24) | (code & 0xFFFFFF):08x}"


def openssl(*args, check=True, stdin=None):
    result = subprocess.run(["openssl", *map(str, args)], capture_output=True, input=stdin, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, args))}: {result.stderr.decode(errors='replace')}")
    return result


# --- material: keys and certificates, all made by openssl ------------------------------------------------------

class Material:
    """Keys (made once) and certificates (made on demand and cached) in one directory."""

    KEYS = {
        "root": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "root-b": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "impostor": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "forger": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "inter1": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "inter2": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "inter3": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "inter4": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        "rsa1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        "rsa2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "rsa4096": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
        "other2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "ec": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:named_curve"],
    }

    def __init__(self, directory: Path):
        self.dir = directory
        self.dir.mkdir(parents=True)
        (self.dir / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n")
        (self.dir / "leaf.ext").write_text("keyUsage=digitalSignature\nextendedKeyUsage=codeSigning\n")
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda item: openssl("genpkey", *item[1], "-out", self.key(item[0])), self.KEYS.items()))
        self.certs = {}
        self.ders = {}
        self.serial = 100

    def key(self, name):
        return self.dir / f"{name}.key"

    def root(self, key, name, digest="sha256"):
        """A self-signed CA certificate (PEM path)."""
        tag = ("root", key, name, digest)
        if tag not in self.certs:
            path = self.dir / f"c{len(self.certs):03d}.pem"
            openssl("req", "-new", "-x509", "-key", self.key(key), "-subj", f"/CN={name}", "-days", "3650", f"-{digest}",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", "-out", path)
            self.certs[tag] = path
        return self.certs[tag]

    def issue(self, key, name, issuer_pem, issuer_key, digest, ca):
        """A certificate for `key` named CN=`name`, signed by `issuer_key` as the CA `issuer_pem` (PEM path)."""
        tag = ("issue", key, name, str(issuer_pem), issuer_key, digest, ca)
        if tag not in self.certs:
            path = self.dir / f"c{len(self.certs):03d}.pem"
            csr = self.dir / f"{key}-{abs(hash(name)) % 10**8}.csr"
            if not csr.exists():
                openssl("req", "-new", "-key", self.key(key), "-subj", f"/CN={name}", "-out", csr)
            self.serial += 1
            openssl("x509", "-req", "-in", csr, "-CA", issuer_pem, "-CAkey", self.key(issuer_key), f"-{digest}",
                    "-set_serial", self.serial, "-days", "3650", "-extfile", self.dir / ("ca.ext" if ca else "leaf.ext"), "-out", path)
            self.certs[tag] = path
        return self.certs[tag]

    def der(self, pem):
        if pem not in self.ders:
            self.ders[pem] = openssl("x509", "-in", pem, "-outform", "DER").stdout
        return self.ders[pem]


ROOT_NAME = "otarig diff root"
INTER_NAMES = ["otarig diff intermediate 1", "otarig diff intermediate 2", "otarig diff intermediate 3", "otarig diff intermediate 4"]
INTER_KEYS = ["inter1", "inter2", "inter3", "inter4"]
SIGNER_NAME = "otarig diff signer"
SIGNERS = ["rsa1024", "rsa2048", "rsa2048", "rsa1024", "rsa4096", "ec"]
FAULTS = ["none", "none", "none", "unknown-root", "unknown-root-in-fs", "impostor-root", "impostor-beside-root",
          "missing-intermediate", "wrong-name", "pem-intermediate", "pem-signer", "forged-link", "revoked-signer",
          "revoked-intermediate", "revoked-root", "old-layout", "missing-certfile", "garbage-signer", "signer-is-root",
          "too-many-issuers", "root-in-fs-and-catalog", "leading-slash", "dotdot-name"]


def build_scenario(index, rng, material: Material, root_dir: Path):
    """One file system + catalog + certfile, laid out as TI documents, with a fault; returns its description."""
    fault = FAULTS[index % len(FAULTS)]
    signer_key = SIGNERS[(index // len(FAULTS) + index) % len(SIGNERS)]
    depth = rng.choice([1, 2, 3])
    if fault in ("missing-intermediate", "wrong-name", "pem-intermediate", "forged-link", "revoked-intermediate", "old-layout"):
        depth = max(depth, 2)
    if fault == "too-many-issuers":
        depth = 5  # four issuer files before the root: one over the bound
    digests = [rng.choice(["sha1", "sha256"]) for _ in range(depth)]
    d = root_dir / f"s{index:03d}"
    (d / "fs").mkdir(parents=True)
    (d / "catalog").mkdir()

    root_pem = material.root("root", ROOT_NAME)
    # Issuers from the root down: issuers[i] signs link i (link 0 is the signer).
    chain_keys = INTER_KEYS[: depth - 1]
    chain_names = INTER_NAMES[: depth - 1]
    issuer_pem, issuer_key = root_pem, "root"
    inter_pems = []
    for level in reversed(range(depth - 1)):
        issuing_key = issuer_key
        if fault == "forged-link" and level == depth - 2:
            # The top intermediate names the root as its issuer but the forger's key signed it.
            issuer_pem, issuing_key = material.root("forger", ROOT_NAME), "forger"
        pem = material.issue(chain_keys[level], chain_names[level], issuer_pem, issuing_key, digests[level + 1], ca=True)
        inter_pems.insert(0, pem)
        issuer_pem, issuer_key = pem, chain_keys[level]
    signer_pem = material.issue(signer_key, SIGNER_NAME, issuer_pem, issuer_key, digests[0], ca=False)
    certfile = "tisigner.crt.der"
    signing_key = signer_key

    fs = d / "fs"
    for pem, name in zip(inter_pems, chain_names):
        (fs / name).write_bytes(material.der(pem))
    (fs / certfile).write_bytes(material.der(signer_pem))
    catalog = [root_pem]
    revoked = []

    if fault == "unknown-root":
        catalog = [material.root("root-b", "otarig another root")]
    elif fault == "unknown-root-in-fs":
        catalog = [material.root("root-b", "otarig another root")]
        (fs / ROOT_NAME).write_bytes(material.der(root_pem))
    elif fault == "root-in-fs-and-catalog":
        (fs / ROOT_NAME).write_bytes(material.der(root_pem))
    elif fault == "impostor-root":
        catalog = [material.root("impostor", ROOT_NAME)]
    elif fault == "impostor-beside-root":
        catalog = [material.root("impostor", ROOT_NAME), root_pem]
    elif fault == "missing-intermediate":
        (fs / chain_names[rng.randrange(depth - 1)]).unlink()
    elif fault == "wrong-name":
        name = chain_names[rng.randrange(depth - 1)]
        (fs / name).rename(fs / rng.choice([name + ".der", name.upper(), name.replace(" ", "_"), name + " "]))
    elif fault == "pem-intermediate":
        name = chain_names[rng.randrange(depth - 1)]
        (fs / name).write_bytes(Path(inter_pems[chain_names.index(name)]).read_bytes())
    elif fault == "pem-signer":
        (fs / certfile).write_bytes(Path(signer_pem).read_bytes())
    elif fault.startswith("revoked-"):
        target = {"revoked-signer": signer_pem, "revoked-intermediate": inter_pems[0] if inter_pems else signer_pem,
                  "revoked-root": root_pem}[fault]
        algorithm = rng.choice(["-sha1", "-sha256"])
        fingerprint = openssl("x509", "-in", target, "-noout", "-fingerprint", algorithm).stdout.decode().strip().split("=", 1)[1]
        revoked.append(fingerprint if rng.random() < 0.5 else fingerprint.replace(":", "").lower())
    elif fault == "old-layout":
        # The layout this model replaced: the signer then its intermediates concatenated in one file.
        (fs / certfile).write_bytes(b"".join(material.der(p) for p in [signer_pem, *inter_pems]))
    elif fault == "missing-certfile":
        (fs / certfile).unlink()
        (fs / "tisigner.crt").write_bytes(material.der(signer_pem))
    elif fault == "garbage-signer":
        (fs / certfile).write_bytes(bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 40, 700]))))
    elif fault == "signer-is-root":
        # The catalog root itself under certfile, signing with the root's key.
        (fs / certfile).write_bytes(material.der(root_pem))
        signing_key = "root"
    elif fault == "leading-slash":
        certfile = "/" + certfile
    elif fault == "dotdot-name":
        (fs / "sub").mkdir()
        (fs / "sub" / "x.der").write_bytes(material.der(signer_pem))
        certfile = "sub/../tisigner.crt.der"

    for i, pem in enumerate(catalog):
        (d / "catalog" / f"root{i}.pem").write_bytes(Path(pem).read_bytes())
    (d / "catalog" / "revoked.txt").write_text("# revoked by the catalog\n" + "".join(f"{line}\n" for line in revoked))
    return {"index": index, "fault": fault, "dir": d, "depth": depth, "digests": digests, "signer": signer_key,
            "signing_key": material.key(signing_key), "certfile": certfile, "catalog_ders": [material.der(pem) for pem in catalog],
            "revoked": [line.replace(":", "").lower() for line in revoked]}


# --- the oracle: openssl facts, the spec's order -----------------------------------------------------------------

class Oracle:
    """Facts about certificates from openssl, cached by content."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.facts = {}
        self.links = {}
        self.keys = {}

    def _file(self, data: bytes, suffix):
        path = self.scratch / f"{abs(hash(data)) % 10**12}{suffix}"
        if not path.exists():
            path.write_bytes(data)
        return path

    def certificate(self, data: bytes):
        """None unless `data` is exactly one DER certificate; else its names, key and fingerprints per openssl."""
        if data in self.facts:
            return self.facts[data]
        facts = None
        path = self._file(data, ".der")
        # Exactly one DER certificate: openssl reads it and writes back the very same bytes (no trailer, no PEM).
        reencoded = openssl("x509", "-inform", "DER", "-in", path, "-outform", "DER", check=False)
        if reencoded.returncode == 0 and reencoded.stdout == data:
            info = openssl("x509", "-inform", "DER", "-in", path, "-noout", "-subject", "-issuer", "-modulus",
                           "-nameopt", "RFC2253,dump_all,dump_der").stdout.decode()
            fields = dict(line.split("=", 1) for line in info.strip().splitlines())
            multiline = openssl("x509", "-inform", "DER", "-in", path, "-noout", "-issuer", "-nameopt", "multiline,utf8,-esc_msb").stdout.decode("utf-8")
            cns = [line.split("=", 1)[1].strip() for line in multiline.splitlines()[1:] if line.strip().startswith("commonName")]
            rsa = fields["Modulus"] != "No modulus for this public key type"
            pem = self._file(b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(data) + b"-----END CERTIFICATE-----\n", ".pem")
            facts = {"subject": fields["subject"], "issuer": fields["issuer"], "issuer_cn": cns[0] if cns else None, "rsa": rsa,
                     "modulus_bytes": len(fields["Modulus"]) // 2 if rsa else None, "pem": pem,
                     # The spec's fingerprints: SHA-1 and SHA-256 of the certificate's DER.
                     "fingerprints": {hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest()}}
        self.facts[data] = facts
        return facts

    def public_key(self, pem):
        if pem not in self.keys:
            self.keys[pem] = self._file(openssl("x509", "-in", pem, "-noout", "-pubkey").stdout, ".pub")
        return self.keys[pem]

    def signs(self, issuer, child):
        """Whether `issuer`'s key verifies `child`'s signature: openssl verify with the issuer as the only anchor."""
        key = (issuer["pem"], child["pem"])
        if key not in self.links:
            result = openssl("verify", "-partial_chain", "-check_ss_sig", "-no_check_time", "-auth_level", "0",
                             "-CAfile", issuer["pem"], child["pem"], check=False)
            self.links[key] = result.returncode == 0
        return self.links[key]


def fs_lookup(fs: Path, name: str):
    """The spec's names: relative to the root, one leading "/" ignored, empty or ".." names not found."""
    if name.startswith("/"):
        name = name[1:]
    if not name or ".." in name:
        return None
    path = fs / name
    return path.read_bytes() if path.is_file() else None


def oracle_chain(scenario, oracle: Oracle):
    """Spec steps 3-7 and the signer's modulus, which depend only on the scenario: (code or None, modulus, signer pem)."""
    fs = scenario["dir"] / "fs"
    signer_bytes = fs_lookup(fs, scenario["certfile"])
    if signer_bytes is None:
        return WRONG_CERT_NAME, None, None                                      # 3
    roots = [oracle.certificate(der) for der in scenario["catalog_ders"]]
    if not roots:
        return NO_STORE, None, None                                             # 4
    signer = oracle.certificate(signer_bytes)
    if signer is None or not signer["rsa"]:
        return CHAIN, None, None                                                # 5
    chain, current, followed, root = [signer], signer, 0, None
    while root is None:                                                         # 6
        named = [r for r in roots if r["subject"] == current["issuer"]]
        if named:
            root = next((r for r in named if oracle.signs(r, current)), None)
            if root is None:
                return CHAIN, None, None
            break
        if current["issuer_cn"] is None:
            return ROOT_UNKNOWN, None, None
        issuer_bytes = fs_lookup(fs, current["issuer_cn"])
        if issuer_bytes is None:
            return ROOT_UNKNOWN, None, None
        issuer = oracle.certificate(issuer_bytes)
        if issuer is None or issuer["subject"] != current["issuer"] or not oracle.signs(issuer, current):
            return CHAIN, None, None
        if issuer["subject"] == issuer["issuer"]:
            return ROOT_UNKNOWN, None, None
        followed += 1
        if followed > MAX_ISSUER_FILES:
            return CHAIN, None, None
        chain.append(issuer)
        current = issuer
    revoked = set(scenario["revoked"])
    if any(c["fingerprints"] & revoked for c in chain + [root]):
        return REVOKED, None, None                                              # 7
    return None, signer["modulus_bytes"], signer["pem"]


def expected(case, oracle: Oracle):
    """What the spec says the device decides: outcome, PAL status, the alert count after the close."""
    signature = case["signature"]
    # The agent parses the job document before the PAL creates the file, and creates it before the close.
    if len(signature) > AGENT_MAX_SIGNATURE:
        return {"outcome": "rejected-job-document", "palStatus": None, "alertsAfter": None}
    if case["filesize"] > MAX_FILE:
        return {"outcome": "rejected-file-create", "palStatus": "0x%08x" % (0xE5 << 24 | MAX_FILE), "alertsAfter": None}
    code = None
    if case["alerts"] >= case["threshold"]:
        code = LOCKED                                                           # 0
    elif not case["certfile"] or len(case["certfile"].encode()) > MAX_NAME:
        code = NAME_LENGTH                                                      # 1
    elif not signature or len(signature) > MAX_SIGNATURE:
        code = NAME_LENGTH                                                      # 2
    else:
        code, modulus, signer_pem = case["chain"]
        if code is None and len(signature) != modulus:
            code = ILLEGAL_SIGNATURE                                            # 8
        elif code is None:                                                      # 9
            key = oracle.public_key(signer_pem)
            verified = openssl("pkeyutl", "-verify", "-pubin", "-inkey", key, "-rawin", "-digest", "sha1",
                               "-in", case["dir"] / "fw.bin", "-sigfile", case["dir"] / "sig.bin", check=False)
            code = OK if verified.returncode == 0 else WRONG_SIGNATURE
    alerts_after = case["alerts"] + (1 if code in SECURITY_ALERTS else 0)
    return {"outcome": "accepted" if code == OK else ("rejected-write" if code == LOCKED else "rejected-signature"),
            "palStatus": pal_status(code), "alertsAfter": alerts_after, "code": code}


# --- the cases --------------------------------------------------------------------------------------------------

IMAGE_VARIANTS = ["image-flip", "sig-short", "sig-long", "other-key", "sha256-signature", "locked", "alerts-near-threshold",
                  "empty-certfile", "long-certfile"]
VARIANTS_PER_SCENARIO = 7  # "valid" and six of IMAGE_VARIANTS


def make_cases(scenario, rng, material: Material, oracle: Oracle):
    d = scenario["dir"]
    size = rng.choice([1, 100, 4095, 4096, 4097, 20000])
    oversize = scenario["index"] % 9 == 4
    if oversize:
        size = MAX_FILE + rng.choice([1, 4096, 70000])
    image = bytes(rng.getrandbits(8) for _ in range(min(size, 4096))) * (size // 4096 + 1)
    image = image[:size]
    (d / "image.bin").write_bytes(image)
    signatures = {}

    def sign(key, digest):
        if (key, digest) not in signatures:
            signatures[key, digest] = openssl("dgst", f"-{digest}", "-sign", key, d / "image.bin").stdout
        return signatures[key, digest]

    good = sign(scenario["signing_key"], "sha1")
    chain = oracle_chain(scenario, oracle)
    variants = ["valid", "oversize"] if oversize else ["valid", *rng.sample(IMAGE_VARIANTS, VARIANTS_PER_SCENARIO - 1)]
    cases = []
    for n, variant in enumerate(variants):
        payload, signature, certfile = bytearray(image), good, scenario["certfile"]
        alerts, threshold = rng.choice([0, 0, 0, 2, 9]), rng.choice([15, 15, 15, 12])
        if variant == "image-flip":
            payload[rng.randrange(len(payload))] ^= 1 << rng.randrange(8)
        elif variant == "sig-short":
            signature = good[:-1]
        elif variant == "sig-long":
            signature = good + bytes(64)
        elif variant == "other-key":
            signature = sign(material.key("other2048"), "sha1")
        elif variant == "sha256-signature":
            signature = sign(scenario["signing_key"], "sha256")
        elif variant == "locked":
            alerts = threshold + rng.choice([0, 0, 3])
        elif variant == "alerts-near-threshold":
            alerts = threshold - 1
        elif variant == "empty-certfile":
            certfile = ""
        elif variant == "long-certfile":
            certfile = "x" * rng.choice([181, 200, 255])
        case_dir = d / f"case{n:02d}"
        case_dir.mkdir()
        (case_dir / "fw.bin").write_bytes(bytes(payload))
        (case_dir / "sig.bin").write_bytes(signature)
        document = {"afr_ota": {"protocols": ["MQTT"], "streamname": "AFR_OTA-cc3220", "files": [
            {"filepath": "/sys/mcuflashimg.bin", "filesize": len(payload), "fileid": 0, "certfile": certfile,
             "sig-sha1-rsa": base64.b64encode(signature).decode()}]}}
        (case_dir / "job.json").write_text(json.dumps(document))
        cases.append({"scenario": scenario, "variant": variant, "dir": case_dir, "signature": signature, "certfile": certfile,
                      "filesize": len(payload), "alerts": alerts, "threshold": threshold, "chain": chain})
    return cases


# --- the columns -----------------------------------------------------------------------------------------------

# Each implementation the oracle judges: the otarig subcommand and its own leading flags. They all take the same
# case flags (case_flags): the Swift twin, and the C device (the FreeRTOS agent with the CC3220SF PAL, whose close is
# the C model of the network processor that the simulated CC3220SF closes files with).
TOOLS = {
    "twin": ["verify", "--profile", "cc3220-simplelink", "--device-only"],
    "device": ["device-verify", "--profile", "cc3220-simplelink"],
}


def case_flags(case):
    s = case["scenario"]
    return ["--image", case["dir"] / "fw.bin", "--job-doc", case["dir"] / "job.json", "--cert-dir", s["dir"] / "fs",
            "--root-catalog", s["dir"] / "catalog", "--security-alerts", case["alerts"], "--alert-threshold", case["threshold"],
            "--json"]


def predictions(otarig, tool, case):
    """What `tool` decides on `case`: outcome, PAL status, and the alert count after the close when it reports one."""
    result = subprocess.run([str(otarig), *TOOLS[tool], *map(str, case_flags(case))], capture_output=True, text=True, timeout=120)
    if result.returncode not in (0, 1):
        return {"error": f"exit {result.returncode}: {result.stderr.strip()}"}
    report = json.loads(result.stdout)
    device = report.get("device", report)  # verify nests the device verdict; device-verify prints it at the top
    simple_link = device.get("simpleLink") or {}
    nwp = report.get("simpleLinkNWP") or {}
    return {"outcome": device["outcome"], "palStatus": device["palStatus"], "accepted": device["accepted"],
            "alertsAfter": simple_link.get("securityAlertsAfter", nwp.get("securityAlerts")),
            "error_name": simple_link.get("error") or nwp.get("error")}


def disagreement(tool, want, got):
    if "error" in got:
        return got["error"]
    problems = []
    if got["outcome"] != want["outcome"]:
        problems.append(f"outcome {got['outcome']} (want {want['outcome']})")
    if want["palStatus"] is not None and got["palStatus"] != want["palStatus"]:
        problems.append(f"palStatus {got['palStatus']} {got.get('error_name')} (want {want['palStatus']})")
    if got["accepted"] != (want["outcome"] == "accepted"):
        problems.append(f"accepted {got['accepted']}")
    # Both columns report the count after the close (the twin's device.simpleLink.securityAlertsAfter, the C model's
    # simpleLinkNWP.securityAlerts).
    if want["alertsAfter"] is not None and got["alertsAfter"] != want["alertsAfter"]:
        problems.append(f"alerts after {got['alertsAfter']} (want {want['alertsAfter']})")
    return "; ".join(problems)


def test_cc3220_chain_walk_agrees_with_the_openssl_oracle(otarig_bin, openssl_bin, tmp_path):
    rng = random.Random(SEED)
    material = Material(tmp_path / "material")
    oracle = Oracle(tmp_path / "oracle")
    oracle.scratch.mkdir()
    scenarios = [build_scenario(i, rng, material, tmp_path / "scenarios") for i in range(2 * len(FAULTS) + 4)]
    cases = [case for s in scenarios for case in make_cases(s, rng, material, oracle)]
    assert len(cases) >= 300, len(cases)
    with ThreadPoolExecutor(max_workers=4) as pool:
        wanted = list(pool.map(lambda case: expected(case, oracle), cases))
        columns = {tool: list(pool.map(lambda case, tool=tool: predictions(otarig_bin, tool, case), cases)) for tool in TOOLS}

    failures = []
    for tool, got in columns.items():
        for case, want, prediction in zip(cases, wanted, got):
            problem = disagreement(tool, want, prediction)
            if problem:
                s = case["scenario"]
                failures.append(f"{tool}: scenario {s['index']} ({s['fault']}, depth {s['depth']}, {s['signer']}, {s['digests']}) "
                                f"variant {case['variant']} alerts {case['alerts']}/{case['threshold']}, files in {case['dir']}: {problem}")
    assert not failures, f"{len(failures)} disagreements (seed {SEED}):\n" + "\n".join(failures[:25])

    # Every outcome the spec names was reached, so no branch of the oracle went untested.
    codes = {w.get("code") for w in wanted}
    for code in [OK, NAME_LENGTH, REVOKED, ROOT_UNKNOWN, CHAIN, ILLEGAL_SIGNATURE, WRONG_SIGNATURE, WRONG_CERT_NAME, LOCKED]:
        assert code in codes, f"no case reached SimpleLink code {code}"
    outcomes = {w["outcome"] for w in wanted}
    assert {"rejected-file-create", "rejected-job-document"} <= outcomes, outcomes
