import Crypto
import CryptoExtras
import Foundation
import SwiftASN1

/// The TI CC3220SF PAL's close (aws/amazon-freertos @0ab20c43
/// `vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c`, `otaPal_CloseFile`; TI's SimpleLink CC32xx
/// SDK `fs.h`, `errors.h`): `sl_FsClose(handle, certfile, signature)` hands the file to the SimpleLink network
/// processor, which checks an RSA PKCS#1 v1.5 SHA-1 signature over the whole file with the certificate stored under
/// `certfile`, and that certificate's chain up to a root in TI's signed Trusted Root-Certificate Catalog.
///
/// The model follows the shared spec `spec/simplelink-close.md` step for step (the C device model follows the same
/// spec; neither is written from the other). What TI documents, as collected in the reference
/// `shared/reference/cc3220-bootloader.md` §5.3 (SWPU332A quoted on TI E2E, `fs.h`, `errors.h`, awsdocs
/// `burn-initial-firmware-ti.md`), is marked [TI] in the spec and here:
/// - [TI, §5.3 item 4] "the filename of the root and intermediate certificates … should match exactly the value of
///   the certificate's 'Issued To' field … relative to the file system's root folder"; the root must be listed in the
///   Trusted Root-Certificate Catalog. So each issuer is a file of its own, named by its subject's commonName, and the
///   chain ends at a catalog root (the AWS recipe writes `dummy-root-ca-cert` as a file under that name).
/// - [TI, §5.3 items 2 and 5] the file's signature is "PKCS#1, RSA 256 or 128 bytes, SHA_1"; a 512-byte signature is
///   WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH (E2E 1159293); "the certificate chain may include SHA-256".
/// - [TI, §5.3 item 7] the `*_SECURITY_ALERT` codes count towards the tamper lock, SecurityAlertThreshold 15 by
///   default (mos writes 15), after which the device answers SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT (-28674).
/// - [TI, §5.4] the error codes and their names (`errors.h`).
/// - [FreeRTOS] the PAL maps ten of those codes to SignatureCheckFailed and anything else to FileClose, both with the
///   code's low 24 bits as the sub-code; it never returns BadSignerCert.
///
/// OURS (undocumented, labelled so at each place below): the order of the checks, which code each fault gives
/// beyond the names, name normalisation ("/" prefix, ".."), the bound of three issuer files, and when exactly the
/// lock engages. Whether the network processor checks certificate dates is not established, so the device layer
/// does not; the policy layer reports them.
public enum SimpleLinkError: Int32, CaseIterable, Sendable {
    case wrongSignatureSecurityAlert = -10289
    case wrongSignatureOrCertificateNameLength = -10290
    case certificateInTheChainRevokedSecurityAlert = -10273
    case initCertificateStore = -10274
    case rootCAIsUnknown = -10287
    case certificateChainErrorSecurityAlert = -10292
    case fileNotExists = -10341
    case illegalSignature = -10363
    case wrongCertificateFileName = -10372
    case noCertificateStore = -10242
    /// The device counted its threshold of security alerts and refuses every secure close until a return to factory.
    case deviceLockedSecurityAlert = -28674

    /// The name in SimpleLink's `errors.h`.
    public var name: String {
        switch self {
        case .wrongSignatureSecurityAlert: "SL_ERROR_FS_WRONG_SIGNATURE_SECURITY_ALERT"
        case .wrongSignatureOrCertificateNameLength: "SL_ERROR_FS_WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH"
        case .certificateInTheChainRevokedSecurityAlert: "SL_ERROR_FS_CERT_IN_THE_CHAIN_REVOKED_SECURITY_ALERT"
        case .initCertificateStore: "SL_ERROR_FS_INIT_CERTIFICATE_STORE"
        case .rootCAIsUnknown: "SL_ERROR_FS_ROOT_CA_IS_UNKOWN"
        case .certificateChainErrorSecurityAlert: "SL_ERROR_FS_CERT_CHAIN_ERROR_SECURITY_ALERT"
        case .fileNotExists: "SL_ERROR_FS_FILE_NOT_EXISTS"
        case .illegalSignature: "SL_ERROR_FS_ILLEGAL_SIGNATURE"
        case .wrongCertificateFileName: "SL_ERROR_FS_WRONG_CERTIFICATE_FILE_NAME"
        case .noCertificateStore: "SL_ERROR_FS_NO_CERTIFICATE_STORE"
        case .deviceLockedSecurityAlert: "SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT"
        }
    }

