import BoardSim
import Crypto
import FlashProtocol
import Foundation
import SerialIO
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

@Suite("Simulated ESP32 loader (in memory)")
struct LoaderTests {
    static func frames(_ outputs: [ESP32Loader.Output]) -> [[UInt8]] {
        outputs.compactMap { if case .frame(let payload) = $0 { payload } else { nil } }
    }

    static func response(_ loader: inout ESP32Loader, _ request: ROMRequest) -> ROMResponse? {
        frames(loader.receive(request.encoded)).first.flatMap(ROMResponse.init(decoding:))
    }

    static let syncData = ROMRequest.syncPayload

    static func dataPacket(_ opcode: ROMOpcode, sequence: UInt32, _ payload: [UInt8]) -> ROMRequest {
        ROMRequest(opcode, checksum: ROMRequest.checksum(payload),
                   data: LittleEndian.bytes(UInt32(payload.count)) + LittleEndian.bytes(sequence) + [UInt8](repeating: 0, count: 8) + payload)
    }

    static func words(_ values: UInt32...) -> [UInt8] { values.flatMap(LittleEndian.bytes) }

    @Test("SYNC gets eight answers; the magic register says ESP32; RDID through the SPI registers gives the JEDEC id")
    func identity() throws {
        var loader = ESP32Loader()
        let answers = Self.frames(loader.receive(ROMRequest(.sync, data: Self.syncData).encoded))
        #expect(answers.count == 8)
        #expect(Self.response(&loader, ROMRequest(.readReg, data: Self.words(0x4000_1000)))?.value == 0x00F0_1D83)
        // esptool's run_spiflash_command: USR2 = 7 << 28 | 0x9F, then the USR bit in SPI_CMD.
        _ = loader.receive(ROMRequest(.writeReg, data: Self.words(0x3FF4_2024, 7 << 28 | 0x9F, 0xFFFF_FFFF, 0)).encoded)
        _ = loader.receive(ROMRequest(.writeReg, data: Self.words(0x3FF4_2000, 1 << 18, 0xFFFF_FFFF, 0)).encoded)
        #expect(Self.response(&loader, ROMRequest(.readReg, data: Self.words(0x3FF4_2000)))?.value == 0)
        #expect(Self.response(&loader, ROMRequest(.readReg, data: Self.words(0x3FF4_2080)))?.value == 0x16_40EF)
        // GET_SECURITY_INFO is not in the ESP32 ROM.
        let security = try #require(Self.response(&loader, ROMRequest(.getSecurityInfo)))
        #expect(security.status(statusLength: 4)?.error == 0x05)
    }

