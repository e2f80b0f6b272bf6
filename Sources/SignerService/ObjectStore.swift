import Crypto
import Foundation
import GRDB
import SignerAPI

/// An S3 error: the S3 error code (`NoSuchBucket`) and a message. `SignerHTTP` maps each code to its HTTP status in
/// one exhaustive table, so a new code cannot fall through to a default.
public struct S3Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// The S3 error codes this server answers with (Amazon S3 API reference, "List of error codes").
    public enum Code: String, Sendable, CaseIterable {
        case accessDenied = "AccessDenied"
        case authorizationHeaderMalformed = "AuthorizationHeaderMalformed"
        case badDigest = "BadDigest"
        case bucketAlreadyExists = "BucketAlreadyExists"
        case bucketAlreadyOwnedByYou = "BucketAlreadyOwnedByYou"
        case bucketNotEmpty = "BucketNotEmpty"
        case entityTooLarge = "EntityTooLarge"
        case internalError = "InternalError"
        case invalidAccessKeyId = "InvalidAccessKeyId"
        case invalidBucketName = "InvalidBucketName"
        case invalidRange = "InvalidRange"
        case keyTooLongError = "KeyTooLongError"
        case malformedXML = "MalformedXML"
        case methodNotAllowed = "MethodNotAllowed"
        case missingSecurityHeader = "MissingSecurityHeader"
        case noSuchBucket = "NoSuchBucket"
        case noSuchKey = "NoSuchKey"
        case noSuchVersion = "NoSuchVersion"
        case notImplemented = "NotImplemented"
        case requestTimeTooSkewed = "RequestTimeTooSkewed"
        case signatureDoesNotMatch = "SignatureDoesNotMatch"
    }

    /// The error code.
    public var code: Code
    /// What to tell the caller.
    public var message: String
    /// The delete marker the answer is about (NoSuchKey for a key whose latest version is one, MethodNotAllowed for a
    /// GET of one): S3 then sends `x-amz-delete-marker: true` and the marker's `x-amz-version-id`.
    public var deleteMarkerVersionId: String?
    /// An error with `code` and `message`.
    public init(_ code: Code, _ message: String, deleteMarkerVersionId: String? = nil) {
        self.code = code
        self.message = message
        self.deleteMarkerVersionId = deleteMarkerVersionId
    }
    /// `Code: message`.
    public var description: String { "\(code.rawValue): \(message)" }

    /// `NoSuchBucket` for `name`.
    public static func noSuchBucket(_ name: String) -> S3Error { S3Error(.noSuchBucket, "The specified bucket does not exist: \(name)") }
}

/// `Enabled` / `Suspended`, or nil for a bucket that never had versioning.
public enum VersioningStatus: String, Sendable, Codable {
    case enabled = "Enabled"
    case suspended = "Suspended"
}

/// A bucket.
public struct BucketInfo: Sendable, Equatable {
    public var name: String
    public var owner: String
    public var region: String
    public var createdAt: Date
    public var versioning: VersioningStatus?

    /// A bucket from its parts (for `ObjectStore` implementations in other modules).
    public init(name: String, owner: String, region: String, createdAt: Date, versioning: VersioningStatus?) {
        self.name = name
        self.owner = owner
        self.region = region
        self.createdAt = createdAt
        self.versioning = versioning
    }
}

/// One version of an object (or a delete marker).
public struct ObjectVersion: Sendable, Equatable {
    public var bucket: String
    public var key: String
    /// `null` in a bucket that never had versioning, as S3 says it.
    public var versionId: String
    public var size: Int
    /// The MD5 of the bytes in hex, without quotes.
    public var etag: String
    public var lastModified: Date
    public var contentType: String?
    public var isDeleteMarker: Bool
    public var isLatest: Bool

    /// A version from its parts (for `ObjectStore` implementations in other modules).
    public init(bucket: String, key: String, versionId: String, size: Int, etag: String, lastModified: Date, contentType: String?,
                isDeleteMarker: Bool, isLatest: Bool) {
        self.bucket = bucket
        self.key = key
        self.versionId = versionId
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.isDeleteMarker = isDeleteMarker
        self.isLatest = isLatest
    }
}

