/// GET_VERSION_INFO's 28-byte framed reply: bootloader[4], nwp[4], mac[4], phy[4], chip[4], reserved[8] (SWPA230A
/// "Get Version Info"; cc3200tool `CC3x00VersionInfo.from_packet`, which insists on 28 bytes; mos `VersionInfo`).
public struct CC3220Version: Equatable, Sendable, CustomStringConvertible {
    /// The reply's length (cc3200tool: "Version info should be 28 bytes").
    public static let length = 28

    public var bootloader: [UInt8]
    public var nwp: [UInt8]
    public var mac: [UInt8]
    public var phy: [UInt8]
    public var chip: [UInt8]
    public var reserved: [UInt8]

    /// Each group must be 4 bytes (reserved 8); a wrong count is a programmer mistake and traps.
    public init(bootloader: [UInt8], nwp: [UInt8] = [0, 0, 0, 0], mac: [UInt8] = [0, 0, 0, 0], phy: [UInt8] = [0, 0, 0, 0],
                chip: [UInt8], reserved: [UInt8] = [UInt8](repeating: 0, count: 8)) {
        precondition([bootloader, nwp, mac, phy, chip].allSatisfy { $0.count == 4 } && reserved.count == 8,
                     "CC3220Version groups are 4 bytes, reserved 8")
        self.bootloader = bootloader
        self.nwp = nwp
        self.mac = mac
        self.phy = phy
        self.chip = chip
        self.reserved = reserved
    }

    /// Reads a reply; nil unless it is exactly 28 bytes.
    public init?(frame payload: [UInt8]) {
        guard payload.count == Self.length else { return nil }
        self.init(bootloader: Array(payload[0..<4]), nwp: Array(payload[4..<8]), mac: Array(payload[8..<12]),
                  phy: Array(payload[12..<16]), chip: Array(payload[16..<20]), reserved: Array(payload[20..<28]))
    }

    /// The reply's 28 bytes.
    public var encoded: [UInt8] { bootloader + nwp + mac + phy + chip + reserved }

    /// The bootloader version as mos reads it: a big-endian u32 (CC3200 `00 04 01 02` = 0x00040102).
    public var bootloaderVersion: UInt32 { BigEndianBytes.uint32(bootloader, at: 0) }

    /// Whether the host must switch the UART to the application core before file work: chip byte 0 has bit 0x10
    /// (TI SWRU577/SWPA230 step 2; cc3200tool `is_cc3200`). Without it the chip is a CC3100/CC3120 network processor.
    public var needsApplicationSwitch: Bool { chip[0] & 0x10 != 0 }

    /// Which chip this is, by chip byte 0 (AudigoLabs/xusiwei `cc3220.py`; mos `ChipType`): 0x18 CC3220S,
    /// 0x19 CC3220SF, 0x10 a CC3200 or a CC3220 told apart as mos does it: bootloader version > 0x03000000 → CC3220.
    public var chipFamily: CC3220ChipFamily {
        switch chip[0] {
        case 0x10: bootloaderVersion > 0x0300_0000 ? .cc3220 : .cc3200
        case 0x18: .cc3220s
        case 0x19: .cc3220sf
        default: .unknown(chip[0])
        }
    }

    public var description: String {
        func dotted(_ group: [UInt8]) -> String { group.map(String.init).joined(separator: ".") }
        return "\(chipFamily) bootloader \(dotted(bootloader)), chip \(chip.map { String($0, radix: 16) }.joined(separator: " "))"
    }

    /// A CC3200 as real ones answer (toniebox#30, ALLTERCO#3): bootloader (0,4,1,2), then (0,4,0,2) once the UART
    /// is switched to the application core; chip `10 00 00 00`.
    public static func cc3200(switched: Bool) -> CC3220Version {
        CC3220Version(bootloader: switched ? [0, 4, 0, 2] : [0, 4, 1, 2], chip: [0x10, 0, 0, 0])
    }

    /// A CC3220SF LaunchPad (ALLTERCO#13): bootloader (0,1,0,3), chip `19 30 00 00`; after the switch (1,1,0,3), as
    /// a CC3220MODASF answers (reference §2.6, §7.2).
    public static func cc3220sf(switched: Bool) -> CC3220Version {
        CC3220Version(bootloader: switched ? [1, 1, 0, 3] : [0, 1, 0, 3], chip: [0x19, 0x30, 0, 0])
    }
}

/// The chip a GET_VERSION_INFO reply names.
public enum CC3220ChipFamily: Equatable, Sendable, CustomStringConvertible {
    case cc3200
    case cc3220
    case cc3220s
    case cc3220sf
    /// Any other chip byte 0 (a CC3100/CC3120 network processor, say).
    case unknown(UInt8)

