import CodeSigning
import Foundation
import HTTPTypes
import Logging
import SigV4
import SignerAPI
import SignerService
import Testing
@testable import SignerHTTP

/// A whole server in a temporary data directory, driven through its responder without sockets.
final class TestServer: @unchecked Sendable {
    let directory: URL
    let server: SignerServer
    let responder: OtarigResponder
    static let alice = Credential(profile: "alice", accessKeyId: "AKIAALICE", secretAccessKey: "alice-secret", account: "111111111111",
                                  principal: "arn:aws:iam::111111111111:user/alice")
    static let bob = Credential(profile: "bob", accessKeyId: "AKIABOB", secretAccessKey: "bob-secret", account: "222222222222",
                                principal: "arn:aws:iam::222222222222:role/ci")

    init(reload: (@Sendable () async throws -> [Credential])? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-routes-\(UUID().uuidString)")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        server = try SignerServer(configuration: .init(dataDirectory: directory, credentials: [Self.alice, Self.bob]), logger: logger)
        responder = OtarigResponder(credentials: [Self.alice, Self.bob], reload: reload, region: "us-east-1", service: server.service, buckets: server.buckets,
                                    certificates: server.certificates, logger: logger, maxObjectBytes: 1 << 20)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    struct Reply {
        var status: Int
        var headers: HTTPFields
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var errorType: String? { headers[HTTPField.Name("x-amzn-ErrorType")!] }
    }

    /// Sends a request signed by `credential` for `service` (nil: unsigned).
    func send(_ method: HTTPRequest.Method, _ target: String, body: [UInt8] = [], service: String? = "signer", credential: Credential = alice,
              headers extra: [(String, String)] = []) async throws -> Reply {
        let path = String(target.prefix { $0 != "?" })
        let query = target.contains("?") ? String(target.drop { $0 != "?" }.dropFirst()) : ""
        var headerList: [(name: String, value: String)] = extra.map { ($0.0.lowercased(), $0.1) }
        if let service {
            let signer = SigV4ClientSigner(accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, region: "us-east-1")
            headerList += signer.sign(method: method.rawValue, rawPath: path, rawQuery: query, headers: [("host", "127.0.0.1:8765")] + headerList,
                                      body: body, service: service, now: Date())
        } else {
            headerList.append(("x-amz-date", SigV4Timestamp.format(Date())))
        }
        var fields = HTTPFields()
        for (name, value) in headerList { fields[HTTPField.Name(name)!] = value }
        let head = HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1:8765", path: target, headerFields: fields)
        let response = await responder.respond(to: head, body: body)
        let sink = CollectingWriter.Sink()
        try await response.body.write(CollectingWriter(sink: sink))
        return Reply(status: response.status.code, headers: response.headers, body: sink.bytes)
    }

    func json(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
    }
}

import Crypto
import Hummingbird
import NIOCore

enum SHA256Hex {
    static func of(_ bytes: [UInt8]) -> String { SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() }
}

struct CollectingWriter: ResponseBodyWriter {
    final class Sink: @unchecked Sendable { var bytes: [UInt8] = [] }
    let sink: Sink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

@Suite("Routes, without sockets")
struct RouteTests {
    @Test("answers /health without authentication, and refuses everything else unsigned")
    func health() async throws {
        let server = try TestServer()
        #expect(try await server.send(.get, "/health", service: nil).status == 200)
        let refused = try await server.send(.get, "/signing-platforms", service: nil)
        #expect(refused.status == 403)
        #expect(refused.errorType == "MissingAuthenticationTokenException")
    }

    @Test("lists platforms and gets one; an unknown one is a ResourceNotFoundException")
    func platforms() async throws {
        let server = try TestServer()
        let list = try await server.send(.get, "/signing-platforms")
        #expect(list.status == 200)
        #expect((list.json["platforms"] as? [[String: Any]])?.count == 5)
        #expect(!list.text.contains("\\/"))
        let missing = try await server.send(.get, "/signing-platforms/Nope")
        #expect(missing.status == 404 && missing.errorType == "ResourceNotFoundException")
        let paged = try await server.send(.get, "/signing-platforms?maxResults=2")
        #expect((paged.json["platforms"] as? [Any])?.count == 2 && paged.json["nextToken"] is String)
        let tooMany = try await server.send(.get, "/signing-platforms?maxResults=26")
        #expect(tooMany.status == 400 && tooMany.errorType == "ValidationException")
    }

