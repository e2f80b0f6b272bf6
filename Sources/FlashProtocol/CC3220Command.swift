/// A host command as its frame's payload carries it (reference §2.2; cc3200tool `cc.py`, mos `rom_client.go`).
/// Integers are big-endian. `payload` encodes (opcode first); `decode(_:)` reads a payload and names what is wrong
/// with a malformed one instead of throwing.
public enum CC3220Command: Equatable, Sendable {
    /// 0x21: open a file. `>I flags, >I token (0 from every tool), name, 00 00`. Answered with a raw 4-byte token.
    case startUpload(name: String, flags: CC3220OpenFlags, token: UInt32 = 0)
    /// 0x22: close the open file; the result is read with GET_STATUS.
    case finishUpload(CC3220FinishUpload)
    /// 0x23: the last status, framed.
    case getStatus
    /// 0x24: `>I offset` + data (≤ `maxFileChunk`). Then GET_STATUS.
    case fileChunk(offset: UInt32, data: [UInt8])
    /// 0x27: which storages exist; one raw byte.
    case getStorageList
    /// 0x28: format the file system: `>IIIII 2, blocks, 0, 0, 2` (the other words' meaning is unknown; every tool
    /// sends these). Then GET_STATUS.
    case format(blockCount: UInt32)
    /// 0x2A: `>I name length` + name (no NUL). Answered with a frame (`CC3220FileInfo`).
    case getFileInfo(name: String)
    /// 0x2B: `>II offset, length`. Answered with a frame of `length` bytes.
    case readFileChunk(offset: UInt32, length: UInt32)
    /// 0x2C: `>III storage, offset, length`. Answered with a frame of `length` bytes.
    case rawStorageRead(storage: CC3220StorageID, offset: UInt32, length: UInt32)
    /// 0x2D: `>III storage, offset, length` + data (≤ `maxRawWrite`).
    case rawStorageWrite(storage: CC3220StorageID, offset: UInt32, data: [UInt8])
    /// 0x2E: `>I 0`, name, `00`. Then GET_STATUS.
    case eraseFile(name: String)
    /// 0x2F: answered with the 28-byte `CC3220Version` frame.
    case getVersionInfo
    /// 0x30: `>III storage, start block, block count`. The ACK comes once the blocks are erased.
    case rawStorageErase(storage: CC3220StorageID, startBlock: UInt32, blockCount: UInt32)
    /// 0x31: `>I storage`. Answered with the 8-byte `CC3220StorageInfo` frame.
    case getStorageInfo(storage: CC3220StorageID)
    /// 0x32: run what was loaded into SRAM; a second ACK follows once it runs.
    case execFromRAM
    /// 0x33: `>I delay` (26 666 667 = "1 second"). The host then breaks again and waits for the other core's ACK.
    case switchUARTToApps(delay: UInt32)
    /// 0x34: `>HHI key length, chunk length, flags (0)` + key + chunk. Answered with a raw `>i` status.
    case fsProgramming(key: [UInt8], chunk: [UInt8], flags: UInt32 = 0)
    /// 0x3A: `>I 0` (mos: "mystery argument"). Answered with a frame whose first 6 bytes are the MAC.
    case getMACAddress

    /// The command's opcode.
    public var opcode: CC3220Opcode {
        switch self {
        case .startUpload: .startUpload
        case .finishUpload: .finishUpload
        case .getStatus: .getStatus
        case .fileChunk: .fileChunk
        case .getStorageList: .getStorageList
        case .format: .format
        case .getFileInfo: .getFileInfo
        case .readFileChunk: .readFileChunk
        case .rawStorageRead: .rawStorageRead
        case .rawStorageWrite: .rawStorageWrite
        case .eraseFile: .eraseFile
        case .getVersionInfo: .getVersionInfo
        case .rawStorageErase: .rawStorageErase
        case .getStorageInfo: .getStorageInfo
        case .execFromRAM: .execFromRAM
        case .switchUARTToApps: .switchUARTToApps
        case .fsProgramming: .fsProgramming
        case .getMACAddress: .getMACAddress
        }
    }