/// Versioned buckets (the S3 subset signing needs).
public protocol ObjectStore: Sendable {
    func createBucket(name: String, owner: String, region: String, now: Date) async throws
    func bucket(_ name: String) async throws -> BucketInfo?
    func buckets() async throws -> [BucketInfo]
    func setVersioning(bucket: String, status: VersioningStatus) async throws
    /// Stores a new version (or replaces the `null` version when versioning is off or suspended).
    func put(bucket: String, key: String, data: Data, contentType: String?, now: Date) async throws -> ObjectVersion
    /// The latest version, or the named one; throws NoSuchKey / NoSuchVersion.
    func get(bucket: String, key: String, versionId: String?) async throws -> (ObjectVersion, Data)
    func head(bucket: String, key: String, versionId: String?) async throws -> ObjectVersion
    /// The latest version, or the named one, with its bytes as they arrive, so a large object is never held whole
    /// (GetObject without a range). Throws as `get` does before the first byte.
    func stream(bucket: String, key: String, versionId: String?) async throws -> (ObjectVersion, AsyncThrowingStream<Data, any Error>)
    /// The latest live version of each key under `prefix`, by key.
    func list(bucket: String, prefix: String) async throws -> [ObjectVersion]
    /// Every version and delete marker under `prefix`, by key then newest first.
    func versions(bucket: String, prefix: String) async throws -> [ObjectVersion]
    /// Deletes a version, or (without one) adds a delete marker in a versioned bucket; returns the marker or the
    /// deleted version.
    func delete(bucket: String, key: String, versionId: String?, now: Date) async throws -> ObjectVersion?
}

extension ObjectStore {
    /// `get`'s bytes as one chunk: a store whose objects are local has nothing to stream.
    public func stream(bucket: String, key: String, versionId: String?) async throws -> (ObjectVersion, AsyncThrowingStream<Data, any Error>) {
        let (version, data) = try await get(bucket: bucket, key: key, versionId: versionId)
        return (version, AsyncThrowingStream { continuation in
            continuation.yield(data)
            continuation.finish()
        })
    }
}

/// `ObjectStore` on disk: bytes in files named by a fresh id under `directory`, the index in the SQLite database.
/// A file is complete and synced before its row is committed, so a crash leaves at worst an unreferenced file.
public final class DiskObjectStore: ObjectStore {
    private let database: SignerDatabase
    private let directory: URL

