import HILRunner
import SerialIO

/// A serial port is the rig's transport to a real board or a simulated board's pty: bytes, DTR/RTS, BREAK, and
/// the monotonic clock its timeouts run on.
extension SerialPort: Transport {
    /// Writes all the bytes (`write(_:)`).
    public func send(_ bytes: [UInt8]) throws { try write(bytes) }
    /// What arrives within `timeout` seconds (`read(timeout:)`).
    public func receive(timeout: Double) -> [UInt8] { read(timeout: timeout) }
}
