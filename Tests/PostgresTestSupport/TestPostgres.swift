import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import PostgresNIO
import SignerPostgres

/// A PostgreSQL cluster of the test process's own: `initdb` + `pg_ctl` from Debian's `/usr/lib/postgresql/*/bin`, in
/// a temporary directory, listening on 127.0.0.1 and a free port only (and a socket in that directory). Run as the
/// unprivileged `nobody` when the tests run as root (as CI does), since PostgreSQL refuses to run as root.
///
/// One shared cluster per test process (`TestPostgres.withDatabase`), with a fresh database per test; a test that
/// stops or restarts the server starts a cluster of its own (`Cluster.start()`). A cluster never outlives the test
/// process: it is stopped (`pg_ctl stop -m immediate`) at exit, and a watchdog in its own session stops it and
/// removes its directory as soon as the test process is gone, however it ended.
public enum TestPostgres {
    /// The error when no PostgreSQL server binaries are installed: the tests fail, never skip.
    public struct NotInstalled: Error, CustomStringConvertible {
        public var description: String {
            "PostgreSQL is not installed: run Scripts/bootstrap (no initdb and pg_ctl in /usr/lib/postgresql/*/bin)"
        }
    }

    /// A command the cluster set-up ran that failed, with its output.
    public struct CommandFailed: Error, CustomStringConvertible {
        public var description: String
    }

    /// One running cluster.
    public final class Cluster: Sendable {
        /// The temporary directory: `data/` (the cluster), `server.log`, the socket.
        public let directory: URL
        public let port: Int
        public let binDirectory: URL
        public let password: String
        /// The unprivileged user the server runs as, when the tests run as root.
        let runAs: String?

        private init(directory: URL, port: Int, binDirectory: URL, password: String, runAs: String?) {
            self.directory = directory
            self.port = port
            self.binDirectory = binDirectory
            self.password = password
            self.runAs = runAs
        }

        /// `postgres://postgres:…@127.0.0.1:<port>/<database>`.
        public func url(database: String) -> String {
            "postgres://postgres:\(password)@127.0.0.1:\(port)/\(database)"
        }

        var dataDirectory: URL { directory.appendingPathComponent("data") }

        /// Creates and starts a new cluster (a few seconds).
        public static func start() throws -> Cluster {
            guard let bin = TestPostgres.binDirectory() else { throw NotInstalled() }
            var template = Array("/tmp/otarig-pg-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw CommandFailed(description: "mkdtemp failed: \(String(cString: strerror(errno)))") }
            let directory = URL(fileURLWithPath: String(cString: made))
            let runAs: String? = geteuid() == 0 ? "nobody" : nil
            // The watchdog first, so no moment exists in which a killed test process leaves a server behind.
            TestPostgres.watch(directory: directory, bin: bin, runAs: runAs)
            let password = UUID().uuidString.replacingOccurrences(of: "-", with: "")
            let passwordFile = directory.appendingPathComponent("password")
            try Data(password.utf8).write(to: passwordFile)
            if let runAs {
                guard let entry = getpwnam(runAs) else { throw CommandFailed(description: "no user \(runAs) to run PostgreSQL as") }
                for path in [directory.path, passwordFile.path] where chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) != 0 {
                    throw CommandFailed(description: "chown \(path) to \(runAs): \(String(cString: strerror(errno)))")
                }
            }
            var port = 0
            var cluster: Cluster?
            do {
                let initdb = bin.appendingPathComponent("initdb").path
                try TestPostgres.run(runAs: runAs, [initdb, "-D", directory.appendingPathComponent("data").path, "-U", "postgres",
                                                    "--pwfile", passwordFile.path, "-A", "scram-sha-256", "-E", "UTF8",
                                                    "--no-sync", "--no-instructions"], in: directory)
                // A free port can be taken by someone else between the probe and the start: try a few.
                var lastError: (any Error)?
                for _ in 0..<5 {
                    port = try TestPostgres.freePort()
                    let candidate = Cluster(directory: directory, port: port, binDirectory: bin, password: password, runAs: runAs)
                    do {
                        try candidate.startServer()
                        cluster = candidate
                        break
                    } catch {
                        lastError = error
                    }
                }
                guard let cluster else { throw lastError ?? CommandFailed(description: "PostgreSQL did not start") }
                return cluster
            } catch {
                try? FileManager.default.removeItem(at: directory)
                throw error
            }
        }

