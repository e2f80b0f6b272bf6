import Foundation

/// The SimpleLink serial-flash file system (SFFS) of a simulated CC3220SF: at most 128 files with a maximum size, open
/// flags and a token; a failsafe file keeps its previous contents until the new ones are committed; a secure, signed
/// file is checked when it is closed (`SignedClose`), and a failed check leaves the previous contents in place and
/// counts towards the device's security-alert lock.
///
/// Sources: TI's CC32xx SDK `fs.h` (open flags, failsafe, `sl_FsClose`), TI's "CC3100 & CC3200 Serial Flash Guide"
/// (128 files, the FAT's two revisions), and the on-flash layout cc3200tool's FAT reader expects
/// (toniebox-reverse-engineering/cc3200tool `cc.py` `CC3x00SffsInfo`, summarised in
/// shared/reference/cc3220-bootloader.md §7.3), so raw-reading tools can list what the simulated chip holds.
public struct SimpleLinkFileSystem: Codable, Sendable, Equatable {
    /// TI: "Total number of files is limited to 128 files, including system and configuration files".
    public static let maxFiles = 128
    /// SL_FS_MAX_FILE_NAME_LENGTH (CC32xx SDK fs.h).
    public static let maxNameLength = 180
    public static let blockSize = 4096
    /// The FAT and its name table take the first 5 blocks (cc3200tool: "FAT table size, as per documentation").
    public static let fatBlocks = 5
    /// The security-alert threshold TI's image tools write by default (SecurityAlertThreshold=15, mos ImageConfig).
    public static let defaultAlertThreshold = 15
    /// SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT (CC32xx SDK errors.h).
    public static let deviceLocked: Int32 = -28674

    public struct File: Codable, Sendable, Equatable {
        public var name: String
        public var data: [UInt8]
        public var maxSize: Int
        public var token: UInt32
        public var secure: Bool
        /// Secure files are signed unless opened with NO_SIGNATURE_TEST.
        public var signed: Bool
        /// Opened with the commit (failsafe) flag: the previous contents stay until `commit`.
        public var failsafe: Bool
        /// The contents before the last successful close of a failsafe file, while it waits for a commit.
        public var previous: [UInt8]?
        public var pendingCommit: Bool { previous != nil }

        enum CodingKeys: String, CodingKey { case name, data, maxSize, token, secure, signed, failsafe, previous }

        public init(name: String, data: [UInt8], maxSize: Int, token: UInt32, secure: Bool, signed: Bool, failsafe: Bool, previous: [UInt8]?) {
            self.name = name
            self.data = data
            self.maxSize = maxSize
            self.token = token
            self.secure = secure
            self.signed = signed
            self.failsafe = failsafe
            self.previous = previous
        }