    public var description: String {
        switch self {
        case .cc3200: "CC3200"
        case .cc3220: "CC3220"
        case .cc3220s: "CC3220S"
        case .cc3220sf: "CC3220SF"
        case .unknown(let byte): "unknown chip 0x\(String(byte, radix: 16))"
        }
    }
}

/// START_UPLOAD's flags word in the CC3200-era encoding (CC3200 SDK `simplelink/include/fs.h` `_FS_MODE`; cc3200tool
/// `_open_file_for_write`; mos `UploadFile`): `access << 12 | granularity << 8 | blocks | fsflags << 16`. A read open
/// is flags 0. Whether a CC3220 bootloader takes this layout is unknown (reference §2.4, §8).
public struct CC3220OpenFlags: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The open mode (`_FS_MODE_OPEN_*`).
    public enum Access: UInt8, Sendable, CaseIterable {
        case read = 0
        case write = 1
        case create = 2
        /// What cc3200tool and mos use for every write.
        case writeCreateIfNotExist = 3
    }

    /// The file-system flags (`SLFS_FILE_OPEN_FLAG_*`, CC3200 SDK `fs.h` as cc3200tool copies them).
    public struct FileSystemFlags: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// MIRROR, for fail-safe.
        public static let commit = FileSystemFlags(rawValue: 0x01)
        public static let secure = FileSystemFlags(rawValue: 0x02)
        public static let noSignatureTest = FileSystemFlags(rawValue: 0x04)
        public static let staticToken = FileSystemFlags(rawValue: 0x08)
        public static let vendor = FileSystemFlags(rawValue: 0x10)
        public static let publicWrite = FileSystemFlags(rawValue: 0x20)
        public static let publicRead = FileSystemFlags(rawValue: 0x40)

        /// What cc3200tool sets for `write_file --signature`: COMMIT | SECURE | PUBLIC_WRITE (0x23).
        public static let signed: FileSystemFlags = [.commit, .secure, .publicWrite]
    }

    /// Allocation block sizes by granularity index 0…4 (cc3200tool `FLASH_BLOCK_SIZES`).
    public static let granularityBlockSizes = [0x100, 0x400, 0x1000, 0x4000, 0x10000]
    /// Blocks an allocation may take in the one-byte field.
    public static let maxBlocks = 255

    /// A read open.
    public static let read = CC3220OpenFlags(rawValue: 0)

    public init(access: Access, granularity: Int, blocks: Int, fileSystemFlags: FileSystemFlags) {
        precondition((0..<16).contains(granularity) && (0...Self.maxBlocks).contains(blocks), "CC3220OpenFlags out of range")
        rawValue = UInt32(access.rawValue & 0x0F) << 12 | UInt32(granularity) << 8 | UInt32(blocks)
            | UInt32(fileSystemFlags.rawValue) << 16
    }

    /// The flags for writing a file of `allocation` bytes: WRITE_CREATE_IF_NOT_EXIST, the smallest block size whose
    /// 255 blocks hold it, ceil(allocation / size) blocks (cc3200tool `_open_file_for_write`). Nil when even 255
    /// blocks of 64 KiB do not.
    public static func forWriting(allocation: Int, fileSystemFlags: FileSystemFlags = []) -> CC3220OpenFlags? {
        precondition(allocation >= 0, "negative allocation")
        for (index, size) in granularityBlockSizes.enumerated() where size * maxBlocks >= allocation {
            return CC3220OpenFlags(access: .writeCreateIfNotExist, granularity: index,
                                   blocks: (allocation + size - 1) / size, fileSystemFlags: fileSystemFlags)
        }
        return nil
    }

    /// The access field (bits 12–15); nil for a value outside the four modes.
    public var access: Access? { Access(rawValue: UInt8((rawValue >> 12) & 0x0F)) }
    /// The granularity index (bits 8–11).
    public var granularity: Int { Int((rawValue >> 8) & 0x0F) }
    /// The allocation block size, or nil for an index past 64 KiB.
    public var blockSize: Int? { granularity < Self.granularityBlockSizes.count ? Self.granularityBlockSizes[granularity] : nil }
    /// The block count (bits 0–7).
    public var blocks: Int { Int(rawValue & 0xFF) }
    /// The file-system flags (bits 16–23).
    public var fileSystemFlags: FileSystemFlags { FileSystemFlags(rawValue: UInt8((rawValue >> 16) & 0xFF)) }
    /// Bytes allocated: blocks × block size (0 for a read open).
    public var allocation: Int { blocks * (blockSize ?? 0) }
    /// Whether the close must carry a signature the device checks: SECURE without NO_SIGNATURE_TEST (§5.3 step 1).
    public var isSignedSecure: Bool {
        fileSystemFlags.contains(.secure) && !fileSystemFlags.contains(.noSignatureTest)
    }

    public var description: String { "0x" + String(rawValue, radix: 16, uppercase: true) }
}
