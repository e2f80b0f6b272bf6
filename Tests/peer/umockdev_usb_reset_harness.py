#!/usr/bin/python3
"""Runs a tool inside a umockdev testbed holding a CP2102 board (its USB device, /dev/bus/usb/001/005, and the
ttyUSB0 under it), and answers the ioctls the tool sends to the USB device's node, as the kernel's usbfs would.
USBDEVFS_RESET (what libusb_reset_device sends) is counted, then answered per MODE:

  ok      success, then the board re-enumerates: the device comes back at address 6 with its tty as ttyUSB1
  enodev  ENODEV (the device vanished under the reset: libusb's LIBUSB_ERROR_NOT_FOUND), then the same re-enumeration
  eacces  EACCES, and the board stays as it is

Needs the system python3 with python3-gi and gir1.2-umockdev-1.0 (Scripts/bootstrap installs them).
Usage: umockdev_usb_reset_harness.py DESCRIPTION MODE -- TOOL ARGS...
Prints one JSON line: {"returncode", "stdout", "stderr", "resets": {node: count}, "ioctls": [[node, request], ...]}.
"""
import errno
import json
import os
import subprocess
import sys

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import GLib, UMockdev  # noqa: E402

# linux/usbdevice_fs.h: USBDEVFS_RESET is _IO('U', 20), USBDEVFS_GET_CAPABILITIES is _IOR('U', 26, __u32).
USBDEVFS_RESET = 0x5514
USBDEVFS_GET_CAPABILITIES = 0x8004551A

OLD_NODE = "/dev/bus/usb/001/005"
NEW_NODE = "/dev/bus/usb/001/006"
USB_DEVICE = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1"
# Deepest first, so no device is removed before its children.
REMOVE = [USB_DEVICE + "/1-1:1.0/ttyUSB0/tty/ttyUSB0", USB_DEVICE + "/1-1:1.0/ttyUSB0", USB_DEVICE + "/1-1:1.0", USB_DEVICE]


def main():
    description, mode = sys.argv[1], sys.argv[2]
    tool = sys.argv[sys.argv.index("--") + 1:]
    with open(description) as handle:
        original = handle.read()
    # The same board after re-enumerating: a new address on the bus, and its tty under the next free name.
    returned = (original.replace("bus/usb/001/005", "bus/usb/001/006").replace("DEVNUM=005", "DEVNUM=006")
                .replace("devnum=5", "devnum=6").replace("ttyUSB0", "ttyUSB1").replace("dev=188:0", "dev=188:1")
                .replace("dev=189:4", "dev=189:5"))
    testbed = UMockdev.Testbed.new()
    testbed.add_from_string(original)
    resets = {}
    ioctls = []

    def re_enumerate():
        for syspath in REMOVE:
            testbed.remove_device(syspath)
        # umockdev leaves the tty's udev symlinks behind; the kernel's udev would drop them with the device.
        for folder in ("dev/serial/by-id", "dev/serial/by-path"):
            directory = os.path.join(testbed.get_root_dir(), folder)
            for name in os.listdir(directory) if os.path.isdir(directory) else []:
                os.unlink(os.path.join(directory, name))
        testbed.add_from_string(returned)
        attach(NEW_NODE)
        return False

    def handler_for(node):
        def handle(_handler, client):
            request = client.get_request()
            ioctls.append([node, request])
            if request == USBDEVFS_RESET:
                resets[node] = resets.get(node, 0) + 1
                if mode == "ok":
                    client.complete(0, 0)
                else:
                    client.complete(-1, errno.ENODEV if mode == "enodev" else errno.EACCES)
                if mode in ("ok", "enodev") and node == OLD_NODE:
                    GLib.timeout_add(50, re_enumerate)
                return True
            # Anything else (GET_CAPABILITIES on open): not a usbfs feature this fake device has.
            client.complete(-1, errno.ENOTTY)
            return True
        return handle

    handlers = []

    def attach(node):
        handler = UMockdev.IoctlBase()
        handler.connect("handle-ioctl", handler_for(node))
        handlers.append(handler)
        if not testbed.attach_ioctl(node, handler):
            raise SystemExit(f"umockdev could not attach an ioctl handler to {node}")

    attach(OLD_NODE)
    environment = dict(os.environ, UMOCKDEV_DIR=testbed.get_root_dir(), LD_PRELOAD="libumockdev-preload.so.0")
    process = subprocess.Popen(tool, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    loop = GLib.MainLoop()

    def check():
        if process.poll() is not None:
            loop.quit()
            return False
        return True

    GLib.timeout_add(20, check)
    GLib.timeout_add_seconds(60, loop.quit)
    loop.run()
    if process.poll() is None:
        process.kill()
    stdout, stderr = process.communicate()
    print(json.dumps({"returncode": process.returncode, "stdout": stdout, "stderr": stderr, "resets": resets, "ioctls": ioctls}))


if __name__ == "__main__":
    main()
