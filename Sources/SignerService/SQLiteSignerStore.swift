import Foundation
import GRDB
import SignerAPI

/// A lease on an `InProgress` job: the instance that holds it runs it, renewing it while it works; once it expires
/// (the instance died) another instance may claim the job. Lease times are on the store's clock, never an instance's.
public struct JobLease: Sendable, Equatable {
    /// The instance that holds the lease (a fresh id per process).
    public var owner: String
    /// How long a lease lasts from its last renewal, in seconds.
    public var duration: TimeInterval
    public init(owner: String, duration: TimeInterval) {
        self.owner = owner
        self.duration = duration
    }
}

/// Profiles and jobs, kept by `SignerService`.
public protocol SignerStore: Sendable {
    /// Inserts a profile; false when the account already has a profile of that name (in any status).
    func insertProfile(_ profile: ProfileRecord) async throws -> Bool
    func profile(account: String, name: String) async throws -> ProfileRecord?
    func saveProfile(_ profile: ProfileRecord) async throws
    /// The account's profiles, ordered by name.
    func profiles(account: String) async throws -> [ProfileRecord]
    /// Inserts a job (leased to `lease` when given, for a job that starts `InProgress`), or returns the job the invoker
    /// already started with the same client token.
    func insertJob(_ job: JobRecord, lease: JobLease?) async throws -> JobRecord
    func job(id: String) async throws -> JobRecord?
    /// Records a job's revocation, read-modify-write in one transaction (a job finishing meanwhile keeps its outcome);
    /// false when the job does not exist or is already revoked.
    func revokeJob(id: String, revocation: SigningJobRevocationRecord) async throws -> Bool
    /// Records a leased job's outcome and clears its lease, only while `lease.owner` holds it; false (nothing written)
    /// when another instance has taken the job over.
    func finishJob(_ job: JobRecord, lease: JobLease) async throws -> Bool
    /// Extends `lease.owner`'s leases on `jobIds` to now + `lease.duration`; returns the ids it still holds.
    func renewLeases(_ jobIds: [String], lease: JobLease) async throws -> Set<String>
    /// Claims up to `limit` `InProgress` jobs whose lease has expired or that have none (with `includeLive`, any
    /// `InProgress` job: a single-instance store at start-up) for `lease.owner`, oldest first.
    func claimJobs(lease: JobLease, limit: Int, includeLive: Bool) async throws -> [JobRecord]
    /// Jobs an account owns or invoked, newest first.
    func jobs(visibleTo account: String) async throws -> [JobRecord]
    /// Whether several instances may share this store at once.
    var isShared: Bool { get }
}