    /// Whether this result adds one to the device's security-alert count [TI: the `*_SECURITY_ALERT` codes count]:
    /// -10289, -10292 and -10273. The lock's own code is not counted (spec step 0).
    public var isSecurityAlert: Bool {
        switch self {
        case .wrongSignatureSecurityAlert, .certificateChainErrorSecurityAlert, .certificateInTheChainRevokedSecurityAlert: true
        default: false
        }
    }

    /// One of the ten codes `otaPal_CloseFile` maps to OtaPalSignatureCheckFailed; any other is OtaPalFileClose.
    public var isSignatureCheckFailure: Bool { self != .deviceLockedSecurityAlert }

    /// The PAL's status (`otaPal_CloseFile`): SignatureCheckFailed for the ten listed codes, FileClose for any other,
    /// with the code's low 24 bits as the sub-code either way.
    public var palStatus: PALStatus {
        PALStatus(isSignatureCheckFailure ? .signatureCheckFailed : .fileClose, sub: UInt32(bitPattern: rawValue) & 0xFF_FFFF)
    }
}

/// The SimpleLink file system as the network processor sees it: a file's bytes by its name relative to the file
/// system's root, or nil when no such file exists. The close normalises names before asking (`SimpleLinkClose.file`).
public typealias SimpleLinkFileLookup = @Sendable (String) -> [UInt8]?

/// The trusted roots the network processor checks certificate chains against: TI's catalog (the playground catalog
/// on development boards), here as certificates, with the catalog's revocation list as certificate fingerprints.
public struct RootCatalog: Sendable {
    public struct Root: Sendable {
        /// The catalog file the root came from.
        public var name: String
        /// The root certificate's DER.
        public var der: [UInt8] { certificate.der }
        /// The root's subject, for messages.
        public var subject: String { certificate.subjectText }
        let certificate: SimpleLinkCertificate

        /// A root from its DER; throws when the bytes are not one X.509 certificate.
        public init(name: String, der: [UInt8]) throws(PolicyError) {
            switch SimpleLinkCertificate.read(der) {
            case .success(let certificate): self.init(name: name, certificate: certificate)
            case .failure(let error): throw PolicyError("'\(name)' is not an X.509 certificate (PEM or DER): \(error.message)")
            }
        }

        init(name: String, certificate: SimpleLinkCertificate) {
            self.name = name
            self.certificate = certificate
        }
    }

    public var roots: [Root]
    /// SHA-1 or SHA-256 fingerprints (raw bytes) of revoked certificates.
    public var revokedFingerprints: Set<[UInt8]>

    public init(roots: [Root], revokedFingerprints: Set<[UInt8]> = []) {
        self.roots = roots
        self.revokedFingerprints = revokedFingerprints
    }

