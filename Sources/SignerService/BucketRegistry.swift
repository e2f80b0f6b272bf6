import Foundation
import GRDB

/// Who owns a bucket of an external object store (S3 itself has no otarig accounts): the account that created it
/// through otarig. The external store holds the objects; this registry holds only the otarig account beside each name.
public protocol BucketRegistry: Sendable {
    /// The owning account recorded for `bucket`, or nil when otarig never created it.
    func owner(of bucket: String) async throws -> String?
    /// Records `account` as the owner; false when the bucket is already recorded (for anyone).
    func record(bucket: String, owner account: String, region: String, createdAt: Date) async throws -> Bool
    /// Removes the record for `bucket` (nothing when there is none).
    func forget(bucket: String) async throws
}

/// `BucketRegistry` in the SQLite database (`bucket_owner`, migration "v3-bucket-owner"). The insert is one
/// `INSERT … ON CONFLICT DO NOTHING`, so two creators racing for one name get one `true` and one `false`.
public final class SQLiteBucketRegistry: BucketRegistry {
    private let database: SignerDatabase

    /// The registry in `database`.
    public init(database: SignerDatabase) {
        self.database = database
    }

    public func owner(of bucket: String) async throws -> String? {
        do {
            return try await database.pool.read { db in
                try String.fetchOne(db, sql: "SELECT owner FROM bucket_owner WHERE name = ?", arguments: [bucket])
            }
        } catch {
            throw StoreError("cannot read the owner of bucket \(bucket): \(error)")
        }
    }

    public func record(bucket: String, owner account: String, region: String, createdAt: Date) async throws -> Bool {
        do {
            return try await database.pool.write { db in
                try db.execute(sql: "INSERT INTO bucket_owner (name, owner, region, createdAt) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                               arguments: [bucket, account, region, createdAt.timeIntervalSince1970])
                return db.changesCount == 1
            }
        } catch {
            throw StoreError("cannot record the owner of bucket \(bucket): \(error)")
        }
    }

    public func forget(bucket: String) async throws {
        do {
            try await database.pool.write { db in
                try db.execute(sql: "DELETE FROM bucket_owner WHERE name = ?", arguments: [bucket])
            }
        } catch {
            throw StoreError("cannot forget the owner of bucket \(bucket): \(error)")
        }
    }
}

/// `BucketRegistry` in memory, for tests and one-off runs: forgotten when the process ends.
public actor InMemoryBucketRegistry: BucketRegistry {
    private var owners: [String: String] = [:]

    /// An empty registry.
    public init() {}

    public func owner(of bucket: String) async throws -> String? { owners[bucket] }

    public func record(bucket: String, owner account: String, region: String, createdAt: Date) async throws -> Bool {
        guard owners[bucket] == nil else { return false }
        owners[bucket] = account
        return true
    }

    public func forget(bucket: String) async throws { owners[bucket] = nil }
}
