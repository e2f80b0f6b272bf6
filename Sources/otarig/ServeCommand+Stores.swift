import ArgumentParser
import Foundation
import Logging
import ObjectStoreS3
import SignerHTTP
import SignerPostgres
import SignerService
import SigV4

/// Where `otarig serve` keeps its state: the data directory's SQLite and files by default; PostgreSQL (`--database`)
/// and an S3-compatible store (`--objects`) when several instances share them.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("database"), help: ArgumentHelp(
        "A PostgreSQL database for profiles, jobs, imported keys, managed keys, access keys and rate limits, shared by every instance that names it (default: SQLite in the data directory).",
        valueName: "postgres://user[:password]@host[:port]/database"))
    var database: String?

    @Option(name: .customLong("objects"), help: ArgumentHelp(
        "An S3-compatible store for buckets and objects, path-style (default: on disk in the data directory). Several instances need one.",
        valueName: "s3://HOST:PORT/"))
    var objects: String?

    @Option(name: .customLong("objects-credentials"), help: ArgumentHelp(
        "The access key for --objects, in the ~/.aws/credentials format (its first section, or --objects-profile).", valueName: "file"))
    var objectsCredentials: String?

    @Option(name: .customLong("objects-profile"), help: ArgumentHelp("The section of --objects-credentials to use.", valueName: "name"))
    var objectsProfile: String?

    @Option(name: .customLong("objects-region"), help: ArgumentHelp("The region requests to --objects are signed for.", valueName: "region"))
    var objectsRegion = "us-east-1"

    func validate() throws {
        if let database {
            do { _ = try SignerPostgres.PostgresDatabase.parse(url: database) } catch { throw ValidationError("--database: \(error)") }
        }
        if let objects {
            do { _ = try S3ObjectStore.parseLocation(objects) } catch { throw ValidationError("--objects: \(error)") }
            guard objectsCredentials != nil else {
                throw ValidationError("--objects needs --objects-credentials FILE (the store's access key, in the ~/.aws/credentials format)")
            }
        } else if objectsCredentials != nil || objectsProfile != nil {
            throw ValidationError("--objects-credentials and --objects-profile go with --objects s3://HOST:PORT/")
        }
    }
}

/// The stores `otarig serve` opened, and what must be stopped when it ends.
struct OpenedStores {
    var components: SignerServer.Components
    /// The access keys every instance accepts (the database's, when there is one).
    var credentials: [Credential]
    /// The database client's connection pool, running until cancelled.
    var poolTask: Task<Void, Never>?
    var summary: String
    /// What must be shut down before the process exits (the object store's HTTP client).
    var closers: [@Sendable () async -> Void] = []

    /// Closes what `open` opened: the object store's client, then the database's pool.
    func close() async {
        for closer in closers { await closer() }
        poolTask?.cancel()
    }
}

extension StoreOptions {
    /// Opens the stores: PostgreSQL (migrated, the credentials recorded) and/or the object store, else the data
    /// directory's. Prints how the schema was found.
    func open(dataDirectory: URL, credentials: [Credential], logger: Logger) async throws -> OpenedStores {
        var summary: [String] = []
        var closers: [@Sendable () async -> Void] = []
        var sqlite: SignerDatabase?
        func localDatabase() throws -> SignerDatabase {
            if let sqlite { return sqlite }
            let database = try SignerServer.Components.openDatabase(in: dataDirectory)
            sqlite = database
            return database
        }

        var shared: SharedDatabase?
        if let url = database {
            let opened = try await openPostgres(url, credentials: credentials, logger: logger)
            shared = opened
            summary.append("state in \(opened.database.displayURL)")
        } else {
            summary.append("data in \(dataDirectory.path)")
        }

        let objectStore: any ObjectStore
        var objectsCheck: HealthCheck?
        if let location = objects, let credentialsPath = objectsCredentials {
            let endpoint = try S3ObjectStore.parseLocation(location)
            let key = try objectStoreKey(credentialsPath)
            let registry: any BucketRegistry = if let shared { PostgresBucketRegistry(database: shared.database) } else { SQLiteBucketRegistry(database: try localDatabase()) }
            let s3 = S3ObjectStore(endpoint: endpoint, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, region: objectsRegion,
                                   registry: registry, defaultOwner: credentials[0].account,
                                   httpClient: S3ObjectStore.failFastHTTPClient(), logger: logger)
            objectStore = s3
            closers.append { try? await s3.shutdownHTTPClient() }
            objectsCheck = HealthCheck(name: "objects", check: { try await s3.checkReachable() })
            summary.append("objects in \(endpoint.absoluteString)")
        } else {
            objectStore = try DiskObjectStore(database: try localDatabase(), directory: dataDirectory.appendingPathComponent("objects"))
            if shared != nil {
                Console.out("otarig serve: objects are on this instance's disk (\(dataDirectory.path)); several instances need --objects s3://HOST:PORT/")
            }
        }

        var components: SignerServer.Components
        if let shared {
            let postgres = shared.database
            components = SignerServer.Components(
                store: PostgresSignerStore(database: postgres), objects: objectStore, keys: PostgresKeyStore(database: postgres),
                managed: ManagedKeys(storage: PostgresManagedKeyStorage(database: postgres)), rateLimiter: PostgresJobRateLimiter(database: postgres),
                healthChecks: [HealthCheck(name: "store", check: { try await postgres.ping() })], reloadCredentials: shared.reloadCredentials)
        } else {
            components = try SignerServer.Components.dataDirectory(dataDirectory, database: try localDatabase(), objects: objectStore)
        }
        if let objectsCheck { components.healthChecks.append(objectsCheck) }
        return OpenedStores(components: components, credentials: shared?.credentials ?? credentials, poolTask: shared?.pool,
                            summary: summary.joined(separator: ", "), closers: closers)
    }