    /// Reads root certificates (PEM, possibly several per file, or DER) and a revocation list (one SHA-1 or SHA-256
    /// fingerprint per line, hex with or without colons, `#` comments). Throws a message naming the entry.
    public static func load(files: [(name: String, bytes: [UInt8])], revocationList: String? = nil) throws(PolicyError) -> RootCatalog {
        var roots: [Root] = []
        for (name, bytes) in files {
            let ders: [[UInt8]]
            if bytes.firstRange(of: SignatureChecker.pemCertificateHeader) != nil {
                guard let blocks = SignatureChecker.pemBlocks(bytes), !blocks.isEmpty else {
                    throw PolicyError("'\(name)' has a PEM certificate block that does not decode")
                }
                ders = blocks
            } else {
                ders = [bytes]
            }
            for der in ders {
                guard case .success(let certificate) = SimpleLinkCertificate.read(der) else {
                    throw PolicyError("'\(name)' is not an X.509 certificate (PEM or DER)")
                }
                roots.append(Root(name: name, certificate: certificate))
            }
        }
        var revoked: Set<[UInt8]> = []
        for (number, line) in (revocationList ?? "").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let hex = text.filter { !$0.isWhitespace && $0 != ":" }
            if hex.isEmpty { continue }
            guard let bytes = Hex.bytes(hex), bytes.count == 20 || bytes.count == 32 else {
                throw PolicyError("line \(number + 1) of the revocation list is not a SHA-1 or SHA-256 fingerprint (openssl x509 -noout -fingerprint -sha1 prints one)")
            }
            revoked.insert(bytes)
        }
        return RootCatalog(roots: roots, revokedFingerprints: revoked)
    }

    /// Whether the certificate whose DER this is appears in the revocation list by its SHA-1 or SHA-256 fingerprint.
    func isRevoked(_ der: [UInt8]) -> Bool {
        guard !revokedFingerprints.isEmpty else { return false }
        return revokedFingerprints.contains(Array(Insecure.SHA1.hash(data: der)))
            || revokedFingerprints.contains(Array(SHA256.hash(data: der)))
    }
}

/// What the network processor found while closing the file, for `otarig verify --json` and `otarig explain`.
public struct SimpleLinkEvidence: Sendable, Equatable {
    /// One link of the chain walk (spec step 6): the certificate whose issuer was sought, and where it was found.
    public struct ChainStep: Sendable, Equatable {
        public enum Lookup: Sendable, Equatable {
            /// Catalog roots named the issuer; `file` is the catalog file of the one whose key verified, nil when
            /// none of them did (same name, another key).
            case catalogRoot(file: String?)
            /// The issuer name has no commonName, so there is no file name to look up.
            case noCommonName
            /// The issuer's commonName looked up as a file in the file system.
            case file(name: String, found: Bool)
        }

        /// The subject of the certificate whose issuer was sought.
        public var certificate: String
        /// That certificate's issuer (the "Issued To" of the next link).
        public var issuer: String
        public var lookup: Lookup
    }

    /// Subjects from the signer up, ending with the catalog root when one was found.
    public var chain: [String] = []
    /// Each link the walk followed, in order.
    public var steps: [ChainStep] = []
    /// The catalog file whose root issued the chain.
    public var root: String?
    /// Whether the file certfile names exists (nil: the close stopped before looking).
    public var certificateFileFound: Bool?
    /// The signer's key ("RSA-2048") and its modulus length in bytes, once the signer certificate was read.
    public var signerKey: String?
    public var modulusBytes: Int?
    /// The device's security-alert count before this close, after it, and the lock threshold.
    public var securityAlertsBefore = 0
    public var securityAlertsAfter = 0
    public var securityAlertThreshold = SimpleLinkClose.defaultSecurityAlertThreshold
    public var error: SimpleLinkError?
    public var detail: String?

    public init() {}

    /// Whether the device refuses the next secure close (its count reached the threshold).
    public var lockedAfter: Bool { securityAlertsAfter >= securityAlertThreshold }
}

enum SimpleLinkClose {
    /// SL_FS_MAX_FILE_NAME_LENGTH.
    static let maxFileNameLength = 180
    /// [TI] "PKCS#1, RSA 256 or 128 bytes": sl_FsClose takes at most 256 signature bytes.
    static let maxSignatureLength = 256
    /// The CC3220SF PAL refuses files over 512 KiB when it creates them (OtaPalRxFileTooLarge, sub 0x80000).
    static let maxFileSize = 512 * 1024
    /// [TI via mos: SecurityAlertThreshold=15] the default tamper-lock threshold.
    static let defaultSecurityAlertThreshold = 15
    /// OURS: the walk follows at most three issuer files before the catalog root.
    static let maxIssuerFiles = 3

