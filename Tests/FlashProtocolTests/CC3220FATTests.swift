import FlashProtocol
import Testing

@Suite("CC3220 serial-flash FAT")
struct CC3220FATTests {
    /// Two blocks laid out as shared/reference/cc3220-bootloader.md §7.3 describes (cc3200tool's reader).
    static func raw(secondCopyRevision: UInt16? = nil) -> [UInt8] {
        var raw = [UInt8](repeating: 0xFF, count: 8192)
        raw[0] = 7; raw[1] = 0; raw[2] = 0x4C; raw[3] = 0x53                 // revision 7, "LS"
        raw.replaceSubrange(4..<8, with: [0, 18, 5, 0x40])                   // entry 0: 18 blocks at 5, not mirrored
        raw.replaceSubrange(8..<12, with: [1, 1, 0x2C, 0x81])                // entry 1: 1 block at 0x12C, mirrored, flag 0x8
        raw.replaceSubrange(12..<16, with: [0xFF, 2, 0xFF, 0x7F])            // entry 2: the other empty form
        let names = Array("/sys/mcuimg.bin/cert/ca".utf8)
        raw.replaceSubrange(0x774..<0x77C, with: [0, 0, 15, 0, 15, 0, 8, 0]) // <HH offset, length> × 2
        raw.replaceSubrange(0x974..<0x974 + names.count, with: names)
        if let revision = secondCopyRevision {
            raw[4096] = UInt8(revision & 0xFF); raw[4097] = UInt8(revision >> 8); raw[4098] = 0x4C; raw[4099] = 0x53
        }
        return raw
    }

    @Test("entries, names, start blocks above 255 and the mirrored flag read as cc3200tool reads them")
    func reads() throws {
        let fat = try #require(CC3220FAT(rawBlocks: Self.raw()))
        #expect(fat.revision == 7)
        #expect(fat.entries.map(\.name) == ["/sys/mcuimg.bin", "/cert/ca"])
        #expect(fat.entries.map(\.startBlock) == [5, 0x12C])
        #expect(fat.entries.map(\.sizeBlocks) == [18, 1])
        #expect(fat.entries.map(\.mirrored) == [false, true])
    }

    @Test("an erased flash has no FAT; a newer second copy is the active one and moves the name table by 4 KiB")
    func copies() {
        #expect(CC3220FAT(rawBlocks: [UInt8](repeating: 0xFF, count: 8192)) == nil)
        let fat = CC3220FAT(rawBlocks: Self.raw(secondCopyRevision: 8))
        #expect(fat?.revision == 8)
        #expect(fat?.entries.isEmpty == true, "copy 2's entries are all erased")
    }
}
