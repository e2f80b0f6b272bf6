"""Scripts/bench verify: the host twin on a 4 MiB image per PAL profile, beside `openssl dgst -verify` on the same image,
signature and key. Prints the median wall time of each (process start included) and the ratio otarig/openssl
(target: at most 1.3x). For esp32-mbedtls it also shows `otarig device-verify`, the C core over Debian's mbedTLS.

otarig is a release build with the Swift runtime linked statically. `otarig verify --device-only` does the whole
device run (job-document parse, the block-by-block receive, the hash, the certificate, the signature, for cc3220 the
chain to the root catalog) and the policy layer; openssl does the hash and the signature only.

A second ratio leaves process start-up out: each tool also runs on a 1-byte image (same key, same signature), and
the difference is what verifying the 4 MiB costs. otarig's start-up (about 10 ms: one 160 MB executable with the
server, the Swift runtime's protocol-conformance scans during argument parsing) is larger than openssl's (about 3 ms).
"""
import base64
import json
import os
import tempfile
from pathlib import Path

from common import CONFIG, median_time, release_otarig, runs, sh

RUNS = runs(7)
SIZE = 4 * 1024 * 1024
TI_SIZE = 512 * 1024  # the CC3220SF PAL refuses larger files (OtaPalRxFileTooLarge)


def job_document(signature: bytes, key: str, certfile: str, size: int):
    entry = {"filepath": "/ota/fw.bin", "filesize": size, "fileid": 0, "certfile": certfile, key: base64.b64encode(signature).decode()}
    return json.dumps({"afr_ota": {"protocols": ["MQTT"], "streamname": "AFR_OTA-bench", "files": [entry]}})


def main():
    otarig = release_otarig()
    with tempfile.TemporaryDirectory(prefix="otarig-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "fw.bin").write_bytes(os.urandom(SIZE))
        (tmp / "ti.bin").write_bytes(os.urandom(TI_SIZE))
        (tmp / "cfg").write_text(CONFIG)
        # ECDSA P-256 and RSA-2048 signers, self-signed; a TI-style chain: root CA, signer certified with SHA-1.
        sh("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.key", cwd=tmp)
        sh("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key", cwd=tmp)
        for name in ("ec", "rsa"):
            sh("openssl", "req", "-new", "-x509", "-config", "cfg", "-extensions", "exts", "-days", "30", "-key", f"{name}.key",
               "-out", f"{name}.crt", cwd=tmp)
            sh("openssl", "x509", "-in", f"{name}.crt", "-pubkey", "-noout", "-out", f"{name}.pub", cwd=tmp)
        sh("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "root.key", cwd=tmp)
        sh("openssl", "req", "-new", "-x509", "-config", "cfg", "-extensions", "ca", "-days", "30", "-key", "root.key",
           "-subj", "/CN=bench root", "-out", "root.pem", cwd=tmp)
        sh("openssl", "req", "-new", "-config", "cfg", "-key", "rsa.key", "-out", "ti.csr", cwd=tmp)
        sh("openssl", "x509", "-req", "-in", "ti.csr", "-CA", "root.pem", "-CAkey", "root.key", "-sha1", "-set_serial", "1",
           "-days", "30", "-extfile", "cfg", "-extensions", "exts", "-out", "ti.pem", cwd=tmp)
        for directory in ("certs", "fs", "catalog"):
            (tmp / directory).mkdir()
        (tmp / "certs" / "ec.crt").write_bytes((tmp / "ec.crt").read_bytes())
        (tmp / "certs" / "rsa.crt").write_bytes((tmp / "rsa.crt").read_bytes())
        sh("openssl", "x509", "-in", "ti.pem", "-outform", "DER", "-out", "fs/ti.der", cwd=tmp)
        (tmp / "catalog" / "root.pem").write_bytes((tmp / "root.pem").read_bytes())

        rows = [  # profile, key file, digest, job key, certfile, extra arguments
            ("esp32-mbedtls", "ec", "sha256", "sig-sha256-ecdsa", "ec.crt", ["--cert-dir", "certs"]),
            ("esp32-mbedtls", "rsa", "sha256", "sig-sha256-rsa", "rsa.crt", ["--cert-dir", "certs"]),
            ("posix-openssl", "ec", "sha256", "sig-sha256-ecdsa", "ec.crt", ["--cert-dir", "certs"]),
            ("cc3220-simplelink", "rsa", "sha1", "sig-sha1-rsa", "ti.der", ["--cert-dir", "fs", "--root-catalog", "catalog"]),
        ]
        print(f"4 MiB image (cc3220: 512 KiB), median of {RUNS} runs each (wall clock, including process start)")
        (tmp / "tiny.bin").write_bytes(b"\x00")
        print(f"{'profile':18} {'key':10} {'otarig verify':>13} {'openssl dgst -verify':>20} {'ratio':>6} {'start-up excluded':>18}   {'device-verify (C)':>17}")
        for profile, key, digest, job_key, certfile, extra in rows:
            image, size = ("ti.bin", TI_SIZE) if profile == "cc3220-simplelink" else ("fw.bin", SIZE)
            sh("openssl", "dgst", f"-{digest}", "-sign", f"{key}.key", "-out", f"{key}-{digest}.sig", image, cwd=tmp)
            signature = (tmp / f"{key}-{digest}.sig").read_bytes()
            (tmp / "job.json").write_text(job_document(signature, job_key, certfile, size))
            ours = median_time([otarig, "verify", "--profile", profile, "--device-only", "--image", image, "--job-doc", "job.json", *extra], tmp)
            theirs = median_time(["openssl", "dgst", f"-{digest}", "-verify", f"{key}.pub", "-signature", f"{key}-{digest}.sig", image], tmp)
            (tmp / "tiny-job.json").write_text(job_document(signature, job_key, certfile, 1))
            ours_tiny = median_time([otarig, "verify", "--profile", profile, "--device-only", "--image", "tiny.bin", "--job-doc", "tiny-job.json", *extra],
                                    tmp, expect=(1,))
            theirs_tiny = median_time(["openssl", "dgst", f"-{digest}", "-verify", f"{key}.pub", "-signature", f"{key}-{digest}.sig", "tiny.bin"],
                                      tmp, expect=(1,))
            marginal = (ours - ours_tiny) / max(theirs - theirs_tiny, 1e-6)
            line = f"{profile:18} {key + '/' + digest + ('*' if size != SIZE else ''):10} {ours * 1000:11.1f}ms {theirs * 1000:18.1f}ms {ours / theirs:5.2f}x {marginal:17.2f}x"
            if profile == "esp32-mbedtls":
                device = median_time([otarig, "device-verify", "--image", "fw.bin", "--job-doc", "job.json", *extra], tmp)
                line += f"   {device * 1000:15.1f}ms"
            print(line)
        print("* cc3220-simplelink: a 512 KiB image, the largest file the CC3220SF PAL creates.")


if __name__ == "__main__":
    main()