        // Contents as base64 text: the state file stays small and readable.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            data = Array(try container.decode(Data.self, forKey: .data))
            maxSize = try container.decode(Int.self, forKey: .maxSize)
            token = try container.decode(UInt32.self, forKey: .token)
            secure = try container.decode(Bool.self, forKey: .secure)
            signed = try container.decode(Bool.self, forKey: .signed)
            failsafe = try container.decode(Bool.self, forKey: .failsafe)
            previous = try container.decodeIfPresent(Data.self, forKey: .previous).map(Array.init)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(Data(data), forKey: .data)
            try container.encode(maxSize, forKey: .maxSize)
            try container.encode(token, forKey: .token)
            try container.encode(secure, forKey: .secure)
            try container.encode(signed, forKey: .signed)
            try container.encode(failsafe, forKey: .failsafe)
            try container.encodeIfPresent(previous.map { Data($0) }, forKey: .previous)
        }
    }

    public private(set) var files: [File?] = []
    /// Security alerts counted so far (wrong signatures, chain errors, revoked certificates).
    public private(set) var securityAlerts = 0
    public var alertThreshold = SimpleLinkFileSystem.defaultAlertThreshold
    /// Blocks of the serial flash (1024 × 4 KiB = 4 MiB on the CC3220SF LaunchPad).
    public private(set) var blockCount: Int
    /// Bumped on every change, as the SFFS's two FAT copies are written alternately with a growing revision.
    public private(set) var revision: UInt16 = 1

    public var isLocked: Bool { securityAlerts >= alertThreshold }

    public init(blockCount: Int = 1024) {
        self.blockCount = blockCount
    }

    public var names: [String] { files.compactMap { $0?.name } }

    public func file(named name: String) -> File? {
        files.lazy.compactMap { $0 }.first { $0.name == Self.normalized(name) }
    }

    /// TI looks names up relative to the file system's root: "/sys/x" and "sys/x" are the same file.
    public static func normalized(_ name: String) -> String {
        name.hasPrefix("/") ? String(name.dropFirst()) : name
    }

    /// Formats the file system: every file gone, the alert counter back to zero (TI: a return to factory or
    /// reprogramming unlocks a locked device).
    public mutating func format(blockCount: Int) {
        self.blockCount = blockCount
        files = []
        securityAlerts = 0
        revision &+= 1
    }

    public enum Failure: Error, Equatable, Sendable {
        case notFound(String)
        case nameTooLong(String)
        case full
        case tooLarge(name: String, size: Int, maxSize: Int)
        case noSpace(name: String, blocks: Int)
        case locked
    }

    /// The blocks a file of `maxSize` bytes takes on the flash: its 8-byte header and data in 4 KiB blocks, twice
    /// for a failsafe file (both copies).
    static func blocks(maxSize: Int, failsafe: Bool) -> Int {
        let one = (maxSize + 8 + blockSize - 1) / blockSize
        return failsafe ? one * 2 : one
    }

    var usedBlocks: Int {
        Self.fatBlocks + files.compactMap { $0 }.reduce(0) { $0 + Self.blocks(maxSize: $1.maxSize, failsafe: $1.failsafe) }
    }

    /// Why `name` could not be opened for writing (a new file needs a free entry and room), or nil when it can: an
    /// existing file is taken as it is, its contents replaced on close.
    public func canCreate(_ name: String, maxSize: Int, failsafe: Bool) -> Failure? {
        let name = Self.normalized(name)
        guard name.utf8.count <= Self.maxNameLength, !name.isEmpty else { return .nameTooLong(name) }
        if file(named: name) == nil {
            guard files.compactMap({ $0 }).count < Self.maxFiles else { return .full }
            let needed = Self.blocks(maxSize: maxSize, failsafe: failsafe)
            guard usedBlocks + needed <= blockCount else { return .noSpace(name: name, blocks: needed) }
        }
        return nil
    }

    /// What a signed close checks: the file's bytes, the certificate file's name and the signature, against the
    /// files the system holds. Returns 0 or a SimpleLink error code (`errors.h`).
    public typealias SignedClose = @Sendable (_ file: [UInt8], _ certificateName: String, _ signature: [UInt8], _ fileSystem: SimpleLinkFileSystem) -> Int32

    /// Closes a write: `data` becomes the file's contents when the close succeeds. A secure, signed file is checked
    /// first; a failure leaves the previous contents (a new file disappears), and a security alert is counted.
    /// Returns 0 or the SimpleLink error code.
    public mutating func closeWrite(name: String, data: [UInt8], maxSize: Int, token: UInt32, secure: Bool, signed: Bool, failsafe: Bool,
                                    certificateName: String, signature: [UInt8], check: SignedClose) -> Int32 {
        let name = Self.normalized(name)
        if secure && signed {
            guard !isLocked else { return Self.deviceLocked }
            let code = check(data, certificateName, signature, self)
            if code != 0 {
                if Self.isSecurityAlert(code) { securityAlerts += 1 }
                revision &+= 1
                return code
            }
        }
        let index = files.firstIndex { $0?.name == name }
        var file = index.flatMap { files[$0] } ?? File(name: name, data: [], maxSize: maxSize, token: token, secure: secure, signed: signed,
                                                       failsafe: failsafe, previous: nil)
        if failsafe, index != nil, file.previous == nil { file.previous = file.data }
        file.data = data
        file.maxSize = max(file.maxSize, maxSize, data.count)
        file.secure = secure
        file.signed = signed
        file.failsafe = failsafe
        file.token = token
        if let index { files[index] = file } else if let free = files.firstIndex(where: { $0 == nil }) { files[free] = file } else { files.append(file) }
        revision &+= 1
        return 0
    }

    /// Takes the count the network processor left after a close it ran outside `closeWrite` (the OTA agent's close
    /// in the simulated application, through the C model, which counts for itself).
    public mutating func recordSecurityAlerts(_ count: Int) {
        guard count != securityAlerts else { return }
        securityAlerts = max(0, count)
        revision &+= 1
    }

    /// The *_SECURITY_ALERT codes (CC32xx SDK errors.h): wrong signature, chain error, a revoked certificate.
    public static func isSecurityAlert(_ code: Int32) -> Bool { SimpleLinkNWP.isSecurityAlert(code) }

    /// Makes the failsafe files' new contents permanent (SL_FS_CTL_BUNDLE_COMMIT).
    public mutating func commit() {
        for index in files.indices where files[index]?.previous != nil { files[index]?.previous = nil }
        revision &+= 1
    }

    /// Restores the failsafe files' previous contents (SL_FS_CTL_BUNDLE_ROLLBACK).
    public mutating func rollback() {
        for index in files.indices {
            guard let previous = files[index]?.previous else { continue }
            files[index]?.data = previous
            files[index]?.previous = nil
        }
        revision &+= 1
    }

    /// Deletes a file. False when there is none.
    @discardableResult
    public mutating func erase(_ name: String) -> Bool {
        guard let index = files.firstIndex(where: { $0?.name == Self.normalized(name) }) else { return false }
        files[index] = nil
        revision &+= 1
        return true
    }

    // MARK: the raw view

    /// The serial flash as raw-reading tools see it: FAT copy 1 in block 0 (the revision, "LS", 128 four-byte
    /// entries `[index, size_blocks, start_block & 0xFF, flags << 4 | start_block >> 8]`), block 1 erased (no second
    /// copy), the name table at 0x774 (128 × `<HH` offset, length, names from +0x200), and each file's data in its
    /// blocks behind an 8-byte header (24-bit little-endian length, then bytes ending in "LS"). Flag 0x4 marks a file
    /// that is not mirrored, 0x8 every file but /sys/mcuimg.bin (cc3200tool's observations).
    public func renderRaw() -> [UInt8] {
        var raw = [UInt8](repeating: 0xFF, count: blockCount * Self.blockSize)
        func putLE16(_ value: Int, at offset: Int) {
            raw[offset] = UInt8(value & 0xFF)
            raw[offset + 1] = UInt8(value >> 8 & 0xFF)
        }
        putLE16(Int(revision), at: 0)
        putLE16(0x534C, at: 2)
        let nameTable = 0x774
        let nameArea = nameTable + 0x200
        var nameOffset = 0
        var nextBlock = Self.fatBlocks
        for (index, slot) in files.enumerated() where index < Self.maxFiles {
            guard let file = slot else { continue }
            let blocks = Self.blocks(maxSize: file.maxSize, failsafe: file.failsafe)
            let perCopy = file.failsafe ? blocks / 2 : blocks
            guard nextBlock + blocks <= blockCount else { break }
            var flags = file.failsafe ? 0 : 0x4
            if file.name != "sys/mcuimg.bin" { flags |= 0x8 }
            let entry = 4 + index * 4
            raw[entry] = UInt8(index)
            raw[entry + 1] = UInt8(min(perCopy, 255))
            raw[entry + 2] = UInt8(nextBlock & 0xFF)
            raw[entry + 3] = UInt8(flags << 4 | (nextBlock >> 8 & 0xF))
            let display = Array(("/" + file.name).utf8)
            if nameArea + nameOffset + display.count <= 2 * Self.blockSize - 16 {
                putLE16(nameOffset, at: nameTable + index * 4)
                putLE16(display.count, at: nameTable + index * 4 + 2)
                raw.replaceSubrange(nameArea + nameOffset..<nameArea + nameOffset + display.count, with: display)
                nameOffset += display.count
            }
            let start = nextBlock * Self.blockSize
            let length = file.data.count
            raw[start] = UInt8(length & 0xFF)
            raw[start + 1] = UInt8(length >> 8 & 0xFF)
            raw[start + 2] = UInt8(length >> 16 & 0xFF)
            raw.replaceSubrange(start + 3..<start + 8, with: [0x00, 0x00, 0x00, 0x4C, 0x53])
            raw.replaceSubrange(start + 8..<start + 8 + length, with: file.data)
            nextBlock += blocks
        }
        // Block 1 holds no second FAT copy (only the tail of the name table): a valid one would move cc3200tool's
        // name table by 0x1000.
        return raw
    }
}
