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

    /// A new pseudo-terminal. With `packetMode`, for a board whose bootloader is entered by a BREAK (the CC3220):
    /// a pty cannot carry a BREAK (linux drivers/tty/pty.c has no break_ctl), but every host flushes its input right
    /// before it sends one, and a master in packet mode reports that flush (`PacketRead.control(flushRead)`). The
    /// slave is then not held open, so a read while no host has the port open fails (`PacketRead.hangup`): the host
    /// let go of the port, which the simulator treats as the power cycle between tool runs. Without it the simulator
    /// keeps the slave open, so a tool closing the port does not hang up the master.
    public init(packetMode: Bool = false) throws {
        var master: Int32 = -1, slave: Int32 = -1
        var name = [CChar](repeating: 0, count: 256)
        let status = otarig_pty_open(&master, &slave, &name, name.count)
        guard status == 0 else { throw Failure(description: "cannot open a pseudo-terminal: \(String(cString: strerror(status)))") }
        if packetMode {
            let packet = otarig_pty_packet_mode(master)
            close(slave)
            guard packet == 0 else {
                close(master)
                throw Failure(description: "cannot put the pseudo-terminal in packet mode: \(String(cString: strerror(packet)))")
            }
            self.slaveKeeper = -1
        } else {
            self.slaveKeeper = slave
        }
        self.master = master
        self.slavePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Puts a master someone else opened (umockdev's) in packet mode.
    public func enablePacketMode() throws {
        let status = otarig_pty_packet_mode(master)
        guard status == 0 else { throw Failure(description: "cannot put the pseudo-terminal in packet mode: \(String(cString: strerror(status)))") }
    }

    /// What one read of a packet-mode master brought.
    public enum PacketRead: Equatable, Sendable {
        /// Nothing within the timeout.
        case nothing
        /// Bytes the host wrote.
        case data([UInt8])
        /// TIOCPKT status flags: the host flushed its input (0x01), its output (0x02), or changed the termios (0x40).
        case control(UInt8)
        /// No host has the port open.
        case hangup
    }

    /// TIOCPKT_FLUSHREAD, TIOCPKT_FLUSHWRITE and TIOCPKT_IOCTL (linux include/uapi/asm-generic/ioctls.h).
    public static let flushRead: UInt8 = 0x01
    public static let flushWrite: UInt8 = 0x02
    public static let termiosChanged: UInt8 = 0x40

    /// Reads a packet-mode master (see `init(packetMode:)`).
    public func readPacket(timeoutMilliseconds: Int32) -> PacketRead {
        var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, timeoutMilliseconds) > 0 else { return .nothing }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024 + 1)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EAGAIN || errno == EINTR { return .nothing }
            return .hangup
        }
        if count == 0 { return .hangup }
        if buffer[0] != 0 { return .control(buffer[0]) }
        return count > 1 ? .data(Array(buffer[1..<count])) : .nothing
    }

    /// The baud rate the host last set on its side, 0 when not a standard rate.
    public var hostBaudRate: Int { Int(otarig_pty_host_baud(master)) }

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
