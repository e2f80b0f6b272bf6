import Foundation
import HILRunner
import SerialIO
#if canImport(Glibc)
import Glibc
#endif

/// A serial port is the rig's transport to a real board or a simulated board's pty: bytes, DTR/RTS, BREAK, and
/// the monotonic clock its timeouts run on.
extension SerialPort: Transport {
    /// Writes all the bytes (`write(_:)`).
    public func send(_ bytes: [UInt8]) throws { try write(bytes) }
    /// What arrives within `timeout` seconds (`read(timeout:)`).
    public func receive(timeout: Double) -> [UInt8] { read(timeout: timeout) }
}

/// A simulated board's port whose reset lines go through its control FIFO: a pty has no modem lines, so `setLines`
/// writes "dtr=D rts=R" lines the simulator reads (`otarig sim cc3220sf --control FIFO`); everything else is the port's.
final class ControlledTransport: Transport {
    let port: SerialPort
    let fifo: String
    private let descriptor: Int32

    init(_ port: SerialPort, fifo: String) throws {
        self.port = port
        self.fifo = fifo
        // The simulator holds the FIFO open for reading from before it names its pty, so this does not block.
        descriptor = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw OtarigError("cannot open the control FIFO '\(fifo)': \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    var name: String { port.path }
    var now: Double { port.now }
    func send(_ bytes: [UInt8]) throws { try port.send(bytes) }
    func receive(timeout: Double) -> [UInt8] { port.receive(timeout: timeout) }
    func setBaudRate(_ rate: Int) throws { try port.setBaudRate(rate) }
    func sendBreak(seconds: Double) -> Bool { port.sendBreak(seconds: seconds) }
    func discardInput() { port.discardInput() }
    func sleep(seconds: Double) { port.sleep(seconds: seconds) }

    func setLines(dtr: Bool, rts: Bool) -> Bool {
        let line = Array("dtr=\(dtr ? 1 : 0) rts=\(rts ? 1 : 0)\n".utf8)
        return line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == line.count
    }
}
