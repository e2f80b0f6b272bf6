/// The TI CC3200/CC3220 ROM UART bootloader's wire format: frames, the ACK, limits and the helpers both sides use.
///
/// Sources (reference/cc3220-bootloader.md §2): TI SWPA230A §4.2 (CC3120/CC3220 Embedded Programming) and SWRU577
/// (CC3100/CC3200), TI's `cc3120_fw.c` sample, toniebox-reverse-engineering/cc3200tool `cc3200tool/cc.py` and
/// mongoose-os/mos `cli/flash/cc32xx/rom_client.go`. A frame, in both directions, is `[len u16 BE][sum8][payload]`
/// where len = payload count + 2 (it counts itself, not the checksum) and the checksum is the payload's byte sum
/// modulo 256; a host payload starts with the opcode. Every host frame is acknowledged with `00 CC` before any reply,
/// and the host acknowledges every framed reply; a few replies come raw (unframed, not acknowledged).
public enum CC3220Bootloader {
    /// Line rate, 8N1, fixed: the bootloader has no baud-switch command (cc3200tool `CC3200_BAUD`, mos `baudRate`).
    public static let baudRate = 921_600
    /// The acknowledgement both sides send (SWPA230A §4.2).
    public static let ack: [UInt8] = [0x00, 0xCC]
    /// Bytes before a frame's payload: the length (u16 BE) and the checksum.
    public static let frameHeaderLength = 3

    /// Data bytes per FILE_CHUNK (cc3200tool `SLFS_BLOCK_SIZE` = 4096; mos `fileUploadBlockSize` = 0x1000).
    public static let maxFileChunk = 4096
    /// Bytes per READ_FILE_CHUNK (cc3200tool `read_file`, `min(size - pos, SLFS_BLOCK_SIZE)`).
    public static let maxReadChunk = 4096
    /// Bytes per RAW_STORAGE_READ (cc3200tool `_raw_read` `chunk_size = 4096`; UniFlash was sniffed using 256).
    public static let maxRawRead = 4096
    /// Data bytes per RAW_STORAGE_WRITE: "smaller than chunk_size-16" (SWPA230A; mos `rawWriteSize` = 0x1000 - 0x10;
    /// cc3200tool `chunk_size = 4080`).
    public static let maxRawWrite = 4080
    /// Image bytes per FS_PROGRAMMING: "the minimum between 4096 and the residue" (SWPA230A, FS Programming).
    public static let maxProgrammingChunk = 4096
    /// The key FS_PROGRAMMING carries with the first chunk of an encrypted image (SWPA230A: "a 16-byte key").
    public static let programmingKeyLength = 16
    /// The longest file name SimpleLink takes (`SL_FS_MAX_FILE_NAME_LENGTH` = 180, CC32xx SDK `ti/drivers/net/wifi/fs.h`).
    public static let maxFileNameLength = 180
    /// The file-system block FORMAT counts in: blocks = size / 4096 (mos `fsBlockSize`; cc3200tool `size//4` of KiB).
    public static let fileSystemBlockSize = 4096
    /// The largest payload either side frames: FS_PROGRAMMING with a key and a full chunk (opcode + 8 + 16 + 4096).
    /// A length field past this is taken for line noise, not a frame.
    public static let maxFramePayload = 1 + 8 + programmingKeyLength + maxProgrammingChunk
    /// SWITCH_UART_TO_APPS's argument: 26 666 667, "1 second" (mos `uartSwitchDelay`; cc3200tool `switch_uart_to_apps`).
    public static let switchDelayArgument: UInt32 = 26_666_667

    /// The checksum of a payload: its byte sum modulo 256.
    public static func checksum(_ payload: some Sequence<UInt8>) -> UInt8 {
        payload.reduce(UInt8(0), &+)
    }

    /// One frame around `payload`. Traps on a payload longer than a u16 length can say (a programmer mistake).
    public static func frame(_ payload: some Collection<UInt8>) -> [UInt8] {
        precondition(payload.count + 2 <= Int(UInt16.max), "CC3220 frame payload of \(payload.count) bytes")
        let length = UInt16(payload.count + 2)
        var out: [UInt8] = [UInt8(length >> 8), UInt8(length & 0xFF), checksum(payload)]
        out.reserveCapacity(payload.count + 3)
        out += payload
        return out
    }
}

