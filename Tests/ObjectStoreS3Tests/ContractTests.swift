import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ObjectStoreS3
import SignerService
import Testing

/// The ObjectStore contract (DiskObjectStore is the reference behaviour) run through `S3ObjectStore` against two
/// independent S3 implementations, each started by the test and stopped whatever happens.
@Suite struct ContractTests {
    static let alice = "111111111111"
    static let bob = "222222222222"

    /// S3Error's code, or nil for any other outcome.
    static func code(_ body: () async throws -> Void) async -> S3Error.Code? {
        do {
            try await body()
            return nil
        } catch let error as S3Error {
            return error.code
        } catch {
            return nil
        }
    }

    @Test(arguments: Peer.allCases)
    func versionedBucket(peer: Peer) async throws {
        let server = try await PeerServer.start(peer)
        defer { server.stop() }
        let store = server.store(registry: InMemoryBucketRegistry())
        let now = Date()

        try await store.createBucket(name: "firmware", owner: Self.alice, region: "us-east-1", now: now)
        let created = try #require(try await store.bucket("firmware"))
        #expect(created.owner == Self.alice)
        #expect(created.versioning == nil)
        #expect(await Self.code { try await store.createBucket(name: "firmware", owner: Self.alice, region: "us-east-1", now: now) } == .bucketAlreadyOwnedByYou)
        #expect(await Self.code { try await store.createBucket(name: "firmware", owner: Self.bob, region: "us-east-1", now: now) } == .bucketAlreadyExists)

        try await store.setVersioning(bucket: "firmware", status: .enabled)
        #expect(try await store.bucket("firmware")?.versioning == .enabled)

        let one = Data("hello".utf8)
        let two = Data("hello, world".utf8)
        let v1 = try await store.put(bucket: "firmware", key: "app/image.bin", data: one, contentType: "application/octet-stream", now: now)
        let v2 = try await store.put(bucket: "firmware", key: "app/image.bin", data: two, contentType: nil, now: now)
        #expect(v1.versionId != "null" && v2.versionId != "null" && v1.versionId != v2.versionId)
        // MD5("hello") and MD5("hello, world"), as `printf hello | md5sum` prints them.
        #expect(v1.etag == "5d41402abc4b2a76b9719d911017c592")
        #expect(v2.etag == "e4d7f1b4ed2e42d15898f4b27b019da4")

        let (got1, data1) = try await store.get(bucket: "firmware", key: "app/image.bin", versionId: v1.versionId)
        #expect(data1 == one)
        #expect(got1.versionId == v1.versionId && got1.size == 5 && got1.etag == v1.etag && got1.isLatest == false)
        #expect(got1.contentType == "application/octet-stream")
        let (got2, data2) = try await store.get(bucket: "firmware", key: "app/image.bin", versionId: v2.versionId)
        #expect(data2 == two && got2.isLatest)
        let (latest, latestData) = try await store.get(bucket: "firmware", key: "app/image.bin", versionId: nil)
        #expect(latestData == two && latest.versionId == v2.versionId && latest.isLatest)
        let headed = try await store.head(bucket: "firmware", key: "app/image.bin", versionId: v1.versionId)
        #expect(headed.size == 5 && headed.versionId == v1.versionId && headed.isLatest == false && headed.isDeleteMarker == false)

        _ = try await store.put(bucket: "firmware", key: "app/other.bin", data: Data([0, 1, 2]), contentType: nil, now: now)
        _ = try await store.put(bucket: "firmware", key: "docs/readme", data: Data(), contentType: "text/plain", now: now)
        #expect(try await store.list(bucket: "firmware", prefix: "app/").map(\.key) == ["app/image.bin", "app/other.bin"])
        #expect(try await store.list(bucket: "firmware", prefix: "").map(\.key) == ["app/image.bin", "app/other.bin", "docs/readme"])
        #expect(try await store.list(bucket: "firmware", prefix: "docs/").map(\.size) == [0])
        #expect(try await store.get(bucket: "firmware", key: "docs/readme", versionId: nil).1 == Data())

        let history = try await store.versions(bucket: "firmware", prefix: "app/image")
        #expect(history.map(\.versionId) == [v2.versionId, v1.versionId])
        #expect(history.map(\.isLatest) == [true, false])

        // A delete without a version adds a delete marker: the key is gone, its versions stay.
        let marker = try #require(try await store.delete(bucket: "firmware", key: "app/image.bin", versionId: nil, now: now))
        #expect(marker.isDeleteMarker && marker.versionId != "null")
        #expect(await Self.code { _ = try await store.get(bucket: "firmware", key: "app/image.bin", versionId: nil) } == .noSuchKey)
        #expect(await Self.code { _ = try await store.head(bucket: "firmware", key: "app/image.bin", versionId: nil) } == .noSuchKey)
        #expect(await Self.code { _ = try await store.get(bucket: "firmware", key: "app/image.bin", versionId: marker.versionId) } == .methodNotAllowed)
        let headedMarker = try await store.head(bucket: "firmware", key: "app/image.bin", versionId: marker.versionId)
        #expect(headedMarker.isDeleteMarker && headedMarker.isLatest)
        #expect(try await store.list(bucket: "firmware", prefix: "app/").map(\.key) == ["app/other.bin"])
        let afterDelete = try await store.versions(bucket: "firmware", prefix: "app/image")
        #expect(afterDelete.map(\.versionId) == [marker.versionId, v2.versionId, v1.versionId])
        #expect(afterDelete.map(\.isDeleteMarker) == [true, false, false])
        #expect(afterDelete.map(\.isLatest) == [true, false, false])
        #expect(try await store.get(bucket: "firmware", key: "app/image.bin", versionId: v1.versionId).1 == one)

        // Deleting the marker brings the object back; deleting a version removes it for good.
        let removedMarker = try await store.delete(bucket: "firmware", key: "app/image.bin", versionId: marker.versionId, now: now)
        #expect(removedMarker?.isDeleteMarker == true && removedMarker?.versionId == marker.versionId)
        #expect(try await store.get(bucket: "firmware", key: "app/image.bin", versionId: nil).1 == two)
        let removed = try await store.delete(bucket: "firmware", key: "app/image.bin", versionId: v1.versionId, now: now)
        #expect(removed?.versionId == v1.versionId && removed?.isDeleteMarker == false)
        #expect(try await store.versions(bucket: "firmware", prefix: "app/image").map(\.versionId) == [v2.versionId])

        // A version that is not there.
        let missing = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
        #expect(await Self.code { _ = try await store.get(bucket: "firmware", key: "app/image.bin", versionId: missing) } == .noSuchVersion)
        #expect(await Self.code { _ = try await store.head(bucket: "firmware", key: "app/image.bin", versionId: missing) } == .noSuchVersion)
        #expect(await Self.code { _ = try await store.get(bucket: "firmware", key: "app/nothing.bin", versionId: nil) } == .noSuchKey)
        #expect(try await store.delete(bucket: "firmware", key: "app/image.bin", versionId: missing, now: now) == nil)

        try await store.checkReachable()
        let listed = try await store.buckets()
        #expect(listed.map(\.name) == ["firmware"])
        #expect(listed.first?.owner == Self.alice && listed.first?.versioning == .enabled)
    }

