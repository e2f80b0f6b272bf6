import Foundation
import GRDB
import SignerAPI

/// Profiles and jobs, kept by `SignerService`.
public protocol SignerStore: Sendable {
    /// Inserts a profile; false when the account already has a profile of that name (in any status).
    func insertProfile(_ profile: ProfileRecord) async throws -> Bool
    func profile(account: String, name: String) async throws -> ProfileRecord?
    func saveProfile(_ profile: ProfileRecord) async throws
    /// The account's profiles, ordered by name.
    func profiles(account: String) async throws -> [ProfileRecord]
    /// Inserts a job, or returns the job the invoker already started with the same client token.
    func insertJob(_ job: JobRecord) async throws -> JobRecord
    func job(id: String) async throws -> JobRecord?
    func saveJob(_ job: JobRecord) async throws
    /// Jobs an account owns or invoked, newest first.
    func jobs(visibleTo account: String) async throws -> [JobRecord]
    /// Every job in a status (start-up recovery of `InProgress` jobs).
    func jobs(status: SigningStatus) async throws -> [JobRecord]
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

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

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

    public func insertJob(_ job: JobRecord) async throws -> JobRecord {
        let record = try Self.encoder.encode(job)
        let existing: Data? = try await database.pool.write { db in
            if let token = job.clientRequestToken,
               let found = try Data.fetchOne(db, sql: "SELECT record FROM job WHERE invoker = ? AND token = ?", arguments: [job.invoker, token]) {
                return found
            }
            try db.execute(sql: "INSERT INTO job (jobId, owner, invoker, token, status, createdAt, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [job.jobId, job.owner, job.invoker, job.clientRequestToken, job.status.rawValue,
                                       job.createdAt.timeIntervalSince1970, record])
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

    public func saveJob(_ job: JobRecord) async throws {
        let record = try Self.encoder.encode(job)
        try await database.pool.write { db in
            try db.execute(sql: "UPDATE job SET status = ?, record = ? WHERE jobId = ?", arguments: [job.status.rawValue, record, job.jobId])
        }
    }

    public func jobs(visibleTo account: String) async throws -> [JobRecord] {
        let rows = try await database.pool.read { db in
            try Data.fetchAll(db, sql: "SELECT record FROM job WHERE owner = ? OR invoker = ? ORDER BY createdAt DESC, jobId", arguments: [account, account])
        }
        return try rows.map { try Self.decoder.decode(JobRecord.self, from: $0) }
    }

    public func jobs(status: SigningStatus) async throws -> [JobRecord] {
        let rows = try await database.pool.read { db in
            try Data.fetchAll(db, sql: "SELECT record FROM job WHERE status = ? ORDER BY createdAt", arguments: [status.rawValue])
        }
        return try rows.map { try Self.decoder.decode(JobRecord.self, from: $0) }
    }
}
