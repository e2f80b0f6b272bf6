import Foundation
import PostgresNIO
import SignerAPI
import SignerService

/// `SignerStore` over PostgreSQL, shared by several `otarig serve` instances: profiles and jobs as the JSON records
/// `SQLiteSignerStore` writes, beside the columns queries select on. Client tokens are unique per invoker in the
/// schema, so an idempotent retry that reaches another instance finds the first job. Leases are computed on the
/// database's clock (`now()`), never an instance's.
public final class PostgresSignerStore: SignerStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public var isShared: Bool { true }

    /// A lease duration as a PostgreSQL interval: whole microseconds, so the arithmetic stays exact.
    static func interval(_ lease: JobLease) -> String {
        "\(Int64((lease.duration * 1_000_000).rounded())) microseconds"
    }

    // MARK: - Profiles

    public func insertProfile(_ profile: ProfileRecord) async throws -> Bool {
        let record = try PostgresDatabase.json(profile)
        let rows = try await database.rows("insert profile \(profile.name)", """
            INSERT INTO profile (account, name, record) VALUES (\(profile.account), \(profile.name), \(record)::json)
            ON CONFLICT (account, name) DO NOTHING RETURNING name
            """)
        return rows.count == 1
    }

    public func profile(account: String, name: String) async throws -> ProfileRecord? {
        let rows = try await database.rows("read profile \(name)", """
            SELECT record::text FROM profile WHERE account = \(account) AND name = \(name)
            """)
        return try rows.first.map { try PostgresDatabase.record(ProfileRecord.self, try $0.decode(String.self)) }
    }

    public func saveProfile(_ profile: ProfileRecord) async throws {
        let record = try PostgresDatabase.json(profile)
        try await database.rows("save profile \(profile.name)", """
            UPDATE profile SET record = \(record)::json WHERE account = \(profile.account) AND name = \(profile.name)
            """)
    }

    public func profiles(account: String) async throws -> [ProfileRecord] {
        let rows = try await database.rows("list profiles", """
            SELECT record::text FROM profile WHERE account = \(account) ORDER BY name
            """)
        return try rows.map { try PostgresDatabase.record(ProfileRecord.self, try $0.decode(String.self)) }
    }

    // MARK: - Jobs

    public func insertJob(_ job: JobRecord, lease: JobLease?) async throws -> JobRecord {
        let record = try PostgresDatabase.json(job)
        let leaseOwner = lease?.owner
        let interval = lease.map(Self.interval)
        // ON CONFLICT waits for a concurrent insert of the same (invoker, token) to commit, then does nothing; the
        // SELECT that follows (a new statement, a new snapshot) sees that job.
        let inserted = try await database.rows("insert job \(job.jobId)", """
            INSERT INTO job (job_id, owner, invoker, token, status, created_at, record, lease_owner, lease_until)
            VALUES (\(job.jobId), \(job.owner), \(job.invoker), \(job.clientRequestToken), \(job.status.rawValue),
                    \(job.createdAt.timeIntervalSince1970), \(record)::json, \(leaseOwner),
                    CASE WHEN \(interval)::interval IS NULL THEN NULL ELSE now() + \(interval)::interval END)
            ON CONFLICT ON CONSTRAINT job_token DO NOTHING RETURNING job_id
            """)
        if inserted.count == 1 { return job }
        guard let token = job.clientRequestToken else {
            throw StoreError("the job \(job.jobId) was neither inserted nor found")
        }
        let existing = try await database.rows("find job by token", """
            SELECT record::text FROM job WHERE invoker = \(job.invoker) AND token = \(token)
            """)
        guard let row = existing.first else {
            throw StoreError("the job with client token \(token) was neither inserted nor found")
        }
        return try PostgresDatabase.record(JobRecord.self, try row.decode(String.self))
    }

    public func job(id: String) async throws -> JobRecord? {
        let rows = try await database.rows("read job \(id)", "SELECT record::text FROM job WHERE job_id = \(id)")
        return try rows.first.map { try PostgresDatabase.record(JobRecord.self, try $0.decode(String.self)) }
    }

    /// Read-modify-write under the row's lock (`SELECT … FOR UPDATE`), so a job finishing meanwhile keeps its outcome
    /// and two revocations cannot both succeed. The status and lease columns stay the lease holder's.
    public func revokeJob(id: String, revocation: SigningJobRevocationRecord) async throws -> Bool {
        let logger = database.logger
        return try await database.transaction("revoke job \(id)") { connection in
            let rows = try await connection.query("SELECT record::text FROM job WHERE job_id = \(id) FOR UPDATE", logger: logger).collect()
            guard let row = rows.first else { return false }
            var job = try PostgresDatabase.record(JobRecord.self, try row.decode(String.self))
            guard job.revocation == nil else { return false }
            job.revocation = revocation
            let record = try PostgresDatabase.json(job)
            try await connection.query("UPDATE job SET record = \(record)::json WHERE job_id = \(id)", logger: logger)
            return true
        }
    }

    public func jobs(visibleTo account: String) async throws -> [JobRecord] {
        let rows = try await database.rows("list jobs", """
            SELECT record::text FROM job WHERE owner = \(account) OR invoker = \(account) ORDER BY created_at DESC, job_id
            """)
        return try rows.map { try PostgresDatabase.record(JobRecord.self, try $0.decode(String.self)) }
    }

    public func finishJob(_ job: JobRecord, lease: JobLease) async throws -> Bool {
        let record = try PostgresDatabase.json(job)
        let rows = try await database.rows("finish job \(job.jobId)", """
            UPDATE job SET status = \(job.status.rawValue), record = \(record)::json, lease_owner = NULL, lease_until = NULL
            WHERE job_id = \(job.jobId) AND lease_owner = \(lease.owner) AND status = 'InProgress' RETURNING job_id
            """)
        return rows.count == 1
    }

    public func renewLeases(_ jobIds: [String], lease: JobLease) async throws -> Set<String> {
        guard !jobIds.isEmpty else { return [] }
        let interval = Self.interval(lease)
        let rows = try await database.rows("renew leases", """
            UPDATE job SET lease_until = now() + \(interval)::interval
            WHERE job_id = ANY(\(jobIds)) AND lease_owner = \(lease.owner) AND status = 'InProgress' RETURNING job_id
            """)
        return Set(try rows.map { try $0.decode(String.self) })
    }

    public func claimJobs(lease: JobLease, limit: Int, includeLive: Bool) async throws -> [JobRecord] {
        guard limit > 0 else { return [] }
        let interval = Self.interval(lease)
        // One statement is one transaction: the rows are locked (skipping those another claimer holds), re-checked
        // against the lease condition, and leased to the caller before the commit.
        let rows = try await database.rows("claim jobs", """
            WITH picked AS (
                SELECT job_id FROM job
                WHERE status = 'InProgress'
                  AND (\(includeLive) OR lease_until IS NULL OR lease_until <= now())
                ORDER BY created_at, job_id
                LIMIT \(Int64(limit))
                FOR UPDATE SKIP LOCKED)
            UPDATE job SET lease_owner = \(lease.owner), lease_until = now() + \(interval)::interval
            FROM picked WHERE job.job_id = picked.job_id
            RETURNING job.record::text, job.created_at
            """)
        let decoded = try rows.map { row -> (JobRecord, Double) in
            let (text, created) = try row.decode((String, Double).self)
            return (try PostgresDatabase.record(JobRecord.self, text), created)
        }
        return decoded.sorted { ($0.1, $0.0.jobId) < ($1.1, $1.0.jobId) }.map(\.0)
    }
}
