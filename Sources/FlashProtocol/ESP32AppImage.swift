import Crypto

/// An ESP32 application image (esptool's ‘Firmware Image Format’ documentation, docs.espressif.com; espressif/esptool
/// `esptool/bin_image.py`): magic E9, segment count, flash mode and size/frequency, entry point, the 16-byte extended
/// header (chip id, hash_appended), segments `<II` (load address, length) + data, zero padding to 16n − 1, a checksum
/// byte (0xEF XOR all segment data), then the SHA-256 of everything before it when hash_appended. App images carry
/// `esp_app_desc_t` (magic ABCD5432, secure_version, version[32], project_name[32], …) at the start of their first
/// segment.
public struct ESP32AppImage: Equatable, Sendable {
    public struct Segment: Equatable, Sendable {
        public var loadAddress: UInt32
        public var data: [UInt8]

        public init(loadAddress: UInt32, data: [UInt8]) {
            self.loadAddress = loadAddress
            self.data = data
        }
    }

    public var entryPoint: UInt32
    public var segments: [Segment]
    public var chipID: UInt16
    public var hashAppended: Bool
    /// The image's length in flash (header, segments, checksum, hash).
    public var length: Int

    public static let appDescriptionMagic: UInt32 = 0xABCD_5432

    /// The app description's version and project name, if the first segment starts with one.
    public var appDescription: (version: String, project: String, secureVersion: UInt32)? {
        guard let first = segments.first?.data, first.count >= 0x50, LittleEndian.uint32(first, at: 0) == Self.appDescriptionMagic else { return nil }
        func text(_ range: Range<Int>) -> String { String(decoding: first[range].prefix { $0 != 0 }, as: UTF8.self) }
        return (text(0x10..<0x30), text(0x30..<0x50), LittleEndian.uint32(first, at: 4))
    }

    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case badMagic(UInt8)
        case truncated(at: Int)
        case badChecksum(stored: UInt8, computed: UInt8)
        case badHash
        case wrongChip(UInt16)

        public var description: String {
            switch self {
            case .badMagic(let byte): "image has invalid magic byte (0x\(String(byte, radix: 16)), expected 0xe9)"
            case .truncated(let offset): "image is cut off at byte \(offset)"
            case .badChecksum(let stored, let computed): "checksum failed: calculated 0x\(String(computed, radix: 16)) read 0x\(String(stored, radix: 16))"
            case .badHash: "image hash failed: the appended SHA-256 does not match"
            case .wrongChip(let id): "image is for chip id \(id), not the ESP32 (0)"
            }
        }
    }

    /// Checks an image as the second-stage bootloader does (esp_image_verify): magic, chip id, segments, checksum,
    /// appended SHA-256.
    public init(validating bytes: some Collection<UInt8>) throws(Problem) {
        let data = Array(bytes)
        guard data.count >= 24 else { throw .truncated(at: data.count) }
        guard data[0] == 0xE9 else { throw .badMagic(data[0]) }
        let count = Int(data[1])
        let chip = LittleEndian.uint16(data, at: 12)
        guard chip == 0 else { throw .wrongChip(chip) }
        var offset = 24
        var segments: [Segment] = []
        var checksum: UInt8 = 0xEF
        for _ in 0..<count {
            guard offset + 8 <= data.count else { throw .truncated(at: offset) }
            let address = LittleEndian.uint32(data, at: offset), length = Int(LittleEndian.uint32(data, at: offset + 4))
            offset += 8
            guard length <= data.count - offset else { throw .truncated(at: offset) }
            let body = Array(data[offset..<offset + length])
            checksum = body.reduce(checksum, ^)
            segments.append(Segment(loadAddress: address, data: body))
            offset += length
        }
        offset = (offset + 16) / 16 * 16 - 1  // pad to 16n − 1, then the checksum byte
        guard offset < data.count else { throw .truncated(at: offset) }
        guard data[offset] == checksum else { throw .badChecksum(stored: data[offset], computed: checksum) }
        offset += 1
        let hashed = data[23] == 1
        if hashed {
            guard offset + 32 <= data.count else { throw .truncated(at: offset) }
            guard Array(SHA256.hash(data: data[0..<offset])) == Array(data[offset..<offset + 32]) else { throw .badHash }
            offset += 32
        }
        self.init(entryPoint: LittleEndian.uint32(data, at: 4), segments: segments, chipID: chip, hashAppended: hashed, length: offset)
    }

    init(entryPoint: UInt32, segments: [Segment], chipID: UInt16, hashAppended: Bool, length: Int) {
        self.entryPoint = entryPoint
        self.segments = segments
        self.chipID = chipID
        self.hashAppended = hashAppended
        self.length = length
    }

    /// Builds an image as `esptool elf2image` lays one out: an app description (version, project) at the start of a
    /// DROM segment, then `code` as an IROM segment; 4 MiB DIO 40 MHz; checksum and appended SHA-256.
    public static func build(version: String, project: String, code: [UInt8], secureVersion: UInt32 = 0) -> [UInt8] {
        func fixed(_ text: String, _ count: Int) -> [UInt8] {
            let bytes = Array(text.utf8.prefix(count - 1))
            return bytes + [UInt8](repeating: 0, count: count - bytes.count)
        }
        var description = LittleEndian.bytes(appDescriptionMagic) + LittleEndian.bytes(secureVersion) + [UInt8](repeating: 0, count: 8)
        description += fixed(version, 32) + fixed(project, 32) + fixed("00:00:00", 16) + fixed("Nov 22 2026", 16) + fixed("otarig", 32)
        description += [UInt8](repeating: 0, count: 32) + [UInt8](repeating: 0, count: 80)  // app_elf_sha256, reserved
        let segments = [Segment(loadAddress: 0x3F40_0020, data: description), Segment(loadAddress: 0x400D_0020, data: code + [UInt8](repeating: 0, count: (4 - code.count % 4) % 4))]
        var out: [UInt8] = [0xE9, UInt8(segments.count), 0x02, 0x20] + LittleEndian.bytes(UInt32(0x400D_0020))
        out += [0xEE, 0, 0, 0] + LittleEndian.bytes(UInt16(0)) + [0] + LittleEndian.bytes(UInt16(0)) + LittleEndian.bytes(UInt16(399)) + [0, 0, 0, 0] + [1]
        var checksum: UInt8 = 0xEF
        for segment in segments {
            out += LittleEndian.bytes(segment.loadAddress) + LittleEndian.bytes(UInt32(segment.data.count)) + segment.data
            checksum = segment.data.reduce(checksum, ^)
        }
        let padded = (out.count + 16) / 16 * 16 - 1
        out += [UInt8](repeating: 0, count: padded - out.count) + [checksum]
        return out + Array(SHA256.hash(data: out))
    }
}
