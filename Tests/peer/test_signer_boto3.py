"""boto3 against `otarig serve`: every operation, every modelled error class, paginators and SigV4 refusals."""
import base64
import datetime
import json
import os
from unittest import mock

import botocore
import pytest
from conftest import both_stores
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

OPERATIONS = {
    "add_profile_permission", "cancel_signing_profile", "describe_signing_job", "get_revocation_status", "get_signing_platform",
    "get_signing_profile", "list_profile_permissions", "list_signing_jobs", "list_signing_platforms", "list_signing_profiles",
    "put_signing_profile", "remove_profile_permission", "revoke_signature", "revoke_signing_profile", "sign_payload",
    "start_signing_job", "tag_resource", "untag_resource", "list_tags_for_resource",
}


class Recorder:
    """Wraps a boto3 Signer client and records which operations succeeded."""

    def __init__(self, client):
        self.client = client
        self.succeeded = set()

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(**kwargs):
            result = method(**kwargs)
            assert result["ResponseMetadata"]["HTTPStatusCode"] == 200
            assert result["ResponseMetadata"]["RequestId"]
            self.succeeded.add(name)
            return result
        return call


def setup_bucket(s3, payload, bucket="fw-src"):
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3.put_object(Bucket=bucket, Key="app.bin", Body=payload)["VersionId"]


def import_certificate(run, acm, name="signer"):
    run.otarig_run("cert", "create", "--platform", "AmazonFreeRTOS-Default", "--cert-out", f"{name}.pem", "--key-out", f"{name}.key")
    cert = (run.cwd / f"{name}.pem").read_bytes()
    return acm.import_certificate(Certificate=cert, PrivateKey=(run.cwd / f"{name}.key").read_bytes())["CertificateArn"], cert


@both_stores
def test_every_operation_succeeds_with_boto3(run, signer_server):
    signer = Recorder(signer_server.client("signer"))
    s3, acm = signer_server.client("s3"), signer_server.client("acm")
    payload = os.urandom(50_000)
    version = setup_bucket(s3, payload)
    arn, cert = import_certificate(run, acm)

    assert len(signer.list_signing_platforms()["platforms"]) == 5
    assert signer.get_signing_platform(platformId="AmazonFreeRTOS-TI-CC3220SF")["target"] == "SHA1-RSA-TISHA1"
    put = signer.put_signing_profile(profileName="esp32_fw", platformId="AmazonFreeRTOS-Default",
                                     signingMaterial={"certificateArn": arn}, signingParameters={"certname": "c.der"}, tags={"team": "fw"})
    profile = signer.get_signing_profile(profileName="esp32_fw")
    assert profile["status"] == "Active" and profile["signatureValidityPeriod"] == {"value": 135, "type": "MONTHS"}
    assert profile["tags"] == {"team": "fw"} and profile["platformDisplayName"] == "Amazon FreeRTOS SHA256-ECDSA"
    assert [p["profileName"] for p in signer.list_signing_profiles()["profiles"]] == ["esp32_fw"]

    revision = signer.add_profile_permission(profileName="esp32_fw", action="signer:StartSigningJob", principal="222222222222",
                                             statementId="ci-start")["revisionId"]
    permissions = signer.list_profile_permissions(profileName="esp32_fw")
    assert permissions["revisionId"] == revision and permissions["permissions"][0]["statementId"] == "ci-start"
    assert permissions["policySizeBytes"] > 0
    signer.remove_profile_permission(profileName="esp32_fw", statementId="ci-start", revisionId=revision)

    signer.tag_resource(resourceArn=put["arn"], tags={"stage": "lab"})
    assert signer.list_tags_for_resource(resourceArn=put["arn"])["tags"] == {"team": "fw", "stage": "lab"}
    signer.untag_resource(resourceArn=put["arn"], tagKeys=["team"])
    assert signer.list_tags_for_resource(resourceArn=put["arn"])["tags"] == {"stage": "lab"}

    job = signer.start_signing_job(source={"s3": {"bucketName": "fw-src", "key": "app.bin", "version": version}},
                                   destination={"s3": {"bucketName": "fw-src", "prefix": "signed-"}}, profileName="esp32_fw")
    signer.client.get_waiter("successful_signing_job").wait(jobId=job["jobId"], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    described = signer.describe_signing_job(jobId=job["jobId"])
    assert described["status"] == "Succeeded"
    assert isinstance(described["createdAt"], datetime.datetime)
    assert [j["jobId"] for j in signer.list_signing_jobs(status="Succeeded")["jobs"]] == [job["jobId"]]
    signer.revoke_signature(jobId=job["jobId"], reason="leaked build")
    assert signer.describe_signing_job(jobId=job["jobId"])["revocationRecord"]["reason"] == "leaked build"

    signer.put_signing_profile(profileName="notation_p", platformId="Notation-OCI-SHA384-ECDSA")
    notary_payload = json.dumps({"targetArtifact": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                    "digest": "sha256:" + "0" * 64, "size": 10}}).encode()
    signed = signer.sign_payload(profileName="notation_p", payload=notary_payload,
                                 payloadFormat="application/vnd.cncf.notary.payload.v1+json")
    verify_notation_envelope(signed["signature"], notary_payload)
    status = signer.get_revocation_status(
        signatureTimestamp=datetime.datetime.now(datetime.timezone.utc), platformId="Notation-OCI-SHA384-ECDSA",
        profileVersionArn=signed["metadata"]["com.amazonaws.signer.signingProfileVersion"],
        jobArn=signed["metadata"]["com.amazonaws.signer.signingJob"], certificateHashes=["ab" * 96])
    assert status["revokedEntities"] == []

    notation = signer.get_signing_profile(profileName="notation_p")
    signer.revoke_signing_profile(profileName="notation_p", profileVersion=notation["profileVersion"], reason="rotated",
                                  effectiveTime=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5))
    assert signer.get_signing_profile(profileName="notation_p")["status"] == "Revoked"
    signer.cancel_signing_profile(profileName="esp32_fw")
    assert signer.get_signing_profile(profileName="esp32_fw")["status"] == "Canceled"
    assert signer.list_signing_profiles()["profiles"][0]["profileName"] == "notation_p"

    assert signer.succeeded == OPERATIONS, f"not exercised: {OPERATIONS - signer.succeeded}"


