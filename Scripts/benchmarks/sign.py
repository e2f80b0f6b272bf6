"""Scripts/bench sign: otarig sign on a 16 MiB file per platform, beside `openssl dgst -sign` on the same file and key.

Prints the median wall time of each and the ratio otarig/openssl (target: at most 1.3x). otarig is a release build with the Swift runtime linked
statically (as it would be installed). Its time includes what a signing job writes: the JSONEmbedded object carries the whole payload in base64 (about 22 MB), written
atomically with fsync. The JSONDetached rows show the signature alone.
"""
import os
import tempfile
from pathlib import Path

from common import CONFIG, median_time, release_otarig, runs, sh

RUNS = runs(7)


KEYS = {
    "ec-p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "ec-p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "rsa-2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    "rsa-3072": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
}

CASES = [  # platform, key, digest, extra otarig arguments
    ("AmazonFreeRTOS-Default", "ec-p256", "sha256", []),
    ("AmazonFreeRTOS-Default", "rsa-2048", "sha256", []),
    ("AmazonFreeRTOS-Default", "rsa-3072", "sha256", []),
    ("AmazonFreeRTOS-TI-CC3220SF", "rsa-2048", "sha1", []),
    ("AWSIoTDeviceManagement-SHA256-ECDSA", "ec-p256", "sha256", ["--payload-location", "s3://b/fw.bin?versionId=v1"]),
    ("AWSLambda-SHA384-ECDSA", "ec-p384", "sha384", ["--payload-location", "s3://b/fw.zip?versionId=v1"]),
]


def main():
    otarig = release_otarig()
    with tempfile.TemporaryDirectory(prefix="otarig-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "fw.bin").write_bytes(os.urandom(16 * 1024 * 1024))
        (tmp / "cfg").write_text(CONFIG)
        for name, args in KEYS.items():
            sh("openssl", "genpkey", *args, "-out", f"{name}.key", cwd=tmp)
            sh("openssl", "req", "-new", "-x509", "-config", "cfg", "-extensions", "exts", "-days", "30",
               "-key", f"{name}.key", "-out", f"{name}.crt", cwd=tmp)
        print(f"16 MiB payload, median of {RUNS} runs each (wall clock, including process start)")
        print("JSONEmbedded objects carry the payload in base64 (22 MB written); the last columns compare them with")
        print("what a shell would run to make the same object: openssl dgst -sign, then openssl base64 of the payload.")
        print(f"{'platform':38} {'key':9} {'otarig sign':>11} {'openssl dgst':>12} {'ratio':>6} {'dgst+base64':>12} {'ratio':>6}")
        for platform, key, digest, extra in CASES:
            ours = median_time([str(otarig), "sign", "--platform", platform, "--cert", f"{key}.crt", "--key", f"{key}.key",
                                "--in", "fw.bin", "--out", "signed.json", *extra], tmp)
            theirs = median_time(["openssl", "dgst", f"-{digest}", "-sign", f"{key}.key", "-out", "sig.bin", "fw.bin"], tmp)
            line = f"{platform:38} {key:9} {ours * 1000:9.1f}ms {theirs * 1000:10.1f}ms {ours / theirs:5.2f}x"
            if not extra:  # JSONEmbedded
                encode = median_time(["openssl", "base64", "-A", "-in", "fw.bin", "-out", "payload.b64"], tmp)
                both = theirs + encode
                line += f" {both * 1000:10.1f}ms {ours / both:5.2f}x"
            print(line)

if __name__ == "__main__":
    main()
