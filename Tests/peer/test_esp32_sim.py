"""The real esptool (PyPI) against `otarig sim esp32`: a simulated ESP32 on a pseudo-terminal must be flashed, read
back and identified by esptool exactly as a board on /dev/ttyUSB0 would, in ROM mode (--no-stub) and through the
flasher stub esptool uploads, compressed and not; and its flash must persist in the file it was given."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest


class Sim:
    def __init__(self, otarig, flash: Path):
        self.flash = flash
        self.process = subprocess.Popen([str(otarig), "sim", "esp32", "--flash", str(flash)], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("/dev/"):
            self.process.kill()
            raise AssertionError(f"otarig sim printed {line!r} instead of a port; stderr: {self.process.stderr.read()}")
        self.port = line

    def esptool(self, *args, check=True, timeout=120):
        esptool = shutil.which("esptool") or shutil.which("esptool.py")
        assert esptool, "esptool is not installed: run Scripts/bootstrap"
        result = subprocess.run([esptool, "--port", self.port, "--before", "no-reset", "--after", "no-reset", *map(str, args)],
                                capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, f"esptool {' '.join(map(str, args))} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr}"
        return result

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError("otarig sim did not stop within 10 s of SIGTERM")
        assert self.process.returncode == 0, self.process.stderr.read()


@pytest.fixture
def sim(otarig_bin, tmp_path):
    simulator = Sim(otarig_bin, tmp_path / "flash.bin")
    yield simulator
    if simulator.process.poll() is None:
        simulator.stop()


def esptool_version():
    import esptool
    return esptool.__version__


def test_esptool_is_5x():
    assert esptool_version().startswith("5."), esptool_version()


@pytest.mark.parametrize("mode", [["--no-stub"], []], ids=["rom", "stub"])
@pytest.mark.parametrize("compress", ["--compress", "--no-compress"])
def test_write_verify_read_back(sim, tmp_path, mode, compress):
    image = os.urandom(150_001)
    (tmp_path / "app.bin").write_bytes(image)
    written = sim.esptool(*mode, "write-flash", compress, "0x10000", tmp_path / "app.bin")
    assert "Hash of data verified." in written.stdout
    verified = sim.esptool(*mode, "verify-flash", "0x10000", tmp_path / "app.bin")
    assert "Verification successful (digest matched)." in verified.stdout
    # Read back through the other path: the stub's READ_FLASH stream or the ROM's READ_FLASH_SLOW.
    other = [] if mode else ["--no-stub"]
    length = len(image) if not other else 0x3000
    sim.esptool(*other, "read-flash", "0x10000", hex(length), tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == image[:length]


def test_identity(sim):
    flash_id = sim.esptool("flash-id").stdout
    assert "Manufacturer: ef" in flash_id and "Device: 4016" in flash_id and "Detected flash size: 4MB" in flash_id
    chip = sim.esptool("--no-stub", "chip-id").stdout
    assert "ESP32-D0WD-V3 (revision v3.0)" in chip and "24:0a:c4:12:34:56" in chip


def test_flash_persists_across_restarts_and_tampering_is_seen(otarig_bin, tmp_path):
    image = os.urandom(70_000)
    (tmp_path / "app.bin").write_bytes(image)
    first = Sim(otarig_bin, tmp_path / "flash.bin")
    first.esptool("write-flash", "0x20000", tmp_path / "app.bin")
    first.stop()
    flash = (tmp_path / "flash.bin").read_bytes()
    assert len(flash) == 4 * 1024 * 1024
    assert flash[0x20000:0x20000 + len(image)] == image
    assert flash[:0x8000] == b"\xff" * 0x8000  # erased NOR reads as 0xFF
    assert flash[0x8000:0x8002] == b"\xaa\x50"  # a fresh board's partition table
    assert flash[0x9000:0x20000] == b"\xff" * 0x17000
    second = Sim(otarig_bin, tmp_path / "flash.bin")
    try:
        assert "digest matched" in second.esptool("--no-stub", "verify-flash", "0x20000", tmp_path / "app.bin").stdout
        tampered = bytearray(image)
        tampered[1234] ^= 0x40
        (tmp_path / "tampered.bin").write_bytes(bytes(tampered))
        result = second.esptool("verify-flash", "0x20000", tmp_path / "tampered.bin", check=False)
        assert result.returncode != 0 and "Verification failed" in result.stdout + result.stderr
    finally:
        second.stop()


def test_write_past_the_end_of_flash_fails_cleanly(sim, tmp_path):
    (tmp_path / "big.bin").write_bytes(os.urandom(200_000))
    start = time.monotonic()
    result = sim.esptool("--no-stub", "write-flash", "--no-compress", "0x3F0000", tmp_path / "big.bin", check=False)
    assert result.returncode != 0
    assert time.monotonic() - start < 60
    # The simulator is still there for the next tool.
    assert "Manufacturer: ef" in sim.esptool("flash-id").stdout


def otarig_flash(otarig, *args, check=True):
    result = subprocess.run([str(otarig), "flash", *map(str, args)], capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, f"otarig flash exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.parametrize("compress", [[], ["--no-compress"]], ids=["compressed", "plain"])
def test_otarig_flash_writes_what_esptool_reads_back(otarig_bin, sim, tmp_path, compress):
    first, second = os.urandom(90_000), os.urandom(5_000)
    (tmp_path / "a.bin").write_bytes(first)
    (tmp_path / "b.bin").write_bytes(second)
    result = otarig_flash(otarig_bin, "--port", sim.port, *compress, f"{tmp_path / 'a.bin'}@0x10000", f"{tmp_path / 'b.bin'}@0x8000")
    assert "MD5 verified" in result.stdout and "no DTR/RTS lines" in result.stderr
    sim.esptool("read-flash", "0x10000", hex(len(first)), tmp_path / "a.back")
    sim.esptool("--no-stub", "read-flash", "0x8000", hex(len(second)), tmp_path / "b.back")
    assert (tmp_path / "a.back").read_bytes() == first
    assert (tmp_path / "b.back").read_bytes() == second


def test_otarig_verifies_what_esptool_wrote(otarig_bin, sim, tmp_path):
    image = os.urandom(120_000)
    (tmp_path / "app.bin").write_bytes(image)
    sim.esptool("write-flash", "0x20000", tmp_path / "app.bin")
    assert "verified" in otarig_flash(otarig_bin, "--port", sim.port, "--verify", f"{tmp_path / 'app.bin'}@0x20000").stdout
    # And read back byte for byte through the ROM's READ_FLASH_SLOW.
    otarig_flash(otarig_bin, "--port", sim.port, "--read", f"0x20000:{len(image)}", "--out", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == image
    tampered = bytearray(image)
    tampered[-1] ^= 1
    (tmp_path / "tampered.bin").write_bytes(bytes(tampered))
    failed = otarig_flash(otarig_bin, "--port", sim.port, "--verify", f"{tmp_path / 'tampered.bin'}@0x20000", check=False)
    assert failed.returncode == 1
    assert "verify failed: the flash at 0x20000 (120000 bytes) has MD5" in failed.stderr


@pytest.mark.parametrize("args,expected", [
    (["app.bin"], "has no offset"),
    (["app.bin@0x10001"], "not 4 KiB aligned"),
    (["app.bin@zz"], "is not an offset"),
    (["app.bin@0x10000", "app.bin@0x11000"], "overlaps"),
    (["nope.bin@0x10000"], "nope.bin"),
    (["app.bin@0x3FF000"], "ends past the 4 MiB flash"),
    (["--read", "0x10000", "--out", "x.bin"], "is not OFFSET:LENGTH"),
    (["--read", "0x10000:16"], "--read needs --out"),
    (["--read", "0x3FFFF0:0x100", "--out", "x.bin"], "ends past the 4 MiB flash"),
    (["--read", "0:16", "--out", "x.bin", "app.bin@0x10000"], "--read reads only"),
])
def test_otarig_flash_bad_input(otarig_bin, tmp_path, args, expected, monkeypatch):
    (tmp_path / "app.bin").write_bytes(os.urandom(8192))
    monkeypatch.chdir(tmp_path)
    result = otarig_flash(otarig_bin, "--port", "/dev/null-no-such-port", *args, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("otarig: error: ") and expected in result.stderr, result.stderr


def test_otarig_flash_names_a_missing_port(otarig_bin, tmp_path):
    (tmp_path / "app.bin").write_bytes(os.urandom(100))
    result = otarig_flash(otarig_bin, "--port", tmp_path / "ttyUSB9", f"{tmp_path / 'app.bin'}@0x10000", check=False)
    assert result.returncode == 2 and "ttyUSB9" in result.stderr


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_flashing_through_faults_succeeds_or_names_the_block(otarig_bin, tmp_path, seed):
    """Lost frames, flipped bits and answers 4 s late (past the 3 s timeout) on 5% of frames: otarig flash either
    writes an image whose MD5 matches or stops naming the block (or the command) and the chip's answer, in bounded
    time; it never hangs."""
    process = subprocess.Popen([str(otarig_bin), "sim", "esp32", "--flash", str(tmp_path / "flash.bin"), "--faults", "0.05",
                                "--fault-seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = process.stdout.readline().strip()
    try:
        image = os.urandom(60_000)
        (tmp_path / "app.bin").write_bytes(image)
        start = time.monotonic()
        result = otarig_flash(otarig_bin, "--port", port, "--no-compress", f"{tmp_path / 'app.bin'}@0x10000", check=False)
        assert time.monotonic() - start < 100, "otarig flash took too long"
        if result.returncode == 0:
            assert "MD5 verified" in result.stdout
            back = subprocess.run([str(otarig_bin), "flash", "--port", port, "--verify", f"{tmp_path / 'app.bin'}@0x10000"],
                                  capture_output=True, text=True, timeout=100)
            # The verify itself may meet a fault; when it answers, it agrees.
            assert back.returncode in (0, 1)
        else:
            assert result.returncode == 1, result.stderr
            assert "otarig: flash failed:" in result.stderr
            assert ("block " in result.stderr and "at offset 0x" in result.stderr) or "no answer to" in result.stderr \
                or "refused" in result.stderr or "did not answer SYNC" in result.stderr or "MD5" in result.stderr, result.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    assert "fault:" in process.stderr.read(), "no fault was injected"


def test_ota_image_boots_when_signed_and_is_erased_when_tampered(otarig_bin, run, tmp_path):
    """otarig flash --ota stages a signed app image in the next slot; the simulated board's firmware runs the C
    device verifier on it at boot: a good signature activates the slot, a tampered image is refused with
    OtaPalSignatureCheckFailed and its slot erased; the host twin says the same of both files."""
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", "signer.pem", "--key-out", "signer.key")
    for version in ("1.0.0", "1.0.1"):
        (tmp_path / f"code-{version}.bin").write_bytes(os.urandom(60_000))
        run.otarig_run("app-image", "--version", version, "--project", "hil", "--payload", f"code-{version}.bin", "--out", f"app-{version}.bin")
    run.otarig_run("sign", "--platform", "AmazonFreeRTOS-Default", "--cert", "signer.pem", "--key", "signer.key", "--in", "app-1.0.1.bin",
                   "--out", "signed.json", "--job-doc", "job.json", "--certname", "codesign.crt")
    tampered = bytearray((tmp_path / "app-1.0.1.bin").read_bytes())
    tampered[5000] ^= 0x01
    (tmp_path / "tampered.bin").write_bytes(bytes(tampered))
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "codesign.crt").write_bytes((tmp_path / "signer.pem").read_bytes())

    console = tmp_path / "console.txt"
    process = subprocess.Popen([str(otarig_bin), "sim", "esp32", "--flash", str(tmp_path / "flash.bin"), "--console", str(console)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = process.stdout.readline().strip()
    try:
        # The factory app in ota_0, then the update: accepted, activated, booted.
        otarig_flash(otarig_bin, "--port", port, f"{tmp_path / 'app-1.0.0.bin'}@0x10000")
        result = otarig_flash(otarig_bin, "--port", port, "--ota", tmp_path / "app-1.0.1.bin", "--job-doc", tmp_path / "job.json",
                              "--cert", tmp_path / "signer.pem")
        assert "staged" in result.stdout and "into ota_1 at 0x190000" in result.stdout
        text = wait_for(console, "self test passed: ota_1 marked valid; running version 1.0.1")
        assert "Loaded app from partition at offset 0x10000 (ota_0)" in text
        assert "AWS_OTA: Received entire update and validated the signature." in text
        assert "OTA verdict: accepted, OtaPalSuccess (0x00000000)" in text
        assert "Loaded app from partition at offset 0x190000 (ota_1)" in text

        # The next update goes to ota_0 (the passive slot now); a tampered image is refused there and erased.
        console.write_text("")
        result = otarig_flash(otarig_bin, "--port", port, "--ota", tmp_path / "tampered.bin", "--job-doc", tmp_path / "job.json",
                              "--cert", tmp_path / "signer.pem")
        assert "into ota_0 at 0x10000" in result.stdout
        text = wait_for(console, "after the failed update")
        assert "E (" in text and "Failed to close the OTA file: Error=(OtaPalSignatureCheckFailed:0xe3000000)" in text
        assert "OTA verdict: rejected-signature, OtaPalSignatureCheckFailed (0xe3000000)" in text
        assert "still running 1.0.1 from ota_1" in text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    flash = (tmp_path / "flash.bin").read_bytes()
    assert flash[0x10000:0x10000 + 0x1000] == b"\xff" * 0x1000, "the refused slot was not erased"

    # The host twin, on the same files, agrees with the board on both.
    for image, expected in (("app-1.0.1.bin", 0), ("tampered.bin", 1)):
        twin = subprocess.run([str(otarig_bin), "verify", "--device-only", "--image", tmp_path / image, "--job-doc", tmp_path / "job.json",
                               "--cert-dir", certs], capture_output=True, text=True, timeout=60)
        assert twin.returncode == expected, twin.stdout + twin.stderr


def wait_for(path: Path, marker: str, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if marker in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"the console never showed {marker!r}:\n{path.read_text() if path.exists() else '(no console file)'}")


UMOCKDEV = Path(__file__).resolve().parent / "umockdev"
BOARDS = Path(__file__).resolve().parents[2] / "Boards"


def under_umockdev(otarig, *args, boards=BOARDS):
    umockdev_run = shutil.which("umockdev-run")
    assert umockdev_run, "umockdev-run is not installed: run Scripts/bootstrap"
    return subprocess.run([umockdev_run, "-d", str(UMOCKDEV / "cp2102.umockdev"), "-d", str(UMOCKDEV / "ft2232h.umockdev"), "--",
                           str(otarig), *map(str, args), "--boards-dir", str(boards)], capture_output=True, text=True, timeout=60)


def test_boards_are_found_through_libudev_under_umockdev(otarig_bin):
    import json
    result = under_umockdev(otarig_bin, "boards", "list", "--json")
    assert result.returncode == 0, result.stderr
    attached = {item["port"]["devnode"]: item for item in json.loads(result.stdout)}
    assert set(attached) == {"/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/ttyUSB2"}
    cp = attached["/dev/ttyUSB0"]
    assert (cp["port"]["vendorID"], cp["port"]["productID"], cp["port"]["serial"], cp["port"]["interfaceNumber"]) == (0x10C4, 0xEA60, "0001", 0)
    assert cp["boards"] == ["esp32-devkitc"]
    assert cp["port"]["symlinks"][0].startswith("/dev/serial/by-id/usb-Silicon_Labs_CP2102")
    # The FT2232H: interface 0 is JTAG (no board), interface 1 the WROVER-KIT's console.
    assert attached["/dev/ttyUSB1"]["boards"] == []
    assert attached["/dev/ttyUSB2"]["boards"] == ["esp32-wrover-kit"] and attached["/dev/ttyUSB2"]["port"]["serial"] == "FT2H7WRX"


def test_udev_rules_and_a_pinned_board(otarig_bin, tmp_path):
    rules = under_umockdev(otarig_bin, "boards", "udev-rules")
    assert rules.returncode == 0, rules.stderr
    assert 'ENV{ID_SERIAL_SHORT}=="0001", SYMLINK+="otarig/esp32-devkitc-0001"' in rules.stdout
    assert 'ENV{ID_USB_INTERFACE_NUM}=="01", ENV{ID_SERIAL_SHORT}=="FT2H7WRX", SYMLINK+="otarig/esp32-wrover-kit-FT2H7WRX"' in rules.stdout
    assert 'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="10c4", ATTR{idProduct}=="ea60", MODE="0664"' in rules.stdout
    # A lab board file pinning serial 0002 does not claim the CP2102 with serial 0001.
    (tmp_path / "bench.yaml").write_text('id: bench-a\nname: Bench A\nchip: esp32\nusb: {vid: "10c4", pid: "ea60", serial: "0002"}\n'
                                        'reset: auto-reset-circuit\nflash: {size: 4MB, baud: 460800}\n')
    listed = under_umockdev(otarig_bin, "boards", boards=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "/dev/ttyUSB0  10c4:ea60  0001" in listed.stdout and "bench-a" not in listed.stdout
    (tmp_path / "bad.yaml").write_text("id: x\n")
    bad = under_umockdev(otarig_bin, "boards", boards=tmp_path)
    assert bad.returncode == 2 and "board file bad.yaml: missing 'name'" in bad.stderr, bad.stderr


HARNESS = Path(__file__).resolve().parent / "umockdev_reset_harness.py"


def through_fake_usb_board(otarig, tmp_path, *tool):
    """Runs `tool` against the simulator behind umockdev's /dev/ttyUSB0 with the modem lines emulated."""
    system_python = "/usr/bin/python3"
    probe = subprocess.run([system_python, "-c", "import gi; gi.require_version('UMockdev', '1.0')"], capture_output=True, text=True)
    assert probe.returncode == 0, f"the system python3 lacks python3-gi or gir1.2-umockdev-1.0 (run Scripts/bootstrap): {probe.stderr}"
    result = subprocess.run([system_python, str(HARNESS), str(otarig), str(UMOCKDEV / "cp2102.umockdev"), str(tmp_path / "flash.bin"),
                             str(tmp_path / "control.fifo"), str(tmp_path / "sim.log"), "--", *map(str, tool)],
                            capture_output=True, text=True, timeout=180)
    return result, (tmp_path / "sim.log").read_text()