def verify_notation_envelope(envelope_bytes, payload):
    """The JWS envelope verifies under ES384 with the leaf certificate in x5c, over the payload we sent."""
    envelope = json.loads(envelope_bytes)

    def b64url(text):
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    assert b64url(envelope["payload"]) == payload
    header = json.loads(b64url(envelope["protected"]))
    assert header["alg"] == "ES384" and header["io.cncf.notary.signingScheme"] == "notary.x509.signingAuthority"
    leaf = x509.load_der_x509_certificate(base64.b64decode(envelope["header"]["x5c"][0]))
    raw = b64url(envelope["signature"])
    signature = encode_dss_signature(int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big"))
    leaf.public_key().verify(signature, f"{envelope['protected']}.{envelope['payload']}".encode(), ec.ECDSA(hashes.SHA384()))


def expect_error(call, exception_name, modelled=True):
    """The call fails with `exception_name`; a modelled error must arrive as botocore's class of that name."""
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == exception_name, raised.value.response
    if modelled:
        assert type(raised.value).__name__ == exception_name, f"botocore raised {type(raised.value).__name__}"
    return raised.value


@both_stores
def test_each_modelled_error_raises_its_exception_class(run, signer_server):
    signer, bob = signer_server.client("signer"), signer_server.client("signer", profile="bob")
    signer.put_signing_profile(profileName="lambda_p", platformId="AWSLambda-SHA384-ECDSA")
    seen = set()

    def check(call, name):
        expect_error(call, name)
        seen.add(name)

    check(lambda: signer.put_signing_profile(profileName="a-b", platformId="AWSLambda-SHA384-ECDSA"), "ValidationException")
    check(lambda: signer.get_signing_profile(profileName="missing"), "ResourceNotFoundException")
    check(lambda: bob.get_signing_profile(profileName="lambda_p", profileOwner="111111111111"), "AccessDeniedException")
    revision = signer.add_profile_permission(profileName="lambda_p", action="signer:GetSigningProfile", principal="222222222222",
                                             statementId="s0")["revisionId"]
    check(lambda: signer.add_profile_permission(profileName="lambda_p", action="signer:GetSigningProfile", principal="222222222222",
                                                statementId="s1", revisionId="not-the-revision"), "ConflictException")
    with pytest.raises(botocore.exceptions.ClientError) as limit:
        for index in range(1, 100):
            revision = signer.add_profile_permission(profileName="lambda_p", action="signer:GetSigningProfile",
                                                     principal=f"arn:aws:iam::222222222222:role/role-{index:03d}",
                                                     statementId=f"statement-{index:03d}", revisionId=revision)["revisionId"]
    assert type(limit.value).__name__ == "ServiceLimitExceededException"
    seen.add("ServiceLimitExceededException")
    check(lambda: signer.tag_resource(resourceArn="arn:aws:signer:us-east-1:111111111111:not-a-profile", tags={"a": "b"}), "BadRequestException")
    check(lambda: signer.list_tags_for_resource(resourceArn="arn:aws:signer:us-east-1:111111111111:/signing-profiles/ghost"), "NotFoundException")
    assert seen == {"ValidationException", "ResourceNotFoundException", "AccessDeniedException", "ConflictException",
                    "ServiceLimitExceededException", "BadRequestException", "NotFoundException"}


def test_rate_limits_raise_too_many_requests_and_throttling(otarig_bin, tmp_path):
    from signer_server import SignerServer
    for args, expected in [(["--job-rate", "0.001", "--job-burst", "1"], "TooManyRequestsException"),
                           (["--max-jobs-in-flight", "1"], "ThrottlingException")]:
        (tmp_path / expected).mkdir()
        server = SignerServer(otarig_bin, tmp_path / expected, extra_args=args).start()
        try:
            signer, s3 = server.client("signer"), server.client("s3")
            version = setup_bucket(s3, os.urandom(16 * 1024 * 1024), bucket="fw-limits")
            signer.put_signing_profile(profileName="lambda_p", platformId="AWSLambda-SHA384-ECDSA")
            request = dict(source={"s3": {"bucketName": "fw-limits", "key": "app.bin", "version": version}},
                           destination={"s3": {"bucketName": "fw-limits"}}, profileName="lambda_p")
            from concurrent.futures import ThreadPoolExecutor
            errors = []

            def start(_):
                try:
                    signer.start_signing_job(**request)
                except botocore.exceptions.ClientError as error:
                    errors.append(error)
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(start, range(24)))
            assert errors, f"24 concurrent job starts were all accepted with {args}"
            assert type(errors[0]).__name__ == expected and errors[0].response["ResponseMetadata"]["HTTPStatusCode"] == 429
        finally:
            server.stop()