    /// A PostgreSQL database in use: its pool's task, and every instance's access keys.
    private struct SharedDatabase {
        var database: SignerPostgres.PostgresDatabase
        var pool: Task<Void, Never>
        var credentials: [Credential]
        var reloadCredentials: @Sendable () async throws -> [Credential]
    }

    /// Connects to PostgreSQL, applies the migrations it lacks (printing how the schema was found), records this
    /// instance's access keys there and reads everyone's back.
    private func openPostgres(_ url: String, credentials: [Credential], logger: Logger) async throws -> SharedDatabase {
        // postgres-nio logs every failed connection attempt at info; the service's own log says what failed.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let database = try SignerPostgres.PostgresDatabase(url: url, logger: quiet)
        let pool = Task { await database.run() }
        do {
            let applied = try await database.migrate()
            Console.out(applied.isEmpty
                        ? "otarig serve: database schema up to date at \(database.displayURL)"
                        : "otarig serve: database schema: applied \(applied.joined(separator: ", ")) at \(database.displayURL)")
            let credentialStore = PostgresCredentialStore(database: database)
            try await credentialStore.upsert(credentials)
            return SharedDatabase(database: database, pool: pool, credentials: try await credentialStore.load(),
                                  reloadCredentials: { try await credentialStore.load() })
        } catch {
            pool.cancel()
            throw OtarigError("cannot use the database \(database.displayURL): \(error); check that PostgreSQL runs there and the URL is \(SignerPostgres.PostgresDatabase.expectedForm)")
        }
    }

    /// The access key `--objects-credentials` names (its `--objects-profile` section, else its first).
    private func objectStoreKey(_ path: String) throws -> Credential {
        let text = String(decoding: try Files.read(path, what: "object store credentials"), as: UTF8.self)
        let parsed: [Credential]
        do { parsed = try CredentialsFile.parse(text) } catch {
            throw OtarigError("the object store credentials '\(path)' are not usable: \(error.message)")
        }
        guard let key = objectsProfile.map({ name in parsed.first { $0.profile == name } }) ?? parsed.first else {
            throw OtarigError("'\(path)' has no section [\(objectsProfile ?? "")]; its sections: \(parsed.map(\.profile).joined(separator: ", "))")
        }
        return key
    }
}

extension ServeCommand {
    /// `otarig serve migrate`: applies the schema migrations a PostgreSQL database lacks, then exits.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate",
            abstract: "Apply the schema migrations a PostgreSQL database lacks (instances also do this at start; safe to run beside them).")

        @ParentCommand var serve: ServeCommand

        func run() async throws {
            try await withDatabase(serve.stores.database, command: "migrate") { database in
                do {
                    let applied = try await database.migrate()
                    Console.out(applied.isEmpty ? "schema up to date (\(SignerPostgres.PostgresDatabase.migrationVersions.joined(separator: ", ")))"
                                                : "applied \(applied.joined(separator: ", "))")
                } catch {
                    throw OtarigError("cannot migrate \(database.displayURL): \(error)")
                }
            }
        }
    }

    /// `otarig serve status`: what a PostgreSQL database holds and which migrations it lacks.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a PostgreSQL database's schema version, pending migrations and job counts.")

        @ParentCommand var serve: ServeCommand

        func run() async throws {
            try await withDatabase(serve.stores.database, command: "status") { database in
                let status: SignerPostgres.PostgresDatabase.Status
                do { status = try await database.status() } catch {
                    throw OtarigError("cannot read \(database.displayURL): \(error)")
                }
                print(status, of: database)
            }
        }

        private func print(_ status: SignerPostgres.PostgresDatabase.Status, of database: SignerPostgres.PostgresDatabase) {
            Console.out("""
                database: \(database.displayURL) (PostgreSQL \(status.serverVersion))
                applied: \(status.applied.isEmpty ? "none" : status.applied.joined(separator: ", "))
                pending: \(status.pending.isEmpty ? "none" : status.pending.joined(separator: ", ") + " (run 'otarig serve migrate' or start an instance)")
                profiles: \(status.profiles), jobs: \(status.jobs) (\(status.inProgressJobs) in progress)
                """)
        }
    }
}

/// Runs `body` on the database `--database` names, its connection pool running meanwhile.
private func withDatabase(_ url: String?, command: String, _ body: (SignerPostgres.PostgresDatabase) async throws -> Void) async throws {
    guard let url else {
        throw OtarigError("name the database: otarig serve \(command) --database \(SignerPostgres.PostgresDatabase.expectedForm)")
    }
    let database = try openDatabase(url)
    let pool = Task { await database.run() }
    defer { pool.cancel() }
    try await body(database)
}

private func openDatabase(_ url: String) throws -> SignerPostgres.PostgresDatabase {
    do {
        var logger = Logger(label: "otarig.serve")
        logger.logLevel = .error
        return try SignerPostgres.PostgresDatabase(url: url, logger: logger)
    } catch {
        throw OtarigError("--database: \(error)")
    }
}
