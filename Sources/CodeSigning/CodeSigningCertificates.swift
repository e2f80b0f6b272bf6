import Crypto
import CryptoExtras
import Foundation
import SignerAPI
import SwiftASN1
import X509

/// Makes code-signing certificates and lab CAs.
///
/// Leaves carry X.509 v3 `keyUsage = digitalSignature` and `extendedKeyUsage = codeSigning` (1.3.6.1.5.5.7.3.3),
/// non-critical as in the FreeRTOS `cert_config.txt` recipe (FreeRTOS User Guide, awsdocs/aws-freertos-docs @38314d0a
/// `doc_source/userguide/ota-code-sign-cert-esp.md`, `ota-code-sign-cert-ti.md`), plus subject and authority key
/// identifiers. The clock is passed in.
public enum CertificateFactory {
    /// How the issuer's key signs the certificate. SHA-1 is fenced by name: the CC3220 recipe needs it.
    public enum SignatureHash: String, Sendable, CaseIterable {
        case insecureSHA1 = "sha1"
        case sha256
        case sha384
    }

    /// A certificate and its key in PEM.
    public struct Issued: Sendable {
        public var certificate: Certificate
        public var key: SigningKey
        public var certificatePEM: String
        public var keyPEM: String { key.pemRepresentation }
    }

    /// A code-signing certificate for `key`, self-signed or issued by `issuer` (certificate + key).
    public static func codeSigningCertificate(
        commonName: String,
        organization: String? = nil,
        key: SigningKey,
        notBefore: Date,
        days: Int,
        issuer: (certificate: Certificate, key: SigningKey)? = nil,
        signatureHash: SignatureHash = .sha256,
        serialNumber: Certificate.SerialNumber = Certificate.SerialNumber()
    ) throws(CodeSigningError) -> Issued {
        try make(commonName: commonName, organization: organization, key: key, notBefore: notBefore, days: days,
                 issuer: issuer, signatureHash: signatureHash, serialNumber: serialNumber, isCA: false)
    }

    /// A CA certificate for a lab, able to issue code-signing certificates: self-signed, or an intermediate issued by
    /// `issuer` (certificate + key).
    public static func certificateAuthority(
        commonName: String,
        organization: String? = nil,
        key: SigningKey,
        notBefore: Date,
        days: Int,
        signatureHash: SignatureHash = .sha256,
        issuer: (certificate: Certificate, key: SigningKey)? = nil
    ) throws(CodeSigningError) -> Issued {
        try make(commonName: commonName, organization: organization, key: key, notBefore: notBefore, days: days,
                 issuer: issuer, signatureHash: signatureHash, serialNumber: Certificate.SerialNumber(), isCA: true)
    }

