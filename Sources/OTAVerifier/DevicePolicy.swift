import Crypto
import Foundation
import X509

/// The opt-in device policy: the twin of `Firmware/source/hil_policy.c`. A device that enables it checks, after the
/// image signature verified, the signer certificate's validity period against its trusted clock and the signature
/// against a revocation list the rig provisioned (format in Boards/README.md). Unlike the host-only `Policy` layer,
/// this is part of the device-equivalent verdict: an enforcing device refuses the update, and the twin predicts the
/// refusal, its sub-code and its log lines.

/// One check a device may enable, named as board files name it (`policy:`).
public enum DevicePolicyCheck: String, Sendable, CaseIterable, Codable, Hashable {
    case certificateValidity = "certificate-validity"
    case revocation

    /// The bit of `HilPolicyConfig_t.checks` (HIL_POLICY_CHECK_*).
    public var bit: UInt32 {
        switch self {
        case .certificateValidity: 0x01
        case .revocation: 0x02
        }
    }

    /// The C config's bitmask for a set of checks.
    public static func mask(_ checks: Set<DevicePolicyCheck>) -> UInt32 { checks.reduce(0) { $0 | $1.bit } }
}

/// What an enforcing device is given besides the stock inputs.
public struct DevicePolicyConfig: Sendable, Equatable {
    /// The checks enabled; empty behaves as the stock device.
    public var checks: Set<DevicePolicyCheck>
    /// The device's trusted clock (its RTC as the rig set it); nil: no trusted time, the validity check is skipped.
    public var deviceTime: Date?
    /// The revocation list's bytes as provisioned; nil: none.
    public var revocationList: [UInt8]?
    /// The revocation list signer's certificate (PEM or DER); nil: looked up under
    /// `RevocationList.signerCertificateLabel` like the code-signing certificate.
    public var listSignerCertificate: [UInt8]?

    public init(checks: Set<DevicePolicyCheck>, deviceTime: Date? = nil, revocationList: [UInt8]? = nil,
                listSignerCertificate: [UInt8]? = nil) {
        self.checks = checks
        self.deviceTime = deviceTime
        self.revocationList = revocationList
        self.listSignerCertificate = listSignerCertificate
    }
}

/// Why an enforcing device refused: the sub-code of `OtaPalSignatureCheckFailed` (HIL_POLICY_SUB_* in hil_policy.h).
public enum DevicePolicyRefusal: UInt32, Sendable, CaseIterable {
    case certificateNotYetValid = 0x005001
    case certificateExpired = 0x005002
    case certificateUnreadable = 0x005003
    case listMissing = 0x005101
    case listMalformed = 0x005102
    case listVersion = 0x005103
    case listSignerUnreadable = 0x005104
    case listSignatureInvalid = 0x005105
    case signatureRevoked = 0x005201
    case profileRevoked = 0x005202

    public var name: String {
        switch self {
        case .certificateNotYetValid: "certificate-not-yet-valid"
        case .certificateExpired: "certificate-expired"
        case .certificateUnreadable: "certificate-unreadable"
        case .listMissing: "revocation-list-missing"
        case .listMalformed: "revocation-list-malformed"
        case .listVersion: "revocation-list-version"
        case .listSignerUnreadable: "revocation-list-signer-unreadable"
        case .listSignatureInvalid: "revocation-list-signature-invalid"
        case .signatureRevoked: "signature-revoked"
        case .profileRevoked: "profile-revoked"
        }
    }

    /// The PAL status the close returns.
    public var palStatus: PALStatus { PALStatus(.signatureCheckFailed, sub: rawValue) }
}

/// A revocation list in the device's format (version 1, big-endian):
/// "OTRL" · version u8 · issuedAt u64 · count u32 · count × (SHA-256 of the signature 32 · reason u8 · time u64) ·
/// signature length u16 · DER ECDSA signature over everything before the length.
public struct RevocationList: Sendable, Equatable {
    public static let magic = Array("OTRL".utf8)
    public static let formatVersion: UInt8 = 1
    public static let headerLength = 17
    public static let entryLength = 41
    /// The label (file name) the list signer's certificate is provisioned under (HIL_POLICY_LIST_SIGNER_LABEL).
    public static let signerCertificateLabel = "otarig-revocation.crt"