    @Test("refuses malformed JSON, wrong types and bad names with a ValidationException naming the member")
    func validation() async throws {
        let server = try TestServer()
        let garbage = try await server.send(.put, "/signing-profiles/p1", body: Array("{not json".utf8))
        #expect(garbage.status == 400 && garbage.errorType == "ValidationException")
        let wrongType = try await server.send(.put, "/signing-profiles/p1", body: server.json(["platformId": 5]))
        #expect(wrongType.status == 400 && (wrongType.json["message"] as? String)?.contains("platformId") == true)
        let badName = try await server.send(.put, "/signing-profiles/a-b", body: server.json(["platformId": "AWSLambda-SHA384-ECDSA"]))
        #expect(badName.status == 400 && (badName.json["message"] as? String)?.contains("'profileName'") == true)
        let noMaterial = try await server.send(.put, "/signing-profiles/p1", body: server.json(["platformId": "AmazonFreeRTOS-Default"]))
        #expect(noMaterial.json["message"] as? String == "signing material cannot be null.")
        let unknown = try await server.send(.patch, "/signing-profiles/p1")
        #expect(unknown.status == 404)
    }

    @Test("refuses a duplicate profile with ProfileAlreadyExists, even after cancel")
    func duplicateProfile() async throws {
        let server = try TestServer()
        let body = server.json(["platformId": "AWSLambda-SHA384-ECDSA"])
        let created = try await server.send(.put, "/signing-profiles/lambda_1", body: body)
        #expect(created.status == 200)
        #expect((created.json["profileVersion"] as? String)?.count == 10)
        #expect(try await server.send(.delete, "/signing-profiles/lambda_1").status == 200)
        let again = try await server.send(.put, "/signing-profiles/lambda_1", body: body)
        #expect(again.status == 400 && again.errorType == "ValidationException" && again.json["code"] as? String == "ProfileAlreadyExists")
    }

    @Test("keeps accounts apart until a permission grants the action")
    func isolation() async throws {
        let server = try TestServer()
        _ = try await server.send(.put, "/signing-profiles/shared", body: server.json(["platformId": "AWSLambda-SHA384-ECDSA"]))
        let hidden = try await server.send(.get, "/signing-profiles/shared?profileOwner=111111111111", credential: TestServer.bob)
        #expect(hidden.status == 403 && hidden.errorType == "AccessDeniedException")
        #expect(try await server.send(.get, "/signing-profiles/shared", credential: TestServer.bob).status == 404)
        let grant = server.json(["action": "signer:GetSigningProfile", "principal": "222222222222", "statementId": "bob-read"])
        let added = try await server.send(.post, "/signing-profiles/shared/permissions", body: grant)
        #expect(added.status == 200 && added.json["revisionId"] is String)
        let visible = try await server.send(.get, "/signing-profiles/shared?profileOwner=111111111111", credential: TestServer.bob)
        #expect(visible.status == 200 && visible.json["profileName"] as? String == "shared")
        let stale = try await server.send(.post, "/signing-profiles/shared/permissions",
                                          body: server.json(["action": "signer:RevokeSignature", "principal": "222222222222", "statementId": "s2", "revisionId": "stale"]))
        #expect(stale.status == 409 && stale.errorType == "ConflictException")
    }

