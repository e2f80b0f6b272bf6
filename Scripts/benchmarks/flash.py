"""Scripts/bench flash: write and verify a 1 MiB image on `otarig sim esp32 --baud-timing` at a simulated 921600 baud,
otarig flash beside esptool with the same settings, compressed and not. Prints the median wall time and the ratio
otarig/esptool (target: at most 1.0x).

The simulator charges every byte its time on the wire (10 bits at the current rate) in both directions, so the
protocol's cost shows: esptool uploads its flasher stub and sends 16 KiB blocks; otarig flash drives the ROM loader
directly with 1 KiB blocks (one round trip each). Both verify by SPI_FLASH_MD5.
"""
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from common import median_time, release_otarig, runs

RUNS = runs(3)
BAUD = 921600


def main():
    otarig = release_otarig()
    esptool = shutil.which("esptool") or shutil.which("esptool.py")
    with tempfile.TemporaryDirectory(prefix="otarig-bench-") as tmp:
        tmp = Path(tmp)
        # Half random, half a repeating pattern: firmware compresses to roughly 60-70%.
        image = os.urandom(512 * 1024) + bytes(range(256)) * 2048
        (tmp / "app.bin").write_bytes(image)
        sim = subprocess.Popen([otarig, "sim", "esp32", "--flash", str(tmp / "flash.bin"), "--baud-timing"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        port = sim.stdout.readline().strip()
        try:
            print(f"1 MiB image on the simulated ESP32 at {BAUD} baud (wire time charged both ways), median of {RUNS} runs")
            print(f"{'mode':14} {'otarig flash':>12} {'esptool':>10} {'ratio':>6}")
            for name, ours_args, theirs_args in [
                ("compressed", [], ["--compress"]),
                ("uncompressed", ["--no-compress"], ["--no-compress"]),
            ]:
                ours = median_time([otarig, "flash", "--port", port, "--baud", str(BAUD), *ours_args, f"{tmp / 'app.bin'}@0x10000"])
                theirs = median_time([esptool, "--port", port, "--baud", str(BAUD), "--before", "no-reset", "--after", "no-reset",
                                      "write-flash", *theirs_args, "0x10000", str(tmp / "app.bin")])
                print(f"{name:14} {ours:10.2f} s {theirs:8.2f} s {ours / theirs:5.2f}x")
        finally:
            sim.send_signal(signal.SIGTERM)
            sim.wait(timeout=15)


if __name__ == "__main__":
    main()
