#!/usr/bin/python3
"""Runs a tool against `otarig sim esp32` behind umockdev's fake /dev/ttyUSB0 (a CP2102 board), with the modem lines
emulated: TIOCMGET/TIOCMSET/TIOCMBIS/TIOCMBIC from the tool are answered here and passed to the simulator's control
FIFO, so its modelled auto-reset circuit sees every DTR/RTS edge; other ioctls run on the real pty.

Needs the system python3 with python3-gi and gir1.2-umockdev-1.0 (Scripts/bootstrap installs them).
Usage: umockdev_reset_harness.py OTARIG DESCRIPTION FLASH_FILE CONTROL_FIFO SIM_LOG -- TOOL ARGS...
Prints the tool's output, exits with its status. OTARIG_HARNESS_SIM (esp32 or cc3220sf), OTARIG_HARNESS_DEVICE (the
fake node, /dev/ttyUSB0 by default) and OTARIG_HARNESS_SIM_ARGS (more simulator arguments, space-separated) pick
another simulated board: a CC3220SF reads DTR as nRESET and RTS as SOP2.
"""
import os
import struct
import subprocess
import sys

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import GLib, UMockdev  # noqa: E402

TIOCMGET, TIOCMBIS, TIOCMBIC, TIOCMSET = 0x5415, 0x5416, 0x5417, 0x5418
TIOCSBRK, TIOCCBRK = 0x5427, 0x5428
TIOCM_DTR, TIOCM_RTS = 0x002, 0x004


def main():
    otarig, description, flash, fifo, sim_log = sys.argv[1:6]
    tool = sys.argv[sys.argv.index("--") + 1:]
    testbed = UMockdev.Testbed.new()
    testbed.add_from_file(description)
    kind = os.environ.get("OTARIG_HARNESS_SIM", "esp32")
    device = os.environ.get("OTARIG_HARNESS_DEVICE", "/dev/ttyUSB0")
    extra = os.environ.get("OTARIG_HARNESS_SIM_ARGS", "").split()
    master = testbed.get_dev_fd(device)
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    with open(sim_log, "w") as log:
        sim = subprocess.Popen([otarig, "sim", kind, "--flash", flash, "--serial-fd", str(master), "--control", fifo, "--verbose", *extra],
                               pass_fds=[master], stdout=subprocess.DEVNULL, stderr=log)
    control = open(fifo, "w", buffering=1)
    state = {"lines": 0}

    def handle(_handler, client):
        request = client.get_request()
        if request in (TIOCMGET, TIOCMBIS, TIOCMBIC, TIOCMSET):
            data = client.get_arg().resolve(0, 4)
            if request == TIOCMGET:
                data.update(0, struct.pack("i", state["lines"]))
            else:
                value = struct.unpack("i", bytes(data.retrieve()))[0]
                lines = state["lines"]
                lines = value if request == TIOCMSET else (lines | value if request == TIOCMBIS else lines & ~value)
                state["lines"] = lines
                control.write(f"dtr={1 if lines & TIOCM_DTR else 0} rts={1 if lines & TIOCM_RTS else 0}\n")
            client.complete(0, 0)
            return True
        if request in (TIOCSBRK, TIOCCBRK):
            client.complete(0, 0)
            return True
        result, error = client.execute()
        client.complete(result, error)
        return True

    handler = UMockdev.IoctlBase()
    handler.connect("handle-ioctl", handle)
    testbed.attach_ioctl(device, handler)

    environment = dict(os.environ, UMOCKDEV_DIR=testbed.get_root_dir(), LD_PRELOAD="libumockdev-preload.so.0")
    process = subprocess.Popen(tool, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    loop = GLib.MainLoop()

    def check():
        if process.poll() is not None:
            loop.quit()
            return False
        return True

    GLib.timeout_add(20, check)
    GLib.timeout_add_seconds(120, loop.quit)
    loop.run()
    if process.poll() is None:
        process.kill()
    output = process.stdout.read()
    # Let the simulator act on the last line changes (a hard reset at the very end) before stopping it.
    end = GLib.get_monotonic_time() + 300_000
    while GLib.get_monotonic_time() < end:
        GLib.MainContext.default().iteration(False)
    sim.terminate()
    sim.wait(timeout=15)
    sys.stdout.write(output)
    sys.exit(process.returncode if process.returncode is not None else 124)


if __name__ == "__main__":
    main()
