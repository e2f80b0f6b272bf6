"""The unmodified aws CLI against `otarig serve`: the whole signing workflow, judged by openssl."""
import base64
import json
import os

import pytest
from conftest import both_stores


def make_signer(run, tmp_path, platform):
    """Certificate material for a platform: P-256 self-signed, or the CC3220 chain (RSA-2048, SHA-1 by a CA)."""
    if platform == "AmazonFreeRTOS-TI-CC3220SF":
        run.otarig_run("cert", "create-ca", "--cert-out", "ca.pem", "--key-out", "ca.key")
        run.otarig_run("cert", "create", "--platform", platform, "--ca-cert", "ca.pem", "--ca-key", "ca.key",
                       "--cert-out", "signer.pem", "--key-out", "signer.key")
        return tmp_path / "signer.pem", tmp_path / "signer.key", tmp_path / "ca.pem", "sha1"
    run.otarig_run("cert", "create", "--platform", platform, "--cert-out", "signer.pem", "--key-out", "signer.key")
    return tmp_path / "signer.pem", tmp_path / "signer.key", None, "sha256"


@both_stores
@pytest.mark.parametrize("platform", ["AmazonFreeRTOS-Default", "AmazonFreeRTOS-TI-CC3220SF"])
def test_cli_workflow_signs_and_openssl_verifies(run, tmp_path, signer_server, platform):
    aws = signer_server.aws
    firmware = tmp_path / "firmware.bin"
    payload = os.urandom(200_003)
    firmware.write_bytes(payload)

    aws("s3api", "create-bucket", "--bucket", "ota-firmware")
    aws("s3api", "put-bucket-versioning", "--bucket", "ota-firmware", "--versioning-configuration", "Status=Enabled")
    put = json.loads(aws("s3api", "put-object", "--bucket", "ota-firmware", "--key", "app/firmware.bin", "--body", firmware).stdout)
    version = put["VersionId"]

    cert, key, chain, digest = make_signer(run, tmp_path, platform)
    imported = ["acm", "import-certificate", "--certificate", f"fileb://{cert}", "--private-key", f"fileb://{key}"]
    if chain:
        imported += ["--certificate-chain", f"fileb://{chain}"]
    arn = json.loads(aws(*imported).stdout)["CertificateArn"]
    described = json.loads(aws("acm", "describe-certificate", "--certificate-arn", arn).stdout)["Certificate"]
    assert described["CertificateArn"] == arn and described["Type"] == "IMPORTED"
    assert "PRIVATE KEY" not in aws("acm", "get-certificate", "--certificate-arn", arn).stdout

    profile = json.loads(aws("signer", "put-signing-profile", "--profile-name", "ota_profile", "--platform-id", platform,
                             "--signing-material", f"certificateArn={arn}", "--signing-parameters", "certname=/cert/signer.der").stdout)
    assert profile["arn"] == "arn:aws:signer:us-east-1:111111111111:/signing-profiles/ota_profile"
    assert len(profile["profileVersion"]) == 10

    started = json.loads(aws("signer", "start-signing-job", "--source", f"s3={{bucketName=ota-firmware,key=app/firmware.bin,version={version}}}",
                             "--destination", "s3={bucketName=ota-firmware,prefix=signed/}", "--profile-name", "ota_profile").stdout)
    job_id = started["jobId"]
    assert started["jobOwner"] == "111111111111"
    aws("signer", "wait", "successful-signing-job", "--job-id", job_id)

    job = json.loads(aws("signer", "describe-signing-job", "--job-id", job_id).stdout)
    assert job["status"] == "Succeeded" and job["statusReason"] == "Signing Succeeded"
    assert job["platformId"] == platform and job["profileVersion"] == profile["profileVersion"]
    assert job["signedObject"]["s3"] == {"bucketName": "ota-firmware", "key": f"signed/{job_id}"}
    assert job["signingParameters"] == {"certname": "/cert/signer.der"}
    assert isinstance(job["createdAt"], (int, float)) and job["requestedBy"] == "arn:aws:iam::111111111111:user/alice"

    aws("s3api", "get-object", "--bucket", "ota-firmware", "--key", f"signed/{job_id}", tmp_path / "signed.json")
    signed = json.loads((tmp_path / "signed.json").read_text())
    assert list(signed) == ["rawPayloadSize", "signature", "signatureAlgorithm", "payload"]
    assert signed["rawPayloadSize"] == len(payload)
    assert base64.b64decode(signed["payload"]) == payload
    assert signed["signatureAlgorithm"] == ("SHA1withRSA" if digest == "sha1" else "SHA256withECDSA")
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(signed["signature"]))
    run.openssl("x509", "-in", cert, "-pubkey", "-noout", "-out", tmp_path / "pub.pem")
    verified = run.openssl("dgst", f"-{digest}", "-verify", tmp_path / "pub.pem", "-signature", tmp_path / "sig.bin", firmware)
    assert "Verified OK" in verified.stdout
    if chain:
        run.openssl("verify", "-auth_level", "0", "-CAfile", chain, cert)


@both_stores
def test_cli_paginates_lists_across_pages(signer_server):
    aws = signer_server.aws
    for index in range(12):
        aws("signer", "put-signing-profile", "--profile-name", f"lambda_{index:02d}", "--platform-id", "AWSLambda-SHA384-ECDSA")
    listed = json.loads(aws("signer", "list-signing-profiles", "--page-size", "5").stdout)
    assert [p["profileName"] for p in listed["profiles"]] == [f"lambda_{i:02d}" for i in range(12)]
    first = json.loads(aws("signer", "list-signing-profiles", "--max-items", "5").stdout)
    assert len(first["profiles"]) == 5 and "NextToken" in first
    platforms = json.loads(aws("signer", "list-signing-platforms", "--page-size", "2").stdout)
    assert len(platforms["platforms"]) == 5


@both_stores
def test_cli_revocation_is_reported_by_get_revocation_status(signer_server):
    aws = signer_server.aws
    aws("signer", "put-signing-profile", "--profile-name", "notation_p", "--platform-id", "Notation-OCI-SHA384-ECDSA")
    signed = json.loads(aws("signer", "sign-payload", "--profile-name", "notation_p", "--payload", '{"targetArtifact":{}}',
                            "--payload-format", "application/vnd.cncf.notary.payload.v1+json").stdout)
    job_arn = signed["metadata"]["com.amazonaws.signer.signingJob"]
    version_arn = signed["metadata"]["com.amazonaws.signer.signingProfileVersion"]
    query = ["signer", "get-revocation-status", "--signature-timestamp", "2020-01-01T00:00:00Z", "--platform-id", "Notation-OCI-SHA384-ECDSA",
             "--profile-version-arn", version_arn, "--job-arn", job_arn, "--certificate-hashes", "ab" * 96]
    assert json.loads(aws(*query).stdout)["revokedEntities"] == []
    aws("signer", "revoke-signature", "--job-id", signed["jobId"], "--reason", "key ceremony error")
    assert json.loads(aws(*query).stdout)["revokedEntities"] == [job_arn]
    jobs = json.loads(aws("signer", "list-signing-jobs", "--is-revoked").stdout)["jobs"]
    assert [j["jobId"] for j in jobs] == [signed["jobId"]] and jobs[0]["isRevoked"] is True