    /// A file by name as the network processor resolves it [TI "relative to the file system's root folder"]; OURS:
    /// one leading "/" is ignored, and an empty name or one containing ".." is not found.
    static func file(_ name: String, in files: SimpleLinkFileLookup) -> [UInt8]? {
        let relative = name.hasPrefix("/") ? String(name.dropFirst()) : name
        guard !relative.isEmpty, !relative.contains("..") else { return nil }
        return files(relative)
    }

    /// sl_FsClose's authentication, spec steps 0-10, with the security-alert count before the close.
    static func close(certFile: String, signature: [UInt8], digest: Insecure.SHA1Digest, catalog: RootCatalog?,
                      securityAlerts: Int, threshold: Int, files: SimpleLinkFileLookup) -> SimpleLinkEvidence {
        var evidence = SimpleLinkEvidence()
        evidence.securityAlertsBefore = securityAlerts
        evidence.securityAlertsAfter = securityAlerts
        evidence.securityAlertThreshold = threshold
        run(&evidence, certFile: certFile, signature: signature, digest: digest, catalog: catalog, files: files)
        if let error = evidence.error, error.isSecurityAlert { evidence.securityAlertsAfter = securityAlerts + 1 }
        return evidence
    }

    private static func run(_ evidence: inout SimpleLinkEvidence, certFile: String, signature: [UInt8], digest: Insecure.SHA1Digest,
                            catalog: RootCatalog?, files: SimpleLinkFileLookup) {
        func fail(_ error: SimpleLinkError, _ detail: String) {
            evidence.error = error
            evidence.detail = detail
        }

        // 0. [TI code; OURS timing] a locked device checks nothing and counts nothing.
        guard evidence.securityAlertsBefore < evidence.securityAlertThreshold else {
            return fail(.deviceLockedSecurityAlert, "the device has counted \(evidence.securityAlertsBefore) security alerts, at or over its threshold of \(evidence.securityAlertThreshold): it is locked until a return to factory image")
        }
        // 1. OURS: the name's length (SL_FS_MAX_FILE_NAME_LENGTH).
        guard !certFile.isEmpty, certFile.utf8.count <= maxFileNameLength else {
            return fail(.wrongSignatureOrCertificateNameLength, certFile.isEmpty
                ? "the job's certfile is empty; it must name the signer certificate in the SimpleLink file system"
                : "the job's certfile is \(certFile.utf8.count) bytes; SimpleLink file names are at most \(maxFileNameLength)")
        }
        // 2. [TI] "RSA 256 or 128 bytes"; a 512-byte signature gives -10290 (E2E 1159293).
        guard !signature.isEmpty, signature.count <= maxSignatureLength else {
            return fail(.wrongSignatureOrCertificateNameLength, "the signature is \(signature.count) bytes; sl_FsClose takes 1 to \(maxSignatureLength) (RSA-1024 or RSA-2048)")
        }
        // 3. OURS: the certificate file must exist; no fallback to another certificate.
        guard let signerBytes = file(certFile, in: files) else {
            evidence.certificateFileFound = false
            return fail(.wrongCertificateFileName, "no file '\(certFile)' in the SimpleLink file system (the network processor does not fall back to another certificate)")
        }
        evidence.certificateFileFound = true
        // 4. OURS: a store with no roots.
        guard let catalog, !catalog.roots.isEmpty else {
            return fail(.noCertificateStore, "the device has no trusted root catalog")
        }
        // 5. OURS: exactly one DER certificate with an RSA key.
        let signer: SimpleLinkCertificate
        switch SimpleLinkCertificate.read(signerBytes) {
        case .failure(let why): return fail(.certificateChainErrorSecurityAlert, "'\(certFile)': \(why.message)")
        case .success(let certificate): signer = certificate
        }
        evidence.chain = [signer.subjectText]
        guard let rsa = signer.rsaKey else {
            return fail(.certificateChainErrorSecurityAlert, "the signer certificate's key is \(signer.keyDescription); the network processor verifies RSA signatures only")
        }
        evidence.signerKey = signer.keyDescription
        evidence.modulusBytes = (rsa.keySizeInBits + 7) / 8

        // 6. [TI] the chain: each issuer a file named exactly its "Issued To" (commonName), ending at a catalog root.
        var chain = [signer]
        var current = signer
        var root: RootCatalog.Root?
        var issuerFilesFollowed = 0
        while root == nil {
            let named = catalog.roots.filter { $0.certificate.subjectDER == current.issuerDER }
            if !named.isEmpty {
                let signing = named.first { $0.certificate.verifies(current) }
                evidence.steps.append(.init(certificate: current.subjectText, issuer: current.issuerText, lookup: .catalogRoot(file: signing?.name)))
                guard let signing else {
                    return fail(.certificateChainErrorSecurityAlert, "the catalog root '\(current.issuerText)' (\(named.map { "'\($0.name)'" }.joined(separator: ", "))) did not sign '\(current.subjectText)': same name, different key")
                }
                root = signing
                break
            }
            guard let name = current.issuerCommonName else {
                evidence.steps.append(.init(certificate: current.subjectText, issuer: current.issuerText, lookup: .noCommonName))
                return fail(.rootCAIsUnknown, "no catalog root is named '\(current.issuerText)', the issuer of '\(current.subjectText)', and that name has no commonName to look up as a file")
            }
            let bytes = file(name, in: files)
            evidence.steps.append(.init(certificate: current.subjectText, issuer: current.issuerText, lookup: .file(name: name, found: bytes != nil)))
            guard let bytes else {
                return fail(.rootCAIsUnknown, "no catalog root is named '\(current.issuerText)', the issuer of '\(current.subjectText)', and no file '\(name)' holds that issuer")
            }
            let issuer: SimpleLinkCertificate
            switch SimpleLinkCertificate.read(bytes) {
            case .failure(let why): return fail(.certificateChainErrorSecurityAlert, "the issuer file '\(name)': \(why.message)")
            case .success(let certificate): issuer = certificate
            }
            guard issuer.subjectDER == current.issuerDER else {
                return fail(.certificateChainErrorSecurityAlert, "the issuer file '\(name)' holds '\(issuer.subjectText)', not '\(current.issuerText)' (the subject must equal the issuer name byte for byte)")
            }
            guard issuer.verifies(current) else {
                return fail(.certificateChainErrorSecurityAlert, "the key in the issuer file '\(name)' did not sign '\(current.subjectText)' (\(current.signatureAlgorithmName))")
            }
            evidence.chain.append(issuer.subjectText)
            // OURS: a self-signed certificate in a file is a root that is not in the catalog.
            guard issuer.subjectDER != issuer.issuerDER else {
                return fail(.rootCAIsUnknown, "'\(issuer.subjectText)' in the file '\(name)' is a self-signed root that is not in the trusted root catalog")
            }
            issuerFilesFollowed += 1
            guard issuerFilesFollowed <= maxIssuerFiles else {
                return fail(.certificateChainErrorSecurityAlert, "the chain goes through more than \(maxIssuerFiles) issuer files before a catalog root (otarig's bound)")
            }
            chain.append(issuer)
            current = issuer
        }
        guard let root else { return }
        evidence.root = root.name
        evidence.chain.append(root.subject)

        // 7. OURS: any certificate of the chain, the catalog root included, revoked by fingerprint.
        for certificate in chain + [root.certificate] where catalog.isRevoked(certificate.der) {
            return fail(.certificateInTheChainRevokedSecurityAlert, "'\(certificate.subjectText)' is in the catalog's revocation list")
        }
        // 8. OURS: the signature must be as long as the modulus.
        let modulus = (rsa.keySizeInBits + 7) / 8
        guard signature.count == modulus else {
            return fail(.illegalSignature, "the signature is \(signature.count) bytes but the key's modulus is \(modulus) bytes; they must be equal")
        }
        // 9. [TI] RSA PKCS#1 v1.5 over the file's SHA-1.
        let valid = rsa.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
        if !valid {
            fail(.wrongSignatureSecurityAlert, "the signature does not verify with the certificate's key over the file's SHA-1")
        }
    }
}

