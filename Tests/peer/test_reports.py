"""The run reports, read by peers nobody here wrote: junitparser (PyPI) reads junit.xml, headless Chromium renders
report.html and dumps its DOM. The run report is a hand-made report.json (schema otarig-run/1) covering every
classification, a cell that passed after a rig fault, console noise, and two boards; `otarig report render` writes
the views, `otarig report history` compares three runs.

Chromium that cannot run fails the test with the reason; nothing is skipped.
"""
import copy
import json
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from junitparser import Error, Failure, Skipped
from junitparser.xunit2 import JUnitXml

START = "2026-08-01T02:00:00Z"
NOISY_LINE = "\x1b[0;32mI (42) ota: <image> & \"stuff\"\x1b[0m bell\x07 nul\x00"


def verdict(outcome, accepted, pal=None):
    return {"outcome": outcome, "accepted": accepted, "palStatus": pal, "evidence": f"OTA verdict: {outcome}",
            "statuses": ['{"status":"IN_PROGRESS","statusDetails":{"self_test":"ready"}}']}


def cell(board, scenario, classification, type_=None, message="as expected", flaky=None, console=None, ran=True):
    accepted = classification in ("pass", "known-device-gap")
    c = {
        "board": board, "scenario": scenario, "classification": classification, "message": message,
        "expected": {"device": "accepted", "policyFailures": [], "enforcedByDevice": False},
        "policy": [], "attempts": 2 if flaky else 1, "seconds": 1.5,
        "provenance": {"imageSHA256": "ab" * 32, "signingJobId": f"job-{board}-{scenario}", "flashMD5": "0f" * 16,
                       "provisionedCertificateSHA256": {"codesign.crt.pem": "cd" * 32}},
        "console": console if console is not None else ["I (1) ota: booted 1.0.0"],
        "twinConsole": ["INFO: the twin <agrees> & logs"] if ran else [],
    }
    if type_:
        c["type"] = type_
    if flaky:
        c["flakyFailure"] = flaky
    if ran:
        c["device"] = verdict("accepted" if accepted else "rejected-signature", accepted, None if accepted else 3808428032)
        c["twin"] = {"outcome": "accepted", "accepted": True, "palStatus": 0, "statuses": []}
    if classification == "known-device-gap":
        c["expected"]["policyFailures"] = ["signature-revoked"]
        c["policy"] = [{"check": "signature-revoked", "result": "fail", "detail": "RevokeSignature at 01:00"}]
    if classification == "fidelity-finding":
        c["explanation"] = ["verify the signature: FAIL", "    mbedtls_pk_verify returned -0x4d00"]
    return c


def board(id_, cells):
    return {"id": id_, "boardFile": "esp32-devkitc", "name": "ESP32-DevKitC", "chip": "esp32", "pal": "esp32-mbedtls",
            "signatureKey": "sig-sha256-ecdsa", "enforces": [], "port": f"/dev/serial/by-id/usb-{id_}", "usbSerial": f"SER-{id_}",
            "healthy": True, "health": [], "cells": cells}


def scenario(name):
    return {"name": name, "summary": f"the {name} scenario", "basis": "hand-made fixture",
            "expectedDevice": {"esp32-mbedtls": "accepted"}, "expectedPolicyFailures": []}


def report(boards, started=START, scenarios=("valid", "tampered", "revoked"), interrupted=False):
    return {"schema": "otarig-run/1", "plan": "nightly", "planFile": "Boards/plans/nightly.yaml", "otarigVersion": "0.9.0-test",
            "startedAt": started, "finishedAt": started, "deviceClock": started, "signer": "embedded",
            "interrupted": interrupted, "scenarios": [scenario(s) for s in scenarios], "boards": boards}


# Board a#2 (a second board of one kind): pass after a rig fault, a product failure with console noise, a known gap.
# Board b: a fidelity finding after a rig fault, a rig error, and a cell the interruption left unrun.
MIXED = report([
    board("a#2", [
        cell("a#2", "valid", "pass", flaky="no sync with the ROM loader (attempt 1)"),
        cell("a#2", "tampered", "product-failure", "product.device-verdict", "expected a rejection, both <accept>",
             console=[NOISY_LINE, "[[ATTACHMENT|evil.html]]"]),
        cell("a#2", "revoked", "known-device-gap", "gap.device-policy", "the device accepts; policy rejects (signature-revoked)"),
    ]),
    board("b", [
        cell("b", "valid", "fidelity-finding", "fidelity.device-twin", "the device rejected, the twin predicts it accepts",
             flaky="the port went away (attempt 1)"),
        cell("b", "tampered", "rig-error", "rig.timeout", "no verdict within 30 s", ran=False),
        cell("b", "revoked", "not-run", "rig.interrupted", "the run was interrupted before this cell", ran=False),
    ]),
], interrupted=True)