        func pgctl(_ arguments: [String]) throws {
            try TestPostgres.run(runAs: runAs, [binDirectory.appendingPathComponent("pg_ctl").path, "-D", dataDirectory.path] + arguments,
                                 in: directory)
        }

        func startServer() throws {
            let options = "-c listen_addresses=127.0.0.1 -p \(port) -c unix_socket_directories=\(directory.path) -c fsync=off "
                + "-c full_page_writes=off -c max_connections=400"
            try pgctl(["-l", directory.appendingPathComponent("server.log").path, "-o", options, "-w", "-t", "60", "start"])
            TestPostgres.registerPostmaster(of: self)
        }

        /// Stops the server at once (`pg_ctl stop -m immediate`); `startAgain()` brings it back on the same port.
        public func stopServer() throws {
            try pgctl(["-m", "immediate", "-w", "stop"])
        }

        /// Starts a stopped server again, on the same port and data.
        public func startAgain() throws {
            try startServer()
        }

        /// Stops the server and removes its directory.
        public func destroy() {
            try? pgctl(["-m", "immediate", "-w", "stop"])
            try? FileManager.default.removeItem(at: directory)
        }

        /// The server's log, for failure messages.
        public func log() -> String {
            (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
        }
    }

    /// The newest `/usr/lib/postgresql/<version>/bin` that holds initdb and pg_ctl.
    static func binDirectory() -> URL? {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return versions.sorted { (Int($0) ?? 0, $0) > (Int($1) ?? 0, $1) }.lazy
            .map { root.appendingPathComponent($0).appendingPathComponent("bin") }
            .first { bin in
                FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path)
                    && FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("pg_ctl").path)
            }
    }

    /// Runs a command (through `runuser -u <user> --` when given) and waits; throws with its output when it fails.
    ///
    /// posix_spawn, not Foundation's `Process`: `pg_ctl start` leaves a daemon behind, and a daemon that inherits the
    /// descriptor `Process` watches keeps `waitUntilExit` waiting forever. The child gets stdin from /dev/null, its
    /// output in `<directory>/command.out`, and no other descriptor of the test process.
    static func run(runAs: String?, _ arguments: [String], in directory: URL) throws {
        let argv = (runAs.map { ["/usr/sbin/runuser", "-u", $0, "--"] } ?? []) + arguments
        let output = directory.appendingPathComponent("command.out").path
        let pid = try spawn(argv, output: output, directory: directory.path)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw CommandFailed(description: "waitpid: \(String(cString: strerror(errno)))") }
        }
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw CommandFailed(description: "\(argv.joined(separator: " ")) \(exited ? "exited with \(code)" : "was killed by signal \(status & 0x7f)"): \(text)")
        }
    }

    /// Starts `argv` with stdin from /dev/null, stdout and stderr to `output`, every other descriptor closed.
    static func spawn(_ argv: [String], output: String, directory: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = posix_spawn_file_actions_addclosefrom(&actions, 3)
        _ = directory.withCString { chdirAction(&actions, $0) }
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard result == 0 else { throw CommandFailed(description: "cannot start \(argv[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CommandFailed(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw CommandFailed(description: "bind: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw CommandFailed(description: "getsockname: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    // MARK: - Never outliving the test process

    private static let postmasters = Mutex<[String: pid_t]>([:])
    private static let exitHookInstalled = Mutex(false)

    /// Remembers the postmaster's pid (the first line of postmaster.pid) so the exit hook can stop it.
    static func registerPostmaster(of cluster: Cluster) {
        let file = cluster.dataDirectory.appendingPathComponent("postmaster.pid")
        guard let text = try? String(contentsOf: file, encoding: .utf8),
              let line = text.split(separator: "\n").first, let pid = pid_t(line.trimmingCharacters(in: .whitespaces)) else { return }
        postmasters.withLock { $0[cluster.directory.path] = pid }
        let install = exitHookInstalled.withLock { installed in
            defer { installed = true }
            return !installed
        }
        if install {
            // SIGQUIT is PostgreSQL's immediate shutdown (what `pg_ctl stop -m immediate` sends).
            atexit {
                for pid in TestPostgres.postmasters.withLock({ Array($0.values) }) { kill(pid, SIGQUIT) }
            }
        }
    }

    /// Starts a watchdog in its own session: once the test process is gone (however it ended), it stops the
    /// cluster at once and removes its directory.
    static func watch(directory: URL, bin: URL, runAs: String?) {
        let pgctl = bin.appendingPathComponent("pg_ctl").path
        let prefix = runAs.map { "/usr/sbin/runuser -u \($0) -- " } ?? ""
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 0.5; done
            \(prefix)\(pgctl) -D '\(directory.appendingPathComponent("data").path)' -m immediate -w stop
            rm -rf '\(directory.path)'
            """
        _ = try? spawn(["/usr/bin/setsid", "/bin/sh", "-c", script], output: "/dev/null", directory: "/")
    }

    // MARK: - The shared cluster and a database per test

    private static let shared: Result<Cluster, any Error> = Result { try Cluster.start() }

    /// The process's shared cluster, started on first use.
    public static func cluster() throws -> Cluster {
        try shared.get()
    }

    private static let admins = Mutex<[String: SignerPostgres.PostgresDatabase]>([:])

    /// A client of the cluster's `postgres` database, running for the rest of the process.
    static func admin(_ cluster: Cluster) throws -> SignerPostgres.PostgresDatabase {
        try admins.withLock { admins in
            if let admin = admins[cluster.directory.path] { return admin }
            let admin = try SignerPostgres.PostgresDatabase(url: cluster.url(database: "postgres"), logger: quietLogger(), maximumConnections: 4,
                                                            operationTimeout: .seconds(60))
            Task { await admin.run() }
            admins[cluster.directory.path] = admin
            return admin
        }
    }

    /// A logger that prints only critical messages.
    public static func quietLogger() -> Logger {
        var logger = Logger(label: "otarig.test.postgres")
        logger.logLevel = .critical
        return logger
    }

    /// Creates an empty database `t_<random>` in `cluster` and returns its name.
    public static func createDatabase(in cluster: Cluster) async throws -> String {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin(cluster).client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        return name
    }

    /// Runs `body` with a `PostgresDatabase` on a fresh database of `cluster` (the shared one by default), migrated
    /// unless `migrated` is false, its client running for the duration.
    public static func withDatabase<T: Sendable>(cluster: Cluster? = nil, migrated: Bool = true, operationTimeout: Duration = .seconds(20),
                                                 _ body: @Sendable (SignerPostgres.PostgresDatabase) async throws -> T) async throws -> T {
        let cluster = try cluster ?? Self.cluster()
        let name = try await createDatabase(in: cluster)
        let database = try SignerPostgres.PostgresDatabase(url: cluster.url(database: name), logger: quietLogger(), maximumConnections: 10,
                                                           operationTimeout: operationTimeout)
        urls.withLock { $0[database.displayURL] = cluster.url(database: name) }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            if migrated { try await database.migrate() }
            let result = try await body(database)
            group.cancelAll()
            return result
        }
    }
}

extension TestPostgres {
    private static let urls = Mutex<[String: String]>([:])

    /// Runs `body` with a second client (another instance's pool) of a database `withDatabase` made.
    public static func withSecondClient<T: Sendable>(of database: SignerPostgres.PostgresDatabase,
                                                     _ body: @Sendable (SignerPostgres.PostgresDatabase) async throws -> T) async throws -> T {
        guard let url = urls.withLock({ $0[database.displayURL] }) else {
            throw CommandFailed(description: "\(database.displayURL) was not made by TestPostgres.withDatabase")
        }
        let other = try SignerPostgres.PostgresDatabase(url: url, logger: quietLogger(), maximumConnections: 10, operationTimeout: database.operationTimeout)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await other.run() }
            let result = try await body(other)
            group.cancelAll()
            return result
        }
    }
}

// glibc declares these under _GNU_SOURCE only (spawn.h, glibc 2.34 and later), which Swift's Glibc module does not set.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
func posix_spawn_file_actions_addclosefrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32
@_silgen_name("posix_spawn_file_actions_addchdir_np")
func chdirAction(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>) -> Int32

/// A lock around a value (Synchronization's Mutex needs macOS 15; this package's floor is 14).
final class Mutex<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
