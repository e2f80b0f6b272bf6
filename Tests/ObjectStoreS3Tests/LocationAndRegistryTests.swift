import Foundation
import ObjectStoreS3
import SignerService
import Testing

@Suite struct LocationTests {
    @Test func s3Locations() throws {
        #expect(try S3ObjectStore.parseLocation("s3://127.0.0.1:9000/").absoluteString == "http://127.0.0.1:9000/")
        #expect(try S3ObjectStore.parseLocation("s3://minio.lab:9000").absoluteString == "http://minio.lab:9000/")
        #expect(try S3ObjectStore.parseLocation("s3s://s3.example.com/").absoluteString == "https://s3.example.com/")
        #expect(try S3ObjectStore.parseLocation("https://s3.example.com:8443/").absoluteString == "https://s3.example.com:8443/")
        #expect(try S3ObjectStore.parseLocation("http://localhost:5000/").absoluteString == "http://localhost:5000/")
    }

    @Test(arguments: ["ftp://host/", "s3://", "s3://host:9000/bucket", "/tmp/objects", "s3://host/?x=1", "s3://user@host/"])
    func refusedLocations(text: String) {
        do {
            _ = try S3ObjectStore.parseLocation(text)
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.description.contains("s3://HOST:PORT/"))
            #expect(error.description.contains(text))
        }
    }
}

@Suite struct RegistryTests {
    static func registries() throws -> [(String, any BucketRegistry)] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString).sqlite").path
        return [("sqlite", SQLiteBucketRegistry(database: try SignerDatabase(path: path))), ("memory", InMemoryBucketRegistry())]
    }

    @Test func recordOwnerForget() async throws {
        for (name, registry) in try Self.registries() {
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            #expect(try await registry.owner(of: "fw") == nil, "\(name)")
            #expect(try await registry.record(bucket: "fw", owner: "111111111111", region: "us-east-1", createdAt: now), "\(name)")
            #expect(try await registry.record(bucket: "fw", owner: "222222222222", region: "us-east-1", createdAt: now) == false, "\(name)")
            #expect(try await registry.record(bucket: "fw", owner: "111111111111", region: "us-east-1", createdAt: now) == false, "\(name)")
            #expect(try await registry.owner(of: "fw") == "111111111111", "\(name)")
            try await registry.forget(bucket: "fw")
            try await registry.forget(bucket: "never-there")
            #expect(try await registry.owner(of: "fw") == nil, "\(name)")
            #expect(try await registry.record(bucket: "fw", owner: "222222222222", region: "eu-west-1", createdAt: now), "\(name)")
            #expect(try await registry.owner(of: "fw") == "222222222222", "\(name)")
        }
    }

    /// Many creators racing for one name: exactly one wins.
    @Test func concurrentRecordsHaveOneWinner() async throws {
        for (name, registry) in try Self.registries() {
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<16 {
                    group.addTask { try await registry.record(bucket: "race", owner: String(format: "%012d", index), region: "us-east-1", createdAt: Date()) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1, "\(name)")
        }
    }

    /// The records survive reopening the database (the migrations run once).
    @Test func sqliteRecordsPersist() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let registry = SQLiteBucketRegistry(database: try SignerDatabase(path: path))
            #expect(try await registry.record(bucket: "kept", owner: "111111111111", region: "us-east-1", createdAt: Date()))
        }
        let reopened = SQLiteBucketRegistry(database: try SignerDatabase(path: path))
        #expect(try await reopened.owner(of: "kept") == "111111111111")
    }
}
