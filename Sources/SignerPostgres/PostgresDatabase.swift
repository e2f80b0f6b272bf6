import Foundation
import Logging
import PostgresNIO
import SignerService

/// One PostgreSQL database shared by every `otarig serve` instance, through postgres-nio's pooled `PostgresClient`.
///
/// The client must be running for any query to be answered: call `run()` in a task (or add `client` to a
/// ServiceLifecycle `ServiceGroup`; `PostgresClient` is a `Service`) and cancel it to close the pool. The pool
/// reconnects by itself after a server restart; a query made while the server is away fails within
/// `operationTimeout` with a `StoreError` (which the HTTP layer answers with a retryable 500).
public final class PostgresDatabase: Sendable {
    /// The pooled client. Run it once (`run()`), before or while querying.
    public let client: PostgresClient
    /// Where the database is, without the password: `postgres://user@host:port/database`.
    public let displayURL: String
    /// How long one store operation may wait for a connection and its answer before it fails.
    public let operationTimeout: Duration
    let logger: Logger

    /// The connection string's parts.
    public struct Location: Sendable, Equatable {
        public var user: String
        public var password: String?
        public var host: String
        public var port: Int
        public var database: String

        public init(user: String, password: String?, host: String, port: Int, database: String) {
            self.user = user
            self.password = password
            self.host = host
            self.port = port
            self.database = database
        }
    }

    /// The form `init(url:)` accepts, for error messages.
    public static let expectedForm = "postgres://user[:password]@host[:port]/database"

    /// Parses `postgres://user[:password]@host[:port]/database` (or `postgresql://…`; user and password
    /// percent-encoded as in any URL). The connection is not encrypted (`sslmode=disable`): use it on loopback or a
    /// private network. `?sslmode=disable` is accepted; any other query parameter is refused.
    public static func parse(url: String) throws -> Location {
        func refuse(_ why: String) -> StoreError {
            StoreError("the database URL \(redacted(url)) \(why); expected \(expectedForm) (for example postgres://otarig:secret@127.0.0.1:5432/otarig)")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw refuse("is not a URL")
        }
        guard scheme == "postgres" || scheme == "postgresql" else { throw refuse("has the scheme '\(scheme)', not postgres") }
        guard let host = components.host, !host.isEmpty else { throw refuse("names no host") }
        guard let user = components.user, !user.isEmpty else { throw refuse("names no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw refuse("names no database (the path after the host)") }
        if let port = components.port, !(1...65535).contains(port) { throw refuse("has the port \(port), not 1-65535") }
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode", item.value == "disable" else {
                throw refuse("has the parameter '\(item.name)=\(item.value ?? "")'; only sslmode=disable is supported (no TLS)")
            }
        }
        return Location(user: user, password: components.password, host: host, port: components.port ?? 5432, database: database)
    }

    /// The URL with its password replaced by `***`, for messages and logs.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }

    /// A database at `url` (see `parse(url:)`); nothing is connected until the client runs and is queried.
    public init(url: String, logger: Logger, maximumConnections: Int = 20, operationTimeout: Duration = .seconds(10)) throws {
        let location = try Self.parse(url: url)
        var configuration = PostgresClient.Configuration(host: location.host, port: location.port, username: location.user,
                                                         password: location.password, database: location.database, tls: .disable)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        displayURL = "postgres://\(location.user)@\(location.host):\(location.port)/\(location.database)"
        self.operationTimeout = operationTimeout
        self.logger = logger
    }

    /// Runs the connection pool until the task is cancelled. Call once.
    public func run() async {
        await client.run()
    }

    // MARK: - Operations

