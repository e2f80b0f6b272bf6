import Foundation
import Testing
@testable import SigV4

@Suite("SigV4 verification")
struct SigV4Tests {
    static let example = Credential(profile: "example", accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                    account: "123456789012", principal: "arn:aws:iam::123456789012:user/example")

    /// `get-vanilla` from AWS's Signature Version 4 test suite (aws-sig-v4-test-suite): GET / with Host and X-Amz-Date.
    @Test("reproduces the AWS test suite's get-vanilla signature")
    func getVanilla() throws {
        let request = SigV4Verifier.Request(method: "GET", rawPath: "/", rawQuery: "",
                                            headers: [("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z")], body: [])
        let auth = SigV4Verifier.Authorization(accessKeyId: "AKIDEXAMPLE", date: "20150830", region: "us-east-1", service: "service",
                                               signedHeaders: ["host", "x-amz-date"], signature: "", timestamp: "20150830T123600Z",
                                               presigned: false, expires: nil)
        let verifier = SigV4Verifier(credentials: [Self.example])
        #expect(verifier.signature(for: request, auth: auth, secret: Self.example.secretAccessKey)
                == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    static func signed(_ method: String = "PUT", path: String = "/signing-profiles/p1", query: String = "", body: [UInt8] = Array("{}".utf8),
                       service: String = "signer", region: String = "us-east-1", at date: Date, credential: Credential = example) -> SigV4Verifier.Request {
        let timestamp = SigV4Timestamp.format(date)
        var request = SigV4Verifier.Request(method: method, rawPath: path, rawQuery: query,
                                            headers: [("host", "127.0.0.1:8765"), ("x-amz-date", timestamp), ("content-type", "application/json")],
                                            body: body)
        let auth = SigV4Verifier.Authorization(accessKeyId: credential.accessKeyId, date: String(timestamp.prefix(8)), region: region,
                                               service: service, signedHeaders: ["content-type", "host", "x-amz-date"], signature: "",
                                               timestamp: timestamp, presigned: false, expires: nil)
        let signature = SigV4Verifier(credentials: [credential]).signature(for: request, auth: auth, secret: credential.secretAccessKey)
        request.headers.append(("authorization", "AWS4-HMAC-SHA256 Credential=\(credential.accessKeyId)/\(auth.date)/\(region)/\(service)/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=\(signature)"))
        return request
    }

    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test("accepts its own signature and names the caller")
    func accepts() throws {
        let identity = try SigV4Verifier(credentials: [Self.example]).verify(Self.signed(at: Self.now), now: Self.now, region: "us-east-1")
        #expect(identity.credential.account == "123456789012")
        #expect(identity.service == "signer")
    }

    @Test("refuses a changed body, path or query")
    func refusesTampering() {
        let verifier = SigV4Verifier(credentials: [Self.example])
        for change in [{ (r: inout SigV4Verifier.Request) in r.body = Array("{ }".utf8) }, { $0.rawPath = "/signing-profiles/p2" }, { $0.rawQuery = "a=b" }] {
            var request = Self.signed(at: Self.now)
            change(&request)
            let failure = #expect(throws: SigV4Verifier.Failure.self) { try verifier.verify(request, now: Self.now, region: "us-east-1") }
            #expect(failure?.kind == .badSignature)
        }
    }

    @Test("refuses a wrong secret, an unknown key, a stale date and another region")
    func refusesWrongCredentials() {
        var wrongSecret = Self.example
        wrongSecret.secretAccessKey = "not-the-secret"
        let verifier = SigV4Verifier(credentials: [Self.example])
        let cases: [(SigV4Verifier.Request, Date, SigV4Verifier.Failure.Kind)] = [
            (Self.signed(at: Self.now, credential: wrongSecret), Self.now, .badSignature),
            (Self.signed(at: Self.now, credential: Credential(profile: "x", accessKeyId: "AKIAUNKNOWN", secretAccessKey: "s", account: "123456789012", principal: "p")), Self.now, .unknownKey),
            (Self.signed(at: Self.now.addingTimeInterval(-16 * 60)), Self.now, .skewed),
            (Self.signed(at: Self.now.addingTimeInterval(16 * 60)), Self.now, .skewed),
            (Self.signed(region: "eu-west-1", at: Self.now), Self.now, .wrongRegion),
        ]
        for (request, now, kind) in cases {
            let failure = #expect(throws: SigV4Verifier.Failure.self) { try verifier.verify(request, now: now, region: "us-east-1") }
            #expect(failure?.kind == kind)
        }
        #expect(throws: Never.self) { try verifier.verify(Self.signed(at: Self.now.addingTimeInterval(-14 * 60)), now: Self.now, region: "us-east-1") }
    }

    @Test("refuses a request with no authentication")
    func refusesMissing() {
        let request = SigV4Verifier.Request(method: "GET", rawPath: "/signing-platforms", rawQuery: "", headers: [("host", "h")], body: [])
        let failure = #expect(throws: SigV4Verifier.Failure.self) { try SigV4Verifier(credentials: [Self.example]).verify(request, now: Self.now, region: "us-east-1") }
        #expect(failure?.kind == .missing)
    }

    @Test("canonicalises like botocore: double-encoded labels for signer, raw paths for s3, sorted re-encoded queries")
    func canonical() {
        let auth = { (service: String) in
            SigV4Verifier.Authorization(accessKeyId: "A", date: "20240102", region: "us-east-1", service: service, signedHeaders: ["host"],
                                        signature: "", timestamp: "20240102T030405Z", presigned: false, expires: nil)
        }
        let request = SigV4Verifier.Request(method: "get", rawPath: "/tags/arn%3Aaws%3Asigner", rawQuery: "statuses=Revoked&statuses=Active&b=a%20b",
                                            headers: [("host", "h  with   spaces")], body: [])
        let signer = SigV4Canonical.canonicalRequest(request, auth: auth("signer")).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(signer[0] == "GET")
        #expect(signer[1] == "/tags/arn%253Aaws%253Asigner")
        #expect(signer[2] == "b=a%20b&statuses=Active&statuses=Revoked")
        #expect(signer[3] == "host:h with spaces")
        let s3 = SigV4Canonical.canonicalRequest(request, auth: auth("s3")).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(s3[1] == "/tags/arn%3Aaws%3Asigner")
        #expect(SigV4Canonical.normalize("/a/./b/../c//d/") == "/a/c/d/")
    }
}

@Suite("The credentials file")
struct CredentialsFileTests {
    @Test("reads sections with account and principal, with defaults")
    func parses() throws {
        let text = """
            # lab keys
            [lab]
            aws_access_key_id = AKIALAB
            aws_secret_access_key = secret1
            account_id = 111122223333
            principal_arn = arn:aws:iam::111122223333:user/lab

            [ci]
            aws_access_key_id=AKIACI
            aws_secret_access_key=secret2
            """
        let credentials = try CredentialsFile.parse(text)
        #expect(credentials.map(\.accessKeyId) == ["AKIALAB", "AKIACI"])
        #expect(credentials[0].principal == "arn:aws:iam::111122223333:user/lab")
        #expect(credentials[1].account == "123456789012")
        #expect(credentials[1].principal == "arn:aws:iam::123456789012:user/ci")
    }