/// An X.509 certificate as the chain walk needs it: the exact DER of its names (compared byte for byte), its key,
/// and its signature with the algorithm it names. Read with SwiftASN1 rather than swift-certificates, because
/// swift-certificates 1.21.1 refuses to parse certificates the network processor takes: RSA keys under 2048 bits
/// (`_RSA.Signing.PublicKey(derRepresentation:)`) and signature algorithms it does not know (sha224WithRSAEncryption).
struct SimpleLinkCertificate: Sendable {
    var der: [UInt8]
    var tbs: [UInt8]
    var issuerDER: [UInt8]
    var subjectDER: [UInt8]
    var issuerText: String
    var subjectText: String
    /// The issuer's first commonName (2.5.4.3), as UTF-8 text.
    var issuerCommonName: String?
    var signatureAlgorithm: ASN1ObjectIdentifier
    var signature: [UInt8]
    var publicKey: PublicKey

    enum PublicKey: Sendable {
        case rsa(_RSA.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case p521(P521.Signing.PublicKey)
        case other(String)
    }

    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
    static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    static let commonName: ASN1ObjectIdentifier = [2, 5, 4, 3]

    /// Exactly one DER certificate filling `bytes`: PEM, trailing bytes or anything else that is not DER fails.
    static func read(_ bytes: [UInt8]) -> Result<SimpleLinkCertificate, PolicyError> {
        if bytes.isEmpty { return .failure(PolicyError("the file is empty")) }
        if bytes.firstRange(of: SignatureChecker.pemCertificateHeader) != nil {
            return .failure(PolicyError("the file is PEM; the SimpleLink file system holds certificates as DER (openssl x509 -outform DER)"))
        }
        do {
            return .success(try parse(bytes))
        } catch let error as PolicyError {
            return .failure(error)
        } catch {
            return .failure(PolicyError("not exactly one DER X.509 certificate (\(error))"))
        }
    }