    /// Runs `body` with a deadline of `operationTimeout`, and turns PostgreSQL's errors into `StoreError`s that say
    /// what failed (never the password). `what` names the operation.
    func perform<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = operationTimeout
        let url = displayURL
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    throw StoreError("PostgreSQL at \(url) did not answer \(what) within \(timeout)")
                }
                return value
            }
        } catch let error as StoreError {
            throw error
        } catch let error as PSQLError {
            throw Self.storeError(error, what: what, url: url)
        } catch is CancellationError {
            throw StoreError("PostgreSQL at \(url): \(what) was cancelled")
        } catch {
            throw StoreError("PostgreSQL at \(url): \(what) failed: \(error)")
        }
    }

    static func storeError(_ error: PSQLError, what: String, url: String) -> StoreError {
        if error.code == .server, let info = error.serverInfo {
            let message = info[.message] ?? "error"
            let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return StoreError("PostgreSQL at \(url) refused \(what): \(message)\(state)")
        }
        var cause = "\(error.code)"
        if let underlying = error.underlying { cause += ": \(underlying)" }
        return StoreError("PostgreSQL at \(url) is not reachable (\(what)): \(cause)")
    }

    /// The rows of `query`, all of them.
    @discardableResult
    func rows(_ what: String, _ query: PostgresQuery) async throws -> [PostgresRow] {
        let client = client
        let logger = logger
        return try await perform(what) {
            try await client.query(query, logger: logger).collect()
        }
    }

    /// Runs `body` in one transaction (BEGIN … COMMIT, ROLLBACK when it throws).
    func transaction<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let client = client
        let logger = logger
        return try await perform(what) {
            do {
                return try await client.withTransaction(logger: logger) { connection in
                    try await body(connection)
                }
            } catch let error as PostgresTransactionError {
                if let closure = error.closureError { throw closure }
                if let begin = error.beginError { throw begin }
                if let commit = error.commitError { throw commit }
                if let rollback = error.rollbackError { throw rollback }
                throw StoreError("PostgreSQL transaction failed: \(what)")
            }
        }
    }

    /// A cheap round trip (`SELECT 1`), for the health endpoint.
    public func ping() async throws {
        _ = try await rows("ping", "SELECT 1")
    }

    // MARK: - Migrations and status

    /// What `status()` reports about the database.
    public struct Status: Sendable, Equatable {
        /// The server's `server_version`, e.g. "15.18 (Debian 15.18-0+deb12u1)".
        public var serverVersion: String
        /// Migrations applied, in order.
        public var applied: [String]
        /// Migrations this build knows and the database has not applied.
        public var pending: [String]
        public var profiles: Int
        public var jobs: Int
        public var inProgressJobs: Int
    }

    /// The versions this build knows, in order.
    public static var migrationVersions: [String] { PostgresMigrations.all.map(\.version) }

    /// Applies every migration the database lacks, in order, in one transaction under a transaction-scoped advisory
    /// lock, so N instances starting together on an empty database all succeed and each migration is applied once.
    /// Returns the versions this call applied (empty when the schema was current).
    @discardableResult
    public func migrate() async throws -> [String] {
        try await transaction("the schema migration") { connection in
            let logger = self.logger
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS otarig_schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = Set<String>()
            for try await version in try await connection.query("SELECT version FROM otarig_schema_migrations", logger: logger).decode(String.self) {
                applied.insert(version)
            }
            var done: [String] = []
            for migration in PostgresMigrations.all where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO otarig_schema_migrations (version) VALUES (\(migration.version))", logger: logger)
                done.append(migration.version)
            }
            if !done.isEmpty { logger.info("applied migrations", metadata: ["versions": "\(done.joined(separator: ","))"]) }
            return done
        }
    }

    /// The server version, the migrations applied and pending, and how many profiles, jobs and InProgress jobs there are.
    public func status() async throws -> Status {
        let version = try await rows("the status", "SELECT current_setting('server_version')")
        let serverVersion = try version.first?.decode(String.self) ?? "unknown"
        let exists = try await rows("the status", "SELECT to_regclass('otarig_schema_migrations') IS NOT NULL")
        var applied: [String] = []
        if try exists.first?.decode(Bool.self) == true {
            applied = try await rows("the status", "SELECT version FROM otarig_schema_migrations ORDER BY version").map { try $0.decode(String.self) }
        }
        let pending = Self.migrationVersions.filter { !applied.contains($0) }
        var profiles = 0, jobs = 0, inProgress = 0
        if applied.contains("0001") {
            let counts = try await rows("the status", """
                SELECT (SELECT count(*) FROM profile), (SELECT count(*) FROM job), (SELECT count(*) FROM job WHERE status = 'InProgress')
                """)
            if let row = counts.first {
                let (p, j, i) = try row.decode((Int64, Int64, Int64).self)
                (profiles, jobs, inProgress) = (Int(p), Int(j), Int(i))
            }
        }
        return Status(serverVersion: serverVersion, applied: applied, pending: pending, profiles: profiles, jobs: jobs, inProgressJobs: inProgress)
    }

    // MARK: - Records

    static var encoder: JSONEncoder { RecordCoding.encoder }
    static var decoder: JSONDecoder { RecordCoding.decoder }

    /// A record as the JSON text `SQLiteSignerStore` writes (sorted keys, dates as seconds since 1970).
    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func record<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }
}
