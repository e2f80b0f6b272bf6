import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import ObjectStoreS3
import SignerService

/// Why a peer could not be started: the test fails with this text (never skips).
struct PeerError: Error, CustomStringConvertible {
    var description: String
}

/// The two independent S3 implementations the contract runs against.
enum Peer: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `moto_server` (PyPI `moto[server]`), which accepts any credentials.
    case moto
    /// A second `otarig serve` (this worktree's `.build/debug/otarig`), with its own credentials file.
    case otarig

    var description: String { rawValue }
}

/// Text written from another thread (a child's stdout), read by the test.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func append(_ data: Data) { lock.withLock { text += String(decoding: data, as: UTF8.self) } }
    var value: String { lock.withLock { text } }
}

/// A running S3 peer on 127.0.0.1, stopped by `stop()` (SIGTERM, then SIGKILL after 5 s) whatever the test did.
final class PeerServer: @unchecked Sendable {
    let peer: Peer
    let endpoint: URL
    let accessKeyId: String
    let secretAccessKey: String
    let directory: URL
    private let process: Process

    private init(peer: Peer, endpoint: URL, accessKeyId: String, secretAccessKey: String, directory: URL, process: Process) {
        self.peer = peer
        self.endpoint = endpoint
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.directory = directory
        self.process = process
    }

    /// The package root, from this file's path (Tests/ObjectStoreS3Tests/Peers.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// alice of Tests/peer/signer_server.py's CREDENTIALS.
    static let credentials = """
        [alice]
        aws_access_key_id = AKIAALICEEXAMPLE0001
        aws_secret_access_key = alice/secret/EXAMPLEKEY+0000000000000
        account_id = 111111111111
        principal_arn = arn:aws:iam::111111111111:user/alice

        """

    static func start(_ peer: Peer) async throws -> PeerServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("objectstores3-\(peer)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        let log = directory.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        switch peer {
        case .moto:
            guard let motoServer = which("moto_server") else {
                throw PeerError(description: "moto_server is not on PATH: install it with `pip install 'moto[server]'` (Scripts/bootstrap does)")
            }
            let port = try freePort()
            process.executableURL = motoServer
            process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
            process.standardOutput = try FileHandle(forWritingTo: log)
            try process.run()
            let server = PeerServer(peer: peer, endpoint: URL(string: "http://127.0.0.1:\(port)/")!, accessKeyId: "AKIAMOTOEXAMPLE00001",  // invariant: a literal URL
                                    secretAccessKey: "moto/accepts/any/secret", directory: directory, process: process)
            let deadline = Date().addingTimeInterval(60)
            while !canConnect(port: port) {
                guard process.isRunning, Date() < deadline else {
                    server.stop()
                    throw PeerError(description: "moto_server did not listen on 127.0.0.1:\(port) within 60 s: \(server.log)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            return server
        case .otarig:
            let binary = packageRoot.appendingPathComponent(".build/debug/otarig")
            guard FileManager.default.isExecutableFile(atPath: binary.path) else {
                throw PeerError(description: "\(binary.path) is missing: run `swift build` in \(packageRoot.path) first")
            }
            let credentials = directory.appendingPathComponent("credentials")
            try Data(Self.credentials.utf8).write(to: credentials)
            process.executableURL = binary
            process.arguments = ["serve", "--port", "0", "--data-dir", directory.appendingPathComponent("data").path, "--credentials", credentials.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            let output = Collected()
            pipe.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while true {
                if let range = output.value.range(of: #"listening on http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                    let url = String(output.value[range].dropFirst("listening on ".count)) + "/"
                    return PeerServer(peer: peer, endpoint: URL(string: url)!, accessKeyId: "AKIAALICEEXAMPLE0001",  // invariant: matched URL
                                      secretAccessKey: "alice/secret/EXAMPLEKEY+0000000000000", directory: directory, process: process)
                }
                guard process.isRunning, Date() < deadline else {
                    let server = PeerServer(peer: peer, endpoint: URL(fileURLWithPath: "/"), accessKeyId: "", secretAccessKey: "", directory: directory, process: process)
                    server.stop()
                    throw PeerError(description: "otarig serve did not print 'listening on' within 60 s: \(output.value) \(server.log)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    var log: String { (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)).map { String($0.suffix(2000)) } ?? "" }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A store over this peer, signing as its key in us-east-1.
    func store(registry: any BucketRegistry, defaultOwner: String = "111111111111", secret: String? = nil, pageSize: Int? = nil) -> S3ObjectStore {
        S3ObjectStore(endpoint: endpoint, accessKeyId: accessKeyId, secretAccessKey: secret ?? secretAccessKey, region: "us-east-1",
                      registry: registry, defaultOwner: defaultOwner, logger: Logger(label: "test.s3"), timeout: .seconds(30), pageSize: pageSize)
    }

    static func which(_ name: String) -> URL? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// A port the kernel just handed out on 127.0.0.1 (bound to port 0, then closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PeerError(description: "socket() failed: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw PeerError(description: "bind(127.0.0.1:0) failed: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
