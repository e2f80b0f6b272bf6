import Crypto
import Foundation
import SignerAPI
import SwiftASN1
import X509
import CryptoExtras

/// A private key that signs code: ECDSA P-256, ECDSA P-384, or RSA of 2048 bits or more.
public enum SigningKey: Sendable {
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case rsa(_RSA.Signing.PrivateKey)

    /// The key types `otarig cert create` can generate.
    public enum Spec: String, Sendable, CaseIterable {
        case ecP256 = "ec-p256"
        case ecP384 = "ec-p384"
        case rsa2048 = "rsa-2048"
        case rsa3072 = "rsa-3072"
        case rsa4096 = "rsa-4096"
    }

    /// A fresh key of this type.
    public static func generate(_ spec: Spec) throws -> SigningKey {
        switch spec {
        case .ecP256: return .p256(P256.Signing.PrivateKey())
        case .ecP384: return .p384(P384.Signing.PrivateKey())
        case .rsa2048: return .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        case .rsa3072: return .rsa(try _RSA.Signing.PrivateKey(keySize: .bits3072))
        case .rsa4096: return .rsa(try _RSA.Signing.PrivateKey(keySize: .bits4096))
        }
    }

    private static let keyLabels: Set<String> = ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"]

    /// Parses a private key from PEM (PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`) or DER.
    ///
    /// Other PEM blocks in the same text (such as `EC PARAMETERS`) are skipped.
    public init(encoded bytes: [UInt8]) throws(CodeSigningError) {
        if let text = String(bytes: bytes, encoding: .utf8), text.contains("-----BEGIN") {
            let documents: [PEMDocument]
            do {
                documents = try PEMDocument.parseMultiple(pemString: text)
            } catch {
                throw CodeSigningError(.malformedKey, "the PEM text is damaged (\(error)); export the key again with 'openssl pkey -in KEY -out key.pem'")
            }
            if documents.contains(where: { $0.discriminator == "ENCRYPTED PRIVATE KEY" }) {
                throw CodeSigningError(.unsupportedKey, "the private key is encrypted; decrypt it first with 'openssl pkey -in KEY -out key.pem'")
            }
            guard let document = documents.first(where: { Self.keyLabels.contains($0.discriminator) }) else {
                let found = documents.map(\.discriminator).joined(separator: ", ")
                throw CodeSigningError(.malformedKey, "no private key in the PEM text (found: \(found.isEmpty ? "nothing" : found)); pass the key file, not the certificate")
            }
            try self.init(der: document.derBytes, label: document.discriminator)
        } else {
            try self.init(der: bytes, label: nil)
        }
    }

    private init(der: [UInt8], label: String?) throws(CodeSigningError) {
        if label != "RSA PRIVATE KEY" {
            if let key = try? P256.Signing.PrivateKey(derRepresentation: der) { self = .p256(key); return }
            if let key = try? P384.Signing.PrivateKey(derRepresentation: der) { self = .p384(key); return }
        }
        if label != "EC PRIVATE KEY" {
            do {
                self = .rsa(try _RSA.Signing.PrivateKey(derRepresentation: der))
                return
            } catch {
                if let small = try? _RSA.Signing.PrivateKey(unsafeDERRepresentation: der) {
                    throw CodeSigningError(.unsupportedKey, "the RSA key has \(small.keySizeInBits) bits; code signing needs 2048, 3072 or 4096 (make one with 'otarig cert create --key-type rsa-2048')")
                }
            }
        }
        if label == "EC PRIVATE KEY" || label == "PRIVATE KEY" {
            if (try? P521.Signing.PrivateKey(derRepresentation: der)) != nil {
                throw CodeSigningError(.unsupportedKey, "ECDSA P-521 keys are not supported by any signing platform; use a P-256 key (P-384 for Lambda and Notation)")
            }
        }
        throw CodeSigningError(.malformedKey, "the data is not a private key that otarig can read (ECDSA P-256/P-384 or RSA 2048-4096, PEM or DER)")
    }

