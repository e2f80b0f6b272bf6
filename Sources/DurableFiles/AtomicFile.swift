#if canImport(Glibc)
import Glibc
#endif

/// A file written under a temporary name beside its destination and renamed over it by `commit`: readers and
/// later runs see the old file or the whole new one, never a part; one dropped without `commit` leaves nothing. The one atomic write of layer 1 (keys and
/// objects in the signing service, a simulated board's flash, the CLI's outputs).
///
/// `durable` adds what a crash needs on top of atomicity: the data is synced before the rename, and the
/// directory after it, so an acknowledged write survives a power cut (the POSIX recipe; `fsync(2)` on Linux notes
/// that syncing the file does not sync its directory entry).
public final class AtomicFile {
    /// Why the write failed, with the path.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String

        public var description: String { "cannot write '\(path)': \(reason)" }
    }

    public let path: String
    public let temporary: String
    private var fd: Int32

    /// Creates the temporary file (mode `mode`, nothing overwritten) in the destination's directory.
    public init(path: String, mode: mode_t = 0o644) throws(Failure) {
        let directory = Self.directory(of: path)
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw Failure(path: path, reason: "the directory '\(directory)' does not exist")
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        self.path = path
        temporary = (directory == "." && !path.hasPrefix("./") ? "" : directory + "/") + ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        // The umask must not loosen or tighten what the caller asked for (a private key is 0600 whatever it is).
        _ = fchmod(fd, mode)
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(temporary)
        }
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, reason: String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(Failure) {
        var failure: Failure?
        bytes.withUnsafeBytes { raw in
            do throws(Failure) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Renames the file into place (syncing file and directory first when `durable`). On failure the destination
    /// is untouched and the temporary file removed.
    public func commit(durable: Bool = false) throws(Failure) {
        precondition(fd >= 0, "AtomicFile committed twice")
        let descriptor = fd
        fd = -1
        if durable, fsync(descriptor) != 0 {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            unlink(temporary)
            throw Failure(path: path, reason: reason)
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(path: path, reason: reason)
        }
        if durable {
            let directory = open(Self.directory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directory >= 0 {
                defer { close(directory) }
                guard fsync(directory) == 0 else { throw Failure(path: path, reason: "syncing its directory: \(String(cString: strerror(errno)))") }
            }
        }
    }

    /// Writes `bytes` to `path` atomically in one call.
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String, mode: mode_t = 0o644, durable: Bool = false) throws(Failure) {
        let file = try AtomicFile(path: path, mode: mode)
        try file.write(bytes)
        try file.commit(durable: durable)
    }

    /// Writes `bytes` to `path` atomically in one call.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644, durable: Bool = false) throws(Failure) {
        let file = try AtomicFile(path: path, mode: mode)
        try file.write(bytes)
        try file.commit(durable: durable)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
