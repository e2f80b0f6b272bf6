"""otarig run end to end: plans of simulated boards × scenarios, signed through the embedded service, flashed over the
ROM loader of `otarig sim esp32` processes, verdicts read from their consoles and cross-checked with the twin.

The expected matrix is written here from the scenarios' declared expectations and the boards' declared policy
(Boards/sim-esp32.yaml is stock FreeRTOS; Boards/sim-esp32-enforcing.yaml checks certificate validity and
revocation itself), never read from otarig's own output.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from conftest import ROOT

BOARDS = ROOT / "Boards"

SCENARIOS = [
    "valid", "tampered-payload", "truncated", "filesize-mismatch", "other-certificate", "certificate-missing",
    "wrong-algorithm", "jobdoc-bad-base64", "jobdoc-missing-filesize", "downgrade", "same-version", "signature-revoked",
    "profile-revoked-before-signing", "profile-revoked-after-signing", "validity-period-elapsed",
    "certificate-expired", "certificate-not-yet-valid", "oversize",
]
# The scenarios only a CC3220SF runs (its network processor's own checks); an ESP32 gets no cell for them.
CC3220_ONLY = ["size-limit", "unknown-root", "chain-error", "rsa4096-signature", "alert-lock"]
CC3220_SCENARIOS = SCENARIOS + CC3220_ONLY
# What policy rejects and a stock FreeRTOS device accepts anyway.
POLICY_ONLY = {"signature-revoked", "profile-revoked-before-signing", "certificate-expired", "certificate-not-yet-valid"}
# What each board must end with: the stock boards show the known gaps; the enforcing board rejects those itself.
EXPECTED = {
    "sim-esp32": {name: ("known-device-gap" if name in POLICY_ONLY else "pass") for name in SCENARIOS},
    "sim-esp32-enforcing": {name: "pass" for name in SCENARIOS},
    "sim-cc3220sf": {name: ("known-device-gap" if name in POLICY_ONLY else "pass") for name in CC3220_SCENARIOS},
}
# Accepted on the stock boards; everything else is refused there.
ACCEPTED_STOCK = {"valid", "profile-revoked-after-signing", "validity-period-elapsed", "size-limit"} | POLICY_ONLY


def pal_status(main, simplelink_code):
    """otaPal_CloseFile's status for a SimpleLink code (spec/simplelink-close.md, PAL mapping): main << 24 | code & 0xFFFFFF."""
    return main << 24 | (simplelink_code & 0xFFFFFF)


# The CC3220SF's device verdicts, from spec/simplelink-close.md's rows and the FreeRTOS CC3220SF PAL's mapping:
# (outcome, PAL status or None, SimpleLink code of the close or None).
SIGNATURE_CHECK_FAILED, FILE_CLOSE = 0xE3, 0xEE
CC3220_DEVICE = {
    "tampered-payload": ("rejected-signature", pal_status(SIGNATURE_CHECK_FAILED, -10289), -10289),   # row 9
    "other-certificate": ("rejected-signature", pal_status(SIGNATURE_CHECK_FAILED, -10289), -10289),  # row 9
    "certificate-missing": ("rejected-signature", pal_status(SIGNATURE_CHECK_FAILED, -10372), -10372),  # row 3
    "wrong-algorithm": ("rejected-signature", pal_status(SIGNATURE_CHECK_FAILED, -10290), -10290),  # row 2: no signature
    "unknown-root": ("rejected-signature", pal_status(SIGNATURE_CHECK_FAILED, -10287), -10287),  # row 6b
    "chain-error": ("rejected-signature", pal_status(SIGNATURE_CHECK_FAILED, -10292), -10292),  # row 6a
    "alert-lock": ("rejected-write", pal_status(FILE_CLOSE, -28674), -28674),  # row 0, not one of the ten codes
    "oversize": ("rejected-file-create", 0xE5080000, None),  # otaPal_CreateFileForRx: > 512 KiB
    "truncated": ("rejected-block", None, None),
    "filesize-mismatch": ("rejected-block", None, None),
    "jobdoc-bad-base64": ("rejected-job-document", None, None),
    "jobdoc-missing-filesize": ("rejected-job-document", None, None),
    "rsa4096-signature": ("rejected-job-document", None, None),  # 512 bytes do not fit the agent's 384-byte buffer
    "downgrade": ("rejected-version", None, None),
    "same-version": ("rejected-version", None, None),
}


