import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OTAVerifier
import SigV4
import SignerAPI
import SignerClient
import SignerHTTP
import Testing

/// Carries the client's signed requests straight into the server's responder (`respond(to:body:)`): no sockets.
struct ResponderTransport: HTTPTransport {
    let responder: OtarigResponder

    func send(_ request: HTTPExchange.Request, to origin: HTTPOrigin) async throws -> HTTPExchange.Response {
        var fields = HTTPFields()
        var authority: String?
        for header in request.headers {
            if header.name == "host" { authority = header.value; continue }
            guard let name = HTTPField.Name(header.name) else { continue }
            fields.append(HTTPField(name: name, value: header.value))
        }
        let head = HTTPRequest(method: HTTPRequest.Method(request.method) ?? .get, scheme: "http", authority: authority, path: request.target,
                               headerFields: fields)
        let response = await responder.respond(to: head, body: request.body)
        let sink = Sink()
        try await response.body.write(Writer(sink: sink))
        return HTTPExchange.Response(status: response.status.code, headers: response.headers.map { ($0.name.canonicalName, $0.value) },
                                     body: sink.bytes)
    }

    final class Sink: @unchecked Sendable { var bytes: [UInt8] = [] }
    struct Writer: ResponseBodyWriter {
        let sink: Sink
        mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// A server in a temporary directory and a client that signs with one of its keys.
final class ClientFixture: @unchecked Sendable {
    static let alice = Credential(profile: "alice", accessKeyId: "AKIAALICE", secretAccessKey: "alice-secret", account: "111111111111",
                                  principal: "arn:aws:iam::111111111111:user/alice")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otarig-client-\(UUID().uuidString)")
    let client: SignerClient

    init(secret: String = alice.secretAccessKey) throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = try SignerServer(configuration: .init(dataDirectory: directory, credentials: [Self.alice]), logger: logger)
        let responder = OtarigResponder(credentials: [Self.alice], region: "us-east-1", service: server.service, buckets: server.buckets,
                                        certificates: server.certificates, logger: logger)
        // invariant: a literal http URL
        client = SignerClient(endpoint: URL(string: "http://127.0.0.1:8765")!,
                              signer: SigV4ClientSigner(accessKeyId: Self.alice.accessKeyId, secretAccessKey: secret, region: "us-east-1"),
                              transport: ResponderTransport(responder: responder))
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}

@Suite("The Signer client against the server's responder")
struct SignerClientTests {
    @Test("a profile put through the client reads back through GetSigningProfile, with its ARN in Signer's form")
    func profileRoundTrip() async throws {
        let fixture = try ClientFixture()
        let body = Array(#"{"platformId":"AWSLambda-SHA384-ECDSA","signatureValidityPeriod":{"value":5,"type":"DAYS"}}"#.utf8)
        _ = try await fixture.client.call("PUT", ["signing-profiles", "lambda_profile"], body: body, service: .signer)
        let profile = try await fixture.client.getSigningProfile(profileName: "lambda_profile", profileOwner: nil)
        #expect(profile.platformId == "AWSLambda-SHA384-ECDSA")
        #expect(ARN(profile.arn) == ARN.signer(.signingProfile(name: "lambda_profile"), region: "us-east-1", account: "111111111111"))
    }

    @Test("an S3 object put through the client reads back byte for byte through GetObject, with a key holding / and spaces")
    func objectRoundTrip() async throws {
        let fixture = try ClientFixture()
        _ = try await fixture.client.call("PUT", ["bucket-one"], service: .s3)
        let bytes: [UInt8] = Array("firmware image".utf8) + [0, 255]
        _ = try await fixture.client.call("PUT", ["bucket-one", "dir", "a b.bin"], body: bytes, service: .s3)
        #expect(try await fixture.client.getObject(bucket: "bucket-one", key: "dir/a b.bin") == bytes)
    }

    @Test("captures no signing jobs from an empty service")
    func emptyCapture() async throws {
        let fixture = try ClientFixture()
        let facts = try await SignerFactsCapture.capture(fixture.client) { _ in }
        #expect(facts.signingJobs.isEmpty && facts.profileRevocations.isEmpty)
    }

    @Test("a wrong secret is refused by the server, and the failure carries its InvalidSignatureException")
    func wrongSecret() async throws {
        let fixture = try ClientFixture(secret: "not-the-secret")
        let failure = await #expect(throws: SignerClient.Failure.self) {
            _ = try await fixture.client.listSigningJobs(maxResults: 5, nextToken: nil)
        }
        #expect(failure?.message.contains("HTTP 403") == true && failure?.message.contains("InvalidSignatureException") == true)
    }

    @Test("a missing profile is a failure that names the status and the service's message")
    func missingProfile() async throws {
        let fixture = try ClientFixture()
        let failure = await #expect(throws: SignerClient.Failure.self) {
            _ = try await fixture.client.getSigningProfile(profileName: "nope", profileOwner: nil)
        }
        #expect(failure?.message.contains("HTTP 404") == true)
    }
}
