import Foundation
import PostgresNIO
import SignerService

/// `BucketRegistry` in PostgreSQL: which account owns a bucket of the external object store, the same for every
/// instance.
public final class PostgresBucketRegistry: BucketRegistry {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func owner(of bucket: String) async throws -> String? {
        let rows = try await database.rows("read bucket owner", "SELECT owner FROM bucket_owner WHERE name = \(bucket)")
        return try rows.first?.decode(String.self)
    }

    public func record(bucket: String, owner account: String, region: String, createdAt: Date) async throws -> Bool {
        let rows = try await database.rows("record bucket owner", """
            INSERT INTO bucket_owner (name, owner, region, created_at) VALUES (\(bucket), \(account), \(region), \(createdAt.timeIntervalSince1970))
            ON CONFLICT (name) DO NOTHING RETURNING name
            """)
        return rows.count == 1
    }

    public func forget(bucket: String) async throws {
        try await database.rows("forget bucket", "DELETE FROM bucket_owner WHERE name = \(bucket)")
    }
}