    /// The frame's payload: the opcode, then the arguments.
    public var payload: [UInt8] {
        typealias B = BigEndianBytes
        var out: [UInt8] = [opcode.rawValue]
        switch self {
        case .startUpload(let name, let flags, let token):
            out += B.bytes(flags.rawValue) + B.bytes(token) + Array(name.utf8) + [0, 0]
        case .finishUpload(let close):
            out += close.encoded
        case .getStatus, .getStorageList, .getVersionInfo, .execFromRAM:
            break
        case .fileChunk(let offset, let data):
            out += B.bytes(offset) + data
        case .format(let blockCount):
            out += B.bytes(UInt32(2)) + B.bytes(blockCount) + B.bytes(UInt32(0)) + B.bytes(UInt32(0)) + B.bytes(UInt32(2))
        case .getFileInfo(let name):
            out += B.bytes(UInt32(name.utf8.count)) + Array(name.utf8)
        case .readFileChunk(let offset, let length):
            out += B.bytes(offset) + B.bytes(length)
        case .rawStorageRead(let storage, let offset, let length):
            out += B.bytes(storage.rawValue) + B.bytes(offset) + B.bytes(length)
        case .rawStorageWrite(let storage, let offset, let data):
            out += B.bytes(storage.rawValue) + B.bytes(offset) + B.bytes(UInt32(data.count)) + data
        case .eraseFile(let name):
            out += B.bytes(UInt32(0)) + Array(name.utf8) + [0]
        case .rawStorageErase(let storage, let startBlock, let blockCount):
            out += B.bytes(storage.rawValue) + B.bytes(startBlock) + B.bytes(blockCount)
        case .getStorageInfo(let storage):
            out += B.bytes(storage.rawValue)
        case .switchUARTToApps(let delay):
            out += B.bytes(delay)
        case .fsProgramming(let key, let chunk, let flags):
            out += B.bytes(UInt16(truncatingIfNeeded: key.count)) + B.bytes(UInt16(truncatingIfNeeded: chunk.count)) + B.bytes(flags) + key + chunk
        case .getMACAddress:
            out += B.bytes(UInt32(0))
        }
        return out
    }

    /// The whole frame as it goes on the wire.
    public var frame: [UInt8] { CC3220Bootloader.frame(payload) }

    /// What a payload holds.
    public enum Decoded: Equatable, Sendable {
        case command(CC3220Command)
        /// An opcode this codec does not know (the device answers status 0x41 UNKNOWN_CMD).
        case unknownOpcode(UInt8)
        /// A known opcode whose arguments do not parse (the device answers 0x42 INVALID_CMD).
        case malformed(CC3220Opcode, reason: String)
        /// A frame with no payload at all.
        case empty
    }