    private static func parse(_ bytes: [UInt8]) throws -> SimpleLinkCertificate {
        let root = try DER.parse(bytes)
        guard root.identifier == .sequence, case .constructed(let parts) = root.content else { throw PolicyError("not a DER certificate SEQUENCE") }
        let fields = Array(parts)
        guard fields.count == 3, fields[0].identifier == .sequence, case .constructed(let tbsFields) = fields[0].content else {
            throw PolicyError("not an X.509 certificate (tbsCertificate, signatureAlgorithm, signatureValue)")
        }
        let algorithm = try algorithmOID(fields[1])
        let bits = try ASN1BitString(derEncoded: fields[2])
        guard bits.paddingBits == 0 else { throw PolicyError("the signature BIT STRING has padding bits") }

        var tbs = Array(tbsFields)
        if let first = tbs.first, first.identifier.tagClass == .contextSpecific, first.identifier.tagNumber == 0 { tbs.removeFirst() }
        // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional [1] [2] [3].
        guard tbs.count >= 6, tbs[0].identifier == .integer, tbs[1].identifier == .sequence, tbs[2].identifier == .sequence,
              tbs[3].identifier == .sequence, tbs[4].identifier == .sequence, tbs[5].identifier == .sequence
        else { throw PolicyError("the tbsCertificate's fields are not those of X.509") }
        let issuer = try Name(tbs[2])
        let subject = try Name(tbs[4])
        let spki = tbs[5]
        guard case .constructed(let spkiFields) = spki.content, let keyAlgorithm = spkiFields.first(where: { _ in true }) else {
            throw PolicyError("the subjectPublicKeyInfo does not read")
        }
        let keyOID = try algorithmOID(keyAlgorithm)
        let spkiBytes = Array(spki.encodedBytes)
        let key: PublicKey
        if keyOID == rsaEncryption {
            // RSA keys of 1024 bits and more (swift-crypto's floor); smaller ones are "other".
            if let rsa = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: spkiBytes) { key = .rsa(rsa) } else { key = .other("an RSA key under 1024 bits or unreadable") }
        } else if keyOID == ecPublicKey {
            if let ec = try? P256.Signing.PublicKey(derRepresentation: spkiBytes) { key = .p256(ec) }
            else if let ec = try? P384.Signing.PublicKey(derRepresentation: spkiBytes) { key = .p384(ec) }
            else if let ec = try? P521.Signing.PublicKey(derRepresentation: spkiBytes) { key = .p521(ec) }
            else { key = .other("an EC key on another curve") }
        } else {
            key = .other("a key of algorithm \(keyOID)")
        }
        return SimpleLinkCertificate(
            der: bytes, tbs: Array(fields[0].encodedBytes), issuerDER: Array(tbs[2].encodedBytes), subjectDER: Array(tbs[4].encodedBytes),
            issuerText: issuer.text, subjectText: subject.text, issuerCommonName: issuer.commonName, signatureAlgorithm: algorithm,
            signature: Array(bits.bytes), publicKey: key)
    }

