import Testing
import SignerAPI

@Suite("ARNs")
struct ARNTests {
    @Test("parses and formats Signer's profile, profile-version and job ARNs", arguments: [
        ("arn:aws:signer:us-east-1:123456789012:/signing-profiles/p1", ARN.SignerResource.signingProfile(name: "p1")),
        ("arn:aws:signer:us-east-1:123456789012:/signing-profiles/p1/v123", .signingProfileVersion(name: "p1", version: "v123")),
        ("arn:aws:signer:eu-west-1:123456789012:/signing-jobs/0a1b", .signingJob(jobId: "0a1b")),
    ])
    func signerResources(text: String, resource: ARN.SignerResource) throws {
        let arn = try #require(ARN(text))
        #expect(arn.signerResource == resource)
        #expect(arn.description == text)
        #expect(ARN.signer(resource, region: arn.region, account: "123456789012") == arn)
    }

    @Test("refuses text that is not an ARN, and names no Signer resource for other shapes", arguments: [
        "arn:aws:signer:us-east-1:123456789012", "urn:aws:signer:us-east-1:1:/signing-jobs/x", "arn::signer:r:1:/signing-jobs/x",
    ])
    func refuses(text: String) {
        #expect(ARN(text) == nil)
    }

    @Test("reads IAM role ARNs only as roles", arguments: [
        ("arn:aws:iam::123456789012:role/ci", "ci"), ("arn:aws:iam::123456789012:user/ci", nil), ("arn:aws:iam::123456789012:role/", nil),
        ("arn:aws:iam:us-east-1:123456789012:role/ci", nil),
    ] as [(String, String?)])
    func roles(text: String, role: String?) {
        #expect(ARN(text)?.iamRoleName == role)
    }

    @Test("a resource holding colons keeps them")
    func colonsInResource() {
        #expect(ARN("arn:aws:acm:us-east-1:123456789012:certificate/a:b")?.resource == "certificate/a:b")
    }
}
