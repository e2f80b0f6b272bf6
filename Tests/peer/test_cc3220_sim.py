"""The TI CC3220SF: discovery of the LaunchPad's XDS110 under umockdev, the simulated CC3220SF's bootloader driven by
`otarig flash`, and its signed close.

Peers: umockdev (a recorded XDS110), openssl (signing material and the third opinion on signatures).
"""
import json
import shutil
import subprocess
from pathlib import Path

UMOCKDEV = Path(__file__).resolve().parent / "umockdev"
BOARDS = Path(__file__).resolve().parents[2] / "Boards"


def test_the_launchpads_xds110_is_found_and_its_user_uart_is_the_board(otarig_bin):
    umockdev_run = shutil.which("umockdev-run")
    assert umockdev_run, "umockdev-run is not installed: run Scripts/bootstrap"
    result = subprocess.run([umockdev_run, "-d", str(UMOCKDEV / "xds110.umockdev"), "--",
                             str(otarig_bin), "boards", "list", "--json", "--boards-dir", str(BOARDS)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    attached = {item["port"]["devnode"]: item for item in json.loads(result.stdout)}
    assert set(attached) == {"/dev/ttyACM0", "/dev/ttyACM1"}
    uart = attached["/dev/ttyACM0"]
    assert (uart["port"]["vendorID"], uart["port"]["productID"], uart["port"]["serial"], uart["port"]["interfaceNumber"]) == \
        (0x0451, 0xBEF3, "M4321005", 0)
    assert uart["boards"] == ["cc3220sf-launchxl"]
    # The auxiliary data port (interface 3) is not the CC3220SF's UART.
    assert attached["/dev/ttyACM1"]["boards"] == []
    listed = subprocess.run([umockdev_run, "-d", str(UMOCKDEV / "xds110.umockdev"), "--",
                             str(otarig_bin), "boards", "--boards-dir", str(BOARDS)], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert "/dev/ttyACM0" in listed.stdout and "cc3220sf-launchxl" in listed.stdout, listed.stdout
