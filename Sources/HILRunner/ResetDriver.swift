import FlashProtocol

/// The reset lines of a transport: runs a named `ResetSequence` step by step on its DTR/RTS (and BREAK), waiting
/// on the transport's clock, so the same sequence drives a USB-serial adapter, umockdev's fake port, or memory.
public final class TransportResetLines: ResetLines {
    public let transport: any Transport

    public init(transport: any Transport) {
        self.transport = transport
    }

    public func perform(_ sequence: ResetSequence) -> Bool {
        // Both lines released first: a port without modem lines says so here, before any step runs.
        guard transport.setLines(dtr: false, rts: false) else { return false }
        for state in sequence.lineStates() {
            switch state {
            case .lines(let dtr, let rts): _ = transport.setLines(dtr: dtr, rts: rts)
            case .wait(let seconds): transport.sleep(seconds: seconds)
            }
        }
        return true
    }
}
