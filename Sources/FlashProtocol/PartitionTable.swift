import Foundation
import CZlib
import Crypto

/// The ESP-IDF partition table (ESP-IDF partition-tables documentation; espressif/esp-idf
/// `components/partition_table/gen_esp32part.py`, `components/bootloader_support/include/esp_flash_partitions.h`): at
/// 0x8000, 32-byte entries `<2sBBLL16sL` (magic AA 50, type, subtype, offset, size, label, flags), then an MD5 entry
/// (EB EB, 14 × FF, MD5 of the entries before it), the rest of the 0xC00 bytes 0xFF.
public struct PartitionTable: Equatable, Sendable {
    public static let offset = 0x8000
    public static let length = 0xC00

    public struct Entry: Equatable, Sendable {
        public var label: String
        public var type: UInt8
        public var subtype: UInt8
        public var offset: Int
        public var size: Int
        public var flags: UInt32

        public init(label: String, type: UInt8, subtype: UInt8, offset: Int, size: Int, flags: UInt32 = 0) {
            self.label = label
            self.type = type
            self.subtype = subtype
            self.offset = offset
            self.size = size
            self.flags = flags
        }

        public var isApp: Bool { type == 0x00 }
        /// ota_0 … ota_15.
        public var otaSlot: Int? { isApp && (0x10...0x1F).contains(subtype) ? Int(subtype - 0x10) : nil }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// The layout `otarig sim esp32` ships with: ESP-IDF's "two OTA" table without a factory app, and a custom data
    /// partition where `otarig flash --ota` stages the job document and certificate the device's OTA agent reads.
    public static let twoOTAWithStaging = PartitionTable(entries: [
        Entry(label: "nvs", type: 0x01, subtype: 0x02, offset: 0x9000, size: 0x4000),
        Entry(label: "otadata", type: 0x01, subtype: 0x00, offset: 0xD000, size: 0x2000),
        Entry(label: "phy_init", type: 0x01, subtype: 0x01, offset: 0xF000, size: 0x1000),
        Entry(label: "ota_0", type: 0x00, subtype: 0x10, offset: 0x10000, size: 0x180000),
        Entry(label: "ota_1", type: 0x00, subtype: 0x11, offset: 0x190000, size: 0x180000),
        Entry(label: OTAStaging.label, type: OTAStaging.type, subtype: 0x00, offset: 0x310000, size: 0x10000),
    ])

    public func entry(_ label: String) -> Entry? { entries.first { $0.label == label } }
    public var otaSlots: [Entry] { entries.filter { $0.otaSlot != nil }.sorted { $0.otaSlot! < $1.otaSlot! } }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        for entry in entries {
            var label = Array(entry.label.utf8.prefix(15))
            label += [UInt8](repeating: 0, count: 16 - label.count)
            out += [0xAA, 0x50, entry.type, entry.subtype]
            out += LittleEndian.bytes(UInt32(entry.offset)) + LittleEndian.bytes(UInt32(entry.size)) + label + LittleEndian.bytes(entry.flags)
        }
        out += [0xEB, 0xEB] + [UInt8](repeating: 0xFF, count: 14) + Array(Insecure.MD5.hash(data: out))
        return out + [UInt8](repeating: 0xFF, count: Self.length - out.count)
    }

    public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case badMagic(index: Int)
        case badMD5

