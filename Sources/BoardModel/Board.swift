import Yams

/// A board the rig knows, from `Boards/*.yaml`: what chip it carries, how it appears on USB, how its reset lines
/// are wired, and how to flash it. A board file names a board type (by USB vendor/product and interface); a lab
/// pins one particular board by USB serial or USB path, never by /dev/ttyUSBn, which changes with plug order.
public struct Board: Codable, Equatable, Sendable {
    public var id: String
    public var name: String
    public var chip: Chip
    public var usb: USB?
    public var reset: Reset
    public var flash: Flash
    /// A simulated board (`otarig sim`), reached through its pty rather than USB.
    public var simulated: Bool?
    /// What the board's firmware is built with that matters to verification.
    public var firmware: Firmware
    /// The opt-in device policy the firmware enforces after the signature verified (nil: the stock PAL, which
    /// checks neither). Firmware/include/hil_policy.h holds the checks; Boards/README.md the revocation list format.
    public var policy: [PolicyCheck]?
    /// Words a plan can select boards by (`boards: - tags: [bench-a]`): a bench, a rack, a firmware line.
    public var tags: [String]?

    /// One check of the device policy, as board files spell it under `policy:`.
    public enum PolicyCheck: String, Codable, Sendable, CaseIterable {
        /// The signer certificate's notBefore/notAfter against the device's trusted clock (skipped without one).
        case certificateValidity = "certificate-validity"
        /// The signature against the signed revocation list provisioned beside the certificate (fail closed).
        case revocation
    }

    public enum Chip: String, Codable, Sendable, CaseIterable {
        case esp32, esp32s3 = "esp32-s3", cc3220sf
    }

    /// How DTR/RTS reach the chip: the two-transistor auto-reset circuit of most ESP32 boards, the ESP32-S3's
    /// built-in USB-Serial/JTAG, a CC3220's nRESET and SOP2 on DTR and RTS, or nothing (press the buttons).
    public enum Reset: String, Codable, Sendable, CaseIterable {
        case autoResetCircuit = "auto-reset-circuit"
        case usbJTAGSerial = "usb-jtag-serial"
        /// DTR drives nRESET (asserted: held in reset), RTS drives SOP2 (asserted: high): cc3200tool's
        /// `--reset dtr --sop2 rts` wiring.
        case nresetSOP2 = "nreset-sop2"
        case manual
    }

    public struct USB: Codable, Equatable, Sendable {
        /// Four hex digits, e.g. "10c4".
        public var vid: String
        public var pid: String
        /// The USB interface the console UART is on (an FTDI FT2232H has two: JTAG on 0, UART on 1).
        public var interface: Int?
        /// The bridge chip, for people ("CP2102", "FT2232H").
        public var bridge: String?
        /// Pin one board: its USB serial number …
        public var serial: String?
        /// … or, for bridges without a unique serial, where it sits on the bus (udev's ID_PATH).
        public var path: String?
    }

    public struct Flash: Codable, Equatable, Sendable {
        /// Bytes; YAML may say 4MB.
        public var size: Int
        public var baud: Int
    }

    /// What the firmware on the board was compiled with that decides how it verifies an OTA image: the FreeRTOS
    /// OTA PAL it uses and the one job-document key that PAL reads the signature from (`OTA_JsonFileSignatureKey`,
    /// fixed at compile time: an ESP32 build reads `sig-sha256-ecdsa` and ignores every other key).
    public struct Firmware: Codable, Equatable, Sendable {
        /// The PAL family, as the twin names its profiles: esp32-mbedtls, posix-openssl or cc3220-simplelink.
        public var pal: String
        /// `sig-<hash>-<algorithm>`, e.g. sig-sha256-ecdsa.
        public var signatureKey: String

        public init(pal: String, signatureKey: String) {
            self.pal = pal
            self.signatureKey = signatureKey
        }

        /// The PAL families the twin plays.
        public static let palFamilies = ["esp32-mbedtls", "posix-openssl", "cc3220-simplelink"]

        /// What a stock FreeRTOS build for the chip uses when the board file says nothing: the ESP32 PAL with
        /// `sig-sha256-ecdsa` (FreeRTOS `ota_config.h` for Espressif), the CC3220SF PAL with `sig-sha1-rsa`.
        public static func stock(for chip: Chip) -> Firmware {
            switch chip {
            case .esp32, .esp32s3: Firmware(pal: "esp32-mbedtls", signatureKey: "sig-sha256-ecdsa")
            case .cc3220sf: Firmware(pal: "cc3220-simplelink", signatureKey: "sig-sha1-rsa")
            }
        }

        /// Whether `key` has the `sig-<hash>-<algorithm>` form a PAL's signature key has (at most 32 bytes, the
        /// agent's key buffer).
        public static func isSignatureKey(_ key: String) -> Bool {
            let parts = key.split(separator: "-", omittingEmptySubsequences: false)
            return key.utf8.count <= 32 && parts.count == 3 && parts[0] == "sig" && ["sha1", "sha256", "sha384"].contains(parts[1])
                && ["rsa", "ecdsa"].contains(parts[2])
        }

        enum CodingKeys: String, CodingKey {
            case pal
            case signatureKey = "signature-key"
        }
    }

    enum CodingKeys: String, CodingKey { case id, name, chip, usb, reset, flash, simulated, firmware, policy, tags }
}

public struct BoardFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}

