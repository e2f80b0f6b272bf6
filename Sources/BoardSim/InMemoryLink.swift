import FlashProtocol

/// The flasher wired straight to a simulated chip, with a virtual clock (waiting for an answer that will not come
/// costs no real time) and seeded faults on the wire: a dropped byte, a flipped bit, or an answer that arrives
/// only after the flasher gave up on it. It has the shape of HILRunner's `Transport` (which BoardSim does not
/// import; the tests declare the conformance).
public final class InMemoryLink {
    public struct Faults: Sendable {
        public var rate: Double
        public var seed: UInt64

        public init(rate: Double, seed: UInt64) {
            self.rate = rate
            self.seed = seed
        }
    }

    public private(set) var loader: ESP32Loader
    private var decoder = SLIP.Decoder()
    private var toHost: [UInt8] = []
    private var late: [UInt8] = []
    private var clock = 0.0
    private var random: SplitMix64?
    private let rate: Double
    public private(set) var injected: [String] = []

    public init(loader: ESP32Loader = ESP32Loader(), faults: Faults? = nil) {
        self.loader = loader
        random = faults.map { SplitMix64(seed: $0.seed) }
        rate = faults?.rate ?? 0
    }

    /// What the link is, for messages.
    public var name: String { "the simulated ESP32 in memory" }

    /// Seconds on the virtual clock.
    public var now: Double { clock }

    /// Lets time pass on the virtual clock.
    public func sleep(seconds: Double) { clock += max(0, seconds) }

    /// The simulated line takes any rate.
    public func setBaudRate(_ rate: Int) throws {}

    /// There are no modem lines in memory.
    public func setLines(dtr: Bool, rts: Bool) -> Bool { false }

    /// Nor a BREAK.
    public func sendBreak(seconds: Double) -> Bool { false }

    /// Hands the bytes to the chip (after the seeded faults), which answers at once (or late).

    public func send(_ bytes: [UInt8]) throws {
        var bytes = bytes
        if var random, random.chance(rate), bytes.count > 2 {
            let index = Int(random.next() % UInt64(bytes.count - 2)) + 1
            if random.next() % 2 == 0 {
                bytes.remove(at: index)
                injected.append("dropped a byte")
            } else {
                bytes[index] ^= UInt8(1) << UInt8(random.next() % 8)
                injected.append("flipped a bit")
            }
            self.random = random
        } else if var random {
            _ = random.next()
            self.random = random
        }
        for frame in decoder.feed(bytes) {
            var answer: [UInt8] = []
            for output in loader.receive(frame) {
                if case .frame(let payload) = output { answer += SLIP.encode(payload) }
            }
            if var random, random.chance(rate / 2), !answer.isEmpty {
                late += answer
                injected.append("held an answer back")
                self.random = random
            } else {
                toHost += answer
            }
        }
    }

    /// What the chip sent; when nothing, the whole `timeout` passes on the virtual clock and late answers arrive.
    public func receive(timeout: Double) -> [UInt8] {
        if toHost.isEmpty {
            clock += timeout
            toHost = late
            late = []
            return []
        }
        defer { toHost = [] }
        return toHost
    }
}

/// A small seeded generator (SplitMix64), so a fault schedule (or a test's data) replays from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chance(_ probability: Double) -> Bool {
        guard probability > 0 else { return false }
        return Double(next() >> 11) / Double(1 << 53) < probability
    }
}