    @Test(arguments: Peer.allCases)
    func missingAndUnversionedBuckets(peer: Peer) async throws {
        let server = try await PeerServer.start(peer)
        defer { server.stop() }
        let registry = InMemoryBucketRegistry()
        let store = server.store(registry: registry)
        let now = Date()

        #expect(try await store.bucket("nowhere") == nil)
        #expect(await Self.code { _ = try await store.get(bucket: "nowhere", key: "k", versionId: nil) } == .noSuchBucket)
        #expect(await Self.code { _ = try await store.head(bucket: "nowhere", key: "k", versionId: nil) } == .noSuchBucket)
        #expect(await Self.code { _ = try await store.put(bucket: "nowhere", key: "k", data: Data([1]), contentType: nil, now: now) } == .noSuchBucket)
        #expect(await Self.code { _ = try await store.list(bucket: "nowhere", prefix: "") } == .noSuchBucket)
        #expect(await Self.code { _ = try await store.versions(bucket: "nowhere", prefix: "") } == .noSuchBucket)
        #expect(await Self.code { try await store.setVersioning(bucket: "nowhere", status: .enabled) } == .noSuchBucket)
        #expect(await Self.code { _ = try await store.delete(bucket: "nowhere", key: "k", versionId: nil, now: now) } == .noSuchBucket)

        // Without versioning a put replaces the "null" version and a delete leaves no marker.
        try await store.createBucket(name: "plain", owner: Self.bob, region: "us-east-1", now: now)
        let first = try await store.put(bucket: "plain", key: "k", data: Data("a".utf8), contentType: nil, now: now)
        let second = try await store.put(bucket: "plain", key: "k", data: Data("b".utf8), contentType: nil, now: now)
        #expect(first.versionId == "null" && second.versionId == "null")
        let (got, data) = try await store.get(bucket: "plain", key: "k", versionId: nil)
        #expect(data == Data("b".utf8) && got.versionId == "null")
        #expect(try await store.bucket("plain")?.versioning == nil)
        #expect(try await store.bucket("plain")?.owner == Self.bob)
        #expect(try await store.delete(bucket: "plain", key: "k", versionId: nil, now: now) == nil)
        #expect(await Self.code { _ = try await store.get(bucket: "plain", key: "k", versionId: nil) } == .noSuchKey)

        // Suspended: GetBucketVersioning's answer reaches BucketInfo as .suspended (StartSigningJob refuses it).
        try await store.setVersioning(bucket: "plain", status: .enabled)
        try await store.setVersioning(bucket: "plain", status: .suspended)
        #expect(try await store.bucket("plain")?.versioning == .suspended)

        // A bucket otarig did not create (another registry made it) belongs to the default owner.
        let outsider = server.store(registry: InMemoryBucketRegistry())
        try await outsider.createBucket(name: "made-elsewhere", owner: Self.bob, region: "us-east-1", now: now)
        #expect(try await store.bucket("made-elsewhere")?.owner == Self.alice)
        #expect(await Self.code { try await store.createBucket(name: "made-elsewhere", owner: Self.bob, region: "us-east-1", now: now) } == .bucketAlreadyExists)
        #expect(await Self.code { try await store.createBucket(name: "made-elsewhere", owner: Self.alice, region: "us-east-1", now: now) } == .bucketAlreadyOwnedByYou)
    }

