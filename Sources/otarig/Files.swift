// stat(2)'s struct reaches Swift through the C headers CoreFoundation owns, so its members need this import (SE-0444).
import CoreFoundation
import DurableFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's file access: clear one-line errors, and writes that never leave a partial file behind.
enum Files {
    /// The bytes of `path`; `what` names the file in errors ("payload", "private key").
    /// `mapped`: map a large regular file instead of copying it (an image the twin hashes once).
    static func read(_ path: String, what: String, mapped: Bool = false) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OtarigError("cannot read the \(what) '\(path)': no such file; check the path")
        }
        guard !isDirectory.boolValue else {
            throw OtarigError("cannot read the \(what) '\(path)': it is a directory; pass a file")
        }
        do {
            let large = mapped && ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) > 1 << 20
            return try Data(contentsOf: URL(fileURLWithPath: path), options: large ? .alwaysMapped : .mappedIfSafe)
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

    /// Writes `data` to a temporary file beside `path` and renames it over `path` (`AtomicFile`): readers and
    /// later runs see the old file or the whole new one, never a part. `durable` syncs before and after the rename
    /// (for keys).
    static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644, durable: Bool = false) throws {
        do {
            let file = try AtomicFile(path: path, mode: mode)
            try data.withUnsafeBytes { try file.write($0) }
            try file.commit(durable: durable)
        } catch let error as AtomicFile.Failure {
            throw OtarigError(error.description)
        }
    }

    /// Reads `path` in chunks of `chunkSize` bytes and hands each to `body`; returns the number of bytes read.
    @discardableResult
    static func forEachChunk(_ path: String, what: String, chunkSize: Int = 1 << 16, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw OtarigError("cannot read the \(what) '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, chunkSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw OtarigError("cannot read the \(what) '\(path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { return total }
            total += n
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}
