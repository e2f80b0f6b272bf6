import Crypto
import Foundation
import SwiftASN1
import X509
import CryptoExtras

/// The TI CC3220SF PAL's close (aws/amazon-freertos @41244b00
/// `vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c`; TI's SimpleLink CC32xx SDK `fs.h`):
/// `sl_FsClose(handle, certfile, signature)` hands the file to the SimpleLink network processor, which checks an RSA
/// PKCS#1 v1.5 SHA-1 signature over the whole file with the certificate stored under `certfile`, and that certificate's
/// chain up to a root in TI's signed Trusted Root-Certificate Catalog. The PAL maps the network processor's error codes
/// to SignatureCheckFailed with the code's low 24 bits as the sub-code; it never returns BadSignerCert.
///
/// Which code the network processor returns for which fault is TI's; the code names are TI's (`errors.h`), and the
/// mapping from fault to code below is otarig's reading of those names, since TI does not document it further:
/// certfile missing → WRONG_CERTIFICATE_FILE_NAME; name or signature length out of range →
/// WRONG_SIGNATURE_OR_CERTIFIC_NAME_LENGTH; signature not the modulus's length → ILLEGAL_SIGNATURE; certificate
/// unreadable or a chain link's signature wrong → CERT_CHAIN_ERROR_SECURITY_ALERT; no catalog root issued the chain →
/// ROOT_CA_IS_UNKOWN; a chain certificate in the catalog's revocation list → CERT_IN_THE_CHAIN_REVOKED_SECURITY_ALERT;
/// the signature does not verify → WRONG_SIGNATURE_SECURITY_ALERT. Whether the network processor checks certificate
/// dates is not established, so the device layer does not; the policy layer reports them.
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
        }
    }

    /// Security alerts count towards the device's tamper lock: after 15 (the default) the device locks itself with
    /// SL_ERROR_DEVICE_LOCKED_SECURITY_ALERT and needs reprogramming.
    public var isSecurityAlert: Bool { name.hasSuffix("SECURITY_ALERT") }

    /// The PAL's status: SignatureCheckFailed with the code's low 24 bits.
    public var palStatus: PALStatus { PALStatus(.signatureCheckFailed, sub: UInt32(bitPattern: rawValue) & 0xFF_FFFF) }
}

/// The trusted roots the network processor checks certificate chains against: TI's catalog (the playground catalog
/// on development boards), here as certificates, with the catalog's revocation list as certificate fingerprints.
public struct RootCatalog: Sendable {
    public struct Root: Sendable {
        public var name: String
        public var certificate: Certificate
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
                guard let certificate = try? Certificate(derEncoded: der) else {
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

    func isRevoked(_ certificate: Certificate) -> Bool {
        guard !revokedFingerprints.isEmpty else { return false }
        var serializer = DER.Serializer()
        guard (try? serializer.serialize(certificate)) != nil else { return false }
        let der = serializer.serializedBytes
        return revokedFingerprints.contains(Array(Insecure.SHA1.hash(data: der)))
            || revokedFingerprints.contains(Array(SHA256.hash(data: der)))
    }
}

/// What the network processor found while closing the file, for `otarig explain`.
public struct SimpleLinkEvidence: Sendable, Equatable {
    /// Subjects from the signer up, ending with the catalog root when one was found.
    public var chain: [String] = []
    /// The catalog file whose root issued the chain.
    public var root: String?
    public var error: SimpleLinkError?
    public var detail: String?
}

enum SimpleLinkClose {
    /// SL_FS_MAX_FILE_NAME_LENGTH.
    static let maxFileNameLength = 180
    /// The CC3220SF PAL refuses files over 512 KiB when it creates them (OtaPalRxFileTooLarge, sub 0x80000).
    static let maxFileSize = 512 * 1024

