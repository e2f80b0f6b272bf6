import Foundation
import Testing
@testable import SigV4

@Suite("SigV4 timestamps and presigned URLs")
struct SigV4TimestampAndPresignTests {
    @Test("formats and parses X-Amz-Date with arithmetic, across leap days and centuries", arguments: [
        (0.0, "19700101T000000Z"), (951_782_400, "20000229T000000Z"), (1_440_938_160, "20150830T123600Z"),
        (4_102_444_799, "20991231T235959Z"), (4_107_542_399, "21000228T235959Z"), (-1, "19691231T235959Z"), (1_709_251_199.9, "20240229T235959Z"),
    ])
    func timestamps(seconds: Double, text: String) {
        #expect(SigV4Timestamp.format(Date(timeIntervalSince1970: seconds)) == text)
        #expect(SigV4Timestamp.parse(text) == Date(timeIntervalSince1970: seconds.rounded(.down)))
    }

    @Test("refuses timestamps that are not exactly yyyyMMddTHHmmssZ", arguments: ["20240102T030405", "2024-01-02T03:04:05Z", "20241302T030405Z", "2024010xT030405Z"])
    func refusesTimestamps(text: String) {
        #expect(SigV4Timestamp.parse(text) == nil)
    }

    @Test("a presigned URL from the client signer passes the verifier until it expires, and not after")
    func presignRoundTrip() throws {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let credential = SigV4Tests.example
        let signer = SigV4ClientSigner(accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, region: "us-east-1")
        let query = signer.presign(method: "GET", rawPath: "/bucket/signed/a%20b", rawQuery: "versionId=v1", host: "127.0.0.1:8765",
                                   service: "s3", expires: 300, now: now)
        let request = SigV4Verifier.Request(method: "GET", rawPath: "/bucket/signed/a%20b", rawQuery: query, headers: [("host", "127.0.0.1:8765")], body: [])
        let verifier = SigV4Verifier(credentials: [credential])
        #expect(try verifier.verify(request, now: now.addingTimeInterval(299), region: "us-east-1").service == "s3")
        let expired = #expect(throws: SigV4Verifier.Failure.self) { try verifier.verify(request, now: now.addingTimeInterval(301), region: "us-east-1") }
        #expect(expired?.kind == .skewed)
    }
}
