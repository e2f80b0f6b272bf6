import Crypto
import FlashProtocol
import Foundation
import Testing

@Suite("ESP-IDF layouts")
struct LayoutTests {
    @Test("the partition table round-trips with its MD5 entry; a changed byte or an erased sector is named")
    func partitionTable() throws {
        let table = PartitionTable.twoOTAWithStaging
        let bytes = table.encoded
        #expect(bytes.count == 0xC00)
        #expect(Array(bytes[0..<2]) == [0xAA, 0x50])
        #expect(try PartitionTable(decoding: bytes) == table)
        #expect(table.otaSlots.map(\.label) == ["ota_0", "ota_1"])
        var changed = bytes
        changed[8] ^= 1  // ota size of the first entry
        #expect(throws: PartitionTable.DecodeError.badMD5) { try PartitionTable(decoding: changed) }
        #expect(throws: PartitionTable.DecodeError.empty) { try PartitionTable(decoding: [UInt8](repeating: 0xFF, count: 0xC00)) }
    }

    @Test("otadata: the higher valid sequence wins, a bad CRC or an invalid state is skipped, slot = (seq - 1) mod slots")
    func otadata() {
        let one = OTASelectEntry(sequence: 1, state: .valid).encoded
        let two = OTASelectEntry(sequence: 2, state: .pendingVerify).encoded
        #expect(OTASelectEntry.activeSlot(sectors: [one, two], slotCount: 2)?.slot == 1)
        var broken = two
        broken[28] ^= 0xFF
        #expect(OTASelectEntry.activeSlot(sectors: [one, broken], slotCount: 2)?.slot == 0)
        let invalid = OTASelectEntry(sequence: 3, state: .invalid).encoded
        #expect(OTASelectEntry.activeSlot(sectors: [invalid, one], slotCount: 2)?.slot == 0)
        #expect(OTASelectEntry.activeSlot(sectors: [[UInt8](repeating: 0xFF, count: 32)], slotCount: 2) == nil)
        // esp_rom_crc32_le(UINT32_MAX, &seq, 4) is zlib's crc32 continued from 0xFFFFFFFF.
        #expect(OTASelectEntry.crc(1) != 0 && OTASelectEntry.crc(1) != OTASelectEntry.crc(2))
    }

    @Test("an app image built here validates, carries its version, and each kind of damage is named")
    func appImage() throws {
        let image = ESP32AppImage.build(version: "2.3.4", project: "bench", code: Array(repeating: 0x5A, count: 1001))
        let parsed = try ESP32AppImage(validating: image + [UInt8](repeating: 0xFF, count: 100))
        #expect(parsed.appDescription?.version == "2.3.4" && parsed.appDescription?.project == "bench")
        #expect(parsed.length == image.count && parsed.hashAppended)
        var magic = image
        magic[0] = 0xFF
        #expect(throws: ESP32AppImage.Problem.badMagic(0xFF)) { try ESP32AppImage(validating: magic) }
        var code = image
        code[600] ^= 1
        #expect(throws: ESP32AppImage.Problem.self) { try ESP32AppImage(validating: code) }
        var hash = image
        hash[hash.count - 1] ^= 1
        #expect(throws: ESP32AppImage.Problem.badHash) { try ESP32AppImage(validating: hash) }
        #expect(throws: ESP32AppImage.Problem.self) { try ESP32AppImage(validating: Array(image.prefix(100))) }
    }
}