EXPECTED = {
    ("a#2", "valid"): "pass", ("a#2", "tampered"): "product-failure", ("a#2", "revoked"): "known-device-gap",
    ("b", "valid"): "fidelity-finding", ("b", "tampered"): "rig-error", ("b", "revoked"): "not-run",
}
ANCHORS = {("a#2", "valid"): "cell-a_2-valid", ("a#2", "tampered"): "cell-a_2-tampered", ("a#2", "revoked"): "cell-a_2-revoked",
           ("b", "valid"): "cell-b-valid", ("b", "tampered"): "cell-b-tampered", ("b", "revoked"): "cell-b-revoked"}


@pytest.fixture
def rendered(run, tmp_path):
    source = tmp_path / "run" / "report.json"
    source.parent.mkdir()
    source.write_text(json.dumps(MIXED, indent=1))
    out = tmp_path / "out"
    result = run.otarig_run("report", "render", source, "--report-dir", out, "--attachment-base", "reports/nightly")
    assert "junit.xml" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["junit.xml", "report.html"]
    return out


# (a) junitparser

def test_junitparser_reads_suites_counts_types_properties_attachments_and_the_flaky_failure(rendered):
    xml = JUnitXml.fromfile(str(rendered / "junit.xml"))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == ["a#2", "b"]
    a, b = suites["a#2"], suites["b"]
    assert (a.tests, a.failures, a.errors, a.skipped) == (3, 1, 0, 0)
    assert (b.tests, b.failures, b.errors, b.skipped) == (3, 1, 1, 1)
    assert abs(a.time - 4.5) < 1e-9

    suite_props = {p.name: p.value for p in a.properties()}
    assert suite_props["otarig.board-file"] == "esp32-devkitc"
    assert suite_props["otarig.chip"] == "esp32"
    assert suite_props["otarig.pal"] == "esp32-mbedtls"
    assert suite_props["otarig.signature-key"] == "sig-sha256-ecdsa"
    assert suite_props["otarig.enforces"] == "none"
    assert suite_props["otarig.port"] == "/dev/serial/by-id/usb-a#2"
    assert suite_props["otarig.usb-serial"] == "SER-a#2"
    assert suite_props["otarig.healthy"] == "true"
    assert suite_props["otarig.interrupted"] == "true"

    cases = {(case.classname, case.name): case for suite in xml for case in suite}
    assert set(cases) == {(f"otarig.{board}", scenario) for board, scenario in EXPECTED}
    kinds = {}
    for (classname, name), case in cases.items():
        board = classname.removeprefix("otarig.")
        results = case.result
        kinds[(board, name)] = [(type(r).__name__, r.type) for r in results]
        props = {p.name: p.value for p in case.properties()}
        assert props["otarig.classification"] == EXPECTED[(board, name)]
        assert props["otarig.image-sha256"] == "ab" * 32
        assert props["otarig.signing-job-id"] == f"job-{board}-{name}"
        assert props["otarig.flash-md5"] == "0f" * 16
        assert props["otarig.provisioned-certificate-sha256.codesign.crt.pem"] == "cd" * 32
        first_line = case.system_out.split("\n")[0]
        assert first_line == f"[[ATTACHMENT|reports/nightly/report.html#{ANCHORS[(board, name)]}]]"
        assert case.time == 1.5
    assert kinds == {
        ("a#2", "valid"): [], ("a#2", "revoked"): [],
        ("a#2", "tampered"): [("Failure", "product.device-verdict")],
        ("b", "valid"): [("Failure", "fidelity.device-twin")],
        ("b", "tampered"): [("Error", "rig.timeout")],
        ("b", "revoked"): [("Skipped", "rig.interrupted")],
    }
    assert isinstance(cases[("otarig.b", "tampered")].result[0], Error)
    assert isinstance(cases[("otarig.b", "revoked")].result[0], Skipped)

    failure = cases[("otarig.a#2", "tampered")].result[0]
    assert isinstance(failure, Failure)
    assert failure.message == "expected a rejection, both <accept>"
    assert "device:   rejected-signature, OtaPalSignatureCheckFailed (0xe3000000)" in failure.text

    # Console noise arrives readable: markup characters intact, control characters replaced by visible pictures.
    out = cases[("otarig.a#2", "tampered")].system_out
    assert '\u241b[0;32mI (42) ota: <image> & "stuff"\u241b[0m bell\u2407 nul\u2400' in out
    assert out.index("report.html#cell-a_2-tampered") < out.index("evil.html")
    assert "the twin <agrees> & logs" in cases[("otarig.b", "valid")].system_err
    assert "mbedtls_pk_verify returned -0x4d00" in cases[("otarig.b", "valid")].system_err

    flaky = [(case.name, f.type, f.message) for case in cases.values() for f in case.flaky_failures()]
    assert flaky == [("valid", "rig.flaky", "no sync with the ROM loader (attempt 1)")]
    assert cases[("otarig.a#2", "valid")].is_passed and cases[("otarig.a#2", "valid")].is_flaky
    # A cell whose verdict after the retry was a failure keeps the fault as Surefire's rerunFailure.
    reruns = [(case.name, f.type, f.message) for case in cases.values() for f in case.rerun_failures()]
    assert reruns == [("valid", "rig.flaky", "the port went away (attempt 1)")]
    assert cases[("otarig.b", "valid")].is_rerun and not cases[("otarig.b", "valid")].is_passed


