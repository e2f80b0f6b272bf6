"""The rig's USB reset against umockdev: otarig finds the board's USB device from its tty through libudev, resets it
through libusb (whose libusb_reset_device sends USBDEVFS_RESET to /dev/bus/usb/BBB/DDD), and follows the board to
the tty it comes back on. The harness plays the kernel's usbfs: it counts the resets that reach the node, answers
them, and re-enumerates the board (a new address, ttyUSB1 instead of ttyUSB0) the way a real bridge can."""
import json
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "umockdev_usb_reset_harness.py"
DESCRIPTION = HERE / "umockdev" / "cp2102-usbfs.umockdev"
SYSTEM_PYTHON = "/usr/bin/python3"
USB_NODE = "/dev/bus/usb/001/005"


def reset_under_umockdev(otarig, mode, *args):
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('UMockdev', '1.0'); from gi.repository import UMockdev"],
                           capture_output=True, text=True)
    assert probe.returncode == 0, f"the system python3 lacks python3-gi or gir1.2-umockdev-1.0 (run Scripts/bootstrap): {probe.stderr}"
    command = [SYSTEM_PYTHON, str(HARNESS), str(DESCRIPTION), mode, "--", str(otarig), "boards", "reset", *(args or ("--port", "/dev/ttyUSB0"))]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, f"the umockdev harness failed: {done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_harness_answers_usbdevfs_reset_through_libusb(otarig_bin):
    """If umockdev cannot deliver libusb's reset ioctl to the harness, every other test here is meaningless: say so."""
    result = reset_under_umockdev(otarig_bin, "ok")
    assert result["ioctls"], ("no ioctl reached the fake /dev/bus/usb/001/005: umockdev did not route libusb's usbfs ioctls to the "
                              f"harness here (otarig said: {result['stderr']!r})")


def test_reset_reaches_the_devices_node_once_and_otarig_follows_the_board_to_its_new_tty(otarig_bin):
    result = reset_under_umockdev(otarig_bin, "ok")
    assert result["resets"] == {USB_NODE: 1}, result
    assert result["returncode"] == 0, result["stderr"]
    assert result["stdout"].strip() == "/dev/ttyUSB1", result
    assert "/dev/ttyUSB0" in result["stderr"] and USB_NODE in result["stderr"], result["stderr"]
    assert "reset; back on /dev/ttyUSB1" in result["stderr"], result["stderr"]


def test_a_device_that_vanishes_under_the_reset_counts_as_reset_once_it_is_back(otarig_bin):
    result = reset_under_umockdev(otarig_bin, "enodev")
    assert result["resets"] == {USB_NODE: 1}, result
    assert result["returncode"] == 0, result["stderr"]
    assert result["stdout"].strip() == "/dev/ttyUSB1", result
    assert "re-enumerated" in result["stderr"], result["stderr"]


def test_a_refused_reset_is_reported_with_the_device_the_errno_and_the_fix(otarig_bin):
    result = reset_under_umockdev(otarig_bin, "eacces")
    assert result["resets"] == {USB_NODE: 1}, result
    assert result["returncode"] == 1, result
    assert result["stdout"] == "", result
    message = result["stderr"]
    for words in ("/dev/ttyUSB0", USB_NODE, "LIBUSB_ERROR_OTHER", "EACCES", "udev rule", "otarig boards udev-rules"):
        assert words in message, f"{words!r} missing from: {message}"


def test_a_board_without_a_usb_device_is_named_as_such(otarig_bin):
    result = reset_under_umockdev(otarig_bin, "ok", "--port", "/dev/ttyS0")
    assert result["resets"] == {}, result
    assert result["returncode"] == 1, result
    assert "/dev/ttyS0 is not a USB serial port" in result["stderr"], result["stderr"]


@pytest.mark.parametrize("args, expected", [
    (("boards", "reset"), "pass either --board ID or --port DEV"),
    (("boards", "reset", "--port", "/dev/ttyUSB0", "--board", "esp32-devkitc"), "pass either --board ID or --port DEV"),
])
def test_boards_reset_bad_input(otarig_bin, args, expected):
    done = subprocess.run([str(otarig_bin), *args], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert expected in done.stderr, done.stderr