@both_stores
def test_internal_failures_are_internal_service_errors(run, signer_server):
    """A damaged key store is the server's fault: 500 InternalServiceErrorException, not a crash or a 400."""
    acm, signer = signer_server.client("acm"), signer_server.client("signer")
    arn, _ = import_certificate(run, acm)
    if hasattr(signer_server, "postgres"):  # the certificate's record in the shared database
        signer_server.postgres.psql(f"UPDATE certificate SET record = '{{\"damaged\": true}}' WHERE arn = '{arn}'",
                                    database=signer_server.database_name)
    else:
        record = signer_server.data_dir / "keys" / arn.rsplit("/", 1)[1] / "record.json"
        record.write_text("{ damaged")
    expect_error(lambda: signer.put_signing_profile(profileName="esp32_fw", platformId="AmazonFreeRTOS-Default",
                                                    signingMaterial={"certificateArn": arn}), "InternalServiceErrorException")


@both_stores
def test_paginators_cross_page_boundaries(signer_server):
    signer = signer_server.client("signer")
    for index in range(11):
        signer.put_signing_profile(profileName=f"notation_{index:02d}", platformId="Notation-OCI-SHA384-ECDSA")
    for _ in range(7):
        signer.sign_payload(profileName="notation_00", payload=b'{"targetArtifact":{}}', payloadFormat="application/vnd.cncf.notary.payload.v1+json")
    pages = list(signer.get_paginator("list_signing_profiles").paginate(PaginationConfig={"PageSize": 4}))
    assert len(pages) == 3 and sum(len(p["profiles"]) for p in pages) == 11
    names = [p["profileName"] for page in pages for p in page["profiles"]]
    assert names == sorted(set(names))
    pages = list(signer.get_paginator("list_signing_jobs").paginate(PaginationConfig={"PageSize": 3}))
    assert len(pages) == 3 and len({j["jobId"] for page in pages for j in page["jobs"]}) == 7
    pages = list(signer.get_paginator("list_signing_platforms").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["platforms"]) for p in pages] == [2, 2, 1]