def test_otarig_flash_resets_the_board_into_download_mode_through_dtr_rts(otarig_bin, tmp_path):
    (tmp_path / "app.bin").write_bytes(os.urandom(40_000))
    result, log = through_fake_usb_board(otarig_bin, tmp_path, otarig_bin, "flash", "--port", "/dev/ttyUSB0", f"{tmp_path / 'app.bin'}@0x10000")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MD5 verified" in result.stdout and "no DTR/RTS lines" not in result.stdout
    # UnixTight: EN low (RTS), then EN high with IO0 low (DTR): the chip samples IO0 and stays in the ROM loader.
    assert "reset: EN low, the chip is held in reset" in log
    assert "reset: EN rose with IO0 low: boot into download mode" in log


def test_esptool_default_and_hard_reset_reach_the_modelled_circuit(otarig_bin, tmp_path):
    (tmp_path / "app.bin").write_bytes(os.urandom(40_000))
    esptool = shutil.which("esptool")
    result, log = through_fake_usb_board(otarig_bin, tmp_path, esptool, "--port", "/dev/ttyUSB0", "--after", "hard-reset",
                                         "write-flash", "0x10000", tmp_path / "app.bin")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "Hash of data verified." in result.stdout and "Chip was NOT reset" not in result.stdout
    assert log.index("boot into download mode") < log.index("EN rose with IO0 high: boot the application")