def otarig(otarig_bin, *args, cwd, timeout=300):
    return subprocess.run([str(otarig_bin), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def write_plan(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def report(directory: Path) -> dict:
    data = json.loads((directory / "report.json").read_text())
    assert data["schema"] == "otarig-run/1"
    return data


def junit(directory: Path):
    try:
        from junitparser import JUnitXml
    except ImportError as error:
        raise AssertionError(f"junitparser is not installed (run Scripts/bootstrap): {error}")
    xml = JUnitXml.fromfile(str(directory / "junit.xml"))
    return list(xml) if hasattr(xml, "__iter__") else [xml]


def matrix(data: dict) -> dict:
    return {board["id"]: {cell["scenario"]: cell["classification"] for cell in board["cells"]} for board in data["boards"]}


def test_standard_plan_gives_the_expected_matrix(otarig_bin, tmp_path):
    result = otarig(otarig_bin, "run", BOARDS / "plans" / "standard.yaml", "--report-dir", tmp_path / "report", "--boards-dir", BOARDS,
                    cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = report(tmp_path / "report")
    assert matrix(data) == EXPECTED
    by_board = {board["id"]: board for board in data["boards"]}
    assert by_board["sim-esp32-enforcing"]["enforces"] == ["certificate-validity", "revocation"]
    assert by_board["sim-esp32"]["enforces"] == []
    for board in data["boards"]:
        for cell in board["cells"]:
            device, twin = cell["device"], cell["twin"]
            enforcing = board["id"] == "sim-esp32-enforcing"
            should_accept = cell["scenario"] in ACCEPTED_STOCK and not (enforcing and cell["scenario"] in POLICY_ONLY)
            assert device["accepted"] == should_accept, (board["id"], cell["scenario"], device)
            assert twin["accepted"] == should_accept, (board["id"], cell["scenario"], twin)
            # Provenance: the exact bytes, the signing job, the board.
            provenance = cell["provenance"]
            assert re.fullmatch(r"[0-9a-f]{64}", provenance["imageSHA256"])
            assert re.fullmatch(r"[0-9a-f]{32}", provenance["flashMD5"]), provenance
            assert provenance["signingJobId"] and provenance["profileVersionArn"].startswith("arn:aws:signer:")
            assert provenance["port"].startswith("/dev/pts/") and provenance["boardId"] == board["id"]
            assert any("OTA verdict:" in line for line in cell["console"])
    # The enforcing board refuses a revoked signature and an expired certificate at close, as its policy says.
    enforcing = {cell["scenario"]: cell for cell in by_board["sim-esp32-enforcing"]["cells"]}
    for name in ("signature-revoked", "certificate-expired"):
        assert enforcing[name]["device"]["outcome"] == "rejected-signature"
        assert enforcing[name]["device"]["palStatus"] >> 24 == 0xE3
        assert enforcing[name]["expected"]["enforcedByDevice"] is True
    stock = {cell["scenario"]: cell for cell in by_board["sim-esp32"]["cells"]}
    assert {p["check"] for p in stock["signature-revoked"]["policy"] if p["result"] == "fail"} == {"signature-revoked"}
    assert {p["check"] for p in stock["certificate-expired"]["policy"] if p["result"] == "fail"} == {"certificate-validity"}
    # The matrix on standard output names every scenario and every board.
    assert "sim-esp32-enforcing" in result.stdout and all(name in result.stdout for name in CC3220_SCENARIOS)
    check_cc3220_cells(by_board["sim-cc3220sf"], result.stdout)
    # junit.xml, read back by junitparser: a suite per board, a case per scenario it runs, every one passing.
    suites = {suite.name: suite for suite in junit(tmp_path / "report")}
    assert set(suites) == {"sim-esp32", "sim-esp32-enforcing", "sim-cc3220sf"}
    for name, suite in suites.items():
        expected = CC3220_SCENARIOS if name == "sim-cc3220sf" else SCENARIOS
        assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (len(expected), 0, 0, 0)
        assert [case.name for case in suite] == expected
    html = (tmp_path / "report" / "report.html").read_text()
    for board, row in EXPECTED.items():
        for name in row:
            assert f'id="cell-{board}-{name}"' in html, (board, name)
    # The page as headless Chromium renders it gives the same matrix back from its DOM.
    from test_reports import MatrixReader, run_chromium
    dom = run_chromium(tmp_path / "profile", "--dump-dom", (tmp_path / "report" / "report.html").as_uri()).stdout
    reader = MatrixReader()
    reader.feed(dom)
    assert {key: value[1] for key, value in reader.cells.items()} == {(board, name): kind for board, row in EXPECTED.items() for name, kind in row.items()}


def check_cc3220_cells(board, stdout):
    """The simulated CC3220SF's cells: its own OTA agent's verdict on every scenario = the twin's = the one written
    above from the close spec, with the SimpleLink code on both sides; the lock after 15 security alerts."""
    assert board["pal"] == "cc3220-simplelink"
    cells = {cell["scenario"]: cell for cell in board["cells"]}
    assert list(cells) == CC3220_SCENARIOS
    for name, cell in cells.items():
        device, twin = cell["device"], cell["twin"]
        # An accepted download reboots into the new image, where the agent's self test begins (self_test "active",
        # shared/reference/freertos-ota.md §4.6): the last verdict an accepted update gives.
        outcome, status, code = CC3220_DEVICE.get(name, ("self-test-started", None, None))
        assert (device["outcome"], twin["outcome"]) == (outcome, outcome), (name, device, twin)
        if status is not None:
            assert (device["palStatus"], twin["palStatus"]) == (status, status), (name, hex(device.get("palStatus", 0)), hex(twin["palStatus"]))
        if code is not None:
            assert (device.get("simpleLinkCode"), twin.get("simpleLinkCode")) == (code, code), (name, device, twin)
            # The matrix's close listing shows the device's code beside the twin's.
            line = next(line for line in stdout.splitlines() if f"sim-cc3220sf × {name}:" in line)
            assert line.count(f"({code})") == 2, line
        assert any("OTA verdict:" in line for line in cell["console"]), name
    # An accepted update went through the network processor's close and its self test on the new image.
    valid = cells["valid"]["console"]
    assert any("sl_FsClose:" in line and "(0)" in line for line in valid), valid
    assert any("App version: 1.1.0" in line for line in valid), valid
    # alert-lock: 15 tampered deliveries, each a wrong-signature security alert, then the valid one is refused locked.
    lock = cells["alert-lock"]["console"]
    alerts = [line for line in lock if "sl_FsClose: SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT (-10289)" in line]
    assert len(alerts) == 15 and alerts[-1].endswith("security alerts 15/15"), alerts
    assert any("sl_FsClose: SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT (-28674), security alerts 15/15" in line for line in lock), lock[-10:]
    # Every other cell started from a formatted device: no lock carried over.
    assert cells["valid"]["device"]["accepted"] and cells["size-limit"]["device"]["accepted"]


def test_a_broken_twin_is_a_fidelity_finding_with_both_consoles(otarig_bin, tmp_path):
    plan = write_plan(tmp_path / "one.yaml", "boards:\n  - simulated: sim-esp32\nscenarios: [valid]\n")
    # Test-only: tell the twin the firmware reads sig-sha1-rsa, which this board's firmware does not.
    result = otarig(otarig_bin, "run", plan, "--report-dir", tmp_path / "report", "--boards-dir", BOARDS,
                    "--test-twin-signature-key", "sig-sha1-rsa", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    (cell,) = report(tmp_path / "report")["boards"][0]["cells"]
    assert cell["classification"] == "fidelity-finding" and cell["type"] == "fidelity.device-twin"
    assert cell["device"]["accepted"] is True and cell["twin"]["accepted"] is False
    assert any("OTA verdict: accepted" in line for line in cell["console"])
    # Both consoles are attached, and they part where the twin was misled: the device extracts its signature.
    assert any("Extracted parameter [ sig-sha256-ecdsa:" in line for line in cell["console"])
    assert cell["twinConsole"] and not any("sig-sha256-ecdsa:" in line for line in cell["twinConsole"]), cell["twinConsole"]
    assert cell["explanation"], "otarig explain's walk is attached"


def test_a_killed_board_gives_rig_errors_while_the_other_completes(otarig_bin, tmp_path):
    plan = write_plan(tmp_path / "two.yaml", "boards:\n  - simulated: sim-esp32\n    count: 2\nretries: 1\n")
    process = subprocess.Popen([str(otarig_bin), "run", plan, "--report-dir", tmp_path / "report", "--boards-dir", BOARDS],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    killed_after = None
    deadline = time.monotonic() + 120
    try:
        for line in process.stderr:
            found = re.search(r"sim-esp32#2: simulated on \S+ \(pid (\d+)\)", line)
            if found:
                victim = int(found.group(1))
            if victim and line.startswith("[sim-esp32#2] 3/"):
                os.kill(victim, signal.SIGKILL)
                killed_after = 3
                break
            assert time.monotonic() < deadline, "the run did not reach its third cell on sim-esp32#2"
        stdout, _ = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    assert victim and killed_after, "never saw the second board start"
    assert process.returncode == 3, stdout
    data = report(tmp_path / "report")
    boards = {board["id"]: board for board in data["boards"]}
    survivor = [cell["classification"] for cell in boards["sim-esp32"]["cells"]]
    assert survivor == [EXPECTED["sim-esp32"][name] for name in SCENARIOS]
    dead = boards["sim-esp32#2"]
    assert [cell["classification"] for cell in dead["cells"][:killed_after]] == [EXPECTED["sim-esp32"][n] for n in SCENARIOS[:killed_after]]
    after = dead["cells"][killed_after:]
    assert after and all(cell["classification"] == "rig-error" for cell in after), [c["classification"] for c in after]
    assert after[0]["type"].startswith("rig.") and after[0]["attempts"] >= 1
    assert all(cell["type"] == "rig.board-unhealthy" for cell in after[1:])
    # The recovery ladder was climbed to the top before the board was given up on.
    health = " | ".join(dead["health"])
    assert "reset lines" in health and "USB reset" in health and "waiting for the port" in health, health
    assert dead["healthy"] is False and dead["health"][-1] == "unhealthy for the rest of the run"
    # junit.xml: the dead board's cells after the kill are errors with a rig type, the other board's all pass.
    suites = {suite.name: suite for suite in junit(tmp_path / "report")}
    assert (suites["sim-esp32"].failures, suites["sim-esp32"].errors) == (0, 0)
    assert suites["sim-esp32#2"].errors == len(after) and suites["sim-esp32#2"].failures == 0
    for case in suites["sim-esp32#2"]:
        if case.name in SCENARIOS[killed_after:]:
            (error,) = case.result
            assert error._tag == "error" and error.type.startswith("rig."), (case.name, error.type)


def test_a_bad_plan_is_refused_before_anything_runs(otarig_bin, tmp_path):
    plan = write_plan(tmp_path / "bad.yaml", "boards:\n  - simulated: sim-esp32\nscenarios: [valid, tampred-payload]\n")
    result = otarig(otarig_bin, "run", plan, "--report-dir", tmp_path / "report", "--boards-dir", BOARDS, cwd=tmp_path)
    assert result.returncode == 2
    assert f"{plan}:3: scenarios[1]: no scenario is named 'tampred-payload'" in result.stderr, result.stderr
    assert "did you mean tampered-payload" in result.stderr
    assert not (tmp_path / "report").exists(), "nothing ran, nothing was written"
    assert "simulated on" not in result.stderr


def test_replay_of_a_rejected_image_names_the_failing_check(otarig_bin, run, tmp_path):
    """A console captured from a board that refused a tampered image, replayed beside the twin: they agree line for
    line, and the replay names the signature check as the one that failed. A console from another update (the
    good image's) parts ways with the twin's run on the tampered inputs, at the first line that differs."""
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", "signer.pem", "--key-out", "signer.key")
    for version in ("1.0.0", "1.0.1"):
        (tmp_path / f"code-{version}.bin").write_bytes(os.urandom(30_000))
        run.otarig_run("app-image", "--version", version, "--project", "hil", "--payload", f"code-{version}.bin", "--out", f"app-{version}.bin")
    run.otarig_run("sign", "--platform", "AmazonFreeRTOS-Default", "--cert", "signer.pem", "--key", "signer.key", "--in", "app-1.0.1.bin",
                   "--out", "signed.json", "--job-doc", "job.json", "--certname", "codesign.crt")
    tampered = bytearray((tmp_path / "app-1.0.1.bin").read_bytes())
    tampered[5000] ^= 0x01
    (tmp_path / "tampered.bin").write_bytes(bytes(tampered))
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "codesign.crt").write_bytes((tmp_path / "signer.pem").read_bytes())

    consoles = {}
    process = subprocess.Popen([str(otarig_bin), "sim", "esp32", "--flash", str(tmp_path / "flash.bin"), "--console", str(tmp_path / "console.txt")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = process.stdout.readline().strip()
    try:
        for image in ("tampered.bin", "app-1.0.1.bin"):
            flash = subprocess.run([str(otarig_bin), "flash", "--port", port, f"{tmp_path / 'app-1.0.0.bin'}@0x10000"], capture_output=True, text=True, timeout=120)
            assert flash.returncode == 0, flash.stderr
            (tmp_path / "console.txt").write_text("")
            flash = subprocess.run([str(otarig_bin), "flash", "--port", port, "--ota", tmp_path / image, "--job-doc", tmp_path / "job.json",
                                    "--cert", tmp_path / "signer.pem"], capture_output=True, text=True, timeout=120)
            assert flash.returncode == 0, flash.stderr
            deadline = time.monotonic() + 30
            while "OTA verdict:" not in (tmp_path / "console.txt").read_text():
                assert time.monotonic() < deadline, "the board printed no verdict"
                time.sleep(0.1)
            time.sleep(0.3)
            consoles[image] = tmp_path / f"console-{image}.log"
            consoles[image].write_text((tmp_path / "console.txt").read_text())
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)

    replay = subprocess.run([str(otarig_bin), "replay", "--console", consoles["tampered.bin"], "--board", "sim-esp32", "--boards-dir", BOARDS,
                             "--image", tmp_path / "tampered.bin", "--job-doc", tmp_path / "job.json", "--cert-dir", certs],
                            capture_output=True, text=True, timeout=60)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "agree line for line: the board rejected the update, OtaPalSignatureCheckFailed (0xe3000000)" in replay.stdout
    assert "failed check: signature check" in replay.stdout, replay.stdout

    # The good image's console against the tampered inputs: they part ways where the signature check answers.
    parted = subprocess.run([str(otarig_bin), "replay", "--console", consoles["app-1.0.1.bin"], "--board", "sim-esp32", "--boards-dir", BOARDS,
                             "--image", tmp_path / "tampered.bin", "--job-doc", tmp_path / "job.json", "--cert-dir", certs],
                            capture_output=True, text=True, timeout=60)
    assert parted.returncode == 1, parted.stdout + parted.stderr
    assert "part ways at agent line" in parted.stdout
    assert "board: Received entire update and validated the signature." in parted.stdout, parted.stdout


def test_a_step_over_its_timeout_is_a_rig_error_naming_the_timeout(otarig_bin, tmp_path):
    # 50 ms cannot reach download mode on a board paced at a real UART's speed: every cell is a rig timeout.
    plan = write_plan(tmp_path / "tight.yaml", "boards:\n  - simulated: sim-esp32\nscenarios: [valid, tampered-payload]\n"
                                               "timeouts: {flash: 0.05}\nretries: 1\n")
    result = otarig(otarig_bin, "run", plan, "--report-dir", tmp_path / "report", "--boards-dir", BOARDS, cwd=tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    cells = report(tmp_path / "report")["boards"][0]["cells"]
    assert [cell["classification"] for cell in cells] == ["rig-error", "rig-error"]
    assert cells[0]["type"] == "rig.timeout" and "plan timeouts.flash" in cells[0]["message"], cells[0]
    assert cells[0]["attempts"] == 2, "a rig fault is retried once, as the plan says"


def test_ctrl_c_stops_cleanly_and_writes_the_partial_reports(otarig_bin, tmp_path):
    plan = write_plan(tmp_path / "one.yaml", "boards:\n  - simulated: sim-esp32\n")
    process = subprocess.Popen([str(otarig_bin), "run", plan, "--report-dir", tmp_path / "report", "--boards-dir", BOARDS],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    simulator = None
    try:
        for line in process.stderr:
            found = re.search(r"simulated on \S+ \(pid (\d+)\)", line)
            if found:
                simulator = int(found.group(1))
            if line.startswith("[sim-esp32] 2/"):
                process.send_signal(signal.SIGINT)
                break
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stdout + stderr
    assert "interrupted" in stderr
    data = report(tmp_path / "report")
    assert data["interrupted"] is True
    classes = [cell["classification"] for cell in data["boards"][0]["cells"]]
    assert len(classes) == len(SCENARIOS)
    assert classes[:2] == [EXPECTED["sim-esp32"][name] for name in SCENARIOS[:2]]
    assert classes[-1] == "not-run" and set(classes[3:]) == {"not-run"}, classes
    # The simulated board was stopped with the run.
    assert simulator is not None
    time.sleep(0.5)
    assert not Path(f"/proc/{simulator}").exists() or "zombie" in Path(f"/proc/{simulator}/status").read_text().lower()


def test_a_plan_runs_on_an_attached_board_found_through_libudev(otarig_bin, tmp_path):
    """A real board's path: `board: esp32-devkitc` is resolved through libudev (umockdev's CP2102 on /dev/ttyUSB0),
    each cell starts by driving the board's auto-reset circuit into download mode (DTR/RTS answered by the harness and
    fed to the simulated chip behind the fake port), and the verdicts come from its console."""
    from test_esp32_sim import through_fake_usb_board

    plan = write_plan(tmp_path / "bench.yaml", "boards:\n  - board: esp32-devkitc\nscenarios: [valid, tampered-payload, signature-revoked]\n")
    result, log = through_fake_usb_board(otarig_bin, tmp_path, otarig_bin, "run", plan, "--report-dir", tmp_path / "report",
                                         "--boards-dir", BOARDS)
    assert result.returncode == 0, result.stdout + result.stderr
    data = report(tmp_path / "report")
    (board,) = data["boards"]
    assert board["id"] == "esp32-devkitc" and board["port"] == "/dev/ttyUSB0"
    assert [cell["classification"] for cell in board["cells"]] == ["pass", "pass", "known-device-gap"]
    assert log.count("reset: EN rose with IO0 low: boot into download mode") >= 3, log


def test_boards_are_selected_by_their_board_files_tags(otarig_bin, tmp_path):
    plan = write_plan(tmp_path / "tags.yaml", "boards:\n  - tags: [simulated, enforcing]\nscenarios: [valid, signature-revoked]\n")
    result = otarig(otarig_bin, "run", plan, "--report-dir", tmp_path / "report", "--boards-dir", BOARDS, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert matrix(report(tmp_path / "report")) == {"sim-esp32-enforcing": {"valid": "pass", "signature-revoked": "pass"}}
    missing = write_plan(tmp_path / "none.yaml", "boards:\n  - tags: [rack-9]\n")
    refused = otarig(otarig_bin, "run", missing, "--report-dir", tmp_path / "r2", "--boards-dir", BOARDS, cwd=tmp_path)
    assert refused.returncode == 2 and "no board file carries the tags rack-9" in refused.stderr


def test_a_plan_signs_through_a_remote_signing_service(otarig_bin, signer_server, tmp_path):
    """signer: {url, profile}: the rig signs through a running `otarig serve` with the shared credentials file's
    profile, and the service's own records (read back with the aws CLI) hold the rig's signing jobs and the
    revocation the signature-revoked scenario made."""
    plan = write_plan(tmp_path / "remote.yaml", f"boards:\n  - simulated: sim-esp32\nscenarios: [valid, signature-revoked]\n"
                                                f"signer: {{url: \"{signer_server.endpoint}\", profile: bob}}\n")
    environment = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=str(signer_server.credentials))
    result = subprocess.run([str(otarig_bin), "run", plan, "--report-dir", tmp_path / "report", "--boards-dir", BOARDS],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    data = report(tmp_path / "report")
    assert data["signer"] == signer_server.endpoint
    assert matrix(data) == {"sim-esp32": {"valid": "pass", "signature-revoked": "known-device-gap"}}
    jobs = json.loads(signer_server.aws("signer", "list-signing-jobs", profile="bob").stdout)["jobs"]
    by_id = {job["jobId"]: job for job in jobs}
    cells = {cell["scenario"]: cell for cell in data["boards"][0]["cells"]}
    assert cells["valid"]["provenance"]["signingJobId"] in by_id
    revoked = by_id[cells["signature-revoked"]["provenance"]["signingJobId"]]
    assert revoked["isRevoked"] is True
    assert ":222222222222:" in cells["valid"]["provenance"]["profileVersionArn"], "signed as bob's account"


def test_a_terminal_gets_one_redrawn_progress_line_per_board(otarig_bin, tmp_path):
    """On a terminal (script(1) gives otarig a pty) the progress is one line per board, redrawn in place."""
    script = shutil.which("script")
    assert script, "script(1) from util-linux is needed to give otarig a terminal"
    plan = write_plan(tmp_path / "tty.yaml", "boards:\n  - simulated: sim-esp32\n    count: 2\nscenarios: [valid, tampered-payload]\n")
    command = f"{otarig_bin} run {plan} --report-dir {tmp_path / 'report'} --boards-dir {BOARDS}"
    result = subprocess.run([script, "-qec", command, "/dev/null"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    screen = result.stdout
    assert "\x1b[2A\x1b[J" in screen, "the two board lines are redrawn in place"
    assert re.search(r"sim-esp32 +\[#{20}\] 2/2 done", screen) and re.search(r"sim-esp32#2 +\[#{20}\] 2/2 done", screen), screen[-2000:]
    assert "[sim-esp32] 1/2" not in screen, "the line-per-cell form is for logs, not terminals"
