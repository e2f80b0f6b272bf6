import Foundation
import PostgresNIO
import SignerService

/// `JobRateLimiter` in PostgreSQL: one token bucket per account in `job_allowance`, shared by every instance, so
/// the limit holds for the whole service however many instances there are. Each call is one statement, on the
/// database's `clock_timestamp()`.
public final class PostgresJobRateLimiter: JobRateLimiter {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    /// A first request finds a full bucket (`burst`) and takes one token. Later, the bucket is refilled by
    /// `perSecond` × the seconds since its last update, capped at `burst`, and one token is taken only when at least
    /// one is there; the row is left as it was otherwise (no row returned: refused).
    public func take(account: String, perSecond: Double, burst: Double) async throws -> Bool {
        guard burst >= 1 else { return false }
        let rows = try await database.rows("take a job token", """
            INSERT INTO job_allowance AS a (account, tokens, updated) VALUES (\(account), \(burst)::float8 - 1, clock_timestamp())
            ON CONFLICT (account) DO UPDATE
            SET tokens = LEAST(\(burst)::float8, a.tokens + GREATEST(0, EXTRACT(EPOCH FROM EXCLUDED.updated - a.updated)::float8) * \(perSecond)::float8) - 1,
                updated = EXCLUDED.updated
            WHERE LEAST(\(burst)::float8, a.tokens + GREATEST(0, EXTRACT(EPOCH FROM EXCLUDED.updated - a.updated)::float8) * \(perSecond)::float8) >= 1
            RETURNING a.tokens
            """)
        return rows.count == 1
    }

    public func refund(account: String, burst: Double) async throws {
        try await database.rows("refund a job token", """
            UPDATE job_allowance SET tokens = LEAST(\(burst)::float8, tokens + 1) WHERE account = \(account)
            """)
    }
}