    @Test("signs a versioned S3 object end to end, and the signature verifies")
    func signingWorkflow() async throws {
        let server = try TestServer()
        #expect(try await server.send(.put, "/firmware", service: "s3").status == 200)
        let versioning = Array("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>".utf8)
        #expect(try await server.send(.put, "/firmware?versioning", body: versioning, service: "s3").status == 200)
        let payload = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let put = try await server.send(.put, "/firmware/app.bin", body: payload, service: "s3")
        let version = try #require(put.headers[HTTPField.Name("x-amz-version-id")!])

        let key = try SigningKey.generate(.ecP256)
        let issued = try CertificateFactory.codeSigningCertificate(commonName: "t", key: key, notBefore: Date().addingTimeInterval(-60), days: 30)
        let imported = try await server.send(.post, "/", body: server.json([
            "Certificate": Data(issued.certificatePEM.utf8).base64EncodedString(), "PrivateKey": Data(key.pemRepresentation.utf8).base64EncodedString(),
        ]), service: "acm", headers: [("x-amz-target", "CertificateManager.ImportCertificate")])
        let arn = try #require(imported.json["CertificateArn"] as? String)
        let profile = try await server.send(.put, "/signing-profiles/esp32", body: server.json([
            "platformId": "AmazonFreeRTOS-Default", "signingMaterial": ["certificateArn": arn], "signingParameters": ["certname": "c.der"],
        ]))
        #expect(profile.status == 200)
        let start = try await server.send(.post, "/signing-jobs", body: server.json([
            "source": ["s3": ["bucketName": "firmware", "key": "app.bin", "version": version]],
            "destination": ["s3": ["bucketName": "firmware", "prefix": "signed/"]], "profileName": "esp32", "clientRequestToken": "t-1",
        ]))
        let jobId = try #require(start.json["jobId"] as? String)
        let repeated = try await server.send(.post, "/signing-jobs", body: server.json([
            "source": ["s3": ["bucketName": "firmware", "key": "app.bin", "version": version]],
            "destination": ["s3": ["bucketName": "firmware", "prefix": "signed/"]], "profileName": "esp32", "clientRequestToken": "t-1",
        ]))
        #expect(repeated.json["jobId"] as? String == jobId, "clientRequestToken makes StartSigningJob idempotent")
        await server.server.service.drain()
        let described = try await server.send(.get, "/signing-jobs/\(jobId)")
        #expect(described.json["status"] as? String == "Succeeded")
        let objectKey = "signed/\(jobId)"
        #expect((described.json["signedObject"] as? [String: Any]).flatMap { $0["s3"] as? [String: String] }?["key"] == objectKey)
        let signed = try await server.send(.get, "/firmware/\(objectKey)", service: "s3")
        let document = try SignedObjectDocument(decoding: Data(signed.body))
        #expect(document.payload == .embedded(Data(payload)))
        #expect(SignatureAlgorithm.sha256WithECDSA.isValidSignature(document.signature, for: payload, certificate: issued.certificate))
        let unversioned = try await server.send(.post, "/signing-jobs", body: server.json([
            "source": ["s3": ["bucketName": "firmware", "key": "app.bin", "version": "nope"]],
            "destination": ["s3": ["bucketName": "nobucket"]], "profileName": "esp32", "clientRequestToken": "t-2",
        ]))
        #expect(unversioned.status == 400)
        let deleteInUse = try await server.send(.post, "/", body: server.json(["CertificateArn": arn]), service: "acm",
                                                headers: [("x-amz-target", "CertificateManager.DeleteCertificate")])
        #expect(deleteInUse.status == 400 && deleteInUse.errorType == "ResourceInUseException")
    }

    @Test("answers S3 errors in XML with S3's codes")
    func s3Errors() async throws {
        let server = try TestServer()
        let missing = try await server.send(.get, "/nobucket/key", service: "s3")
        #expect(missing.status == 404 && missing.text.contains("<Code>NoSuchBucket</Code>"))
        let badName = try await server.send(.put, "/Bad_Name", service: "s3")
        #expect(badName.status == 400 && badName.text.contains("InvalidBucketName"))
        _ = try await server.send(.put, "/mine", service: "s3")
        let foreign = try await server.send(.get, "/mine/x", service: "s3", credential: TestServer.bob)
        #expect(foreign.status == 403 && foreign.text.contains("AccessDenied"))
        let tooBig = try await server.send(.put, "/mine/big", body: [UInt8](repeating: 1, count: (1 << 20) + 1), service: "s3")
        #expect(tooBig.status == 400 && tooBig.text.contains("EntityTooLarge"))
    }

    @Test("maps every SignerError code to its modelled HTTP status", arguments: SignerError.Code.allCases)
    func errorTable(code: SignerError.Code) {
        let expected: [SignerError.Code: Int] = [.validation: 400, .resourceNotFound: 404, .accessDenied: 403, .serviceLimitExceeded: 402,
                                                 .conflict: 409, .tooManyRequests: 429, .throttling: 429, .internalServiceError: 500,
                                                 .badRequest: 400, .notFound: 404]
        #expect(SignerErrorMapping.status(code).code == expected[code])
        let response = SignerErrorMapping.response(SignerError(code, "m", subCode: "Sub"))
        #expect(response.headers[HTTPField.Name("x-amzn-ErrorType")!] == code.rawValue)
    }
}
