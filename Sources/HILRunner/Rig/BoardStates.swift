import FlashProtocol

/// Where a board is in a cell, as the rig drives it: off (or in an unknown state) → download mode (its loader
/// answers) → flashed (the base application and the staged update written) → running (the application printing).
/// Each step has the plan's timeout; a step that overruns it is a rig fault, never a verdict.
public enum BoardState: String, Sendable, Codable, CaseIterable {
    case off
    case downloadMode = "download-mode"
    case flashed
    case running

    /// The step that leads into this state, as the plan's `timeouts` name it.
    public var timeoutName: String {
        switch self {
        case .off: "none"
        case .downloadMode, .flashed: "flash"
        case .running: "boot"
        }
    }
}

/// A transport with a deadline for the step in hand: past it, reads come back empty and writes fail, so whatever
/// protocol is running (the ROM loader's, a console read) gives up within one of its own timeouts.
final class StepDeadlineTransport: Transport {
    let base: any Transport
    /// Monotonic seconds on the base transport's clock; nil: no deadline.
    var deadline: Double?
    /// Whether the deadline cut a read or a write short.
    private(set) var expired = false

    init(_ base: any Transport) { self.base = base }

    var name: String { base.name }
    var now: Double { base.now }

    func send(_ bytes: [UInt8]) throws {
        if let deadline, base.now >= deadline {
            expired = true
            throw TransportError("the step's time ran out")
        }
        try base.send(bytes)
    }

    func receive(timeout: Double) -> [UInt8] {
        guard let deadline else { return base.receive(timeout: timeout) }
        let left = deadline - base.now
        guard left > 0 else {
            expired = true
            return []
        }
        return base.receive(timeout: min(timeout, left))
    }

    func setBaudRate(_ rate: Int) throws { try base.setBaudRate(rate) }
    func setLines(dtr: Bool, rts: Bool) -> Bool { base.setLines(dtr: dtr, rts: rts) }
    func sendBreak(seconds: Double) -> Bool { base.sendBreak(seconds: seconds) }
    func discardInput() { base.discardInput() }
    func sleep(seconds: Double) { base.sleep(seconds: seconds) }

    /// Starts a step: a fresh deadline `seconds` from now.
    func begin(seconds: Double) {
        deadline = base.now + seconds
        expired = false
    }
}
