import HTTPTypes
import SignerAPI
import SignerService
import Testing
@testable import SignerHTTP

@Suite("Operations are read once from the request")
struct OperationTests {
    @Test("reads each Signer route into its operation with its path parameters", arguments: [
        (HTTPRequest.Method.get, ["signing-platforms"], SignerOperation.listSigningPlatforms),
        (.get, ["signing-platforms", "AmazonFreeRTOS-Default"], .getSigningPlatform(platformId: "AmazonFreeRTOS-Default")),
        (.put, ["signing-profiles", "p"], .putSigningProfile(profileName: "p")),
        (.delete, ["signing-profiles", "p", "permissions", "s1"], .removeProfilePermission(profileName: "p", statementId: "s1")),
        (.post, ["signing-jobs", "with-payload"], .signPayload),
        (.get, ["signing-jobs", "j"], .describeSigningJob(jobId: "j")),
        (.put, ["signing-jobs", "j", "revoke"], .revokeSignature(jobId: "j")),
        (.get, ["tags", "arn:aws:signer:us-east-1:1:/signing-profiles/p"], .listTagsForResource(resourceArn: "arn:aws:signer:us-east-1:1:/signing-profiles/p")),
    ])
    func signerRoutes(method: HTTPRequest.Method, segments: [String], expected: SignerOperation) {
        #expect(SignerOperation(method: method, segments: segments) == expected)
    }

    @Test("matches no Signer operation for an unknown route", arguments: [
        (HTTPRequest.Method.patch, ["signing-profiles", "p"]), (.get, ["nope"]), (.put, ["signing-jobs", "j", "other"]),
    ])
    func unknownSignerRoutes(method: HTTPRequest.Method, segments: [String]) {
        #expect(SignerOperation(method: method, segments: segments) == nil)
    }

    @Test("gives every S3 error code a status from the one table, and only InternalError a 5xx besides NotImplemented",
          arguments: S3Error.Code.allCases)
    func s3Statuses(code: S3Error.Code) {
        let status = S3ErrorMapping.status(code).code
        #expect((500...599).contains(status) == [.internalError, .notImplemented].contains(code))
    }

    @Test("gives every ACM error code a status from the one table", arguments: ACMError.Code.allCases)
    func acmStatuses(code: ACMError.Code) {
        #expect(ACMErrorMapping.status(code).code == (code == .internalFailure ? 500 : 400))
    }
}