    public init(database: SignerDatabase, directory: URL) throws {
        self.database = database
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError("cannot create the object directory \(directory.path): \(error.localizedDescription)")
        }
    }

    public func createBucket(name: String, owner: String, region: String, now: Date) async throws {
        try await database.pool.write { db in
            if let existingOwner = try String.fetchOne(db, sql: "SELECT owner FROM bucket WHERE name = ?", arguments: [name]) {
                if existingOwner == owner {
                    throw S3Error(.bucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it.")
                }
                throw S3Error(.bucketAlreadyExists, "The requested bucket name is not available.")
            }
            try db.execute(sql: "INSERT INTO bucket (name, owner, region, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [name, owner, region, now.timeIntervalSince1970])
        }
    }

    private static func bucket(from row: Row) -> BucketInfo {
        BucketInfo(name: row["name"], owner: row["owner"], region: row["region"],
                   createdAt: Date(timeIntervalSince1970: row["createdAt"]),
                   versioning: (row["versioning"] as String?).flatMap(VersioningStatus.init(rawValue:)))
    }

    public func bucket(_ name: String) async throws -> BucketInfo? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM bucket WHERE name = ?", arguments: [name]).map(Self.bucket(from:))
        }
    }

    public func buckets() async throws -> [BucketInfo] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM bucket ORDER BY name").map(Self.bucket(from:))
        }
    }

    public func setVersioning(bucket: String, status: VersioningStatus) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE bucket SET versioning = ? WHERE name = ?", arguments: [status.rawValue, bucket])
            guard db.changesCount == 1 else { throw S3Error.noSuchBucket(bucket) }
        }
    }

    private static func version(from row: Row, latestSeq: Int64?) -> ObjectVersion {
        ObjectVersion(bucket: row["bucket"], key: row["key"], versionId: row["versionId"], size: row["size"], etag: row["etag"],
                      lastModified: Date(timeIntervalSince1970: row["lastModified"]), contentType: row["contentType"],
                      isDeleteMarker: row["deleteMarker"], isLatest: latestSeq.map { $0 == row["seq"] as Int64 } ?? true)
    }

    private static func newVersionId() -> String {
        // 32 URL-safe characters, like S3's opaque version ids.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._")
        return String((0..<32).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    public func put(bucket: String, key: String, data: Data, contentType: String?, now: Date) async throws -> ObjectVersion {
        guard let info = try await self.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        let file = UUID().uuidString.lowercased()
        try DirectoryKeyStore.write(data, to: directory.appendingPathComponent(file), mode: 0o644)
        let etag = HexEncoding.lowercase(Insecure.MD5.hash(data: data))
        let versionId = info.versioning == .enabled ? Self.newVersionId() : "null"
        let replaced: String? = try await database.pool.write { db in
            var replacedFile: String?
            if versionId == "null" {
                replacedFile = try String.fetchOne(db, sql: "SELECT file FROM object WHERE bucket = ? AND key = ? AND versionId = 'null'", arguments: [bucket, key])
                try db.execute(sql: "DELETE FROM object WHERE bucket = ? AND key = ? AND versionId = 'null'", arguments: [bucket, key])
            }
            let seq = (try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM object") ?? 0) + 1
            try db.execute(sql: """
                INSERT INTO object (bucket, key, versionId, seq, size, etag, lastModified, contentType, deleteMarker, file)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
                """, arguments: [bucket, key, versionId, seq, data.count, etag, now.timeIntervalSince1970, contentType, file])
            return replacedFile
        }
        if let replaced { try? FileManager.default.removeItem(at: directory.appendingPathComponent(replaced)) }
        return ObjectVersion(bucket: bucket, key: key, versionId: versionId, size: data.count, etag: etag, lastModified: now,
                             contentType: contentType, isDeleteMarker: false, isLatest: true)
    }

    /// The version asked for, with its data file's name.
    private func find(bucket: String, key: String, versionId: String?) async throws -> (ObjectVersion, String?) {
        guard try await self.bucket(bucket) != nil else { throw S3Error.noSuchBucket(bucket) }
        return try await database.pool.read { db -> (ObjectVersion, String?) in
            let latest = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM object WHERE bucket = ? AND key = ?", arguments: [bucket, key])
            if let versionId {
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM object WHERE bucket = ? AND key = ? AND versionId = ?",
                                                 arguments: [bucket, key, versionId]) else {
                    throw S3Error(.noSuchVersion, "The specified version does not exist.")
                }
                return (Self.version(from: row, latestSeq: latest), row["file"])
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM object WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1",
                                             arguments: [bucket, key]) else {
                throw S3Error(.noSuchKey, "The specified key does not exist.")
            }
            guard !(row["deleteMarker"] as Bool) else {
                throw S3Error(.noSuchKey, "The specified key does not exist.", deleteMarkerVersionId: row["versionId"])
            }
            return (Self.version(from: row, latestSeq: latest), row["file"])
        }
    }

    public func get(bucket: String, key: String, versionId: String?) async throws -> (ObjectVersion, Data) {
        let (version, file) = try await find(bucket: bucket, key: key, versionId: versionId)
        guard !version.isDeleteMarker, let file else {
            throw S3Error(.methodNotAllowed, "The specified method is not allowed against this resource.",
                          deleteMarkerVersionId: version.isDeleteMarker ? version.versionId : nil)
        }
        let data: Data
        do {
            data = try Data(contentsOf: directory.appendingPathComponent(file))
        } catch {
            throw StoreError("object \(bucket)/\(key) version \(version.versionId) is missing its data file \(file)")
        }
        return (version, data)
    }

    public func head(bucket: String, key: String, versionId: String?) async throws -> ObjectVersion {
        try await find(bucket: bucket, key: key, versionId: versionId).0
    }

    public func list(bucket: String, prefix: String) async throws -> [ObjectVersion] {
        guard try await self.bucket(bucket) != nil else { throw S3Error.noSuchBucket(bucket) }
        return try await database.pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT o.* FROM object o
                JOIN (SELECT key, MAX(seq) AS seq FROM object WHERE bucket = ? GROUP BY key) latest
                  ON o.key = latest.key AND o.seq = latest.seq
                WHERE o.bucket = ? AND o.deleteMarker = 0 AND substr(o.key, 1, ?) = ?
                ORDER BY o.key
                """, arguments: [bucket, bucket, prefix.count, prefix])
            return rows.map { Self.version(from: $0, latestSeq: nil) }
        }
    }

    public func versions(bucket: String, prefix: String) async throws -> [ObjectVersion] {
        guard try await self.bucket(bucket) != nil else { throw S3Error.noSuchBucket(bucket) }
        return try await database.pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT o.*, (SELECT MAX(seq) FROM object i WHERE i.bucket = o.bucket AND i.key = o.key) AS latest FROM object o
                WHERE o.bucket = ? AND substr(o.key, 1, ?) = ? ORDER BY o.key, o.seq DESC
                """, arguments: [bucket, prefix.count, prefix])
            return rows.map { Self.version(from: $0, latestSeq: $0["latest"]) }
        }
    }

    public func delete(bucket: String, key: String, versionId: String?, now: Date) async throws -> ObjectVersion? {
        guard let info = try await self.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        if let versionId {
            let removed: (ObjectVersion, String?)? = try await database.pool.write { db -> (ObjectVersion, String?)? in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM object WHERE bucket = ? AND key = ? AND versionId = ?", arguments: [bucket, key, versionId]) else {
                    return nil
                }
                try db.execute(sql: "DELETE FROM object WHERE bucket = ? AND key = ? AND versionId = ?", arguments: [bucket, key, versionId])
                return (Self.version(from: row, latestSeq: nil), row["file"])
            }
            guard let removed else { return nil }
            if let file = removed.1 { try? FileManager.default.removeItem(at: directory.appendingPathComponent(file)) }
            return removed.0
        }
        if info.versioning == nil {
            let file: String? = try await database.pool.write { db in
                let file = try String.fetchOne(db, sql: "SELECT file FROM object WHERE bucket = ? AND key = ? AND versionId = 'null'", arguments: [bucket, key])
                try db.execute(sql: "DELETE FROM object WHERE bucket = ? AND key = ?", arguments: [bucket, key])
                return file
            }
            if let file { try? FileManager.default.removeItem(at: directory.appendingPathComponent(file)) }
            return nil
        }
        let markerId = info.versioning == .enabled ? Self.newVersionId() : "null"
        try await database.pool.write { db in
            if markerId == "null" {
                try db.execute(sql: "DELETE FROM object WHERE bucket = ? AND key = ? AND versionId = 'null'", arguments: [bucket, key])
            }
            let seq = (try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM object") ?? 0) + 1
            try db.execute(sql: """
                INSERT INTO object (bucket, key, versionId, seq, size, etag, lastModified, contentType, deleteMarker, file)
                VALUES (?, ?, ?, ?, 0, '', ?, NULL, 1, NULL)
                """, arguments: [bucket, key, markerId, seq, now.timeIntervalSince1970])
        }
        return ObjectVersion(bucket: bucket, key: key, versionId: markerId, size: 0, etag: "", lastModified: now, contentType: nil,
                             isDeleteMarker: true, isLatest: true)
    }
}