    public struct Entry: Sendable, Equatable {
        public enum Reason: UInt8, Sendable {
            /// The signing job's signature was revoked; `time` is when.
            case signatureRevoked = 1
            /// The signature was made by a profile version revoked effective at or before its signing time; `time`
            /// is the effective time.
            case profileVersionRevoked = 2
        }

        /// SHA-256 of the raw signature bytes (as decoded from the job document).
        public var signatureHash: [UInt8]
        public var reason: Reason
        /// Unix seconds.
        public var time: UInt64

        public init(signatureHash: [UInt8], reason: Reason, time: UInt64) {
            self.signatureHash = signatureHash
            self.reason = reason
            self.time = time
        }

        /// The entry for a signature.
        public init(signature: [UInt8], reason: Reason, time: UInt64) {
            self.init(signatureHash: Array(SHA256.hash(data: signature)), reason: reason, time: time)
        }
    }

    /// Unix seconds.
    public var issuedAt: UInt64
    public var entries: [Entry]
    /// The DER signature; empty before signing.
    public var signature: [UInt8]

    public init(issuedAt: UInt64, entries: [Entry], signature: [UInt8] = []) {
        self.issuedAt = issuedAt
        self.entries = entries
        self.signature = signature
    }

    /// The bytes the signature covers: the header and the entries.
    public var signedBytes: [UInt8] {
        var out = Self.magic + [Self.formatVersion] + bigEndian(issuedAt, 8) + bigEndian(UInt64(entries.count), 4)
        for entry in entries {
            out += entry.signatureHash + [entry.reason.rawValue] + bigEndian(entry.time, 8)
        }
        return out
    }

    /// The whole list: the signed bytes, the signature's length and the signature.
    public func encoded() -> [UInt8] {
        signedBytes + bigEndian(UInt64(signature.count), 2) + signature
    }

    /// The list signed with `key` (ECDSA P-256 over SHA-256 of `signedBytes`), encoded.
    public func signed(with key: P256.Signing.PrivateKey) throws -> [UInt8] {
        var list = self
        list.signature = Array(try key.signature(for: signedBytes).derRepresentation)
        return list.encoded()
    }

    public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        /// What is wrong, in the device's words ("truncated header", "bad magic", ...).
        case malformed(String)
        case unsupportedVersion(UInt8)

        public var description: String {
            switch self {
            case .malformed(let why): "the revocation list is malformed: \(why)"
            case .unsupportedVersion(let version): "the revocation list has format version \(version); this reads version \(RevocationList.formatVersion)"
            }
        }
    }

    /// Reads a list as the device does (HIL_RevocationListParse), in the same order of checks. Does not verify the
    /// signature.
    public init(decoding bytes: [UInt8]) throws(DecodeError) {
        let length = bytes.count
        guard length >= Self.headerLength else { throw .malformed("truncated header") }
        guard Array(bytes[0..<4]) == Self.magic else { throw .malformed("bad magic") }
        guard bytes[4] == Self.formatVersion else { throw .unsupportedVersion(bytes[4]) }
        let issuedAt = readBigEndian(bytes, 5, 8)
        let count = readBigEndian(bytes, 13, 4)
        var position = Self.headerLength
        guard count <= UInt64((length - position) / Self.entryLength) else { throw .malformed("truncated entries") }
        var entries: [Entry] = []
        for _ in 0..<Int(count) {
            let hash = Array(bytes[position..<position + 32])
            guard let reason = Entry.Reason(rawValue: bytes[position + 32]) else { throw .malformed("an entry has an unknown reason") }
            entries.append(Entry(signatureHash: hash, reason: reason, time: readBigEndian(bytes, position + 33, 8)))
            position += Self.entryLength
        }
        guard length - position >= 2 else { throw .malformed("truncated signature length") }
        let signatureLength = Int(readBigEndian(bytes, position, 2))
        position += 2
        guard signatureLength > 0 else { throw .malformed("empty signature") }
        guard signatureLength <= length - position else { throw .malformed("truncated signature") }
        guard signatureLength == length - position else { throw .malformed("trailing bytes after the signature") }
        self.init(issuedAt: issuedAt, entries: entries, signature: Array(bytes[position...]))
    }

    /// The list a rig provisions from what the signing service recorded: every signing job whose signature was
    /// revoked (reason 1, at its revokedAt) and every signature whose job's profile version was revoked with an
    /// effective time at or before the job's signedAt (reason 2, at the effective time). One entry per signature
    /// (a revoked job wins over its profile); signatures whose base64 does not decode are left out.
    public init(facts: SignerFacts, issuedAt: Date) {
        var entries: [Entry] = []
        var seen: Set<[UInt8]> = []
        for job in facts.signingJobs {
            guard let decoded = Data(base64Encoded: job.signature) else { continue }
            let signature = Array(decoded)
            var entry: Entry?
            if let revocation = job.revocation {
                entry = Entry(signature: signature, reason: .signatureRevoked, time: listSeconds(revocation.revokedAt ?? job.signedAt))
            } else if let name = job.profileName, let version = job.profileVersion, let signedAt = job.signedAt,
                      let revoked = facts.profileRevocations.first(where: {
                          $0.profileName == name && $0.profileVersion == version && $0.effectiveTime <= signedAt
                      }) {
                entry = Entry(signature: signature, reason: .profileVersionRevoked, time: listSeconds(revoked.effectiveTime))
            }
            if let entry, seen.insert(entry.signatureHash).inserted { entries.append(entry) }
        }
        self.init(issuedAt: listSeconds(issuedAt), entries: entries)
    }
}