    @Test("names the section and line of what is wrong", arguments: [
        ("[a]\naws_access_key_id = X\n", "no aws_secret_access_key"),
        ("aws_access_key_id = X\n", "before any [section]"),
        ("[a]\naws_access_key_id = X\naws_secret_access_key = Y\naccount_id = 12\n", "12 digits"),
        ("[a]\nnonsense\n", "line 2"),
        ("", "no sections"),
    ])
    func refuses(text: String, expected: String) {
        let error = #expect(throws: CredentialsFile.ParseError.self) { try CredentialsFile.parse(text) }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }

    @Test("round-trips a generated key")
    func roundTrip() throws {
        let credential = CredentialsFile.generate(profile: "otarig")
        #expect(credential.accessKeyId.count == 20 && credential.secretAccessKey.count == 40)
        #expect(try CredentialsFile.parse(CredentialsFile.render(credential)) == [credential])
    }

    @Test("the client signer's requests pass the verifier, with a session token and an encoded query; a changed query fails")
    func clientSignerRoundTrip() throws {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let signer = SigV4ClientSigner(accessKeyId: SigV4Tests.example.accessKeyId, secretAccessKey: SigV4Tests.example.secretAccessKey,
                                       sessionToken: "token/with+chars", region: "us-east-1")
        let query = "signatureTimestamp=\(SigV4ClientSigner.encode("2026-11-22T10:00:00Z"))&jobArn=\(SigV4ClientSigner.encode("arn:aws:signer:us-east-1:1:/signing-jobs/j"))"
        for (service, path) in [("signer", "/revocations"), ("s3", "/bucket/signed/a%20b")] {
            let headers: [(name: String, value: String)] = [("host", "127.0.0.1:8765")]
            let added = signer.sign(method: "GET", rawPath: path, rawQuery: query, headers: headers, body: [], service: service, now: now)
            #expect(added.contains { $0.name == "x-amz-security-token" })
            let request = SigV4Verifier.Request(method: "GET", rawPath: path, rawQuery: query, headers: headers + added, body: [])
            let identity = try SigV4Verifier(credentials: [SigV4Tests.example]).verify(request, now: now, region: "us-east-1")
            #expect(identity.service == service && identity.credential.accessKeyId == SigV4Tests.example.accessKeyId)
            let changed = SigV4Verifier.Request(method: "GET", rawPath: path, rawQuery: query + "&x=1", headers: headers + added, body: [])
            #expect(throws: SigV4Verifier.Failure.self) { try SigV4Verifier(credentials: [SigV4Tests.example]).verify(changed, now: now, region: "us-east-1") }
        }
    }
}
