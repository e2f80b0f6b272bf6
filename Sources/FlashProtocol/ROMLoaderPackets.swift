/// The ESP32 ROM loader's packets (esptool's serial-protocol documentation, docs.espressif.com, esptool ‘Serial
/// Protocol’; espressif/esptool `esptool/loader.py` ESP_CMDS and timeouts): requests `<BBHI` direction 0, opcode, data
/// length, checksum, then data; responses `<BBHI` direction 1, the opcode echoed, data length, a value word, then data
/// ending in status bytes (4 from the ROM, 2 from the flasher stub).
public enum ROMOpcode: UInt8, Sendable, CaseIterable {
    case flashBegin = 0x02
    case flashData = 0x03
    case flashEnd = 0x04
    case memBegin = 0x05
    case memEnd = 0x06
    case memData = 0x07
    case sync = 0x08
    case writeReg = 0x09
    case readReg = 0x0A
    case spiSetParams = 0x0B
    case spiAttach = 0x0D
    case readFlashSlow = 0x0E
    case changeBaudrate = 0x0F
    case flashDeflBegin = 0x10
    case flashDeflData = 0x11
    case flashDeflEnd = 0x12
    case spiFlashMD5 = 0x13
    case getSecurityInfo = 0x14
    // The flasher stub's own commands.
    case eraseFlash = 0xD0
    case eraseRegion = 0xD1
    case readFlash = 0xD2
    case runUserCode = 0xD3

    public var name: String {
        switch self {
        case .flashBegin: "FLASH_BEGIN"
        case .flashData: "FLASH_DATA"
        case .flashEnd: "FLASH_END"
        case .memBegin: "MEM_BEGIN"
        case .memEnd: "MEM_END"
        case .memData: "MEM_DATA"
        case .sync: "SYNC"
        case .writeReg: "WRITE_REG"
        case .readReg: "READ_REG"
        case .spiSetParams: "SPI_SET_PARAMS"
        case .spiAttach: "SPI_ATTACH"
        case .readFlashSlow: "READ_FLASH_SLOW"
        case .changeBaudrate: "CHANGE_BAUDRATE"
        case .flashDeflBegin: "FLASH_DEFL_BEGIN"
        case .flashDeflData: "FLASH_DEFL_DATA"
        case .flashDeflEnd: "FLASH_DEFL_END"
        case .spiFlashMD5: "SPI_FLASH_MD5"
        case .getSecurityInfo: "GET_SECURITY_INFO"
        case .eraseFlash: "ERASE_FLASH"
        case .eraseRegion: "ERASE_REGION"
        case .readFlash: "READ_FLASH"
        case .runUserCode: "RUN_USER_CODE"
        }
    }

    /// The commands whose header carries a checksum of the data to write.
    public var hasChecksum: Bool { self == .memData || self == .flashData || self == .flashDeflData }
}

/// The error byte of a failed response (esptool's serial-protocol documentation, "Response Packet" status bytes
/// and the flasher stub's codes in esptool's `flasher_stub/include/stub_flasher.h`).
public enum ROMErrorCode: UInt8, Sendable, CaseIterable {
    // The ROM loader's.
    case invalidMessage = 0x05
    case failedToAct = 0x06
    case invalidCRC = 0x07
    case flashWriteError = 0x08
    case flashReadError = 0x09
    case flashReadLengthError = 0x0A
    case deflateError = 0x0B
    // The flasher stub's.
    case badDataLength = 0xC0
    case badDataChecksum = 0xC1
    case badBlockSize = 0xC2
    case invalidCommand = 0xC3
    case failedSPIOperation = 0xC4
    case failedSPIUnlock = 0xC5
    case notInFlashMode = 0xC6
    case inflateError = 0xC7
    case notEnoughData = 0xC8
    case tooMuchData = 0xC9
    case commandNotImplemented = 0xFF