    private static func algorithmOID(_ node: ASN1Node) throws -> ASN1ObjectIdentifier {
        guard node.identifier == .sequence, case .constructed(let fields) = node.content, let first = fields.first(where: { _ in true }) else {
            throw PolicyError("an AlgorithmIdentifier does not read")
        }
        return try ASN1ObjectIdentifier(derEncoded: first)
    }

    /// A Name's display text ("CN=x, O=y") and its first commonName.
    private struct Name {
        var text: String
        var commonName: String?

        init(_ node: ASN1Node) throws {
            guard case .constructed(let rdns) = node.content else { throw PolicyError("a Name does not read") }
            var parts: [String] = []
            for rdn in rdns {
                guard rdn.identifier == .set, case .constructed(let attributes) = rdn.content else { throw PolicyError("a Name's RDN is not a SET") }
                for attribute in attributes {
                    guard attribute.identifier == .sequence, case .constructed(let pair) = attribute.content else {
                        throw PolicyError("a Name's attribute is not a SEQUENCE")
                    }
                    let items = Array(pair)
                    guard items.count == 2 else { throw PolicyError("a Name's attribute is not a type and a value") }
                    let type = try ASN1ObjectIdentifier(derEncoded: items[0])
                    let value = Self.string(items[1])
                    if type == SimpleLinkCertificate.commonName, commonName == nil { commonName = value }
                    parts.append("\(Self.shortName(type))=\(value)")
                }
            }
            text = parts.joined(separator: ", ")
        }

