import CSerialIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pseudo-terminal for a simulated board: the simulator owns the master side; tools (esptool, otarig flash) open
/// the slave path as they would /dev/ttyUSB0. The simulator also keeps the slave open, so a tool closing the port
/// does not hang up the master and the next tool finds the board still there.
public final class PseudoTerminal: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let master: Int32
    public let slavePath: String
    private let slaveKeeper: Int32

    public init() throws {
        var master: Int32 = -1, slave: Int32 = -1
        var name = [CChar](repeating: 0, count: 256)
        let status = otarig_pty_open(&master, &slave, &name, name.count)
        guard status == 0 else { throw Failure(description: "cannot open a pseudo-terminal: \(String(cString: strerror(status)))") }
        self.master = master
        self.slavePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.slaveKeeper = slave
    }

    /// Serves a board side someone else opened (the master of umockdev's fake /dev/ttyUSB0, handed over as a
    /// descriptor); `slavePath` is then only a name for messages.
    public init(existingMaster descriptor: Int32, name: String) throws {
        guard fcntl(descriptor, F_GETFD) >= 0 else { throw Failure(description: "descriptor \(descriptor) is not open") }
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        master = descriptor
        slavePath = name
        slaveKeeper = -1
    }

    deinit {
        if slaveKeeper >= 0 { close(slaveKeeper) }
        close(master)
    }

    /// Waits up to `timeoutMilliseconds` for bytes from the tool on the slave side; empty when none came.
    public func read(timeoutMilliseconds: Int32) -> [UInt8] {
        var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, timeoutMilliseconds) > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
        return count > 0 ? Array(buffer[0..<count]) : []
    }

    /// Writes all of `bytes` towards the tool, waiting while the pty's buffer is full.
    public func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress! + offset, $0.count - offset) }
            if written > 0 {
                offset += written
            } else if written == 0 || errno == EAGAIN || errno == EINTR {
                // The pty holds at most 64 KiB in flight; wait for the tool to read.
                var descriptor = pollfd(fd: master, events: Int16(POLLOUT), revents: 0)
                if poll(&descriptor, 1, 100) == 0 { usleep(1000) }
            } else {
                return  // the tool went away mid-answer; the next one starts a new exchange
            }
        }
    }

}