    /// The public-key algorithm of this key.
    public var encryptionAlgorithm: EncryptionAlgorithm {
        switch self {
        case .p256, .p384: .ecdsa
        case .rsa: .rsa
        }
    }

    /// A short human description: `ECDSA P-256`, `RSA-2048`.
    public var summary: String {
        switch self {
        case .p256: "ECDSA P-256"
        case .p384: "ECDSA P-384"
        case .rsa(let key): "RSA-\(key.keySizeInBits)"
        }
    }

    /// The public key in the certificate's representation.
    public var certificatePublicKey: Certificate.PublicKey {
        switch self {
        case .p256(let key): Certificate.PublicKey(key.publicKey)
        case .p384(let key): Certificate.PublicKey(key.publicKey)
        case .rsa(let key): Certificate.PublicKey(key.publicKey)
        }
    }

    /// The key as swift-certificates signs certificates with it.
    public var certificatePrivateKey: Certificate.PrivateKey {
        switch self {
        case .p256(let key): Certificate.PrivateKey(key)
        case .p384(let key): Certificate.PrivateKey(key)
        case .rsa(let key): Certificate.PrivateKey(key)
        }
    }

    /// PEM text of the key (PKCS#8 for ECDSA, PKCS#1 for RSA), as openssl and mbedTLS read it.
    public var pemRepresentation: String {
        switch self {
        case .p256(let key): key.pemRepresentation
        case .p384(let key): key.pemRepresentation
        case .rsa(let key): key.pemRepresentation
        }
    }

    /// True when `certificate` carries this key's public key.
    public func matches(_ certificate: Certificate) -> Bool {
        certificate.publicKey.subjectPublicKeyInfoBytes == certificatePublicKey.subjectPublicKeyInfoBytes
    }

    /// The digest a key of this type must use with ECDSA, or nil for RSA (which takes any of its digests).
    public var requiredECDSAHash: HashAlgorithm? {
        switch self {
        case .p256: .sha256
        case .p384: .sha384
        case .rsa: nil
        }
    }

    /// Signs `payload` with `algorithm`: ECDSA signatures are DER `SEQUENCE{r,s}`, RSA signatures are PKCS#1 v1.5
    /// blocks of the modulus length. The caller has checked that the key fits the algorithm (`SigningPlan`).
    public func signature(for payload: some DataProtocol, algorithm: SignatureAlgorithm) throws(CodeSigningError) -> [UInt8] {
        try signature(forDigest: PayloadDigest.of(payload, hash: algorithm.hash), algorithm: algorithm)
    }

    /// Signs a payload whose digest was computed incrementally (`PayloadHasher`), so a large file is never held in
    /// memory. The digest's hash must be the algorithm's.
    public func signature(forDigest digest: PayloadDigest, algorithm: SignatureAlgorithm) throws(CodeSigningError) -> [UInt8] {
        do {
            switch (self, algorithm, digest) {
            case (.p256(let key), .sha256WithECDSA, .sha256(let d)):
                return Array(try key.signature(for: d).derRepresentation)
            case (.p384(let key), .sha384WithECDSA, .sha384(let d)):
                return Array(try key.signature(for: d).derRepresentation)
            case (.rsa(let key), .sha256WithRSA, .sha256(let d)):
                return Array(try key.signature(for: d, padding: .insecurePKCS1v1_5).rawRepresentation)
            case (.rsa(let key), .sha384WithRSA, .sha384(let d)):
                return Array(try key.signature(for: d, padding: .insecurePKCS1v1_5).rawRepresentation)
            case (.rsa(let key), .insecureSHA1WithRSA, .sha1(let d)):
                return Array(try key.signature(for: d, padding: .insecurePKCS1v1_5).rawRepresentation)
            default:
                throw CodeSigningError(.algorithmNotAllowed, "an \(summary) key cannot sign a \(digest.hash.rawValue) digest with \(algorithm.rawValue)")
            }
        } catch let error as CodeSigningError {
            throw error
        } catch {
            throw CodeSigningError(.unsupportedKey, "signing with the \(summary) key failed: \(error)")
        }
    }
}