def test_flash_by_board_id_and_hard_reset_into_the_application(otarig_bin, run, tmp_path):
    run.otarig_run("app-image", "--version", "1.2.3", "--project", "bench", "--payload", HARNESS, "--out", "app.bin")
    result, log = through_fake_usb_board(otarig_bin, tmp_path, otarig_bin, "flash", "--board", "esp32-devkitc", "--boards-dir", BOARDS,
                                         "--after", "hard-reset", f"{tmp_path / 'app.bin'}@0x10000")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(esp32-devkitc)" in result.stdout and "hard reset through RTS" in result.stdout
    assert "EN rose with IO0 high: boot the application" in log


@pytest.mark.parametrize("reset,baud,sequence", [("manual", 230400, "none"), ("auto-reset-circuit", 921600, "unix-tight")])
def test_flash_by_board_id_follows_the_board_files_reset_and_baud(otarig_bin, tmp_path, reset, baud, sequence):
    """A new board is a YAML file: its reset: picks the sequence otarig flash drives on DTR/RTS (none for a board
    reset by hand) and its flash.baud the rate the loader is switched to."""
    boards = tmp_path / "boards"
    boards.mkdir()
    (boards / "bench.yaml").write_text(f'id: bench\nname: Bench board\nchip: esp32\nusb: {{vid: "10c4", pid: "ea60"}}\n'
                                       f'reset: {reset}\nflash: {{size: 4MB, baud: {baud}}}\n')
    (tmp_path / "app.bin").write_bytes(os.urandom(20_000))
    result, log = through_fake_usb_board(otarig_bin, tmp_path, otarig_bin, "flash", "--board", "bench", "--boards-dir", boards,
                                         f"{tmp_path / 'app.bin'}@0x10000")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"(bench): reset {sequence}, {baud} baud" in output, output
    assert f"CHANGE_BAUDRATE baud {baud}" in log, log
    assert ("reset: EN low, the chip is held in reset" in log) == (sequence != "none"), log


