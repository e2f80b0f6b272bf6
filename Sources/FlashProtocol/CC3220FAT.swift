/// The SimpleLink serial-flash file system's table as it sits in the first blocks of the serial flash, read the way
/// cc3200tool's `list_filesystem` reads it (toniebox-reverse-engineering/cc3200tool `cc.py` `CC3x00SffsHeader`,
/// `CC3x00SffsInfo`; shared/reference/cc3220-bootloader.md §7.3), CC3200 layout:
/// - two FAT copies, at blocks 0 and 1: `<HH` commit revision, signature 0x534C ("LS"); an erased copy reads 0xFFFF;
///   the valid copy with the higher revision is active;
/// - at offset 4 of a copy, 128 four-byte entries `[index, size_blocks, start_block & 0xFF, flags << 4 | start_block >> 8]`;
///   `FF FF FF FF` or `FF i FF 7F` is an empty entry; flag 0x4 set means not mirrored;
/// - the name table at 0x774 (+0x1000 when copy 2 is valid): 128 × `<HH` (offset, length), names at +0x200.
public struct CC3220FAT: Equatable, Sendable {
    public static let signature: UInt16 = 0x534C
    public static let maxEntries = 128
    public static let blockSize = 4096
    static let nameTableOffset = 0x774
    static let namesOffset = 0x200

    public struct Entry: Equatable, Sendable {
        public var index: Int
        public var name: String
        public var startBlock: Int
        /// Blocks per copy.
        public var sizeBlocks: Int
        /// Two copies (failsafe).
        public var mirrored: Bool
        public var flags: UInt8
    }

    public var revision: UInt16
    public var entries: [Entry]

    /// Reads the table from the serial flash's first two blocks (8 KiB); nil when neither copy is valid.
    public init?(rawBlocks raw: [UInt8]) {
        guard raw.count >= 2 * Self.blockSize else { return nil }
        func header(_ block: Int) -> UInt16? {
            let base = block * Self.blockSize
            let revision = UInt16(raw[base]) | UInt16(raw[base + 1]) << 8
            let signature = UInt16(raw[base + 2]) | UInt16(raw[base + 3]) << 8
            guard revision != 0xFFFF, signature == Self.signature else { return nil }
            return revision
        }
        let first = header(0), second = header(1)
        let active: Int
        switch (first, second) {
        case (nil, nil): return nil
        case (_?, nil): active = 0
        case (nil, _?): active = 1
        case (let a?, let b?): active = b > a ? 1 : 0
        }
        revision = (active == 0 ? first : second) ?? 0
        let nameTable = Self.nameTableOffset + (second != nil ? Self.blockSize : 0)
        let base = active * Self.blockSize
        var entries: [Entry] = []
        for index in 0..<Self.maxEntries {
            let at = base + 4 + index * 4
            let meta = Array(raw[at..<at + 4])
            if meta == [0xFF, 0xFF, 0xFF, 0xFF] || meta == [0xFF, UInt8(index), 0xFF, 0x7F] { continue }
            guard Int(meta[0]) == index else { continue }
            let flags = meta[3] >> 4
            let start = Int(meta[3] & 0x0F) << 8 | Int(meta[2])
            var name = "#\(index)"
            let nameEntry = nameTable + index * 4
            if nameEntry + 4 <= raw.count {
                let offset = Int(raw[nameEntry]) | Int(raw[nameEntry + 1]) << 8
                let length = Int(raw[nameEntry + 2]) | Int(raw[nameEntry + 3]) << 8
                let from = nameTable + Self.namesOffset + offset
                if length > 0, from + length <= raw.count {
                    name = String(decoding: raw[from..<from + length], as: UTF8.self)
                }
            }
            entries.append(Entry(index: index, name: name, startBlock: start, sizeBlocks: Int(meta[1]), mirrored: flags & 0x4 == 0, flags: flags))
        }
        self.entries = entries
    }
}