    private static func make(
        commonName: String, organization: String?, key: SigningKey, notBefore: Date, days: Int,
        issuer: (certificate: Certificate, key: SigningKey)?, signatureHash: SignatureHash,
        serialNumber: Certificate.SerialNumber, isCA: Bool
    ) throws(CodeSigningError) -> Issued {
        guard days > 0 else {
            throw CodeSigningError(.invalidArgument, "the validity must be at least one day (got \(days))")
        }
        guard !commonName.isEmpty else {
            throw CodeSigningError(.invalidArgument, "the common name is empty; pass --common-name")
        }
        if let issuer {
            guard issuer.key.matches(issuer.certificate) else {
                throw CodeSigningError(.keyMismatch, "the CA key does not belong to the CA certificate; pass the key the CA certificate was made with")
            }
            guard case .isCertificateAuthority = try? issuer.certificate.extensions.basicConstraints else {
                throw CodeSigningError(.chainMismatch, "the issuer certificate is not a CA (it lacks basicConstraints CA:TRUE); make one with 'otarig cert create-ca'")
            }
        }
        let signingKey = issuer?.key ?? key
        let algorithm = try signatureAlgorithm(for: signingKey, hash: signatureHash)
        do {
            let subject = try DistinguishedName {
                if let organization { OrganizationName(organization) }
                CommonName(commonName)
            }
            let publicKey = key.certificatePublicKey
            let subjectKeyID = SubjectKeyIdentifier(hash: publicKey)
            let authorityKeyID: [UInt8]
            if let issuer, let identifier = try? issuer.certificate.extensions.subjectKeyIdentifier {
                authorityKeyID = Array(identifier.keyIdentifier)
            } else if let issuer {
                authorityKeyID = Array(SubjectKeyIdentifier(hash: issuer.certificate.publicKey).keyIdentifier)
            } else {
                authorityKeyID = Array(subjectKeyID.keyIdentifier)
            }
            let extensions = try Certificate.Extensions {
                if isCA {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                } else {
                    KeyUsage(digitalSignature: true)
                    try ExtendedKeyUsage([.codeSigning])
                }
                subjectKeyID
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyID[...])
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: serialNumber,
                publicKey: publicKey,
                notValidBefore: notBefore,
                notValidAfter: notBefore.addingTimeInterval(TimeInterval(days) * 86_400),
                issuer: issuer?.certificate.subject ?? subject,
                subject: subject,
                signatureAlgorithm: algorithm,
                extensions: extensions,
                issuerPrivateKey: signingKey.certificatePrivateKey
            )
            let pem = try certificate.serializeAsPEM().pemString
            return Issued(certificate: certificate, key: key, certificatePEM: pem + "\n")
        } catch {
            throw CodeSigningError(.invalidArgument, "could not make the certificate: \(error)")
        }
    }

    private static func signatureAlgorithm(for key: SigningKey, hash: SignatureHash) throws(CodeSigningError) -> Certificate.SignatureAlgorithm {
        switch (key, hash) {
        case (.rsa, .insecureSHA1): return .sha1WithRSAEncryption
        case (.rsa, .sha256): return .sha256WithRSAEncryption
        case (.rsa, .sha384): return .sha384WithRSAEncryption
        case (.p256, .sha256), (.p384, .sha256): return .ecdsaWithSHA256
        case (.p256, .sha384), (.p384, .sha384): return .ecdsaWithSHA384
        case (.p256, .insecureSHA1), (.p384, .insecureSHA1):
            throw CodeSigningError(.algorithmNotAllowed, "an ECDSA issuer key cannot sign certificates with SHA-1; use --cert-hash sha256")
        }
    }
}

/// A certificate, its optional chain and its private key, checked as ACM `ImportCertificate` checks them.
public struct CertificateBundle: Sendable {
    public var certificate: Certificate
    public var chain: [Certificate]
    public var key: SigningKey

    /// Parses and checks: the certificate and chain are X.509 (PEM or DER), the key is a signing key that belongs to
    /// the certificate, `now` lies inside the certificate's validity window ("You can import a certificate only
    /// during its validity period", ACM), and the first chain certificate signed the leaf.
    public init(certificate certificateBytes: [UInt8], privateKey keyBytes: [UInt8], chain chainBytes: [UInt8]?, now: Date) throws(CodeSigningError) {
        let certificates = try Self.parseCertificates(certificateBytes, what: "certificate")
        guard certificates.count == 1, let certificate = certificates.first else {
            throw CodeSigningError(.malformedCertificate, "the certificate file holds \(certificates.count) certificates; pass the leaf alone and the rest with --certificate-chain")
        }
        let key = try SigningKey(encoded: keyBytes)
        guard key.matches(certificate) else {
            throw CodeSigningError(.keyMismatch, "the private key (\(key.summary)) does not match the certificate's public key (\(CertificateSummary(certificate).keyAlgorithm)); pass the key the certificate was made for")
        }
        try Self.checkValidity(certificate, now: now)
        let chain = try chainBytes.map { bytes throws(CodeSigningError) in try Self.parseCertificates(bytes, what: "certificate chain") } ?? []
        if let issuer = chain.first {
            guard issuer.publicKey.isValidSignature(certificate.signature, for: certificate) else {
                throw CodeSigningError(.chainMismatch, "the first certificate of the chain ('\(issuer.subject)') did not sign the certificate; put the issuing CA first in --certificate-chain")
            }
        }
        self.certificate = certificate
        self.chain = chain
        self.key = key
    }

    /// Refuses a certificate outside its validity window at `now`, with ACM's wording.
    public static func checkValidity(_ certificate: Certificate, now: Date) throws(CodeSigningError) {
        let summary = CertificateSummary(certificate)
        if now > certificate.notValidAfter {
            throw CodeSigningError(.certificateExpired, "the certificate is expired (notAfter \(summary.notAfter)); you can import a certificate only during its validity period: make a new one with 'otarig cert create'")
        }
        if now < certificate.notValidBefore {
            throw CodeSigningError(.certificateNotYetValid, "the certificate is not yet valid (notBefore \(summary.notBefore)); you can import a certificate only during its validity period: check the clock or the certificate's dates")
        }
    }