# (b) headless Chromium

def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is not installed (apt-get install chromium; Scripts/bootstrap installs it)")


def run_chromium(profile: Path, *args):
    """Headless Chromium with a profile of its own (two runs sharing one would lock each other out)."""
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
               "--no-first-run", f"--user-data-dir={profile}", *map(str, args)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"headless Chromium did not finish within 120 s: {' '.join(command)}")
    if result.returncode != 0:
        pytest.fail(f"headless Chromium cannot run here (exit {result.returncode}): {result.stderr.strip()[-800:]}")
    return result


def png_pixels(data: bytes):
    """Width, height and the RGB(A) rows of a non-interlaced 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        filt = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            upleft = prev[i - bpp] if i >= bpp else 0
            if filt == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filt == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filt == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif filt == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upleft)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


# The matrix's background colours per classification (HTMLReport.colour).
COLOURS = {"pass": (0xb9, 0xe4, 0xbd), "product-failure": (0xf2, 0x9b, 0x9b), "fidelity-finding": (0xcf, 0xa6, 0xe8),
           "rig-error": (0xf9, 0xc4, 0x8a), "known-device-gap": (0xfb, 0xe7, 0xa1), "not-run": (0xdd, 0xdd, 0xdd)}


def test_chromium_renders_the_page_with_the_matrix_in_its_colours(rendered, tmp_path):
    shot = tmp_path / "report.png"
    run_chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,900", (rendered / "report.html").as_uri())
    if not shot.is_file():
        pytest.fail(f"headless Chromium exited 0 but wrote no screenshot at {shot}")
    data = shot.read_bytes()
    assert len(data) > 10_000, f"the screenshot is only {len(data)} bytes"
    width, height, bpp, rows = png_pixels(data)
    assert (width, height) == (1200, 900)
    colours = {}
    for row in rows[::3]:
        for x in range(0, width * bpp, bpp * 3):
            pixel = tuple(row[x:x + 3])
            colours[pixel] = colours.get(pixel, 0) + 1
    assert len(colours) > 20, f"the screenshot is nearly one colour: {sorted(colours.items(), key=lambda kv: -kv[1])[:5]}"
    for classification, rgb in COLOURS.items():
        near = sum(n for pixel, n in colours.items() if all(abs(a - b) <= 3 for a, b in zip(pixel, rgb)))
        assert near > 20, f"no {classification} cell colour {rgb} in the screenshot"


class MatrixReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.evidence, self.counts, self.banner = {}, {}, {}, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "data-classification" in a:
            self.cells[(a["data-board"], a["data-scenario"])] = (a["id"], a["data-classification"], a.get("data-flaky"))
        elif tag == "details" and "data-board" in a:
            self.evidence[(a["data-board"], a["data-scenario"])] = (a["id"], "open" in a)
        elif tag == "li" and "data-count" in a:
            self.counts[a["data-classification"]] = int(a["data-count"])
        if a.get("id") == "interrupted":
            self.banner = True


def test_chromium_dom_gives_back_every_cells_classification_and_evidence(rendered, tmp_path):
    page = rendered / "report.html"
    dom = run_chromium(tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
    reader = MatrixReader()
    reader.feed(dom)
    assert {key: value[1] for key, value in reader.cells.items()} == EXPECTED
    assert {key: value[0] for key, value in reader.cells.items()} == ANCHORS
    assert reader.cells[("a#2", "valid")][2] == "true"
    assert {key: value[0] for key, value in reader.evidence.items()} == {key: "evidence-" + anchor for key, anchor in ANCHORS.items()}
    assert reader.counts == {c: 1 for c in COLOURS}
    assert reader.banner
    assert "<image>" not in dom and "&lt;image&gt;" in dom

    # The JUnit attachment's fragment opens that cell's evidence (the page's script runs in Chromium).
    dom = run_chromium(tmp_path / "profile", "--dump-dom", page.as_uri() + "#cell-b-valid").stdout
    reader = MatrixReader()
    reader.feed(dom)
    assert [key for key, (_, is_open) in reader.evidence.items() if is_open] == [("b", "valid")]


# (c) history over three runs

def three_nights():
    scenarios = ("s1", "s2", "s3", "s4")
    nights = {
        # board b flips in three of four scenarios; scenario s4 flips on all three boards; a × s1 regresses and stays.
        "2026-08-01T02:00:00Z": {"a": "pppp", "b": "pppp", "c": "pppp"},
        "2026-08-02T02:00:00Z": {"a": "fppr", "b": "rrpr", "c": "pnpx"},
        "2026-08-03T02:00:00Z": {"a": "fppp", "b": "pppp", "c": "pppp"},
    }
    letters = {"p": "pass", "f": "product-failure", "r": "rig-error", "n": "not-run", "x": "fidelity-finding"}
    runs = []
    for started, boards in nights.items():
        runs.append(report([board(b, [cell(b, s, letters[row[i]], ran=letters[row[i]] not in ("rig-error", "not-run"))
                                      for i, s in enumerate(scenarios)]) for b, row in boards.items()],
                           started=started, scenarios=scenarios))
    return runs


def test_history_separates_a_flaky_board_from_a_flaky_scenario(run, tmp_path):
    dirs = []
    for i, night in enumerate(three_nights()):
        d = tmp_path / f"night-{i + 1}"
        d.mkdir()
        (d / "report.json").write_text(json.dumps(night))
        dirs.append(d)
    # Given newest first: the history orders by startedAt.
    result = run.otarig_run("report", "history", dirs[2], dirs[0], dirs[1] / "report.json", "--json")
    history = json.loads(result.stdout)
    assert [Path(r["source"]).parent.name for r in history["runs"]] == ["night-1", "night-2", "night-3"]
    assert history["flakyBoards"] == [{"name": "b", "flakyIn": ["s1", "s2", "s4"], "of": 4}]
    assert history["flakyScenarios"] == [{"name": "s4", "flakyIn": ["a", "b", "c"], "of": 3}]
    cells = {(c["board"], c["scenario"]): c for c in history["cells"]}
    assert cells[("a", "s1")]["status"] == "changed"
    assert [(f["fromRun"], f["toRun"], f["from"], f["to"]) for f in cells[("a", "s1")]["flips"]] == \
        [(0, 1, "pass (accepted)", "product-failure (rejected-signature)")]
    assert cells[("b", "s1")]["status"] == "flaky" and len(cells[("b", "s1")]["flips"]) == 2
    assert cells[("c", "s2")]["status"] == "stable"  # not-run is not a flip
    assert cells[("b", "s3")]["status"] == "stable"

    text = run.otarig_run("report", "history", *dirs).stdout
    assert "b: 3 of 4 scenarios (s1, s2, s4)" in text
    assert "s4: 3 of 3 boards (a, b, c)" in text
    assert "a × s1" in text and "changed" in text


def test_history_counts_a_retry_after_a_rig_fault_as_flaky(run, tmp_path):
    nights = three_nights()
    flaky = copy.deepcopy(nights[2])
    flaky["boards"][0]["cells"][1]["flakyFailure"] = "port lost"  # a × s2
    paths = []
    for i, night in enumerate([nights[0], nights[1], flaky]):
        p = tmp_path / f"{i}.json"
        p.write_text(json.dumps(night))
        paths.append(p)
    history = json.loads(run.otarig_run("report", "history", *paths, "--json").stdout)
    cell_ = next(c for c in history["cells"] if (c["board"], c["scenario"]) == ("a", "s2"))
    assert cell_["status"] == "flaky" and cell_["rigFaultRuns"] == [2] and cell_["flips"] == []


# bad input

def test_bad_input_exits_2_with_one_line_naming_the_file(run, tmp_path):
    wrong = copy.deepcopy(MIXED)
    wrong["schema"] = "otarig-run/2"
    (tmp_path / "wrong.json").write_text(json.dumps(wrong))
    (tmp_path / "broken.json").write_text("{ not json")
    cases = {
        ("report", "render", "wrong.json", "--report-dir", "out"): ["wrong.json", 'schema "otarig-run/2"', "otarig-run/1"],
        ("report", "render", "missing.json", "--report-dir", "out"): ["missing.json", "no such file"],
        ("report", "history", "broken.json"): ["broken.json", "not a JSON object"],
        ("report", "history", "nowhere"): ["nowhere", "no such file"],
    }
    for args, words in cases.items():
        result = run.otarig_run(*args, check=False)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("otarig: error:"), (args, result.stderr)
        for word in words:
            assert word in lines[0], (args, lines[0])
    assert not (tmp_path / "out").exists()


def test_help_teaches_with_an_example(run):
    for args in (("report", "--help"), ("report", "render", "--help"), ("report", "history", "--help")):
        text = run.otarig_run(*args).stdout
        assert "otarig report" in text and "Example" in text, args