        public var description: String {
            switch self {
            case .empty: "no partition table at 0x8000 (the sector is erased)"
            case .badMagic(let index): "partition table entry \(index) has no AA 50 magic"
            case .badMD5: "the partition table's MD5 entry does not match its entries"
            }
        }
    }

    public init(decoding bytes: some Collection<UInt8>) throws(DecodeError) {
        let data = Array(bytes)
        var entries: [Entry] = []
        var index = 0
        while index + 32 <= data.count {
            let row = Array(data[index..<index + 32])
            if row[0] == 0xFF, row[1] == 0xFF {
                if entries.isEmpty { throw .empty }
                break
            }
            if row[0] == 0xEB, row[1] == 0xEB {
                guard Array(row[16..<32]) == Array(Insecure.MD5.hash(data: data[0..<index])) else { throw .badMD5 }
                break
            }
            guard row[0] == 0xAA, row[1] == 0x50 else { throw .badMagic(index: index / 32) }
            let labelBytes = row[12..<28].prefix { $0 != 0 }
            entries.append(Entry(label: String(decoding: labelBytes, as: UTF8.self), type: row[2], subtype: row[3],
                                 offset: Int(LittleEndian.uint32(row, at: 4)), size: Int(LittleEndian.uint32(row, at: 8)),
                                 flags: LittleEndian.uint32(row, at: 28)))
            index += 32
        }
        self.init(entries: entries)
    }
}

/// otadata: two sectors, each starting with `esp_ota_select_entry_t {u32 ota_seq; u8 seq_label[20]; u32 ota_state;
/// u32 crc}`, crc = esp_rom_crc32_le(UINT32_MAX, &ota_seq, 4). The bootloader takes the valid entry with the higher
/// sequence; slot = (seq - 1) mod the number of OTA slots.
public struct OTASelectEntry: Equatable, Sendable {
    public enum State: UInt32, Sendable {
        case new = 0, pendingVerify = 1, valid = 2, invalid = 3, aborted = 4, undefined = 0xFFFF_FFFF
    }

    public var sequence: UInt32
    public var state: State

    public init(sequence: UInt32, state: State) {
        self.sequence = sequence
        self.state = state
    }

    public static func crc(_ sequence: UInt32) -> UInt32 {
        let bytes = LittleEndian.bytes(sequence)
        return UInt32(bytes.withUnsafeBufferPointer { crc32(0xFFFF_FFFF, $0.baseAddress, 4) })
    }

    /// The 32 bytes at the start of a sector.
    public var encoded: [UInt8] {
        LittleEndian.bytes(sequence) + [UInt8](repeating: 0xFF, count: 20) + LittleEndian.bytes(state.rawValue) + LittleEndian.bytes(Self.crc(sequence))
    }

    /// Reads a sector's entry; nil when erased or its CRC is wrong.
    public init?(decoding bytes: some Collection<UInt8>) {
        let data = Array(bytes.prefix(32))
        guard data.count == 32 else { return nil }
        let sequence = LittleEndian.uint32(data, at: 0)
        guard sequence != 0xFFFF_FFFF, LittleEndian.uint32(data, at: 28) == Self.crc(sequence) else { return nil }
        self.init(sequence: sequence, state: State(rawValue: LittleEndian.uint32(data, at: 24)) ?? .undefined)
    }

    /// The slot the bootloader boots from two otadata sectors, or nil (boot the first OTA slot).
    public static func activeSlot(sectors: [[UInt8]], slotCount: Int) -> (slot: Int, entry: OTASelectEntry)? {
        let entries = sectors.compactMap { OTASelectEntry(decoding: $0) }.filter { $0.state != .invalid && $0.state != .aborted }
        guard let best = entries.max(by: { $0.sequence < $1.sequence }), slotCount > 0 else { return nil }
        return (Int((best.sequence - 1) % UInt32(slotCount)), best)
    }
}

/// Where `otarig flash --ota` leaves what the FreeRTOS OTA agent would have received with the image: a custom data
/// partition "otastage" holding `OTS1`, a u32 length, then JSON {"slot", "jobDocument", "certificates": {label: PEM}}. The simulated board's firmware reads it at boot, verifies the slot and clears it.
public enum OTAStaging {
    public static let label = "otastage"
    public static let type: UInt8 = 0x40
    public static let magic = Array("OTS1".utf8)