    @Test("FLASH_BEGIN erases, FLASH_DATA programs (AND), a bad checksum is error 0x07, MD5 answers in ASCII hex")
    func romWrite() throws {
        var loader = ESP32Loader()
        var generator = SeededGenerator(seed: 0x5EED_0002)
        let image = (0..<3000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let begin = Self.response(&loader, ROMRequest(.flashBegin, data: Self.words(3000, 3, 0x400, 0x10000)))
        #expect(begin?.status(statusLength: 4)?.failed == false)
        var corrupt = Self.dataPacket(.flashData, sequence: 0, Array(image[0..<0x400]))
        corrupt.checksum ^= 1
        #expect(Self.response(&loader, corrupt)?.status(statusLength: 4)?.error == 0x07)
        for block in 0..<3 {
            var chunk = Array(image[(block * 0x400)..<min(image.count, (block + 1) * 0x400)])
            chunk += [UInt8](repeating: 0xFF, count: 0x400 - chunk.count)  // the ROM path pads with 0xFF
            #expect(Self.response(&loader, Self.dataPacket(.flashData, sequence: UInt32(block), chunk))?.status(statusLength: 4)?.failed == false)
        }
        #expect(Array(loader.flash.read(offset: 0x10000, length: 3000)!) == image)
        let md5 = try #require(Self.response(&loader, ROMRequest(.spiFlashMD5, data: Self.words(0x10000, 3000, 0, 0))))
        let expected = Insecure.MD5.hash(data: image).map { String(format: "%02x", $0) }.joined()
        #expect(String(decoding: md5.data.prefix(32), as: UTF8.self) == expected)
        // Programming can only clear bits: writing again without an erase ANDs.
        _ = Self.response(&loader, ROMRequest(.flashBegin, data: Self.words(0, 1, 0x400, 0x10000)))
        _ = Self.response(&loader, Self.dataPacket(.flashData, sequence: 0, [UInt8](repeating: 0x0F, count: 0x400)))
        #expect(loader.flash.read(offset: 0x10000, length: 1)!.first == image[0] & 0x0F)
    }

    @Test("the stub: MEM_END starts it with OHAI; compressed writes; READ_FLASH streams packets against acks, then MD5")
    func stub() throws {
        var loader = ESP32Loader()
        _ = loader.receive(ROMRequest(.memBegin, data: Self.words(0x100, 1, 0x1800, 0x400A_8000)).encoded)
        _ = loader.receive(Self.dataPacket(.memData, sequence: 0, [UInt8](repeating: 0xAA, count: 0x100)).encoded)
        let started = Self.frames(loader.receive(ROMRequest(.memEnd, data: Self.words(0, 0x400A_902C)).encoded))
        #expect(started.last == Array("OHAI".utf8))
        #expect(loader.mode == .stub)

        var generator = SeededGenerator(seed: 0x5EED_0003)
        let image = (0..<40_000).map { _ in UInt8.random(in: 0...3, using: &generator) }
        let compressed = try Zlib.compress(image)
        let blocks = (compressed.count + 0x3FFF) / 0x4000
        let begin = Self.response(&loader, ROMRequest(.flashDeflBegin, data: Self.words(UInt32(image.count), UInt32(blocks), 0x4000, 0x20000, 0)))
        #expect(begin?.status(statusLength: 2)?.failed == false)
        for block in 0..<blocks {
            let chunk = Array(compressed[(block * 0x4000)..<min(compressed.count, (block + 1) * 0x4000)])
            #expect(Self.response(&loader, Self.dataPacket(.flashDeflData, sequence: UInt32(block), chunk))?.status(statusLength: 2)?.failed == false)
        }
        let md5 = try #require(Self.response(&loader, ROMRequest(.spiFlashMD5, data: Self.words(0x20000, UInt32(image.count), 0, 0))))
        #expect(Array(md5.data.prefix(16)) == Array(Insecure.MD5.hash(data: image)))

        // READ_FLASH: 0x1000-byte packets, at most 2 unacknowledged here.
        var outputs = Self.frames(loader.receive(ROMRequest(.readFlash, data: Self.words(0x20000, 10_000, 0x1000, 2)).encoded))
        #expect(ROMResponse(decoding: outputs.removeFirst())?.status(statusLength: 2)?.failed == false)
        var received: [UInt8] = []
        var digest: [UInt8] = []
        while digest.isEmpty {
            #expect(!outputs.isEmpty, "the stub stopped sending")
            if outputs.isEmpty { break }
            let packet = outputs.removeFirst()
            if received.count >= 10_000 { digest = packet; break }
            received += packet
            outputs += Self.frames(loader.receive(LittleEndian.bytes(UInt32(received.count))))
        }
        #expect(received == Array(image.prefix(10_000)))
        #expect(digest == Array(Insecure.MD5.hash(data: received)))
    }

    @Test("FLASH_BEGIN past the end of the flash is refused, naming nothing written")
    func outOfRange() {
        var loader = ESP32Loader()
        let answer = Self.response(&loader, ROMRequest(.flashBegin, data: Self.words(0x2000, 2, 0x1000, 0x3FF000)))
        #expect(answer?.status(statusLength: 4)?.failed == true)
        #expect(!loader.flashDirty)
    }
}

@Suite("Serial ports")
struct SerialPortTests {
    @Test("a pty's slave opens raw at 115200, takes another rate, refuses one termios does not name, and carries bytes")
    func pty() throws {
        let pty = try PseudoTerminal()
        let port = try SerialPort(path: pty.slavePath)
        try port.setBaudRate(921_600)
        #expect(port.baudRate == 921_600)
        #expect(throws: SerialPort.Failure.self) { try port.setBaudRate(123_456) }
        try port.write([0xC0, 0x00, 0xC0])
        #expect(pty.read(timeoutMilliseconds: 1000) == [0xC0, 0x00, 0xC0])
        pty.write([0x01, 0x02])
        #expect(port.read(timeout: 1) == [0x01, 0x02])
        // A plain pty has no modem lines; BREAK is accepted on it (the other side sees nothing).
        #expect(port.setLines(dtr: true, rts: false) == false)
        #expect(port.sendBreak(seconds: 0.01))
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