    /// All certificates in PEM text (any number of blocks) or one DER certificate.
    public static func parseCertificates(_ bytes: [UInt8], what: String) throws(CodeSigningError) -> [Certificate] {
        if let text = String(bytes: bytes, encoding: .utf8), text.contains("-----BEGIN") {
            let documents: [PEMDocument]
            do {
                documents = try PEMDocument.parseMultiple(pemString: text)
            } catch {
                throw CodeSigningError(.malformedCertificate, "the \(what) is not valid PEM (\(error))")
            }
            let blocks = documents.filter { $0.discriminator == "CERTIFICATE" }
            guard !blocks.isEmpty else {
                let found = documents.map(\.discriminator).joined(separator: ", ")
                throw CodeSigningError(.malformedCertificate, "the \(what) has no CERTIFICATE block (found: \(found)); pass the certificate file, not the key")
            }
            var out: [Certificate] = []
            for block in blocks {
                do { out.append(try Certificate(derEncoded: block.derBytes)) } catch {
                    throw CodeSigningError(.malformedCertificate, "the \(what) holds a CERTIFICATE block that is not X.509 (\(error))")
                }
            }
            return out
        }
        do {
            return [try Certificate(derEncoded: bytes)]
        } catch {
            throw CodeSigningError(.malformedCertificate, "the \(what) is neither PEM nor DER X.509; pass a file made by 'otarig cert create' or 'openssl x509'")
        }
    }
}

/// What `otarig cert list` and ACM `DescribeCertificate` show about a certificate (never its key).
public struct CertificateSummary: Sendable, Codable, Equatable {
    public var subject: String
    public var issuer: String
    public var serial: String
    public var notBefore: String
    public var notAfter: String
    public var keyAlgorithm: String
    public var signatureAlgorithm: String
    public var sha256Fingerprint: String
    public var hasCodeSigningEKU: Bool

    public init(_ certificate: Certificate) {
        subject = String(describing: certificate.subject)
        issuer = String(describing: certificate.issuer)
        serial = certificate.serialNumber.bytes.map { String(format: "%02x", $0) }.joined(separator: ":")
        let formatter = ISO8601DateFormatter()
        notBefore = formatter.string(from: certificate.notValidBefore)
        notAfter = formatter.string(from: certificate.notValidAfter)
        if let key = P256.Signing.PublicKey(certificate.publicKey) { _ = key; keyAlgorithm = "EC_prime256v1" }
        else if P384.Signing.PublicKey(certificate.publicKey) != nil { keyAlgorithm = "EC_secp384r1" }
        else if let rsa = _RSAPublicKeyBits(certificate.publicKey) { keyAlgorithm = "RSA_\(rsa)" }
        else { keyAlgorithm = "UNKNOWN" }
        signatureAlgorithm = Self.name(of: certificate.signatureAlgorithm)
        var serializer = DER.Serializer()
        if (try? serializer.serialize(certificate)) != nil {
            sha256Fingerprint = SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined(separator: ":")
        } else {
            sha256Fingerprint = ""
        }
        hasCodeSigningEKU = (try? certificate.extensions.extendedKeyUsage?.contains(.codeSigning)) == true
    }

    /// The signature algorithm as `openssl x509 -text` names it.
    static func name(of algorithm: Certificate.SignatureAlgorithm) -> String {
        switch algorithm {
        case .sha1WithRSAEncryption: "sha1WithRSAEncryption"
        case .sha256WithRSAEncryption: "sha256WithRSAEncryption"
        case .sha384WithRSAEncryption: "sha384WithRSAEncryption"
        case .sha512WithRSAEncryption: "sha512WithRSAEncryption"
        case .ecdsaWithSHA256: "ecdsa-with-SHA256"
        case .ecdsaWithSHA384: "ecdsa-with-SHA384"
        case .ecdsaWithSHA512: "ecdsa-with-SHA512"
        default: String(describing: algorithm)
        }
    }
}

import CryptoExtras

private func _RSAPublicKeyBits(_ key: Certificate.PublicKey) -> Int? {
    _RSA.Signing.PublicKey(key)?.keySizeInBits
}