/// The one SQLite database of a data directory, in WAL mode. A committed transaction survives `kill -9`.
public final class SignerDatabase: Sendable {
    public let pool: DatabasePool

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "otarig"
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError("cannot open the database \(path): \(error)")
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE profile (account TEXT NOT NULL, name TEXT NOT NULL, record BLOB NOT NULL, PRIMARY KEY (account, name));
                CREATE TABLE job (jobId TEXT PRIMARY KEY, owner TEXT NOT NULL, invoker TEXT NOT NULL, token TEXT,
                                  status TEXT NOT NULL, createdAt REAL NOT NULL, record BLOB NOT NULL);
                CREATE UNIQUE INDEX job_token ON job (invoker, token) WHERE token IS NOT NULL;
                CREATE INDEX job_owner ON job (owner, createdAt);
                CREATE INDEX job_invoker ON job (invoker, createdAt);
                CREATE INDEX job_status ON job (status);
                CREATE TABLE bucket (name TEXT PRIMARY KEY, owner TEXT NOT NULL, region TEXT NOT NULL, createdAt REAL NOT NULL,
                                     versioning TEXT);
                CREATE TABLE object (bucket TEXT NOT NULL, key TEXT NOT NULL, versionId TEXT NOT NULL, seq INTEGER NOT NULL,
                                     size INTEGER NOT NULL, etag TEXT NOT NULL, lastModified REAL NOT NULL, contentType TEXT,
                                     deleteMarker INTEGER NOT NULL, file TEXT, PRIMARY KEY (bucket, key, versionId));
                CREATE INDEX object_latest ON object (bucket, key, seq);
                """)
        }
        migrator.registerMigration("v2-leases") { db in
            try db.execute(sql: """
                ALTER TABLE job ADD COLUMN leaseOwner TEXT;
                ALTER TABLE job ADD COLUMN leaseUntil REAL;
                """)
        }
        // Who owns each bucket of an external S3-compatible store (`SQLiteBucketRegistry`).
        migrator.registerMigration("v3-bucket-owner") { db in
            try db.execute(sql: """
                CREATE TABLE bucket_owner (name TEXT PRIMARY KEY, owner TEXT NOT NULL, region TEXT NOT NULL, createdAt REAL NOT NULL);
                """)
        }
        do {
            try migrator.migrate(pool)
        } catch {
            throw StoreError("cannot prepare the database \(path): \(error)")
        }
    }
}

/// `SignerStore` over SQLite: one row per profile and job, the record as JSON beside the indexed columns.
public final class SQLiteSignerStore: SignerStore {
    private let database: SignerDatabase

    public init(database: SignerDatabase) {
        self.database = database
    }

    static var encoder: JSONEncoder { RecordCoding.encoder }
    static var decoder: JSONDecoder { RecordCoding.decoder }

    public func insertProfile(_ profile: ProfileRecord) async throws -> Bool {
        let record = try Self.encoder.encode(profile)
        return try await database.pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO profile (account, name, record) VALUES (?, ?, ?)",
                           arguments: [profile.account, profile.name, record])
            return db.changesCount == 1
        }
    }

    public func profile(account: String, name: String) async throws -> ProfileRecord? {
        let data = try await database.pool.read { db in
            try Data.fetchOne(db, sql: "SELECT record FROM profile WHERE account = ? AND name = ?", arguments: [account, name])
        }
        return try data.map { try Self.decoder.decode(ProfileRecord.self, from: $0) }
    }

    public func saveProfile(_ profile: ProfileRecord) async throws {
        let record = try Self.encoder.encode(profile)
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE profile SET record = ? WHERE account = ? AND name = ?", arguments: [record, profile.account, profile.name])
        }
    }

    public func profiles(account: String) async throws -> [ProfileRecord] {
        let rows = try await database.pool.read { db in
            try Data.fetchAll(db, sql: "SELECT record FROM profile WHERE account = ? ORDER BY name", arguments: [account])
        }
        return try rows.map { try Self.decoder.decode(ProfileRecord.self, from: $0) }
    }

    public var isShared: Bool { false }

    public func insertJob(_ job: JobRecord, lease: JobLease?) async throws -> JobRecord {
        let record = try Self.encoder.encode(job)
        let until = lease.map { Date().timeIntervalSince1970 + $0.duration }
        let existing: Data? = try await database.pool.write { db in
            if let token = job.clientRequestToken,
               let found = try Data.fetchOne(db, sql: "SELECT record FROM job WHERE invoker = ? AND token = ?", arguments: [job.invoker, token]) {
                return found
            }
            try db.execute(sql: """
                INSERT INTO job (jobId, owner, invoker, token, status, createdAt, record, leaseOwner, leaseUntil)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [job.jobId, job.owner, job.invoker, job.clientRequestToken, job.status.rawValue,
                                 job.createdAt.timeIntervalSince1970, record, lease?.owner, until])
            return nil
        }
        return try existing.map { try Self.decoder.decode(JobRecord.self, from: $0) } ?? job
    }

    public func job(id: String) async throws -> JobRecord? {
        let data = try await database.pool.read { db in
            try Data.fetchOne(db, sql: "SELECT record FROM job WHERE jobId = ?", arguments: [id])
        }
        return try data.map { try Self.decoder.decode(JobRecord.self, from: $0) }
    }

    public func revokeJob(id: String, revocation: SigningJobRevocationRecord) async throws -> Bool {
        try await database.pool.write { db in
            guard let data = try Data.fetchOne(db, sql: "SELECT record FROM job WHERE jobId = ?", arguments: [id]) else { return false }
            var job = try Self.decoder.decode(JobRecord.self, from: data)
            guard job.revocation == nil else { return false }
            job.revocation = revocation
            try db.execute(sql: "UPDATE job SET record = ? WHERE jobId = ?", arguments: [try Self.encoder.encode(job), id])
            return true
        }
    }

    public func finishJob(_ job: JobRecord, lease: JobLease) async throws -> Bool {
        let record = try Self.encoder.encode(job)
        return try await database.pool.write { db in
            try db.execute(sql: """
                UPDATE job SET status = ?, record = ?, leaseOwner = NULL, leaseUntil = NULL
                WHERE jobId = ? AND leaseOwner = ? AND status = 'InProgress'
                """, arguments: [job.status.rawValue, record, job.jobId, lease.owner])
            return db.changesCount == 1
        }
    }

    public func renewLeases(_ jobIds: [String], lease: JobLease) async throws -> Set<String> {
        guard !jobIds.isEmpty else { return [] }
        let until = Date().timeIntervalSince1970 + lease.duration
        return try await database.pool.write { db in
            var held: Set<String> = []
            for id in jobIds {
                try db.execute(sql: "UPDATE job SET leaseUntil = ? WHERE jobId = ? AND leaseOwner = ? AND status = 'InProgress'",
                               arguments: [until, id, lease.owner])
                if db.changesCount == 1 { held.insert(id) }
            }
            return held
        }
    }

    public func claimJobs(lease: JobLease, limit: Int, includeLive: Bool) async throws -> [JobRecord] {
        guard limit > 0 else { return [] }
        let now = Date().timeIntervalSince1970
        let rows = try await database.pool.write { db -> [Data] in
            let ids = try String.fetchAll(db, sql: """
                SELECT jobId FROM job WHERE status = 'InProgress' AND (? OR leaseUntil IS NULL OR leaseUntil < ?)
                ORDER BY createdAt LIMIT ?
                """, arguments: [includeLive, now, limit])
            var records: [Data] = []
            for id in ids {
                try db.execute(sql: "UPDATE job SET leaseOwner = ?, leaseUntil = ? WHERE jobId = ?", arguments: [lease.owner, now + lease.duration, id])
                if let record = try Data.fetchOne(db, sql: "SELECT record FROM job WHERE jobId = ?", arguments: [id]) { records.append(record) }
            }
            return records
        }
        return try rows.map { try Self.decoder.decode(JobRecord.self, from: $0) }
    }

    public func jobs(visibleTo account: String) async throws -> [JobRecord] {
        let rows = try await database.pool.read { db in
            try Data.fetchAll(db, sql: "SELECT record FROM job WHERE owner = ? OR invoker = ? ORDER BY createdAt DESC, jobId", arguments: [account, account])
        }
        return try rows.map { try Self.decoder.decode(JobRecord.self, from: $0) }
    }

}