        /// A directory string as UTF-8 text: UTF8String and the ASCII-family strings as their bytes, BMPString as
        /// UTF-16BE, UniversalString as UTF-32BE.
        static func string(_ node: ASN1Node) -> String {
            guard case .primitive(let bytes) = node.content else { return "" }
            switch node.identifier {
            case .bmpString:
                var units: [UInt16] = []
                var index = bytes.startIndex
                while index + 1 < bytes.endIndex { units.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])); index += 2 }
                return String(decoding: units, as: UTF16.self)
            case .universalString:
                var scalars = String.UnicodeScalarView()
                var index = bytes.startIndex
                while index + 3 < bytes.endIndex {
                    let value = UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
                    scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                    index += 4
                }
                return String(scalars)
            default:
                return String(decoding: bytes, as: UTF8.self)
            }
        }

        static func shortName(_ oid: ASN1ObjectIdentifier) -> String {
            switch oid {
            case [2, 5, 4, 3]: "CN"
            case [2, 5, 4, 6]: "C"
            case [2, 5, 4, 7]: "L"
            case [2, 5, 4, 8]: "ST"
            case [2, 5, 4, 10]: "O"
            case [2, 5, 4, 11]: "OU"
            case [1, 2, 840, 113549, 1, 9, 1]: "emailAddress"
            default: "\(oid)"
            }
        }
    }

    var rsaKey: _RSA.Signing.PublicKey? {
        if case .rsa(let rsa) = publicKey { return rsa }
        return nil
    }

    var keyDescription: String {
        switch publicKey {
        case .rsa(let rsa): "RSA-\(rsa.keySizeInBits)"
        case .p256: "ECDSA P-256"
        case .p384: "ECDSA P-384"
        case .p521: "ECDSA P-521"
        case .other(let what): what
        }
    }

    var signatureAlgorithmName: String {
        switch signatureAlgorithm {
        case [1, 2, 840, 113549, 1, 1, 5]: "sha1WithRSAEncryption"
        case [1, 2, 840, 113549, 1, 1, 14]: "sha224WithRSAEncryption"
        case [1, 2, 840, 113549, 1, 1, 11]: "sha256WithRSAEncryption"
        case [1, 2, 840, 113549, 1, 1, 12]: "sha384WithRSAEncryption"
        case [1, 2, 840, 113549, 1, 1, 13]: "sha512WithRSAEncryption"
        case [1, 2, 840, 10045, 4, 3, 2]: "ecdsa-with-SHA256"
        case [1, 2, 840, 10045, 4, 3, 3]: "ecdsa-with-SHA384"
        case [1, 2, 840, 10045, 4, 3, 4]: "ecdsa-with-SHA512"
        default: "\(signatureAlgorithm)"
        }
    }

    /// Whether this certificate's key verifies `child`'s signature over its tbsCertificate, with the digest the
    /// child's signatureAlgorithm names: RSA PKCS#1 v1.5 with SHA-1/256/384/512, ECDSA with SHA-256/384/512 [spec].
    /// sha224WithRSAEncryption, which the spec also lists, does not verify here: swift-crypto has no SHA-224 for RSA.
    func verifies(_ child: SimpleLinkCertificate) -> Bool {
        let tbs = child.tbs
        switch (publicKey, child.signatureAlgorithm) {
        case (.rsa(let rsa), let oid):
            let signature = _RSA.Signing.RSASignature(rawRepresentation: child.signature)
            switch oid {
            case [1, 2, 840, 113549, 1, 1, 5]: return rsa.isValidSignature(signature, for: Insecure.SHA1.hash(data: tbs), padding: .insecurePKCS1v1_5)
            case [1, 2, 840, 113549, 1, 1, 11]: return rsa.isValidSignature(signature, for: SHA256.hash(data: tbs), padding: .insecurePKCS1v1_5)
            case [1, 2, 840, 113549, 1, 1, 12]: return rsa.isValidSignature(signature, for: SHA384.hash(data: tbs), padding: .insecurePKCS1v1_5)
            case [1, 2, 840, 113549, 1, 1, 13]: return rsa.isValidSignature(signature, for: SHA512.hash(data: tbs), padding: .insecurePKCS1v1_5)
            default: return false
            }
        case (.p256(let ec), _): return Self.verifyECDSA(ec, child)
        case (.p384(let ec), _): return Self.verifyECDSA(ec, child)
        case (.p521(let ec), _): return Self.verifyECDSA(ec, child)
        case (.other, _): return false
        }
    }

    private static func verifyECDSA<Key: ECDSAPublicKey>(_ key: Key, _ child: SimpleLinkCertificate) -> Bool {
        guard let signature = try? Key.Signature(derRepresentation: child.signature) else { return false }
        switch child.signatureAlgorithm {
        case [1, 2, 840, 10045, 4, 3, 2]: return key.isValidSignature(signature, for: SHA256.hash(data: child.tbs))
        case [1, 2, 840, 10045, 4, 3, 3]: return key.isValidSignature(signature, for: SHA384.hash(data: child.tbs))
        case [1, 2, 840, 10045, 4, 3, 4]: return key.isValidSignature(signature, for: SHA512.hash(data: child.tbs))
        default: return false
        }
    }
}