extension Board {
    /// Decodes and checks one board file's text, naming the field and the fix when something is wrong.
    public static func decode(_ text: String, file: String) throws(BoardFileError) -> Board {
        let raw: RawBoard
        do {
            raw = try YAMLDecoder().decode(RawBoard.self, from: text)
        } catch let DecodingError.keyNotFound(key, _) {
            throw BoardFileError(file: file, message: "missing '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw BoardFileError(file: file, message: "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            throw BoardFileError(file: file, message: "'\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)")
        } catch {
            throw BoardFileError(file: file, message: "not YAML a board file holds: \(error)")
        }
        guard !raw.id.isEmpty, raw.id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw BoardFileError(file: file, message: "id '\(raw.id)' must be letters, digits and '-'")
        }
        guard let chip = Chip(rawValue: raw.chip) else {
            throw BoardFileError(file: file, message: "chip '\(raw.chip)' is not one of \(Chip.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let reset = Reset(rawValue: raw.reset) else {
            throw BoardFileError(file: file, message: "reset '\(raw.reset)' is not one of \(Reset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let size = parseSize(raw.flash.size) else {
            throw BoardFileError(file: file, message: "flash.size '\(raw.flash.size)' is not a size such as 4MB or 4194304")
        }
        guard raw.flash.baud >= 9600 else { throw BoardFileError(file: file, message: "flash.baud \(raw.flash.baud) is below 9600") }
        if let usb = raw.usb {
            for (name, value) in [("usb.vid", usb.vid), ("usb.pid", usb.pid)] where value.count != 4 || UInt16(value, radix: 16) == nil {
                throw BoardFileError(file: file, message: "\(name) '\(value)' must be four hex digits, e.g. 10c4")
            }
        } else if raw.simulated != true {
            throw BoardFileError(file: file, message: "a board on USB needs 'usb' with vid and pid (or 'simulated: true')")
        }
        let firmware = raw.firmware ?? Firmware.stock(for: chip)
        guard Firmware.palFamilies.contains(firmware.pal) else {
            throw BoardFileError(file: file, message: "firmware.pal '\(firmware.pal)' is not one of \(Firmware.palFamilies.joined(separator: ", "))")
        }
        guard Firmware.isSignatureKey(firmware.signatureKey) else {
            throw BoardFileError(file: file, message: "firmware.signature-key '\(firmware.signatureKey)' is not sig-<sha1|sha256|sha384>-<rsa|ecdsa>, e.g. sig-sha256-ecdsa")
        }
        var policy: [PolicyCheck]?
        if let names = raw.policy {
            policy = []
            for name in names {
                guard let check = PolicyCheck(rawValue: name) else {
                    throw BoardFileError(file: file, message: "policy '\(name)' is not one of \(PolicyCheck.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if policy?.contains(check) == false { policy?.append(check) }
            }
        }
        for tag in raw.tags ?? [] where tag.isEmpty || !tag.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
            throw BoardFileError(file: file, message: "tag '\(tag)' must be letters, digits, '-' and '_'")
        }
        var board = Board(id: raw.id, name: raw.name, chip: chip,
                     usb: raw.usb.map { USB(vid: $0.vid.lowercased(), pid: $0.pid.lowercased(), interface: $0.interface, bridge: $0.bridge, serial: $0.serial, path: $0.path) },
                     reset: reset, flash: Flash(size: size, baud: raw.flash.baud), simulated: raw.simulated, firmware: firmware, policy: policy)
        board.tags = raw.tags
        return board
    }

    public static func parseSize(_ text: String) -> Int? {
        let upper = text.uppercased().filter { $0 != " " }
        for (suffix, factor) in [("MB", 1 << 20), ("KB", 1 << 10), ("M", 1 << 20), ("K", 1 << 10)] where upper.hasSuffix(suffix) {
            return Int(upper.dropLast(suffix.count)).map { $0 * factor }
        }
        return Int(upper)
    }

    /// Whether a USB serial port is this board: same vendor/product, the board's interface, and its serial or path
    /// when the file pins one.
    public func matches(vendorID: UInt16, productID: UInt16, interface: Int?, serial: String?, path: String?) -> Bool {
        guard let usb, UInt16(usb.vid, radix: 16) == vendorID, UInt16(usb.pid, radix: 16) == productID else { return false }
        if let wanted = usb.interface, interface != wanted { return false }
        if let wanted = usb.serial, serial != wanted { return false }
        if let wanted = usb.path, path != wanted { return false }
        return true
    }
}

/// The file as written, before checks.
struct RawBoard: Decodable {
    struct RawFlash: Decodable {
        var size: String
        var baud: Int

        enum CodingKeys: String, CodingKey { case size, baud }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let number = try? container.decode(Int.self, forKey: .size) {
                size = String(number)
            } else {
                size = try container.decode(String.self, forKey: .size)
            }
            baud = try container.decodeIfPresent(Int.self, forKey: .baud) ?? 115_200
        }
    }

    struct RawUSB: Decodable {
        var vid: String
        var pid: String
        var interface: Int?
        var bridge: String?
        var serial: String?
        var path: String?
    }

    var id: String
    var name: String
    var chip: String
    var usb: RawUSB?
    var reset: String
    var flash: RawFlash
    var simulated: Bool?
    var firmware: Board.Firmware?
    var policy: [String]?
    var tags: [String]?
}