/// The enforcing device's checks, as the C core runs them (HIL_PolicyCheck), with its log lines.
public enum DevicePolicy {
    /// What the policy decided for one close.
    public struct Outcome: Sendable, Equatable {
        /// nil: the update goes on.
        public var refusal: DevicePolicyRefusal?
        public var log: [LogLine]
    }

    /// Runs the enabled checks for `signature`, which verified with `certificate` (the bytes the PAL used).
    /// `lookup` finds the list signer's certificate by label when the config does not carry it.
    public static func evaluate(_ config: DevicePolicyConfig, certificate: [UInt8], signature: [UInt8],
                                lookup: (String) -> CertificateLookup) -> Outcome {
        var log: [LogLine] = []
        var refusal: DevicePolicyRefusal?
        if config.checks.contains(.certificateValidity) {
            refusal = checkValidity(certificate, now: config.deviceTime, log: &log)
        }
        if refusal == nil, config.checks.contains(.revocation) {
            var signer = config.listSignerCertificate
            if signer == nil, case .found(let bytes) = lookup(RevocationList.signerCertificateLabel) { signer = bytes }
            refusal = checkRevocation(config.revocationList, signer: signer, signature: signature, log: &log)
        }
        return Outcome(refusal: refusal, log: log)
    }

    private static func checkValidity(_ certificate: [UInt8], now: Date?, log: inout [LogLine]) -> DevicePolicyRefusal? {
        guard let now else {
            log.append(LogLine(level: .warn, text: "Device policy: no trusted time; skipping the certificate validity check."))
            return nil
        }
        guard case .success(let key) = SignatureChecker.decodeCertificate(certificate, profile: .esp32MbedTLS) else {
            log.append(LogLine(level: .error, text: "Device policy: the signer certificate's validity period cannot be read."))
            return .certificateUnreadable
        }
        let device = unixSeconds(now)
        let notBefore = Int64(key.certificate.notValidBefore.timeIntervalSince1970.rounded(.down))
        let notAfter = Int64(key.certificate.notValidAfter.timeIntervalSince1970.rounded(.down))
        let from = formatTime(notBefore), to = formatTime(notAfter), at = formatTime(device)
        if device < notBefore {
            log.append(LogLine(level: .error, text: "Device policy: the signer certificate is not valid before \(from) (device time \(at))."))
            return .certificateNotYetValid
        }
        if device > notAfter {
            log.append(LogLine(level: .error, text: "Device policy: the signer certificate expired at \(to) (device time \(at))."))
            return .certificateExpired
        }
        log.append(LogLine(level: .info, text: "Device policy: the signer certificate is valid from \(from) to \(to) at device time \(at)."))
        return nil
    }

