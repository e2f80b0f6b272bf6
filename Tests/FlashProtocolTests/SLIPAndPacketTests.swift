import Crypto
import FlashProtocol
import Foundation
import Testing

@Suite("SLIP framing")
struct SLIPTests {
    @Test("escapes C0 and DB, and the decoder rebuilds frames fed one byte at a time")
    func roundTripByteByByte() {
        let payloads: [[UInt8]] = [[0x00, 0xC0, 0xDB, 0x01], [], [0xDB, 0xDB, 0xC0, 0xC0], Array(0...255)]
        var wire: [UInt8] = Array("boot log noise\r\n".utf8)
        for payload in payloads { wire += SLIP.encode(payload) }
        #expect(SLIP.encode([0xC0, 0xDB]) == [0xC0, 0xDB, 0xDC, 0xDB, 0xDD, 0xC0])
        var decoder = SLIP.Decoder()
        var frames: [[UInt8]] = []
        for byte in wire {
            if let frame = decoder.feed(byte) { frames.append(frame) }
        }
        #expect(frames == payloads.filter { !$0.isEmpty })
        #expect(decoder.droppedBytes == 16)
    }

    @Test("a bad escape spoils only its frame; a lost delimiter merges two frames into one bad one, then sync returns")
    func recovery() {
        var decoder = SLIP.Decoder()
        let bad: [UInt8] = [0xC0, 0x01, 0xDB, 0x42, 0x02, 0xC0]
        let good = SLIP.encode([0x05, 0x06])
        #expect(decoder.feed(bad + good) == [[0x05, 0x06]])
        #expect(decoder.spoiledFrames == 1)
        // Drop the closing C0 of one frame: the decoder joins it with the next and recovers after.
        var lost = SLIP.encode(ROMRequest(.sync, data: [1, 2, 3]).encoded)
        lost.removeLast()
        let frames = decoder.feed(lost + SLIP.encode([0x07]) + SLIP.encode([0x08]))
        #expect(frames.last == [0x08])
    }
}

@Suite("ROM loader packets")
struct PacketTests {
    @Test("requests and responses encode as <BBHI plus data, and decode back")
    func packets() throws {
        let request = ROMRequest(.flashData, checksum: ROMRequest.checksum([1, 2, 3]), data: [1, 2, 3])
        #expect(request.encoded == [0x00, 0x03, 0x03, 0x00, 0xEF ^ 1 ^ 2 ^ 3, 0, 0, 0, 1, 2, 3])
        #expect(try ROMRequest(decoding: request.encoded) == request)
        #expect(throws: ROMRequest.DecodeError.lengthMismatch(declared: 3, actual: 2)) { try ROMRequest(decoding: Array(request.encoded.dropLast())) }
        // A real ESP32's SYNC answer (espressif/esptool#250).
        let sync: [UInt8] = [0x01, 0x08, 0x04, 0x00, 0x07, 0x07, 0x12, 0x20, 0x00, 0x00, 0x00, 0x00]
        let response = try #require(ROMResponse(decoding: sync))
        #expect(response.value == 0x2012_0707 && response.status(statusLength: 4)?.failed == false)
    }

    @Test("zlib: a stream inflated in arbitrary pieces gives the input back")
    func zlib() throws {
        var generator = SeededGenerator(seed: 0x5EED_0001)
        let input = (0..<100_000).map { _ in UInt8.random(in: 0...7, using: &generator) }
        let compressed = try Zlib.compress(input)
        #expect(compressed.count < input.count)
        let inflater = try Zlib.Inflater()
        var output: [UInt8] = []
        var rest = compressed[...]
        while !rest.isEmpty {
            let piece = Int.random(in: 1...1000, using: &generator)
            output += try inflater.inflate(Array(rest.prefix(piece)))
            rest = rest.dropFirst(piece)
        }
        #expect(output == input)
        #expect(inflater.finished)
    }
}

/// SplitMix64: random test data that replays from its seed, so a failure can be reproduced.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