    /// Listings follow continuation tokens and version markers (a page size of 2 over 5 keys × 2 versions).
    @Test(arguments: Peer.allCases)
    func pagination(peer: Peer) async throws {
        let server = try await PeerServer.start(peer)
        defer { server.stop() }
        let store = server.store(registry: InMemoryBucketRegistry(), pageSize: 2)
        let now = Date()
        try await store.createBucket(name: "paged", owner: Self.alice, region: "us-east-1", now: now)
        try await store.setVersioning(bucket: "paged", status: .enabled)
        var ids: [String: [String]] = [:]
        for round in 0..<2 {
            for index in 0..<5 {
                let key = "fw/\(index)"
                let version = try await store.put(bucket: "paged", key: key, data: Data("\(key) round \(round)".utf8), contentType: nil, now: now)
                ids[key, default: []].insert(version.versionId, at: 0)
            }
        }
        _ = try await store.put(bucket: "paged", key: "other", data: Data([1]), contentType: nil, now: now)
        let keys = (0..<5).map { "fw/\($0)" }
        #expect(try await store.list(bucket: "paged", prefix: "fw/").map(\.key) == keys)
        #expect(try await store.list(bucket: "paged", prefix: "").count == 6)
        let versions = try await store.versions(bucket: "paged", prefix: "fw/")
        #expect(versions.map(\.key) == keys.flatMap { [$0, $0] })
        #expect(versions.map(\.versionId) == keys.flatMap { ids[$0] ?? [] })
        #expect(versions.map(\.isLatest) == keys.flatMap { _ in [true, false] })
    }

    /// A refusal of otarig's own credentials is the service's configuration, not the caller's: InternalError naming the store.
    @Test("stream passes a 3 MiB object on in several chunks, equal to what was put; a missing version throws before any byte",
          arguments: Peer.allCases)
    func streaming(peer: Peer) async throws {
        let server = try await PeerServer.start(peer)
        defer { server.stop() }
        let store = server.store(registry: InMemoryBucketRegistry())
        try await store.createBucket(name: "big", owner: Self.alice, region: "us-east-1", now: Date())
        try await store.setVersioning(bucket: "big", status: .enabled)
        let payload = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
        let put = try await store.put(bucket: "big", key: "image.bin", data: payload, contentType: nil, now: Date())
        let (version, chunks) = try await store.stream(bucket: "big", key: "image.bin", versionId: put.versionId)
        #expect(version.size == payload.count && version.versionId == put.versionId && version.etag == put.etag)
        var received = Data()
        var count = 0
        for try await chunk in chunks {
            received.append(chunk)
            count += 1
        }
        #expect(received == payload)
        #expect(count > 1, "the body arrived in \(count) chunk(s): it was buffered, not streamed")
        #expect(await Self.code { _ = try await store.stream(bucket: "big", key: "image.bin", versionId: "no-such-version-id") } == .noSuchVersion)
        #expect(await Self.code { _ = try await store.stream(bucket: "big", key: "absent.bin", versionId: nil) } == .noSuchKey)
    }

    @Test func wrongCredentialsAreTheServicesProblem() async throws {
        let server = try await PeerServer.start(.otarig)
        defer { server.stop() }
        let store = server.store(registry: InMemoryBucketRegistry(), secret: "not/the/secret")
        do {
            _ = try await store.bucket("anything")
            Issue.record("a wrong secret was accepted")
        } catch let error as S3Error {
            #expect(error.code == .internalError)
            #expect(error.message.contains(server.endpoint.absoluteString))
            #expect(error.message.contains("credentials"))
        }
    }

    /// Nothing listens: a StoreError that names the endpoint.
    @Test func unreachableStore() async throws {
        let port = try PeerServer.freePort()
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let store = S3ObjectStore(endpoint: URL(string: "http://127.0.0.1:\(port)/")!, accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret",
                                  region: "us-east-1", registry: InMemoryBucketRegistry(), defaultOwner: Self.alice, httpClient: client,
                                  logger: Logger(label: "test.s3"), timeout: .seconds(10))
        await #expect(throws: StoreError.self) { try await store.checkReachable() }
        do {
            _ = try await store.bucket("firmware")
            Issue.record("a store on a closed port answered")
        } catch let error as StoreError {
            #expect(error.message.hasPrefix("the object store at http://127.0.0.1:\(port)/ cannot be reached: "))
        } catch {
            Issue.record("expected a StoreError, got \(error)")
        }
        try await client.shutdown()
    }
}