    private static func checkRevocation(_ bytes: [UInt8]?, signer: [UInt8]?, signature: [UInt8], log: inout [LogLine]) -> DevicePolicyRefusal? {
        let label = RevocationList.signerCertificateLabel
        guard let bytes, !bytes.isEmpty else {
            log.append(LogLine(level: .error, text: "Device policy: revocation checking is on but no revocation list is provisioned."))
            return .listMissing
        }
        let list: RevocationList
        do {
            list = try RevocationList(decoding: bytes)
        } catch {
            switch error {
            case .unsupportedVersion(let version):
                log.append(LogLine(level: .error, text: "Device policy: the revocation list has format version \(version); this device reads version \(RevocationList.formatVersion)."))
                return .listVersion
            case .malformed(let why):
                log.append(LogLine(level: .error, text: "Device policy: the revocation list is malformed: \(why)."))
                return .listMalformed
            }
        }
        let unreadable = LogLine(level: .error, text: "Device policy: the revocation list signer certificate (\(label)) is missing or unreadable.")
        guard let signer, !signer.isEmpty, case .success(let key) = SignatureChecker.decodeCertificate(signer, profile: .esp32MbedTLS) else {
            log.append(unreadable)
            return .listSignerUnreadable
        }
        let digest = TypedDigest.sha256(SHA256.hash(data: list.signedBytes))
        if SignatureChecker.verify(signature: list.signature, digest: digest, key: key, profile: .esp32MbedTLS) != nil {
            log.append(LogLine(level: .error, text: "Device policy: the revocation list's signature does not verify with \(label)."))
            return .listSignatureInvalid
        }
        log.append(LogLine(level: .info, text: "Device policy: revocation list issued \(formatListTime(list.issuedAt)) with \(list.entries.count) entries verified."))
        let hash = Array(SHA256.hash(data: signature))
        if let entry = list.entries.first(where: { $0.signatureHash == hash }) {
            switch entry.reason {
            case .signatureRevoked:
                log.append(LogLine(level: .error, text: "Device policy: the signature is revoked (its signing job was revoked at \(formatListTime(entry.time)))."))
                return .signatureRevoked
            case .profileVersionRevoked:
                log.append(LogLine(level: .error, text: "Device policy: the signature is revoked (its signing profile version was revoked effective \(formatListTime(entry.time)))."))
                return .profileRevoked
            }
        }
        log.append(LogLine(level: .info, text: "Device policy: the signature is not on the revocation list."))
        return nil
    }

    /// 9999-12-31T23:59:59Z: the last second the device prints as a date.
    static let lastPrintableSecond: Int64 = 253_402_300_799

    /// HIL_PolicyFormatTime: ISO 8601 UTC from 1970 to 9999, otherwise "unix <seconds>".
    public static func formatTime(_ seconds: Int64) -> String {
        guard seconds >= 0, seconds <= lastPrintableSecond else { return "unix \(seconds)" }
        return UTCTimestamp.string(Date(timeIntervalSince1970: Double(seconds)))
    }

    static func formatListTime(_ seconds: UInt64) -> String {
        seconds > UInt64(lastPrintableSecond) ? "unix \(seconds)" : formatTime(Int64(seconds))
    }
}

/// Whole unix seconds, rounded down, as the list holds them (nil or before 1970: 0).
func listSeconds(_ date: Date?) -> UInt64 {
    guard let date else { return 0 }
    return UInt64(max(0, date.timeIntervalSince1970.rounded(.down)))
}

/// Whole unix seconds, rounded down, as the device's clock holds them.
func unixSeconds(_ date: Date) -> Int64 {
    Int64(date.timeIntervalSince1970.rounded(.down))
}

private func bigEndian(_ value: UInt64, _ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64(count - 1 - $0))) }
}

private func readBigEndian(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> UInt64 {
    bytes[offset..<offset + count].reduce(0) { $0 << 8 | UInt64($1) }
}