@both_stores
def test_sigv4_refuses_wrong_secret_stale_date_and_other_accounts(run, signer_server):
    import botocore.session
    from botocore.config import Config

    core = botocore.session.Session()
    wrong = core.create_client("signer", region_name="us-east-1", endpoint_url=signer_server.endpoint,
                               aws_access_key_id="AKIAALICEEXAMPLE0001", aws_secret_access_key="wrong-secret",
                               config=Config(retries={"max_attempts": 1}))
    # Authentication errors are not modelled in the Signer API: botocore raises ClientError with AWS's code, as with AWS.
    assert expect_error(lambda: wrong.list_signing_platforms(), "InvalidSignatureException", modelled=False).response[
        "ResponseMetadata"]["HTTPStatusCode"] == 403
    unknown = core.create_client("signer", region_name="us-east-1", endpoint_url=signer_server.endpoint,
                                 aws_access_key_id="AKIANOBODY0000000000", aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))
    expect_error(lambda: unknown.list_signing_platforms(), "UnrecognizedClientException", modelled=False)

    signer = signer_server.client("signer")
    stale = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)
    with mock.patch("botocore.auth.get_current_datetime", return_value=stale):
        error = expect_error(lambda: signer.list_signing_platforms(), "InvalidSignatureException", modelled=False)
    assert "Signature expired" in error.response["Error"]["Message"]
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    s3, bob_s3 = signer_server.client("s3"), signer_server.client("s3", profile="bob")
    s3.create_bucket(Bucket="alice-private")
    s3.put_object(Bucket="alice-private", Key="k", Body=b"secret")
    expect_error(lambda: bob_s3.get_object(Bucket="alice-private", Key="k"), "AccessDenied")
    assert "alice-private" not in [b["Name"] for b in bob_s3.list_buckets()["Buckets"]]
    signer.put_signing_profile(profileName="lambda_p", platformId="AWSLambda-SHA384-ECDSA")
    bob = signer_server.client("signer", profile="bob")
    assert bob.list_signing_profiles()["profiles"] == []
    expect_error(lambda: bob.get_signing_profile(profileName="lambda_p"), "ResourceNotFoundException")


@both_stores
def test_presigned_urls_work_for_s3_get_object(signer_server):
    """Query-string signatures, SigV4 and the older form botocore still uses for S3 presigning by default, fetched
    by a plain HTTP client; a changed signature is refused."""
    import urllib.error
    import urllib.request
    from botocore.config import Config
    s3 = signer_server.client("s3")
    s3.create_bucket(Bucket="presign-test")
    body = os.urandom(4096)
    s3.put_object(Bucket="presign-test", Key="dir/fw image.bin", Body=body)
    sigv4 = signer_server.client("s3", config=Config(signature_version="s3v4"))
    for client, marker in [(sigv4, "X-Amz-Signature="), (s3, "Signature=")]:
        url = client.generate_presigned_url("get_object", Params={"Bucket": "presign-test", "Key": "dir/fw image.bin"}, ExpiresIn=60)
        assert marker in url, url
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.read() == body
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url.replace(marker, marker + "A"), timeout=30)
        assert refused.value.code == 403



@both_stores
def test_answers_about_a_delete_marker_name_it(signer_server):
    """Amazon S3 API reference, HeadObject and GetObject: when the current version is a delete marker, S3 answers 404
    with `x-amz-delete-marker: true` and the marker's `x-amz-version-id`; a GET of the marker's own version is 405
    MethodNotAllowed, marked the same way."""
    s3 = signer_server.client("s3")
    s3.create_bucket(Bucket="marker-test")
    s3.put_bucket_versioning(Bucket="marker-test", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="marker-test", Key="fw.bin", Body=b"firmware")
    deleted = s3.delete_object(Bucket="marker-test", Key="fw.bin")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    for call in (lambda: s3.head_object(Bucket="marker-test", Key="fw.bin"), lambda: s3.get_object(Bucket="marker-test", Key="fw.bin")):
        with pytest.raises(botocore.exceptions.ClientError) as missing:
            call()
        answer = missing.value.response["ResponseMetadata"]
        assert answer["HTTPStatusCode"] == 404
        assert answer["HTTPHeaders"].get("x-amz-delete-marker") == "true", answer["HTTPHeaders"]
        assert answer["HTTPHeaders"].get("x-amz-version-id") == marker
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3.get_object(Bucket="marker-test", Key="fw.bin", VersionId=marker)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert refused.value.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker") == "true"
