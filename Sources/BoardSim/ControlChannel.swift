import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The modem lines a harness reports for a simulated board, one "dtr=D rts=R" line each, through a FIFO: how the
/// umockdev reset harness (which answers the fake port's TIOCMSET) tells the simulator what the host drove.
public final class ControlChannel {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let descriptor: Int32
    let keeper: Int32
    var pending: [UInt8] = []

    /// Opens the FIFO at `path`, making it when missing.
    public init(path: String) throws(Failure) {
        if access(path, F_OK) != 0, mkfifo(path, 0o600) != 0 {
            throw Failure(description: "cannot make the control FIFO '\(path)': \(String(cString: strerror(errno)))")
        }
        descriptor = open(path, O_RDONLY | O_NONBLOCK)
        guard descriptor >= 0 else { throw Failure(description: "cannot open the control FIFO '\(path)': \(String(cString: strerror(errno)))") }
        // Holding a writer open ourselves keeps reads from seeing end-of-file between harness writes.
        keeper = open(path, O_WRONLY | O_NONBLOCK)
    }

    deinit {
        close(descriptor)
        if keeper >= 0 { close(keeper) }
    }

    /// The line states reported since the last call, in order (never blocks).
    public func read() -> [(dtr: Bool, rts: Bool)] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if count > 0 { pending += buffer[0..<count] }
        return Self.parse(&pending)
    }

    /// Takes the complete lines off `pending`, leaving a partial last line for later.
    static func parse(_ pending: inout [UInt8]) -> [(dtr: Bool, rts: Bool)] {
        var out: [(dtr: Bool, rts: Bool)] = []
        while let newline = pending.firstIndex(of: 0x0A) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            var dtr = false, rts = false
            for field in line.split(separator: " ") {
                if field == "dtr=1" { dtr = true }
                if field == "rts=1" { rts = true }
            }
            out.append((dtr, rts))
        }
        return out
    }
}

/// Seeded faults a simulated board injects into what it receives (and, on a CC3220, into some answers): a frame is
/// lost, a bit in it flips, or the answer comes `delay` seconds late; `rate` is the share of frames hit, `seed` makes a
/// run replay.
public struct SimulatorFaults: Sendable {
    public var rate: Double
    public var seed: UInt64
    public var delay: Double

    public init(rate: Double, seed: UInt64, delay: Double) {
        self.rate = rate
        self.seed = seed
        self.delay = delay
    }
}
