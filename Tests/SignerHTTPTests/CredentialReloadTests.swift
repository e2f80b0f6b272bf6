import Foundation
import HTTPTypes
import SigV4
import Testing
@testable import SignerHTTP

/// The shared key list an instance reloads (as PostgresCredentialStore.load would answer), counting the reloads.
final class KeyList: @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [Credential] = []
    private var failing = false
    private(set) var reloads = 0
    func add(_ credential: Credential) { lock.withLock { keys.append(credential) } }
    func fail(_ value: Bool) { lock.withLock { failing = value } }
    func load() throws -> [Credential] {
        try lock.withLock {
            reloads += 1
            if failing { throw TestError() }
            return keys
        }
    }
    var count: Int { lock.withLock { reloads } }
    struct TestError: Error {}
}

@Suite("Access keys added on another instance")
struct CredentialReloadTests {
    static let carol = Credential(profile: "carol", accessKeyId: "AKIACAROL", secretAccessKey: "carol-secret", account: "333333333333",
                                  principal: "arn:aws:iam::333333333333:user/carol")

    @Test("a request with an unknown key reloads the list once, at most once a second, and a key added elsewhere then works")
    func reloadsOnUnknownKey() async throws {
        let list = KeyList()
        let server = try TestServer(reload: { try list.load() })
        #expect(try await server.send(.get, "/signing-platforms").status == 200)
        #expect(list.count == 0, "a known key never reloads")
        let unknown = try await server.send(.get, "/signing-platforms", credential: Self.carol)
        #expect(unknown.status == 403 && unknown.errorType?.hasPrefix("UnrecognizedClientException") == true, "\(unknown.status) \(unknown.text)")
        #expect(list.count == 1)
        list.add(Self.carol)
        // Within the second: no reload, still unknown.
        #expect(try await server.send(.get, "/signing-platforms", credential: Self.carol).status == 403)
        #expect(list.count == 1)
        try await Task.sleep(for: .milliseconds(1100))
        let known = try await server.send(.get, "/signing-platforms", credential: Self.carol)
        #expect(known.status == 200, "\(known.text)")
        #expect(list.count == 2)
        #expect(try await server.send(.get, "/signing-platforms", credential: Self.carol).status == 200)
        #expect(try await server.send(.get, "/signing-platforms", credential: TestServer.bob).status == 200, "the fixed keys stay")
        #expect(list.count == 2)
    }

    @Test("a reload that fails (the database is away) answers 500 InternalServiceErrorException, which botocore retries, not 403")
    func failingReloadIsRetryable() async throws {
        let list = KeyList()
        list.fail(true)
        let server = try TestServer(reload: { try list.load() })
        let reply = try await server.send(.get, "/signing-platforms", credential: Self.carol)
        #expect(reply.status == 500 && reply.errorType?.hasPrefix("InternalServiceErrorException") == true, "\(reply.status) \(String(describing: reply.errorType))")
        list.fail(false)
        list.add(Self.carol)
        #expect(try await server.send(.get, "/signing-platforms", credential: Self.carol).status == 200, "a failed reload does not wait out the second")
    }
}
