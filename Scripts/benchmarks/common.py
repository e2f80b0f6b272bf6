"""What the benchmarks share: the release build they measure, timing, and the signer certificate configuration."""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# openssl req configuration for a code-signing certificate (and a CA, for the TI chain).
CONFIG = """[ req ]
prompt = no
distinguished_name = dn
[ dn ]
commonName = bench signer
[ exts ]
keyUsage = digitalSignature
extendedKeyUsage = codeSigning
[ ca ]
basicConstraints = critical,CA:true
"""


RUNS = 7


def runs(default):
    """How many runs each median takes: $BENCH_RUNS, else the benchmark's default."""
    global RUNS
    RUNS = int(os.environ.get("BENCH_RUNS", str(default)))
    return RUNS


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw)


def release_otarig() -> str:
    """otarig built as it would be installed: release, the Swift runtime linked statically."""
    print("building otarig (release)…", file=sys.stderr)
    build = ["swift", "build", "-c", "release", "--static-swift-stdlib", "--scratch-path", str(ROOT / ".build-release")]
    sh(*build, "--product", "otarig", cwd=ROOT)
    return str(Path(sh(*build, "--show-bin-path", cwd=ROOT).stdout.decode().strip()) / "otarig")


def median_time(command, cwd=None, expect=(0,)):
    """The median wall time of RUNS runs, process start included; a run that exits otherwise stops the benchmark."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode not in expect:
            raise SystemExit(f"{' '.join(map(str, command))} exited {result.returncode}:\n{result.stdout[-1500:]}\n{result.stderr[-1500:]}")
    return statistics.median(times)
