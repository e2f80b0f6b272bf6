"""The opt-in device policy on the simulated ESP32: `otarig sim esp32 --board sim-esp32-enforcing` runs firmware that
checks the signer certificate's dates against the RTC the rig sets and the signature against a signed revocation list
(Boards/README.md), while the stock `sim-esp32` ignores both. openssl makes the revocation list signer's key and
certificate; `otarig revocation-list build` makes the list from signer facts that record the signing job's revocation
(as `otarig facts capture` writes them after `aws signer revoke-signature`); `otarig flash --ota` stages the list,
the list signer's certificate and the device time with the update.
"""
import base64
import datetime
import json
import signal
import subprocess
from pathlib import Path

from test_esp32_sim import otarig_flash, wait_for

BOARDS = Path(__file__).resolve().parents[2] / "Boards"


def boot_update(otarig_bin, tmp_path: Path, board: str, name: str, *ota_args) -> str:
    """A fresh simulated board of `board`: the factory app, then the signed update with `ota_args`; its console."""
    console = tmp_path / f"console-{name}.txt"
    process = subprocess.Popen([str(otarig_bin), "sim", "esp32", "--board", board, "--boards-dir", BOARDS,
                                "--flash", str(tmp_path / f"flash-{name}.bin"), "--console", str(console)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = process.stdout.readline().strip()
    try:
        otarig_flash(otarig_bin, "--port", port, f"{tmp_path / 'app-1.0.0.bin'}@0x10000")
        otarig_flash(otarig_bin, "--port", port, "--ota", tmp_path / "app-1.0.1.bin", "--job-doc", tmp_path / "job.json",
                     "--cert", tmp_path / "signer.pem", "--revocation-signer-cert", tmp_path / "list-signer.pem", *ota_args)
        return wait_for(console, "OTA verdict: ")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def test_enforcing_board_refuses_a_revoked_signature_and_an_expired_certificate_the_stock_board_accepts(otarig_bin, run, tmp_path):
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", "signer.pem", "--key-out", "signer.key")
    for version in ("1.0.0", "1.0.1"):
        (tmp_path / f"code-{version}.bin").write_bytes(bytes(range(256)) * 40)
        run.otarig_run("app-image", "--version", version, "--project", "hil", "--payload", f"code-{version}.bin", "--out", f"app-{version}.bin")
    run.otarig_run("sign", "--platform", "AmazonFreeRTOS-Default", "--cert", "signer.pem", "--key", "signer.key", "--in", "app-1.0.1.bin",
                   "--out", "signed.json", "--job-doc", "job.json", "--certname", "codesign.crt")
    run.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "list-signer.key")
    run.openssl("req", "-new", "-x509", "-subj", "/CN=otarig revocation list signer", "-days", "30", "-key", "list-signer.key",
                "-out", "list-signer.pem")

    # The signer facts: this job's signature, revoked (what 'otarig facts capture' records after revoke-signature).
    job = json.loads((tmp_path / "job.json").read_text())
    signature = job["afr_ota"]["files"][0]["sig-sha256-ecdsa"]
    signing_job = {"jobId": "job-1", "signature": signature, "profileName": "fw", "profileVersion": "v1",
                   "signedAt": "2026-01-01T00:00:00Z"}
    facts = {"format": "otarig-signer-facts/1", "signingJobs": [dict(signing_job, revocation={"revokedAt": "2026-01-02T00:00:00Z", "reason": "leaked"})],
             "profileRevocations": []}
    (tmp_path / "revoked-facts.json").write_text(json.dumps(facts))
    (tmp_path / "clean-facts.json").write_text(json.dumps(dict(facts, signingJobs=[signing_job])))
    built = run.otarig_run("revocation-list", "build", "--facts", "revoked-facts.json", "--signer-key", "list-signer.key",
                           "--out", "revoked.otrl", "--issued-at", "2026-01-03T00:00:00Z")
    assert "1 entries" in built.stdout
    run.otarig_run("revocation-list", "build", "--facts", "clean-facts.json", "--signer-key", "list-signer.key", "--out", "clean.otrl")
    listed = run.otarig_run("revocation-list", "show", "revoked.otrl").stdout
    assert "signature-revoked 2026-01-02T00:00:00Z" in listed

    # The list holds SHA-256 of the raw signature bytes, as Boards/README.md lays it out.
    import hashlib
    raw = (tmp_path / "revoked.otrl").read_bytes()
    assert raw[:5] == b"OTRL\x01" and raw[13:17] == b"\x00\x00\x00\x01"
    assert raw[17:49] == hashlib.sha256(base64.b64decode(signature)).digest() and raw[49] == 1

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    revoked = ("--revocation-list", tmp_path / "revoked.otrl", "--device-time", now)
    expired = ("--revocation-list", tmp_path / "clean.otrl", "--device-time", "2100-01-01T00:00:00Z")

    text = boot_update(otarig_bin, tmp_path, "sim-esp32-enforcing", "enforcing-revoked", *revoked)
    assert "Device policy: the signature is revoked (its signing job was revoked at 2026-01-02T00:00:00Z)." in text
    assert "OTA verdict: rejected-signature, OtaPalSignatureCheckFailed (0xe3005201)" in text, text

    text = boot_update(otarig_bin, tmp_path, "sim-esp32-enforcing", "enforcing-expired", *expired)
    assert "Device policy: the signer certificate expired at " in text and "(device time 2100-01-01T00:00:00Z)." in text
    assert "OTA verdict: rejected-signature, OtaPalSignatureCheckFailed (0xe3005002)" in text, text

    for name, args in (("stock-revoked", revoked), ("stock-expired", expired)):
        text = boot_update(otarig_bin, tmp_path, "sim-esp32", name, *args)
        assert "OTA verdict: accepted, OtaPalSuccess (0x00000000)" in text, text
        assert "Device policy" not in text
