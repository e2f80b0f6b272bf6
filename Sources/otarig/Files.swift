import Foundation

/// The CLI's file access: clear one-line errors, and writes that never leave a partial file behind.
enum Files {
    /// The bytes of `path`; `what` names the file in errors ("payload", "private key").
    static func read(_ path: String, what: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OtarigError("cannot read the \(what) '\(path)': no such file; check the path")
        }
        guard !isDirectory.boolValue else {
            throw OtarigError("cannot read the \(what) '\(path)': it is a directory; pass a file")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            let reason = access(path, R_OK) != 0 ? "permission denied" : error.localizedDescription
            throw OtarigError("cannot read the \(what) '\(path)': \(reason)")
        }
    }

    /// The size of `path` in bytes, read before the file itself so an oversized payload is refused cheaply.
    static func size(_ path: String, what: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == ENOENT ? "no such file; check the path" : String(cString: strerror(errno))
            throw OtarigError("cannot read the \(what) '\(path)': \(reason)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw OtarigError("cannot read the \(what) '\(path)': it is not a regular file; pass a file")
        }
        return Int(info.st_size)
    }

    /// Fails when any of `paths` exists, so that nothing is overwritten without `--force`.
    static func refuseOverwrite(_ paths: [String], force: Bool) throws {
        guard !force else { return }
        for path in paths where FileManager.default.fileExists(atPath: path) {
            throw OtarigError("'\(path)' already exists; pass --force to replace it, or choose another name")
        }
    }

    /// Writes `data` to a temporary file beside `path`, syncs it and renames it over `path`: readers see the old
    /// file or the whole new one, never a part.
    static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw OtarigError("cannot write '\(path)': the directory '\(directory.path)' does not exist")
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw OtarigError("cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
        var failure: String?
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil, rename(temporary.path, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary.path)
            throw OtarigError("cannot write '\(path)': \(failure)")
        }
    }
}