/// The bootloader's opcodes (reference §2.2; mos `rom_client.go` `loaderCmd`, cc3200tool `OPCODE_*`).
public enum CC3220Opcode: UInt8, Sendable, CaseIterable {
    case startUpload = 0x21
    case finishUpload = 0x22
    case getStatus = 0x23
    case fileChunk = 0x24
    case getStorageList = 0x27
    case format = 0x28
    case getFileInfo = 0x2A
    case readFileChunk = 0x2B
    case rawStorageRead = 0x2C
    case rawStorageWrite = 0x2D
    case eraseFile = 0x2E
    case getVersionInfo = 0x2F
    case rawStorageErase = 0x30
    case getStorageInfo = 0x31
    case execFromRAM = 0x32
    case switchUARTToApps = 0x33
    case fsProgramming = 0x34
    case getMACAddress = 0x3A

    /// The name the reference and the tools use.
    public var name: String {
        switch self {
        case .startUpload: "START_UPLOAD"
        case .finishUpload: "FINISH_UPLOAD"
        case .getStatus: "GET_STATUS"
        case .fileChunk: "FILE_CHUNK"
        case .getStorageList: "GET_STORAGE_LIST"
        case .format: "FORMAT"
        case .getFileInfo: "GET_FILE_INFO"
        case .readFileChunk: "READ_FILE_CHUNK"
        case .rawStorageRead: "RAW_STORAGE_READ"
        case .rawStorageWrite: "RAW_STORAGE_WRITE"
        case .eraseFile: "ERASE_FILE"
        case .getVersionInfo: "GET_VERSION_INFO"
        case .rawStorageErase: "RAW_STORAGE_ERASE"
        case .getStorageInfo: "GET_STORAGE_INFO"
        case .execFromRAM: "EXEC_FROM_RAM"
        case .switchUARTToApps: "SWITCH_UART_TO_APPS"
        case .fsProgramming: "FS_PROGRAMMING"
        case .getMACAddress: "GET_MAC_ADDRESS"
        }
    }
}

/// GET_STATUS's status byte (mos `rom_client.go` `romStatus`; SWPA230A "Get Status").
public enum CC3220Status: UInt8, Sendable, CaseIterable {
    case ok = 0x40
    case unknownCommand = 0x41
    case invalidCommand = 0x42
    case invalidAddress = 0x43
    case flashFail = 0x44

    /// What a status byte means, or "unknown status" for a byte outside 0x40…0x44.
    public static func meaning(_ byte: UInt8) -> String {
        switch CC3220Status(rawValue: byte) {
        case .ok: "ok"
        case .unknownCommand: "unknown command"
        case .invalidCommand: "invalid command"
        case .invalidAddress: "invalid address"
        case .flashFail: "flash fail"
        case nil: "unknown status"
        }
    }
}

/// A storage's id in RAW_STORAGE_* and GET_STORAGE_INFO (mos `StorageID`; cc3200tool `STORAGE_ID_*`). Other values
/// travel as they are; the device decides what they mean.
public struct CC3220StorageID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let sram = CC3220StorageID(rawValue: 0)
    public static let flash = CC3220StorageID(rawValue: 1)
    public static let serialFlash = CC3220StorageID(rawValue: 2)

    public var description: String {
        switch rawValue {
        case 0: "SRAM"
        case 1: "FLASH"
        case 2: "SFLASH"
        default: "storage \(rawValue)"
        }
    }
}

/// GET_STORAGE_LIST's one raw byte: which storages exist (mos `StorageBitmap`; cc3200tool `CC3x00StorageList`).
public struct CC3220StorageList: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let flash = CC3220StorageList(rawValue: 0x02)
    public static let serialFlash = CC3220StorageList(rawValue: 0x04)
    public static let sram = CC3220StorageList(rawValue: 0x80)
}

/// GET_STORAGE_INFO's framed reply: `>HH` block size and block count, then 4 reserved bytes (mos `StorageInfo`;
/// real devices: CC3200 SFLASH `10 00 04 00 00 00 00 00`, toniebox#30; a CC3130 put non-zero bytes in the reserved
/// part, E2E 1016803).
public struct CC3220StorageInfo: Equatable, Sendable {
    public var blockSize: UInt16
    public var blockCount: UInt16
    public var reserved: [UInt8]

    public init(blockSize: UInt16, blockCount: UInt16, reserved: [UInt8] = [0, 0, 0, 0]) {
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.reserved = reserved
    }

    /// Reads a reply; nil when it is shorter than the 4 bytes every tool reads (cc3200tool: "< 4" is an error).
    public init?(frame payload: [UInt8]) {
        guard payload.count >= 4 else { return nil }
        self.init(blockSize: BigEndianBytes.uint16(payload, at: 0), blockCount: BigEndianBytes.uint16(payload, at: 2),
                  reserved: Array(payload[4...]))
    }

    /// The reply's 8 bytes (the reserved part padded with zeros or cut to 4).
    public var encoded: [UInt8] {
        BigEndianBytes.bytes(blockSize) + BigEndianBytes.bytes(blockCount) + Array((reserved + [0, 0, 0, 0]).prefix(4))
    }

