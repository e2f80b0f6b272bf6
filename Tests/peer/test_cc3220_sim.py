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


# --- the simulated CC3220SF driven by otarig flash ---------------------------------------------------------------------
import base64
import os
import signal
import time

import pytest


class Sim:
    """`otarig sim cc3220sf` in the background: its pty path, its log, stopped whatever happens."""

    def __init__(self, otarig, tmp_path, *extra):
        self.log = open(tmp_path / "sim.log", "w")
        self.process = subprocess.Popen([str(otarig), "sim", "cc3220sf", "--flash", str(tmp_path / "fs.json"), "--boards-dir", str(BOARDS), *extra],
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.port = self.process.stdout.readline().strip()
        assert self.port.startswith("/dev/pts/"), f"the simulator printed {self.port!r}: {(tmp_path / 'sim.log').read_text()}"

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("otarig sim cc3220sf did not stop within 10 s of SIGTERM")
        finally:
            self.log.close()
        assert self.process.returncode == 0, f"otarig sim cc3220sf exited {self.process.returncode} on SIGTERM"


@pytest.fixture
def sim_factory(otarig_bin, tmp_path):
    started = []

    def start(*extra):
        sim = Sim(otarig_bin, tmp_path, *extra)
        started.append(sim)
        return sim
    yield start
    for sim in started:
        sim.stop()


def openssl(tmp_path, *args):
    result = subprocess.run(["openssl", *args], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def signing_material(tmp_path, image_size=100_000):
    """TI's layout (reference §5.3 item 4): a root in the catalog, the signer's issuer stored under its Issued-To name.
    A root R (CN=dummy-root-ca-cert) signs an intermediate (CN=otarig-test-ca), which signs the signer with SHA-1."""
    catalog, fs = tmp_path / "catalog", tmp_path / "fs"
    catalog.mkdir(exist_ok=True)
    fs.mkdir(exist_ok=True)
    openssl(tmp_path, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "30", "-subj", "/CN=dummy-root-ca-cert",
            "-keyout", "root.key", "-out", "root.pem")
    openssl(tmp_path, "x509", "-in", "root.pem", "-outform", "DER", "-out", str(catalog / "dummy-root-ca-cert"))
    (tmp_path / "ca.ext").write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign\n")
    openssl(tmp_path, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=otarig-test-ca", "-keyout", "ca.key", "-out", "ca.csr")
    openssl(tmp_path, "x509", "-req", "-in", "ca.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "2", "-days", "30",
            "-sha256", "-extfile", "ca.ext", "-out", "ca.pem")
    openssl(tmp_path, "x509", "-in", "ca.pem", "-outform", "DER", "-out", str(fs / "otarig-test-ca"))
    openssl(tmp_path, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=tisigner", "-keyout", "signer.key", "-out", "signer.csr")
    openssl(tmp_path, "x509", "-req", "-in", "signer.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "3", "-days", "30",
            "-sha1", "-out", "signer.pem")
    openssl(tmp_path, "x509", "-in", "signer.pem", "-outform", "DER", "-out", str(fs / "tisigner.crt.der"))
    # openssl's own opinion of the chain, as the device should hold it.
    openssl(tmp_path, "verify", "-CAfile", "root.pem", "-untrusted", "ca.pem", "signer.pem")
    (tmp_path / "app.bin").write_bytes(os.urandom(image_size))
    return catalog, fs


def job_document(tmp_path, image, name):
    openssl(tmp_path, "dgst", "-sha1", "-sign", "signer.key", "-out", f"{name}.sig", image)
    signature = base64.b64encode((tmp_path / f"{name}.sig").read_bytes()).decode()
    size = (tmp_path / image).stat().st_size
    doc = {"afr_ota": {"protocols": ["MQTT"], "streamname": "AFR_OTA-cc3220", "files": [
        {"filepath": "/sys/mcuflashimg.bin", "filesize": size, "fileid": 0, "certfile": "tisigner.crt.der", "sig-sha1-rsa": signature}]}}
    (tmp_path / f"{name}.json").write_text(json.dumps(doc))
    return f"{name}.json"


def flash(otarig_bin, tmp_path, port, *args, timeout=120):
    return subprocess.run([str(otarig_bin), "flash", "--chip", "cc3220sf", "--port", port, *map(str, args)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout)


def test_ota_accepted_then_tampered_refused_with_the_simplelink_code_and_the_old_image_kept(otarig_bin, tmp_path, sim_factory):
    catalog, fs = signing_material(tmp_path)
    sim = sim_factory("--root-catalog", str(catalog))
    job = job_document(tmp_path, "app.bin", "good")
    accepted = flash(otarig_bin, tmp_path, sim.port, "--ota", "app.bin", "--job-doc", job, "--cert-dir", fs)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "OTA verdict: accepted" in accepted.stdout, accepted.stdout

    # One byte flipped after signing: openssl says the signature no longer verifies, so the network processor must
    # answer SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT (-10289), which the PAL maps to SignatureCheckFailed, sub 0xffd7cf.
    tampered = bytearray((tmp_path / "app.bin").read_bytes())
    tampered[500] ^= 0x01
    (tmp_path / "tampered.bin").write_bytes(bytes(tampered))
    (tmp_path / "signer.pub").write_text(openssl(tmp_path, "x509", "-in", "signer.pem", "-pubkey", "-noout").stdout)
    check = subprocess.run(["openssl", "dgst", "-sha1", "-verify", "signer.pub", "-signature", "good.sig", "tampered.bin"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert check.returncode != 0, "openssl accepts the tampered image"
    refused = flash(otarig_bin, tmp_path, sim.port, "--ota", "tampered.bin", "--job-doc", job, "--cert-dir", fs)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "OTA verdict: refused: OtaPalSignatureCheckFailed (0xe3ffd7cf)" in refused.stdout, refused.stdout
    assert "SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT (-10289)" in refused.stdout, refused.stdout

    # Failsafe: the refused close left the accepted image in place.
    back = flash(otarig_bin, tmp_path, sim.port, "--read", "/sys/mcuflashimg.bin", "--out", "back.bin")
    assert back.returncode == 0, back.stdout + back.stderr
    assert (tmp_path / "back.bin").read_bytes() == (tmp_path / "app.bin").read_bytes()


def test_files_written_read_listed_erased_and_formatted(otarig_bin, tmp_path, sim_factory):
    sim = sim_factory()
    (tmp_path / "a.bin").write_bytes(os.urandom(70_000))
    (tmp_path / "b.txt").write_bytes(b"hello\n")
    wrote = flash(otarig_bin, tmp_path, sim.port, "--format", "4M", "a.bin@/sys/mcuimg.bin", "b.txt@/etc/notes.txt", "--list")
    assert wrote.returncode == 0, wrote.stdout + wrote.stderr
    assert "formatted 4096 KiB" in wrote.stdout
    assert "wrote a.bin to /sys/mcuimg.bin: 70000 bytes" in wrote.stdout and "read back equal" in wrote.stdout
    listing = [line.split("\t")[0] for line in wrote.stdout.splitlines() if "\t" in line]
    assert listing == ["/sys/mcuimg.bin", "/etc/notes.txt"], wrote.stdout
    assert "/sys/mcuimg.bin\t70000 bytes" in wrote.stdout
    erased = flash(otarig_bin, tmp_path, sim.port, "--erase-file", "/etc/notes.txt", "--list")
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert "erased /etc/notes.txt" in erased.stdout and "/etc/notes.txt\t" not in erased.stdout
    missing = flash(otarig_bin, tmp_path, sim.port, "--read", "/etc/notes.txt", "--out", "gone.txt")
    assert missing.returncode == 1 and "GET_FILE_INFO" in missing.stderr + missing.stdout, missing.stdout + missing.stderr


@pytest.mark.parametrize("args, expected", [
    (["--baud", "115200", "x@/a"], "921600 baud only"),
    (["nameless"], "has no file name: write FILE@NAME"),
    (["--read", "/a"], "--read /a needs --out FILE"),
    (["--cert-dir", "/nonexistent"], "--cert-dir '/nonexistent' is not a directory"),
    (["--ota", "app.bin"], "pass its job document with --job-doc"),
    (["--ota", "signed.json"], "is a signed object: pass --certfile NAME"),
])
def test_bad_input_is_refused_before_the_port_is_touched(otarig_bin, tmp_path, args, expected):
    (tmp_path / "x").write_bytes(b"x")
    (tmp_path / "app.bin").write_bytes(b"\x00" * 10)
    (tmp_path / "signed.json").write_text('{"rawPayloadSize": 10}')
    result = flash(otarig_bin, tmp_path, "/dev/null-not-a-port", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr, result.stderr


@pytest.mark.parametrize("seed", [3, 5])
def test_flashing_through_faults_ends_verified_or_names_the_chunk_and_the_status(otarig_bin, tmp_path, sim_factory, seed):
    """Seeded faults (lost frames, flipped bits, 6 s late answers, 1 % of frames): the flasher breaks in again and
    starts the transfer over, up to 3 times. Seed 3 meets one fault and recovers; seed 5 meets three and gives up."""
    sim = sim_factory("--faults", "0.01", "--fault-seed", str(seed), "--fault-delay", "6")
    (tmp_path / "mid.bin").write_bytes(bytes(range(256)) * 390 + b"\x01" * 160)
    result = flash(otarig_bin, tmp_path, sim.port, "mid.bin@/sys/mid.bin", timeout=180)
    faults = [line for line in (tmp_path / "sim.log").read_text().splitlines() if "fault:" in line]
    assert faults, "no fault was injected: the test proves nothing"
    if result.returncode == 0:
        assert "wrote mid.bin to /sys/mid.bin: 100000 bytes" in result.stdout and "read back equal" in result.stdout
        assert "breaking in again and starting it over" in result.stderr, result.stderr
        back = flash(otarig_bin, tmp_path, sim.port, "--read", "/sys/mid.bin", "--out", "back.bin")
        assert back.returncode == 0 and (tmp_path / "back.bin").read_bytes() == (tmp_path / "mid.bin").read_bytes()
    else:
        assert result.returncode == 1, result.stdout + result.stderr
        import re
        assert re.search(r"flash failed \(after 2 restarts of the transfer\): \S+( after \S+)? \(chunk \d+ at offset 0x[0-9a-f]+\): no (ACK|frame)",
                         result.stderr), result.stderr
    assert result.returncode == (0 if seed == 3 else 1), f"seed {seed} no longer plays out as recorded: {result.stderr}"


HARNESS = Path(__file__).resolve().parent / "umockdev_reset_harness.py"


def test_behind_umockdevs_xds110_the_flush_breaks_in_and_the_reset_lines_boot_the_application(otarig_bin, tmp_path):
    """The simulated CC3220SF serves umockdev's fake /dev/ttyACM0 (the LaunchPad's user UART): otarig flash's flush
    reaches it as the break through the packet-mode master, and a host driving DTR (nRESET) with RTS (SOP2) low boots
    the application, which prints on the UART."""
    system_python = "/usr/bin/python3"
    probe = subprocess.run([system_python, "-c", "import gi; gi.require_version('UMockdev', '1.0')"], capture_output=True, text=True)
    assert probe.returncode == 0, f"the system python3 lacks python3-gi or gir1.2-umockdev-1.0 (run Scripts/bootstrap): {probe.stderr}"
    (tmp_path / "app.bin").write_bytes(b"\x5a" * 3000)
    environment = dict(os.environ, OTARIG_HARNESS_SIM="cc3220sf", OTARIG_HARNESS_DEVICE="/dev/ttyACM0",
                       OTARIG_HARNESS_SIM_ARGS=f"--boards-dir {BOARDS}")

    def harness(*tool):
        return subprocess.run([system_python, str(HARNESS), str(otarig_bin), str(UMOCKDEV / "xds110.umockdev"), str(tmp_path / "fs.json"),
                               str(tmp_path / "control.fifo"), str(tmp_path / "sim.log"), "--", *map(str, tool)],
                              capture_output=True, text=True, timeout=180, env=environment, cwd=tmp_path)

    wrote = harness(otarig_bin, "flash", "--chip", "cc3220sf", "--port", "/dev/ttyACM0", "app.bin@/sys/mcuflashimg.bin", "--list")
    assert wrote.returncode == 0, wrote.stdout + wrote.stderr
    assert "wrote app.bin to /sys/mcuflashimg.bin: 3000 bytes" in wrote.stdout and "/sys/mcuflashimg.bin\t3000 bytes" in wrote.stdout, wrote.stdout
    boot = ("import serial, time\n"
            "port = serial.Serial('/dev/ttyACM0', 921600, timeout=2)\n"
            "port.rts = False\n"            # SOP2 low
            "port.dtr = True\n"             # nRESET held low
            "time.sleep(0.1)\n"
            "port.dtr = False\n"            # released: the application boots
            "print(port.read(400).decode(errors='replace'))\n")
    import sys
    booted = harness(sys.executable, "-c", boot)  # pyserial, as the peer tests' python has it
    assert booted.returncode == 0, booted.stdout + booted.stderr
    assert "[CC3220SF] booting /sys/mcuflashimg.bin (3000 bytes)" in booted.stdout, booted.stdout
    log = (tmp_path / "sim.log").read_text()
    assert "nRESET rose with SOP2 low: boot the application" in log, log


def test_a_signed_object_from_otarig_sign_is_closed_with_its_signature(otarig_bin, tmp_path, sim_factory):
    """`--ota signed.json`: the JSONEmbedded object `otarig sign` writes for AmazonFreeRTOS-TI-CC3220SF, its job
    document made as CreateOTAUpdate makes it, certfile from --certfile."""
    catalog, fs = signing_material(tmp_path, image_size=20_000)
    sim = sim_factory("--root-catalog", str(catalog))
    signed = subprocess.run([str(otarig_bin), "sign", "--platform", "AmazonFreeRTOS-TI-CC3220SF", "--cert", "signer.pem", "--key", "signer.key",
                             "--in", "app.bin", "--out", "signed.json"], cwd=tmp_path, capture_output=True, text=True)
    assert signed.returncode == 0, signed.stderr
    result = flash(otarig_bin, tmp_path, sim.port, "--ota", "signed.json", "--certfile", "tisigner.crt.der", "--cert-dir", fs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OTA verdict: accepted: signed.json closed as /sys/mcuflashimg.bin" in result.stdout, result.stdout
    back = flash(otarig_bin, tmp_path, sim.port, "--read", "/sys/mcuflashimg.bin", "--out", "back.bin")
    assert back.returncode == 0 and (tmp_path / "back.bin").read_bytes() == (tmp_path / "app.bin").read_bytes()
