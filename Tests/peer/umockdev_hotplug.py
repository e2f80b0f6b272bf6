#!/usr/bin/python3
"""Plugs a fake CP2102 board into an empty umockdev testbed while `otarig boards wait` runs, and reports when the
command returned relative to the plug. Usage: umockdev_hotplug.py OTARIG DESCRIPTION BOARDS_DIR DELAY
Prints one JSON line: {"returncode", "stdout", "stderr", "waited", "after_plug"}."""
import json
import os
import subprocess
import sys
import time

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

otarig, description, boards, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
testbed = UMockdev.Testbed.new()
environment = dict(os.environ, UMOCKDEV_DIR=testbed.get_root_dir(), LD_PRELOAD="libumockdev-preload.so.0")
start = time.monotonic()
process = subprocess.Popen([otarig, "boards", "wait", "esp32-devkitc", "--timeout", "8", "--boards-dir", boards], env=environment,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
plugged = None
if delay >= 0:
    time.sleep(delay)
    testbed.add_from_file(description)
    plugged = time.monotonic()
stdout, stderr = process.communicate(timeout=20)
end = time.monotonic()
print(json.dumps({"returncode": process.returncode, "stdout": stdout, "stderr": stderr, "waited": end - start,
                  "after_plug": None if plugged is None else end - plugged}))
