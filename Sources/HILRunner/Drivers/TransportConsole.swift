/// A console read from a transport: the bytes a board prints, split into lines (CR, LF or CRLF end a line), each
/// stamped with the transport's clock when its end arrived. A UART that carries both a loader protocol and the
/// application's log (an ESP32 after it leaves download mode, a QEMU board's only UART) is read this way once the
/// loader is done with it.
public final class TransportConsole: Console {
    public let transport: any Transport
    private var splitter = LineSplitter()
    private var ready: [ConsoleLine] = []

    public init(transport: any Transport) {
        self.transport = transport
    }

    public func nextLine(until deadline: Double) -> ConsoleLine? {
        while ready.isEmpty {
            let left = deadline - transport.now
            guard left > 0 else { return nil }
            let bytes = transport.receive(timeout: left)
            let now = transport.now
            ready += splitter.append(bytes).map { ConsoleLine(time: now, text: $0) }
        }
        return ready.removeFirst()
    }
}

/// Bytes in, complete lines out: CR, LF and CRLF each end one line (a CRLF is one end, not an empty line between),
/// and a line longer than `maximumLength` is cut there so a board printing without newlines cannot grow it forever.
public struct LineSplitter: Sendable {
    /// Longer than any FreeRTOS log line (the agent's log buffer is 512 bytes, ESP-IDF's 256).
    public static let maximumLength = 4096

    private var pending: [UInt8] = []
    private var lastWasCR = false

    public init() {}

    /// The lines `bytes` completed, in order, as text (invalid UTF-8 repaired).
    public mutating func append(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == 0x0A, lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                lines.append(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count == Self.maximumLength {
                    lines.append(String(decoding: pending, as: UTF8.self))
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        return lines
    }
}