    /// Reads a frame's payload. Never traps: whatever a peer sends gives a `Decoded` value.
    public static func decode(_ payload: [UInt8]) -> Decoded {
        guard let first = payload.first else { return .empty }
        guard let opcode = CC3220Opcode(rawValue: first) else { return .unknownOpcode(first) }
        let args = Array(payload.dropFirst())
        func malformed(_ reason: String) -> Decoded { .malformed(opcode, reason: reason) }
        func word(_ index: Int) -> UInt32 { BigEndianBytes.uint32(args, at: index * 4) }
        func exactly(_ count: Int) -> Bool { args.count == count }
        switch opcode {
        case .getStatus, .getStorageList, .getVersionInfo, .execFromRAM:
            guard args.isEmpty else { return malformed("\(args.count) unexpected argument bytes") }
            switch opcode {
            case .getStatus: return .command(.getStatus)
            case .getStorageList: return .command(.getStorageList)
            case .getVersionInfo: return .command(.getVersionInfo)
            default: return .command(.execFromRAM)
            }
        case .startUpload:
            guard args.count >= 9 else { return malformed("\(args.count) argument bytes, fewer than flags, token and a NUL") }
            guard let nul = args[8...].firstIndex(of: 0) else { return malformed("the file name has no NUL terminator") }
            guard let name = fileName(args[8..<nul]) else { return malformed("the file name is empty, too long or not UTF-8") }
            return .command(.startUpload(name: name, flags: CC3220OpenFlags(rawValue: word(0)), token: word(1)))
        case .finishUpload:
            guard args.isEmpty || args.count >= CC3220FinishUpload.certificateSlotLength else {
                return malformed("\(args.count) bytes: neither empty nor a 63-byte certificate slot and a signature")
            }
            return .command(.finishUpload(CC3220FinishUpload(encoded: args)))
        case .fileChunk:
            guard args.count >= 4 else { return malformed("\(args.count) argument bytes, fewer than an offset") }
            return .command(.fileChunk(offset: word(0), data: Array(args[4...])))
        case .format:
            guard exactly(20) else { return malformed("\(args.count) argument bytes, not 20") }
            return .command(.format(blockCount: word(1)))
        case .getFileInfo:
            guard args.count >= 4 else { return malformed("\(args.count) argument bytes, fewer than a name length") }
            guard Int(word(0)) == args.count - 4 else { return malformed("name length \(word(0)) but \(args.count - 4) name bytes") }
            guard let name = fileName(args[4...]) else { return malformed("the file name is empty, too long or not UTF-8") }
            return .command(.getFileInfo(name: name))
        case .readFileChunk:
            guard exactly(8) else { return malformed("\(args.count) argument bytes, not 8") }
            return .command(.readFileChunk(offset: word(0), length: word(1)))
        case .rawStorageRead:
            guard exactly(12) else { return malformed("\(args.count) argument bytes, not 12") }
            return .command(.rawStorageRead(storage: CC3220StorageID(rawValue: word(0)), offset: word(1), length: word(2)))
        case .rawStorageWrite:
            guard args.count >= 12 else { return malformed("\(args.count) argument bytes, fewer than 12") }
            guard Int(word(2)) == args.count - 12 else { return malformed("length \(word(2)) but \(args.count - 12) data bytes") }
            return .command(.rawStorageWrite(storage: CC3220StorageID(rawValue: word(0)), offset: word(1), data: Array(args[12...])))
        case .eraseFile:
            guard args.count >= 6, args.last == 0 else { return malformed("not a token word, a name and a NUL") }
            guard let name = fileName(args[4..<(args.count - 1)]) else { return malformed("the file name is empty, too long or not UTF-8") }
            return .command(.eraseFile(name: name))
        case .rawStorageErase:
            guard exactly(12) else { return malformed("\(args.count) argument bytes, not 12") }
            return .command(.rawStorageErase(storage: CC3220StorageID(rawValue: word(0)), startBlock: word(1), blockCount: word(2)))
        case .getStorageInfo:
            guard exactly(4) else { return malformed("\(args.count) argument bytes, not 4") }
            return .command(.getStorageInfo(storage: CC3220StorageID(rawValue: word(0))))
        case .switchUARTToApps:
            guard exactly(4) else { return malformed("\(args.count) argument bytes, not 4") }
            return .command(.switchUARTToApps(delay: word(0)))
        case .fsProgramming:
            guard args.count >= 8 else { return malformed("\(args.count) argument bytes, fewer than 8") }
            let keyLength = Int(BigEndianBytes.uint16(args, at: 0))
            let chunkLength = Int(BigEndianBytes.uint16(args, at: 2))
            guard args.count == 8 + keyLength + chunkLength else {
                return malformed("key \(keyLength) + chunk \(chunkLength) bytes declared, \(args.count - 8) sent")
            }
            return .command(.fsProgramming(key: Array(args[8..<(8 + keyLength)]), chunk: Array(args[(8 + keyLength)...]), flags: word(1)))
        case .getMACAddress:
            guard exactly(4) else { return malformed("\(args.count) argument bytes, not 4") }
            return .command(.getMACAddress)
        }
    }