    /// sl_FsClose's authentication. `certificateFile` is what the file system holds under `certFile`.
    static func close(certFile: String, certificateFile: CertificateLookup, signature: [UInt8], digest: Insecure.SHA1Digest,
                      catalog: RootCatalog?) -> (SimpleLinkEvidence, SignerKey?) {
        var evidence = SimpleLinkEvidence()
        func fail(_ error: SimpleLinkError, _ detail: String) -> (SimpleLinkEvidence, SignerKey?) {
            evidence.error = error
            evidence.detail = detail
            return (evidence, nil)
        }

        guard !certFile.isEmpty, certFile.utf8.count <= maxFileNameLength else {
            return fail(.wrongSignatureOrCertificateNameLength, certFile.isEmpty
                ? "the job's certfile is empty; it must name the signer certificate in the SimpleLink file system"
                : "the job's certfile is \(certFile.utf8.count) bytes; SimpleLink file names are at most \(maxFileNameLength)")
        }
        guard !signature.isEmpty, signature.count <= 256 else {
            return fail(.wrongSignatureOrCertificateNameLength, "the signature is \(signature.count) bytes; sl_FsClose takes 1 to 256")
        }
        let bytes: [UInt8]
        switch certificateFile {
        case .found(let found): bytes = found
        case .notFound:
            return fail(.wrongCertificateFileName, "no file '\(certFile)' in the SimpleLink file system (the network processor does not fall back to another certificate)")
        case .unreadable:
            return fail(.certificateChainErrorSecurityAlert, "the file '\(certFile)' cannot be read as a certificate")
        }
        guard let catalog, !catalog.roots.isEmpty else {
            return fail(.noCertificateStore, "the device has no trusted root catalog")
        }

        // The file holds the signer certificate, then any intermediates, as DER.
        let chain: [Certificate]
        switch readDERCertificates(bytes) {
        case .failure(let why): return fail(.certificateChainErrorSecurityAlert, why.message)
        case .success(let certificates): chain = certificates
        }
        evidence.chain = chain.map { $0.subject.description }
        guard let signer = SignatureChecker.signerKey(chain[0]), case .rsa(let rsa) = signer.key else {
            return fail(.certificateChainErrorSecurityAlert, "the signer certificate's key is \(chain[0].publicKey); the network processor verifies RSA signatures only")
        }

        for certificate in chain where catalog.isRevoked(certificate) {
            return fail(.certificateInTheChainRevokedSecurityAlert, "'\(certificate.subject)' is in the catalog's revocation list")
        }
        for index in chain.indices.dropLast() where !chain[index + 1].publicKey.isValidSignature(chain[index].signature, for: chain[index]) {
            return fail(.certificateChainErrorSecurityAlert, "'\(chain[index].subject)' is not signed by the next certificate in the file, '\(chain[index + 1].subject)'")
        }
        let top = chain[chain.count - 1]
        let issuers = catalog.roots.filter { $0.certificate.subject == top.issuer }
        guard !issuers.isEmpty else {
            return fail(.rootCAIsUnknown, "no root in the catalog is named '\(top.issuer)', the issuer of '\(top.subject)'")
        }
        guard let root = issuers.first(where: { $0.certificate.publicKey.isValidSignature(top.signature, for: top) }) else {
            return fail(.certificateChainErrorSecurityAlert, "the catalog root '\(top.issuer)' did not sign '\(top.subject)' (same name, different key)")
        }
        if catalog.isRevoked(root.certificate) {
            return fail(.certificateInTheChainRevokedSecurityAlert, "the root '\(root.certificate.subject)' is in the catalog's revocation list")
        }
        evidence.root = root.name
        evidence.chain.append(root.certificate.subject.description)

        let modulus = (rsa.keySizeInBits + 7) / 8
        guard signature.count == modulus else {
            evidence.error = .illegalSignature
            evidence.detail = "the signature is \(signature.count) bytes but the key's modulus is \(modulus) bytes; they must be equal"
            return (evidence, signer)
        }
        let valid = rsa.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
        if !valid {
            evidence.error = .wrongSignatureSecurityAlert
            evidence.detail = "the signature does not verify with the certificate's key over the file's SHA-1"
        }
        return (evidence, signer)
    }

    /// One or more DER certificates, back to back, filling the file exactly.
    static func readDERCertificates(_ bytes: [UInt8]) -> Result<[Certificate], PolicyError> {
        if bytes.firstRange(of: SignatureChecker.pemCertificateHeader) != nil {
            return .failure(PolicyError("the certificate file is PEM; the SimpleLink file system holds certificates as DER (openssl x509 -outform DER)"))
        }
        var certificates: [Certificate] = []
        var rest = bytes[...]
        while !rest.isEmpty {
            guard let length = derElementLength(rest) else {
                return .failure(PolicyError(certificates.isEmpty
                    ? "the certificate file is not DER"
                    : "\(rest.count) bytes after certificate \(certificates.count) are not a DER certificate"))
            }
            guard let certificate = try? Certificate(derEncoded: Array(rest.prefix(length))) else {
                return .failure(PolicyError("certificate \(certificates.count + 1) in the file is not an X.509 certificate"))
            }
            certificates.append(certificate)
            rest = rest.dropFirst(length)
        }
        guard !certificates.isEmpty else { return .failure(PolicyError("the certificate file is empty")) }
        return .success(certificates)
    }

    /// The whole length (header and contents) of the DER SEQUENCE at the start of `bytes`, if it fits.
    static func derElementLength(_ bytes: ArraySlice<UInt8>) -> Int? {
        let start = bytes.startIndex
        guard bytes.count >= 2, bytes[start] == 0x30 else { return nil }
        let first = Int(bytes[start + 1])
        var header = 2
        var length = first
        if first & 0x80 != 0 {
            let count = first & 0x7F
            guard (1...3).contains(count), bytes.count >= 2 + count else { return nil }
            length = 0
            for index in 0..<count { length = length << 8 | Int(bytes[start + 2 + index]) }
            header += count
        }
        guard header + length <= bytes.count else { return nil }
        return header + length
    }
}