def test_flash_options_override_the_board_file(otarig_bin, tmp_path):
    (tmp_path / "app.bin").write_bytes(os.urandom(20_000))
    result, log = through_fake_usb_board(otarig_bin, tmp_path, otarig_bin, "flash", "--board", "esp32-devkitc", "--boards-dir", BOARDS,
                                         "--before", "none", "--baud", "115200", f"{tmp_path / 'app.bin'}@0x10000")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "(esp32-devkitc): reset none, 115200 baud" in output, output
    assert "CHANGE_BAUDRATE" not in log and "reset: EN low" not in log, log


def test_boards_wait_returns_when_the_board_is_plugged_in(otarig_bin):
    import json
    script = Path(__file__).resolve().parent / "umockdev_hotplug.py"
    plugged = json.loads(subprocess.run(["/usr/bin/python3", str(script), str(otarig_bin), str(UMOCKDEV / "cp2102.umockdev"), str(BOARDS), "1.0"],
                                        capture_output=True, text=True, timeout=60).stdout)
    assert plugged["returncode"] == 0 and plugged["stdout"].strip() == "/dev/ttyUSB0", plugged
    assert plugged["waited"] >= 1.0 and plugged["after_plug"] < 2.0, plugged
    never = json.loads(subprocess.run(["/usr/bin/python3", str(script), str(otarig_bin), str(UMOCKDEV / "cp2102.umockdev"), str(BOARDS), "-1"],
                                      capture_output=True, text=True, timeout=60).stdout)
    assert never["returncode"] == 1 and "no 'esp32-devkitc' appeared within 8 s" in never["stderr"], never