    /// A file name: 1…`maxFileNameLength` bytes of UTF-8.
    private static func fileName(_ bytes: ArraySlice<UInt8>) -> String? {
        guard !bytes.isEmpty, bytes.count <= CC3220Bootloader.maxFileNameLength else { return nil }
        let name = String(decoding: bytes, as: UTF8.self)
        return name.utf8.elementsEqual(bytes) ? name : nil
    }
}

/// FINISH_UPLOAD's payload: a 63-byte slot, then the signature (reference §2.2, §5.1).
///
/// What the tools send: cc3200tool 63×`00` + signature[256] + `00` (320 bytes), and for unsigned closes and reads
/// 63×`00` + `46`×256 + `00`; mos 63×`00` + signature[256] (319 bytes), or nothing for an unsigned close. The slot is
/// presumably the certificate file name [I]: **otarig's host** puts the certificate name there NUL-padded, then the
/// signature bytes as they are (128 or 256, or any length: the device decides), then nothing.
public struct CC3220FinishUpload: Equatable, Sendable {
    /// The slot's length.
    public static let certificateSlotLength = 63
    /// cc3200tool's signature stand-in for unsigned closes and reads (`_close_file`: `b'\x46' * 256`).
    public static let cc3200toolFiller = [UInt8](repeating: 0x46, count: 256)

    /// The 63-byte slot, or empty when the whole payload is (mos's unsigned close).
    public var certificateSlot: [UInt8]
    /// Every byte after the slot: the signature, and cc3200tool's trailing `00` if it sent one.
    public var tail: [UInt8]

    /// A close as otarig's host sends it. Traps when the name does not fit the slot (callers check
    /// `certificateSlotLength` first).
    public init(certificateName: String, signature: [UInt8]) {
        let name = Array(certificateName.utf8)
        precondition(name.count <= Self.certificateSlotLength, "certificate name longer than 63 bytes")
        certificateSlot = name + [UInt8](repeating: 0, count: Self.certificateSlotLength - name.count)
        tail = signature
    }

    /// The payload after the opcode, as received.
    public init(encoded: [UInt8]) {
        certificateSlot = Array(encoded.prefix(Self.certificateSlotLength))
        tail = Array(encoded.dropFirst(Self.certificateSlotLength))
    }

    /// mos's unsigned close: no payload at all.
    public static let empty = CC3220FinishUpload(encoded: [])

    /// cc3200tool's close: a zero slot, the signature (or `'F'`×256 when unsigned) and a trailing `00`.
    public static func cc3200tool(signature: [UInt8]? = nil) -> CC3220FinishUpload {
        CC3220FinishUpload(encoded: [UInt8](repeating: 0, count: certificateSlotLength) + (signature ?? cc3200toolFiller) + [0])
    }

    /// The payload after the opcode.
    public var encoded: [UInt8] { certificateSlot + tail }

    /// The name in the slot up to its first NUL; nil when the slot is empty or starts with NUL (every open tool's
    /// zeros: the device uses its default certificate).
    public var certificateName: String? {
        let name = certificateSlot.prefix { $0 != 0 }
        return name.isEmpty ? nil : String(decoding: name, as: UTF8.self)
    }

    /// The signature: the tail, minus cc3200tool's trailing `00` when the tail is 129 or 257 bytes ending in one
    /// (a 128- or 256-byte signature plus that byte).
    public var signature: [UInt8] {
        if (tail.count == 129 || tail.count == 257), tail.last == 0 { return Array(tail.dropLast()) }
        return tail
    }
}
