import CSerialIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A serial port opened raw (8N1, no flow control): USB-serial adapters on a bench, or a simulated board's pty.
public final class SerialPort: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let path: String
    public let descriptor: Int32
    public private(set) var baudRate: Int

    public init(path: String, baudRate: Int = 115_200) throws {
        let fd = otarig_serial_open(path, UInt32(baudRate))
        guard fd >= 0 else {
            let reason = String(cString: strerror(-fd))
            throw Failure(description: -fd == EINVAL ? "\(baudRate) is not a baud rate this port takes" : "cannot open \(path): \(reason)")
        }
        self.path = path
        descriptor = fd
        self.baudRate = baudRate
    }

    deinit { close(descriptor) }

    /// The port's path, for messages.
    public var name: String { path }

    /// Monotonic seconds (`MonotonicClock.now`): the clock the port's timeouts run on.
    public var now: Double { MonotonicClock.now }

    /// Drops whatever the port received and nobody read (tcflush TCIFLUSH), as a host does before it sends a BREAK.
    public func discardInput() {
        tcflush(descriptor, TCIFLUSH)
    }

    /// Sleeps for `seconds` (between reset-line steps).
    public func sleep(seconds: Double) {
        usleep(UInt32(max(0, min(seconds, 3600)) * 1_000_000))
    }

    public func setBaudRate(_ rate: Int) throws {
        let status = otarig_serial_set_baud(descriptor, UInt32(rate))
        guard status == 0 else { throw Failure(description: "cannot set \(path) to \(rate) baud: \(String(cString: strerror(status)))") }
        baudRate = rate
    }

    /// Drives DTR and RTS together (true = asserted). False when the port has no modem lines (a plain pty).
    @discardableResult
    public func setLines(dtr: Bool, rts: Bool) -> Bool {
        otarig_serial_set_lines(descriptor, dtr ? 1 : 0, rts ? 1 : 0) == 0
    }

    /// Holds the line in BREAK for `seconds` (the CC3220's UART bootloader is entered this way). False when the
    /// port cannot (a plain pty accepts the ioctl but the other side sees nothing).
    @discardableResult
    public func sendBreak(seconds: Double) -> Bool {
        guard otarig_serial_set_break(descriptor, 1) == 0 else { return false }
        usleep(UInt32(max(0, seconds) * 1_000_000))
        return otarig_serial_set_break(descriptor, 0) == 0
    }

    /// Whatever arrives within `timeout` seconds of waiting (returns as soon as something came).
    public func read(timeout: TimeInterval) -> [UInt8] {
        var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, min(timeout, 3600)) * 1000)
        guard poll(&descriptorSet, 1, milliseconds) > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        return count > 0 ? Array(buffer[0..<count]) : []
    }

    public func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written > 0 {
                offset += written
            } else if written == 0 || errno == EAGAIN || errno == EINTR {
                var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&descriptorSet, 1, 100)
            } else {
                throw Failure(description: "writing to \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

}