def test_simulated_esp32_reads_only_the_signature_key_its_board_file_names(otarig_bin, run, tmp_path):
    """A real ESP32 build of FreeRTOS reads the signature from one job-document key, fixed at compile time
    (sig-sha256-ecdsa). The simulated board takes that key from its board file (Boards/sim-esp32.yaml), so a job
    document that carries the signature only under sig-sha256-rsa is refused by the board exactly as the C device
    verifier refuses it when told the PAL reads sig-sha256-ecdsa: the same log lines, in the same order."""
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", "signer.pem", "--key-out", "signer.key")
    for version in ("1.0.0", "1.0.1"):
        (tmp_path / f"code-{version}.bin").write_bytes(os.urandom(40_000))
        run.otarig_run("app-image", "--version", version, "--project", "hil", "--payload", f"code-{version}.bin", "--out", f"app-{version}.bin")
    run.otarig_run("sign", "--platform", "AmazonFreeRTOS-Default", "--cert", "signer.pem", "--key", "signer.key", "--in", "app-1.0.1.bin",
                   "--out", "signed.json", "--job-doc", "job.json", "--certname", "codesign.crt")
    document = json.loads((tmp_path / "job.json").read_text())
    entry = document["afr_ota"]["files"][0]
    entry["sig-sha256-rsa"] = entry.pop("sig-sha256-ecdsa")
    # One execution message for both, so the job id (which the agent logs) is the same on the board and the host.
    execution = {"clientToken": "0:peer", "timestamp": 0,
                 "execution": {"jobId": "AFR_OTA-peer-wrong-key", "status": "QUEUED", "jobDocument": document}}
    (tmp_path / "rsa-only.json").write_text(json.dumps(execution))
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "codesign.crt").write_bytes((tmp_path / "signer.pem").read_bytes())

    host = subprocess.run([str(otarig_bin), "device-verify", "--json", "--image", tmp_path / "app-1.0.1.bin",
                           "--job-doc", tmp_path / "rsa-only.json", "--cert-dir", certs, "--signature-key", "sig-sha256-ecdsa"],
                          capture_output=True, text=True, timeout=60)
    assert host.returncode == 1, host.stdout + host.stderr
    host_report = json.loads(host.stdout)
    assert not host_report["accepted"]
    host_lines = [line["text"] for line in host_report["log"]]
    assert host_lines, "the device verifier logged nothing"

    console = tmp_path / "console.txt"
    process = subprocess.Popen([str(otarig_bin), "sim", "esp32", "--board", "sim-esp32", "--boards-dir", BOARDS,
                                "--flash", str(tmp_path / "flash.bin"), "--console", str(console)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = process.stdout.readline().strip()
    try:
        otarig_flash(otarig_bin, "--port", port, f"{tmp_path / 'app-1.0.0.bin'}@0x10000")
        otarig_flash(otarig_bin, "--port", port, "--ota", tmp_path / "app-1.0.1.bin", "--job-doc", tmp_path / "rsa-only.json",
                     "--cert", tmp_path / "signer.pem")
        text = wait_for(console, "after the failed update")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    assert "OTA verdict: rejected-" in text and "still running 1.0.0 from ota_0" in text
    board_lines = [line.split(" AWS_OTA: ", 1)[1] for line in text.splitlines() if " AWS_OTA: " in line]
    agent_lines = [line for line in board_lines if not line.startswith(("OTA job staged", "publish ", "OTA verdict", "erased "))]
    assert agent_lines == host_lines
    verdict = f"OTA verdict: {host_report['outcome']}, {host_report['palMain']} ({host_report['palStatus']})"
    assert verdict in text