    /// The staged job: the slot the image went to, its length, the job document as AWS IoT would deliver it, and the
    /// certificates provisioned on the device by label (PKCS#11 on an ESP32).
    public struct Job: Codable, Equatable, Sendable {
        public var slot: String
        /// The image's length: what the OTA stream delivered into the slot.
        public var size: Int
        public var jobDocument: String
        public var certificates: [String: String]
        /// The revocation list provisioned beside the certificates, for a device whose policy checks revocation
        /// (JSON: base64). nil: none.
        public var revocationList: [UInt8]?
        /// The device's RTC as the rig set it before the update (JSON: unix seconds; ISO 8601 text is read too).
        /// nil: the device has no trusted time.
        public var deviceTime: Date?
        /// Set by the board itself after it accepted the update and activated the slot: the version that downloaded
        /// it (appFirmwareVersion), so the agent runs its self test with `statusDetails.updatedBy` after the reboot,
        /// as AWS IoT sends the job back to a device whose last status was `self_test: ready`.
        public var updatedBy: UInt32?

        public init(slot: String, size: Int, jobDocument: String, certificates: [String: String], revocationList: [UInt8]? = nil,
                    deviceTime: Date? = nil, updatedBy: UInt32? = nil) {
            self.updatedBy = updatedBy
            self.slot = slot
            self.size = size
            self.jobDocument = jobDocument
            self.certificates = certificates
            self.revocationList = revocationList
            self.deviceTime = deviceTime
        }

        enum CodingKeys: String, CodingKey { case slot, size, jobDocument, certificates, revocationList, deviceTime, updatedBy }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            slot = try container.decode(String.self, forKey: .slot)
            size = try container.decode(Int.self, forKey: .size)
            jobDocument = try container.decode(String.self, forKey: .jobDocument)
            certificates = try container.decode([String: String].self, forKey: .certificates)
            if let text = try container.decodeIfPresent(String.self, forKey: .revocationList) {
                guard let bytes = Data(base64Encoded: text) else {
                    throw DecodingError.dataCorruptedError(forKey: .revocationList, in: container, debugDescription: "revocationList is not base64")
                }
                revocationList = Array(bytes)
            }
            if let seconds = try? container.decodeIfPresent(Int64.self, forKey: .deviceTime) {
                deviceTime = Date(timeIntervalSince1970: TimeInterval(seconds))
            } else if let text = try container.decodeIfPresent(String.self, forKey: .deviceTime) {
                guard let date = ISO8601DateFormatter().date(from: text) else {
                    throw DecodingError.dataCorruptedError(forKey: .deviceTime, in: container,
                                                           debugDescription: "deviceTime '\(text)' is neither unix seconds nor ISO 8601 (2026-11-22T10:00:00Z)")
                }
                deviceTime = date
            }
            updatedBy = try container.decodeIfPresent(UInt32.self, forKey: .updatedBy)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(slot, forKey: .slot)
            try container.encode(size, forKey: .size)
            try container.encode(jobDocument, forKey: .jobDocument)
            try container.encode(certificates, forKey: .certificates)
            try container.encodeIfPresent(revocationList.map { Data($0).base64EncodedString() }, forKey: .revocationList)
            try container.encodeIfPresent(deviceTime.map { Int64($0.timeIntervalSince1970.rounded(.down)) }, forKey: .deviceTime)
            try container.encodeIfPresent(updatedBy, forKey: .updatedBy)
        }
    }

    public static func encode(json: [UInt8]) -> [UInt8] {
        magic + LittleEndian.bytes(UInt32(json.count)) + json
    }

    /// The JSON, when the partition holds a staged job.
    public static func decode(_ bytes: some Collection<UInt8>) -> [UInt8]? {
        let data = Array(bytes)
        guard data.count >= 8, Array(data[0..<4]) == magic else { return nil }
        let length = Int(LittleEndian.uint32(data, at: 4))
        guard length <= data.count - 8 else { return nil }
        return Array(data[8..<8 + length])
    }
}