    /// What the code means, in the documentation's words.
    public var meaning: String {
        switch self {
        case .invalidMessage: "received message invalid"
        case .failedToAct: "failed to act on received message"
        case .invalidCRC: "invalid CRC in message"
        case .flashWriteError: "flash write error"
        case .flashReadError: "flash read error"
        case .flashReadLengthError: "flash read length error"
        case .deflateError: "deflate error"
        case .badDataLength: "bad data length"
        case .badDataChecksum: "bad data checksum"
        case .badBlockSize: "bad block size"
        case .invalidCommand: "invalid command"
        case .failedSPIOperation: "failed SPI operation"
        case .failedSPIUnlock: "failed SPI unlock"
        case .notInFlashMode: "not in flash mode"
        case .inflateError: "inflate error"
        case .notEnoughData: "not enough data"
        case .tooMuchData: "too much data"
        case .commandNotImplemented: "command not implemented"
        }
    }
}

/// A request as the host sends it.
public struct ROMRequest: Equatable, Sendable {
    public var opcode: UInt8
    public var checksum: UInt32
    public var data: [UInt8]

    public init(opcode: UInt8, checksum: UInt32 = 0, data: [UInt8] = []) {
        self.opcode = opcode
        self.checksum = checksum
        self.data = data
    }

    public init(_ opcode: ROMOpcode, checksum: UInt32 = 0, data: [UInt8] = []) {
        self.init(opcode: opcode.rawValue, checksum: checksum, data: data)
    }

    /// SYNC's data: 0x07 0x07 0x12 0x20, then 32 × 0x55 so the ROM can measure the baud rate (esptool's `sync()`).
    public static let syncPayload: [UInt8] = [0x07, 0x07, 0x12, 0x20] + [UInt8](repeating: 0x55, count: 32)

    /// The frame payload: header then data.
    public var encoded: [UInt8] {
        var out: [UInt8] = [0x00, opcode]
        out += LittleEndian.bytes(UInt16(truncatingIfNeeded: data.count))
        out += LittleEndian.bytes(checksum)
        return out + data
    }

    public enum DecodeError: Error, Equatable, Sendable {
        case tooShort(Int)
        case notARequest(UInt8)
        case lengthMismatch(declared: Int, actual: Int)
    }

    /// Reads a frame payload.
    public init(decoding frame: [UInt8]) throws(DecodeError) {
        guard frame.count >= 8 else { throw .tooShort(frame.count) }
        guard frame[0] == 0x00 else { throw .notARequest(frame[0]) }
        let size = Int(LittleEndian.uint16(frame, at: 2))
        guard size == frame.count - 8 else { throw .lengthMismatch(declared: size, actual: frame.count - 8) }
        self.init(opcode: frame[1], checksum: LittleEndian.uint32(frame, at: 4), data: Array(frame[8...]))
    }

    /// The i-th little-endian word of the data, if there.
    public func word(_ index: Int) -> UInt32? {
        guard data.count >= (index + 1) * 4 else { return nil }
        return LittleEndian.uint32(data, at: index * 4)
    }

    /// The XOR checksum of the data to write, seeded 0xEF.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        UInt32(bytes.reduce(UInt8(0xEF), ^))
    }
}

/// A response as the device sends it.
public struct ROMResponse: Equatable, Sendable {
    public var opcode: UInt8
    public var value: UInt32
    /// Everything after the header, status bytes included.
    public var data: [UInt8]

    public init(opcode: UInt8, value: UInt32 = 0, data: [UInt8] = []) {
        self.opcode = opcode
        self.value = value
        self.data = data
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = [0x01, opcode]
        out += LittleEndian.bytes(UInt16(truncatingIfNeeded: data.count))
        out += LittleEndian.bytes(value)
        return out + data
    }

    public init?(decoding frame: [UInt8]) {
        guard frame.count >= 8, frame[0] == 0x01 else { return nil }
        let size = Int(LittleEndian.uint16(frame, at: 2))
        guard size <= frame.count - 8 else { return nil }
        self.init(opcode: frame[1], value: LittleEndian.uint32(frame, at: 4), data: Array(frame[8..<8 + size]))
    }

    /// The status byte pair esptool checks: the first two of the status bytes at the end of the data.
    public func status(statusLength: Int) -> (failed: Bool, error: UInt8)? {
        guard data.count >= statusLength, statusLength >= 2 else { return nil }
        let start = data.count - statusLength
        return (data[start] != 0, data[start + 1])
    }
}

/// Little-endian integers in byte arrays.
public enum LittleEndian {
    public static func bytes(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    public static func bytes(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
    }
    public static func uint16(_ bytes: [UInt8], at offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }
    public static func uint32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }
}
