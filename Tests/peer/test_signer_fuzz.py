"""A schema-aware fuzz run against `otarig serve`: at least 2,000 signed requests built from the Signer operations'
routes and members, with wrong types, unknown fields, odd path labels, path tricks, garbage and oversized bodies.
No request may produce a 5xx, and every refusal must carry an AWS error type."""
import http.client
import json
import random
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

ROUTES = [
    ("GET", "/signing-platforms", []), ("GET", "/signing-platforms/{}", []), ("GET", "/signing-profiles", []),
    ("PUT", "/signing-profiles/{}", ["signingMaterial", "signatureValidityPeriod", "platformId", "overrides", "signingParameters", "tags"]),
    ("GET", "/signing-profiles/{}", []), ("DELETE", "/signing-profiles/{}", []),
    ("PUT", "/signing-profiles/{}/revoke", ["profileVersion", "reason", "effectiveTime"]),
    ("POST", "/signing-profiles/{}/permissions", ["profileVersion", "action", "principal", "revisionId", "statementId"]),
    ("GET", "/signing-profiles/{}/permissions", []), ("DELETE", "/signing-profiles/{}/permissions/{}", []),
    ("POST", "/signing-jobs", ["source", "destination", "profileName", "clientRequestToken", "profileOwner"]),
    ("GET", "/signing-jobs", []), ("POST", "/signing-jobs/with-payload", ["profileName", "profileOwner", "payload", "payloadFormat"]),
    ("GET", "/signing-jobs/{}", []), ("PUT", "/signing-jobs/{}/revoke", ["jobOwner", "reason"]), ("GET", "/revocations", []),
    ("POST", "/tags/{}", ["tags"]), ("DELETE", "/tags/{}", []), ("GET", "/tags/{}", []), ("PATCH", "/{}", []), ("GET", "/{}/{}/{}", []),
]
QUERY = ["maxResults", "nextToken", "includeCanceled", "statuses", "platformId", "status", "isRevoked", "signatureExpiresBefore",
         "signatureExpiresAfter", "jobInvoker", "requestedBy", "profileOwner", "revisionId", "tagKeys", "signatureTimestamp",
         "profileVersionArn", "jobArn", "certificateHashes", "category", "partner", "target"]
PLAUSIBLE = {
    "platformId": ["AmazonFreeRTOS-Default", "AWSLambda-SHA384-ECDSA", "Notation-OCI-SHA384-ECDSA", "Bogus"],
    "source": [{"s3": {"bucketName": "fuzz-bucket", "key": "k", "version": "v"}}, {"s3": {}}, {}],
    "destination": [{"s3": {"bucketName": "fuzz-bucket", "prefix": "p/"}}, {"s3": None}],
    "profileName": ["fuzz_profile", "notation_fuzz", "x", "a" * 65],
    "action": ["signer:GetSigningProfile", "signer:SignPayload", "signer:Nope"],
    "principal": ["222222222222", "arn:aws:iam::222222222222:role/r", "arn:aws:iam::222222222222:role/path/r", "nobody"],
    "payloadFormat": ["application/vnd.cncf.notary.payload.v1+json", "text/plain"],
    "payload": ["eyJ0YXJnZXRBcnRpZmFjdCI6e319", "", "!!notbase64", "QQ" * 3000],
    "signatureValidityPeriod": [{"value": 10, "type": "DAYS"}, {"value": -1, "type": "YEARS"}, {"value": 200, "type": "MONTHS"}, {"type": "WEEKS"}],
    "overrides": [{"signingConfiguration": {"hashAlgorithm": "SHA1"}}, {"signingImageFormat": "JSONDetached"}, {"signingConfiguration": 5}],
    "tags": [{"k": "v"}, {"aws:reserved": "v"}, {f"t{i}": "v" for i in range(201)}, {"": ""}],
    "effectiveTime": [0, 1.5, 4102444800, -1, "2024-01-01"],
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)
labels = st.one_of(st.sampled_from(["fuzz_profile", "notation_fuzz", "", "..", ".", "a/b", "%2F", "x" * 300, "arn:aws:signer:us-east-1:111111111111:/signing-profiles/fuzz_profile"]),
                   st.text(max_size=20))


@st.composite
def requests(draw):
    method, template, members = draw(st.sampled_from(ROUTES))
    path = template.format(*[quote(draw(labels), safe="-_.~") for _ in range(template.count("{}"))])
    if draw(st.integers(0, 20)) == 0:
        path = draw(st.sampled_from(["/signing-profiles/../../etc/passwd", "//signing-jobs", "/signing-jobs/%00", "/tags/%zz", "/%"]))
    query = "&".join(f"{quote(name, safe='')}={quote(draw(st.text(max_size=12)), safe='-_.~')}"
                     for name in draw(st.lists(st.sampled_from(QUERY), max_size=4)))
    kind = draw(st.integers(0, 30))
    if kind == 0:
        body = draw(st.binary(max_size=200))
    elif kind == 1:
        body = b"[" * 5000 + b"]" * 5000
    elif kind == 2:
        body = json.dumps({"reason": "x" * (1 << 20)}).encode()
    elif kind == 3:
        body = b'{"platformId": "AmazonFreeRTOS-Default", "platformId": 7}'
    else:
        document = {}
        for member in members:
            if draw(st.booleans()):
                document[member] = draw(st.sampled_from(PLAUSIBLE[member])) if member in PLAUSIBLE and draw(st.booleans()) else draw(json_values)
        if draw(st.integers(0, 4)) == 0:
            document[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
        body = json.dumps(document).encode() if members or draw(st.booleans()) else b""
    return method, path, query, body


def send(port, credentials, method, path, query, body):
    url = f"http://127.0.0.1:{port}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"} if body else {})
    SigV4Auth(credentials, "signer", "us-east-1").add_auth(request)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path + (f"?{query}" if query else ""), skip_host=True, skip_accept_encoding=True)
        for name, value in request.headers.items():
            connection.putheader(name, value)
        connection.putheader("Host", f"127.0.0.1:{port}")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_two_thousand_fuzzed_requests_never_produce_a_5xx(signer_server):
    s3 = signer_server.client("s3")
    s3.create_bucket(Bucket="fuzz-bucket")
    s3.put_bucket_versioning(Bucket="fuzz-bucket", VersioningConfiguration={"Status": "Enabled"})
    signer = signer_server.client("signer")
    signer.put_signing_profile(profileName="notation_fuzz", platformId="Notation-OCI-SHA384-ECDSA")
    credentials = Credentials("AKIAALICEEXAMPLE0001", "alice/secret/EXAMPLEKEY+0000000000000")
    statuses = {}
    failures = []

    @seed(20261122)
    @settings(max_examples=2100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(requests())
    def fuzz(case):
        method, path, query, body = case
        status, headers, payload = send(signer_server.port, credentials, method, path, query, body)
        statuses[status] = statuses.get(status, 0) + 1
        lowered = {k.lower(): v for k, v in headers.items()}
        if status >= 500 or (status >= 300 and "x-amzn-errortype" not in lowered):
            failures.append((status, method, path, query, body[:200], payload[:300]))

    fuzz()
    total = sum(statuses.values())
    print(f"\nfuzz: {total} requests, statuses {dict(sorted(statuses.items()))}")
    assert total >= 2000, f"only {total} requests were sent"
    assert not failures, "replay these:\n" + "\n".join(map(repr, failures[:10]))
    assert statuses.get(200, 0) > 0 and statuses.get(400, 0) > 0, statuses
