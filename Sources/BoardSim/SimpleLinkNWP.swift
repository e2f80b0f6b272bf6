import DeviceFirmware
import Foundation

/// The TI CC3220SF network processor's signed close (`sl_FsClose` of a secure, signed file), run by the C model in
/// `Firmware/source/hil_simplelink.c` (`HIL_SlFsClose`, spec/simplelink-close.md), so a simulated CC3220SF file system
/// and `otarig device-verify --profile cc3220-simplelink` close files through the same code.
public struct SimpleLinkNWP: Sendable {
    /// The device's tamper state: security alerts counted so far and the count that locks it.
    public struct State: Sendable, Equatable {
        public var securityAlerts: UInt32
        /// `SecurityAlertThreshold`: 15 by default (TI; mongoose-os/mos writes 15).
        public var alertThreshold: UInt32

        public init(securityAlerts: UInt32 = 0, alertThreshold: UInt32 = SimpleLinkNWP.defaultAlertThreshold) {
            self.securityAlerts = securityAlerts
            self.alertThreshold = alertThreshold
        }

        /// Every close now returns SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT until a return to factory.
        public var locked: Bool { securityAlerts >= (alertThreshold == 0 ? SimpleLinkNWP.defaultAlertThreshold : alertThreshold) }
    }

    /// The Trusted Root-Certificate Catalog: DER root certificates and revoked certificates' fingerprints (SHA-1 or
    /// SHA-256 of their DER).
    public struct Catalog: Sendable, Equatable {
        public var roots: [[UInt8]]
        public var revokedFingerprints: [[UInt8]]

        public init(roots: [[UInt8]], revokedFingerprints: [[UInt8]] = []) {
            self.roots = roots
            self.revokedFingerprints = revokedFingerprints
        }

