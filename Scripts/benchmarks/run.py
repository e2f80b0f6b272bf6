"""Scripts/bench run: the standard matrix (every standard scenario, the embedded signer) on 1 simulated ESP32 and on
4, boards in parallel. Prints the median wall time of each and the ratio 4/1 (target: under 1.5x, since the boards
work at once and each cell's time is mostly the simulated UART's wire time at the board's baud rate, not CPU).

The simulated boards pace every byte at the current baud rate (`otarig sim esp32 --baud-timing`), as a real UART
does, so the numbers are what a bench of real boards at 921600 baud would see for the same transfers.
Set OTARIG_BIN to measure a given binary instead of the release build.
"""
import os
import sys
import tempfile
from pathlib import Path

from common import ROOT, median_time, release_otarig, runs

RUNS = runs(3)


def main():
    otarig = os.environ.get("OTARIG_BIN") or release_otarig()
    with tempfile.TemporaryDirectory(prefix="otarig-bench-run-") as tmp:
        tmp = Path(tmp)
        times = {}
        for boards in (1, 4):
            plan = tmp / f"boards-{boards}.yaml"
            plan.write_text(f"boards:\n  - simulated: sim-esp32\n    count: {boards}\nparallel: {boards}\nscenarios: standard\n")
            # A stock board shows known device gaps: exit status 0 all the same.
            times[boards] = median_time([otarig, "run", str(plan), "--report-dir", str(tmp / f"report-{boards}"),
                                         "--boards-dir", str(ROOT / "Boards")], cwd=tmp)
            print(f"standard matrix on {boards} board(s): {times[boards]:.2f} s (median of {RUNS})")
        ratio = times[4] / times[1]
        print(f"4 boards / 1 board: {ratio:.2f}x (target < 1.5x){'' if ratio < 1.5 else '  ** over target **'}")
        cores = os.cpu_count()
        print(f"(on {cores} cores)", file=sys.stderr)


if __name__ == "__main__":
    main()