    /// The storage's size in bytes.
    public var size: Int { Int(blockSize) * Int(blockCount) }
}

/// GET_FILE_INFO's framed reply as cc3200tool reads it (`CC3x00FileInfo.from_packet`): byte 0 == 1 when the file
/// exists, `>I` bytes 4–7 its size. A CC3200 answers 24 bytes; the simulator puts the maximum size at 8–11 (reference
/// §7.2). A CC3220 in development mode answered 36 bytes with byte 0 = 0 for an existing file (ALLTERCO#13), so
/// `exists` is cc3200tool's reading, not a known truth for the CC3220 (§8).
public struct CC3220FileInfo: Equatable, Sendable {
    public var exists: Bool
    public var size: UInt32
    public var maximumSize: UInt32

    public init(exists: Bool, size: UInt32, maximumSize: UInt32 = 0) {
        self.exists = exists
        self.size = size
        self.maximumSize = maximumSize
    }

    /// Reads a reply; nil when it is too short to hold the size (8 bytes).
    public init?(frame payload: [UInt8]) {
        guard payload.count >= 8 else { return nil }
        self.init(exists: payload[0] == 0x01, size: BigEndianBytes.uint32(payload, at: 4),
                  maximumSize: payload.count >= 12 ? BigEndianBytes.uint32(payload, at: 8) : 0)
    }

    /// The 24-byte reply a CC3200 gives: [0] = 1 if it exists, [4..<8] size, [8..<12] maximum size, the rest 0.
    public var encoded: [UInt8] {
        var out = [UInt8](repeating: 0, count: 24)
        out[0] = exists ? 1 : 0
        out.replaceSubrange(4..<8, with: BigEndianBytes.bytes(size))
        out.replaceSubrange(8..<12, with: BigEndianBytes.bytes(maximumSize))
        return out
    }
}

/// What the device says about a close, read with GET_STATUS after FINISH_UPLOAD: the status byte and, as an otarig
/// extension, the SimpleLink error code.
///
/// The real bootloader answers GET_STATUS with a one-byte frame; which byte a failed signed close gives is unknown
/// (reference §8), and cc3200tool reads only byte 0. **otarig's simulated device** may answer a 5-byte frame
/// `[status][int32 BE SimpleLink code]` (e.g. -10289 `SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT`, §5.4) so the host
/// can report why; the host takes the code when the frame is at least 5 bytes long.
public struct CC3220CloseStatus: Equatable, Sendable, CustomStringConvertible {
    /// The status byte (0x40 = accepted).
    public var status: UInt8
    /// The SimpleLink error code, when the device sent one (otarig extension).
    public var simpleLinkCode: Int32?

    public init(status: UInt8, simpleLinkCode: Int32? = nil) {
        self.status = status
        self.simpleLinkCode = simpleLinkCode
    }

    /// Reads GET_STATUS's framed reply; nil when it is empty.
    public init?(statusFrame payload: [UInt8]) {
        guard let first = payload.first else { return nil }
        self.init(status: first, simpleLinkCode: payload.count >= 5 ? Int32(bitPattern: BigEndianBytes.uint32(payload, at: 1)) : nil)
    }

    /// GET_STATUS's reply payload: 1 byte, or 5 with the code.
    public var statusFrame: [UInt8] {
        guard let simpleLinkCode else { return [status] }
        return [status] + BigEndianBytes.bytes(UInt32(bitPattern: simpleLinkCode))
    }

    /// Whether the device accepted the close (status 0x40).
    public var isSuccess: Bool { status == CC3220Status.ok.rawValue }

    public var description: String {
        let code = simpleLinkCode.map { ", SimpleLink \($0)" } ?? ""
        return "status 0x\(String(status, radix: 16)) (\(CC3220Status.meaning(status))\(code))"
    }
}

/// Big-endian integers in byte arrays (the bootloader's byte order).
enum BigEndianBytes {
    static func bytes(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func bytes(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
    static func uint16(_ bytes: some RandomAccessCollection<UInt8>, at offset: Int) -> UInt16 {
        let start = bytes.index(bytes.startIndex, offsetBy: offset)
        return UInt16(bytes[start]) << 8 | UInt16(bytes[bytes.index(after: start)])
    }
    static func uint32(_ bytes: some RandomAccessCollection<UInt8>, at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        var index = bytes.index(bytes.startIndex, offsetBy: offset)
        for _ in 0..<4 {
            value = value << 8 | UInt32(bytes[index])
            index = bytes.index(after: index)
        }
        return value
    }
}