        /// Reads a catalog directory as `otarig verify --root-catalog` means it: every regular file but revoked.txt is
        /// a root (one DER certificate, or PEM with one or more), revoked.txt lists fingerprints (hex, colons allowed,
        /// `#` comments). Read by the C port's loader (`HIL_Cc3220LoadCatalog`).
        public static func load(directory: String) throws(CatalogError) -> Catalog {
            var roots: UnsafeMutablePointer<HilSlBuffer_t>?
            var rootCount = 0
            var revoked: UnsafeMutablePointer<HilSlFingerprint_t>?
            var revokedCount = 0
            let capacity = 1200
            var error = [CChar](repeating: 0, count: capacity)
            guard HIL_Cc3220LoadCatalog(directory, &roots, &rootCount, &revoked, &revokedCount, &error, capacity) == 0 else {
                throw CatalogError(message: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            defer { HIL_Cc3220FreeCatalog(roots, rootCount, revoked) }
            var catalog = Catalog(roots: [])
            for index in 0..<rootCount {
                guard let root = roots?[index], let data = root.pData else { continue }
                catalog.roots.append(Array(UnsafeBufferPointer(start: data, count: root.length)))
            }
            for index in 0..<revokedCount {
                guard var fingerprint = revoked?[index] else { continue }
                let length = Int(fingerprint.length)
                catalog.revokedFingerprints.append(withUnsafeBytes(of: &fingerprint.bytes) { Array($0.prefix(length)) })
            }
            return catalog
        }
    }

    /// Why a catalog directory could not be read.
    public struct CatalogError: Error, Sendable { public var message: String }

    /// One certificate of the chain the close walked.
    public struct ChainEntry: Sendable, Equatable {
        /// The subject as mbedTLS prints it ("CN=dummy-root-ca-cert").
        public var subject: String
        /// The file it came from; nil for the catalog root.
        public var file: String?
    }

    /// What the close found.
    public struct Evidence: Sendable, Equatable {
        /// The SimpleLink code (0 on success) and its errors.h name.
        public var code: Int32
        public var name: String
        /// The code counted towards the tamper lock.
        public var securityAlert: Bool
        /// The device's count after this close, and whether it is now locked.
        public var securityAlerts: UInt32
        public var locked: Bool
        /// The certificate file the close named: found, not found, too large; nil when it was not looked up.
        public var certificateFileFound: Bool?
        /// Signer first, then the issuer files, then the catalog root.
        public var chain: [ChainEntry]
        /// The catalog root the chain ends in.
        public var rootIndex: Int?
        /// The signer's RSA modulus in bits.
        public var signerKeyBits: Int?
        /// One sentence: why, or what verified.
        public var detail: String
        /// What otaPal_CloseFile makes of the code (main << 24 | sub).
        public var palStatus: UInt32 { SimpleLinkNWP.palStatus(forClose: code) }
    }

    /// SecurityAlertThreshold's default.
    public static let defaultAlertThreshold = UInt32(hilconfigSL_SECURITY_ALERT_THRESHOLD)
    /// otaPal_CreateFileForRx refuses larger files (OTA_MAX_MCU_IMAGE_SIZE).
    public static let maxFileSize = 512 * 1024

    /// `sl_FsClose` of a secure, signed file with `file`'s bytes: `certificateName` and the other certificates are
    /// looked up with `lookup` (names relative to the file system's root, one leading "/" already dropped); `state`
    /// counts security alerts.
    public static func close(file: [UInt8], certificateName: String, signature: [UInt8], lookup: (String) -> [UInt8]?,
                             catalog: Catalog, state: inout State) -> (code: Int32, evidence: Evidence) {
        var hasher = HilHasher_t()
        var request = HilSlClose_t()
        HIL_HashStart(&hasher, HilHashSha1)
        file.withUnsafeBufferPointer { bytes in
            if let base = bytes.baseAddress { HIL_HashUpdate(&hasher, base, bytes.count) }
        }
        withUnsafeMutableBytes(of: &request.fileSha1) { digest in
            HIL_HashFinish(&hasher, digest.bindMemory(to: UInt8.self).baseAddress)
        }
        return withoutActuallyEscaping(lookup) { lookup in
            close(request: &request, certificateName: certificateName, signature: signature, lookup: lookup, catalog: catalog, state: &state)
        }
    }

    /// The errors.h name of a SimpleLink code ("SL_ERROR_FS_ROOT_CA_IS_UNKOWN").
    public static func errorName(_ code: Int32) -> String { String(cString: HIL_SlErrorName(code)) }

    /// otaPal_CloseFile's status for a code: 0 → OtaPalSuccess; the ten certificate and signature codes →
    /// OtaPalSignatureCheckFailed; any other → OtaPalFileClose; the sub-code is the code's low 24 bits.
    public static func palStatus(forClose code: Int32) -> UInt32 { HIL_SlPalStatusForClose(code) }

    /// The code counts towards the tamper lock (-10289, -10292, -10273).
    public static func isSecurityAlert(_ code: Int32) -> Bool { HIL_SlIsSecurityAlert(code) }

    /// The evidence the C model filled.
    static func evidence(_ evidence: HilSlEvidence_t) -> Evidence {
        var evidence = evidence
        let count = min(Int(evidence.chainLength), Int(HIL_SL_MAX_CHAIN))
        let chain = withUnsafeBytes(of: &evidence.chain) { raw in
            raw.bindMemory(to: HilSlChainEntry_t.self).prefix(count).map { entry -> ChainEntry in
                var entry = entry
                let subject = withUnsafeBytes(of: &entry.subject) { cText($0) }
                let file = withUnsafeBytes(of: &entry.file) { cText($0) }
                return ChainEntry(subject: subject, file: file.isEmpty ? nil : file)
            }
        }
        return Evidence(
            code: evidence.code, name: errorName(evidence.code), securityAlert: evidence.securityAlert,
            securityAlerts: evidence.securityAlerts, locked: evidence.locked,
            certificateFileFound: evidence.certFileLookedUp ? evidence.certFileLookup == HilSlFileFound : nil,
            chain: chain, rootIndex: evidence.rootIndex >= 0 ? Int(evidence.rootIndex) : nil,
            signerKeyBits: evidence.signerKeyBits > 0 ? Int(evidence.signerKeyBits) : nil,
            detail: withUnsafeBytes(of: &evidence.detail) { cText($0) })
    }

    /// Holds the lookup while the C model calls back.
    private final class LookupBox {
        let lookup: (String) -> [UInt8]?
        init(_ lookup: @escaping (String) -> [UInt8]?) { self.lookup = lookup }
    }

    private static func close(request: inout HilSlClose_t, certificateName: String, signature: [UInt8],
                              lookup: @escaping (String) -> [UInt8]?, catalog: Catalog, state: inout State) -> (code: Int32, evidence: Evidence) {
        let box = LookupBox(lookup)
        var fileSystem = HilSlFileSystem_t()
        fileSystem.pContext = Unmanaged.passUnretained(box).toOpaque()
        fileSystem.lookup = { context, name, buffer, capacity, length in
            guard let context, let name, let buffer, let length else { return HilSlFileNotFound }
            let box = Unmanaged<LookupBox>.fromOpaque(context).takeUnretainedValue()
            length.pointee = 0
            guard let bytes = box.lookup(String(cString: name)) else { return HilSlFileNotFound }
            guard bytes.count <= capacity else { return HilSlFileTooLarge }
            bytes.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { buffer.update(from: base, count: source.count) }
            }
            length.pointee = bytes.count
            return HilSlFileFound
        }

        // The catalog in C memory for the call: the roots in one block, the fingerprints in an array.
        let rootBytes = catalog.roots.reduce(0) { $0 + $1.count }
        let store = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, rootBytes))
        let roots = UnsafeMutableBufferPointer<HilSlBuffer_t>.allocate(capacity: max(1, catalog.roots.count))
        let revoked = UnsafeMutableBufferPointer<HilSlFingerprint_t>.allocate(capacity: max(1, catalog.revokedFingerprints.count))
        let workspace = UnsafeMutablePointer<HilSlWorkspace_t>.allocate(capacity: 1)
        let evidence = UnsafeMutablePointer<HilSlEvidence_t>.allocate(capacity: 1)
        defer {
            store.deallocate()
            roots.deallocate()
            revoked.deallocate()
            workspace.deallocate()
            evidence.deallocate()
        }
        var offset = 0
        for (index, root) in catalog.roots.enumerated() {
            _ = UnsafeMutableBufferPointer(rebasing: store[offset..<offset + root.count]).initialize(from: root)
            roots[index] = HilSlBuffer_t(pData: UnsafePointer(store.baseAddress.map { $0 + offset }), length: root.count)
            offset += root.count
        }
        var revokedCount = 0
        for fingerprint in catalog.revokedFingerprints where fingerprint.count == 20 || fingerprint.count == 32 {
            var entry = HilSlFingerprint_t()
            entry.length = UInt8(fingerprint.count)
            withUnsafeMutableBytes(of: &entry.bytes) { $0.copyBytes(from: fingerprint) }
            revoked[revokedCount] = entry
            revokedCount += 1
        }
        var cCatalog = HilSlCatalog_t(pRoots: UnsafePointer(roots.baseAddress), rootCount: catalog.roots.count,
                                      pRevoked: UnsafePointer(revoked.baseAddress), revokedCount: revokedCount)
        var nwp = HilSlNwp_t(securityAlerts: state.securityAlerts, alertThreshold: state.alertThreshold)

        let code = certificateName.withCString { name in
            signature.withUnsafeBufferPointer { signatureBytes in
                request.pCertName = name
                request.pSignature = signatureBytes.baseAddress
                request.signatureLength = signatureBytes.count
                let code = HIL_SlFsClose(&nwp, &fileSystem, &cCatalog, &request, workspace, evidence)
                request.pCertName = nil
                request.pSignature = nil
                return code
            }
        }
        withExtendedLifetime(box) {}
        state.securityAlerts = nwp.securityAlerts
        return (code, Self.evidence(evidence.pointee))
    }
}

/// The NUL-terminated text at the start of a C char array.
private func cText(_ bytes: UnsafeRawBufferPointer) -> String {
    String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
}
