import BoardSim
import Crypto
import FlashProtocol
import Foundation
import Testing

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
        var generator = SplitMix64(seed: 0x5EED_0002)
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

        var generator = SplitMix64(seed: 0x5EED_0003)
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
