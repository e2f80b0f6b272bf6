import Crypto
import Foundation
import SwiftASN1
import X509
import CryptoExtras

/// The PAL families the twin reproduces: the ESP32 PAL over iot_crypto (aws/amazon-freertos @41244b00
/// `vendors/espressif/boards/ports/ota_pal_for_aws/ota_pal.c`,
/// `libraries/freertos_plus/standard/crypto/src/iot_crypto.c`), the POSIX PAL (aws/aws-iot-device-sdk-embedded-C
/// @ee8a3f83 `platform/posix/ota_pal/source/ota_pal_posix.c`) and the TI CC3220SF PAL (aws/amazon-freertos @41244b00
/// `vendors/ti/boards/cc3220_launchpad/ports/ota_pal_for_aws/ota_pal.c`).
public enum PALProfile: String, CaseIterable, Sendable {
    /// ESP32 and the other iot_crypto ports: mbedTLS 2.28, PKCS#11 label then the compiled-in certificate.
    case esp32MbedTLS = "esp32-mbedtls"
    /// The Linux/POSIX PAL of the C SDK: OpenSSL, certfile as a path, then the in-source certificate.
    case posixOpenSSL = "posix-openssl"
    /// TI CC3220SF: the SimpleLink network processor checks RSA/SHA-1 and the certificate chain to its root catalog.
    case cc3220SimpleLink = "cc3220-simplelink"

    /// The PAL's `OTA_JsonFileSignatureKey`.
    public var signatureKey: String { self == .cc3220SimpleLink ? "sig-sha1-rsa" : "sig-sha256-ecdsa" }

    /// Bytes the PAL's close writes into the partition after the image: the ESP32 PAL's `esp_sec_boot_sig_t`
    /// (`ECDSA_SIG_SIZE`, 80: a 4-byte version, the 64-byte raw signature, 12 bytes of padding; amazon-freertos
    /// @39640ad6 `vendors/espressif/boards/ports/ota_pal_for_aws/ota_pal.c`, `otaPal_CloseFile`).
    public var closeTrailerSize: Int { self == .esp32MbedTLS ? 80 : 0 }
}

/// The digest a PAL computes over the received file.
public enum ImageHash: String, Sendable {
    case sha256 = "SHA-256"
    case sha1 = "SHA-1"

    var length: Int { self == .sha256 ? 32 : 20 }

    func digest<Bytes: DataProtocol>(_ bytes: Bytes) -> TypedDigest {
        switch self {
        case .sha256: .sha256(SHA256.hash(data: bytes))
        case .sha1: .sha1(Insecure.SHA1.hash(data: bytes))
        }
    }
}

/// A digest with its algorithm, as swift-crypto needs it for RSA's DigestInfo.
enum TypedDigest {
    case sha256(SHA256Digest)
    case sha1(Insecure.SHA1Digest)

    var bytes: [UInt8] {
        switch self {
        case .sha256(let digest): Array(digest)
        case .sha1(let digest): Array(digest)
        }
    }
}

/// Why a signature check failed, in terms an engineer can act on.
public enum SignatureFailure: Error, Equatable, Sendable {
    case emptySignature
    case certificateUnparsable(String)
    case unsupportedKey(String)
    case signatureEncoding(String)
    case rsaLengthMismatch(signature: Int, modulus: Int)
    case signatureMismatch

    public var explanation: String {
        switch self {
        case .emptySignature: return "the job carries no signature bytes for this PAL's key"
        case .certificateUnparsable(let why): return "the certificate does not parse: \(why)"
        case .unsupportedKey(let what): return "the certificate's key is not one this PAL verifies with: \(what)"
        case .signatureEncoding(let why): return "the signature's encoding is refused: \(why)"
        case .rsaLengthMismatch(let signature, let modulus):
            return "the RSA signature is \(signature) bytes but the key's modulus is \(modulus) bytes; they must be equal"
        case .signatureMismatch: return "the signature does not verify with the certificate's key over the computed digest"
        }
    }
}

/// A decoded certificate and the public key a PAL would take from it.
struct SignerKey {
    enum Key {
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case p521(P521.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    var certificate: Certificate
    var key: Key

    var description: String {
        switch key {
        case .p256: "ECDSA P-256"
        case .p384: "ECDSA P-384"
        case .p521: "ECDSA P-521"
        case .rsa(let rsa): "RSA-\(rsa.keySizeInBits)"
        }
    }
}

/// How each PAL reads a certificate file and checks a signature.
enum SignatureChecker {
    // MARK: certificates

    static let pemCertificateHeader = Array("-----BEGIN CERTIFICATE-----".utf8)
    static let pemCertificateFooter = Array("-----END CERTIFICATE-----".utf8)

    /// The certificate as a PAL's library reads the file's bytes.
    static func decodeCertificate(_ bytes: [UInt8], profile: PALProfile) -> Result<SignerKey, SignatureFailure> {
        let ders: [[UInt8]]
        switch profile {
        case .esp32MbedTLS, .cc3220SimpleLink:
            // mbedtls_x509_crt_parse: PEM when the buffer holds a certificate header, every block must parse; DER otherwise.
            if bytes.firstRange(of: pemCertificateHeader) != nil {
                guard let blocks = pemBlocks(bytes), !blocks.isEmpty else {
                    return .failure(.certificateUnparsable("the PEM certificate block does not decode"))
                }
                ders = blocks
            } else {
                ders = [bytes]
            }
        case .posixOpenSSL:
            // PEM_read_bio_X509: the first PEM certificate; a DER file is not read at all.
            guard bytes.firstRange(of: pemCertificateHeader) != nil else {
                return .failure(.certificateUnparsable("PEM_read_bio_X509 needs a PEM certificate (this file has no -----BEGIN CERTIFICATE-----)"))
            }
            guard let first = pemBlocks(bytes)?.first else {
                return .failure(.certificateUnparsable("the PEM certificate block does not decode"))
            }
            ders = [first]
        }

        var first: SignerKey?
        for der in ders {
            let certificate: Certificate
            do {
                certificate = try Certificate(derEncoded: der)
            } catch {
                return .failure(.certificateUnparsable("not an X.509 certificate (\(error))"))
            }
            if profile == .esp32MbedTLS, let refused = mbedTLSRefusedExtension(certificate) {
                return .failure(.certificateUnparsable(refused))
            }
            if first == nil {
                guard let key = signerKey(certificate) else {
                    return .failure(.unsupportedKey("\(certificate.publicKey)"))
                }
                first = key
            }
        }
        guard let first else { return .failure(.certificateUnparsable("no certificate in the file")) }
        return .success(first)
    }

    /// The certificate extensions mbedTLS 2.28 parses; any other extension marked critical fails the parse
    /// (MBEDTLS_X509_ALLOW_UNSUPPORTED_CRITICAL_EXTENSION is not set), and so does a critical certificatePolicies
    /// extension that names a policy other than anyPolicy.
    static func mbedTLSRefusedExtension(_ certificate: Certificate) -> String? {
        let understood: Set<ASN1ObjectIdentifier> = [
            [2, 5, 29, 19], [2, 5, 29, 15], [2, 5, 29, 37], [2, 5, 29, 17], [2, 16, 840, 1, 113730, 1, 1],
        ]
        for ext in certificate.extensions where ext.critical {
            if understood.contains(ext.oid) { continue }
            if ext.oid == [2, 5, 29, 32] {
                if certificatePoliciesAreAnyPolicyOnly(ext.value) { continue }
                return "mbedTLS refuses a critical certificatePolicies extension with a policy other than anyPolicy"
            }
            return "mbedTLS refuses the unknown critical extension \(ext.oid)"
        }
        return nil
    }

    private static func certificatePoliciesAreAnyPolicyOnly(_ value: ArraySlice<UInt8>) -> Bool {
        guard let node = try? DER.parse(value), case .constructed(let policies) = node.content else { return false }
        for policy in policies {
            guard case .constructed(let fields) = policy.content, let identifier = fields.first(where: { _ in true }),
                  let oid = try? ASN1ObjectIdentifier(derEncoded: identifier), oid == [2, 5, 29, 32, 0]
            else { return false }
        }
        return true
    }

    static func signerKey(_ certificate: Certificate) -> SignerKey? {
        let publicKey = certificate.publicKey
        if let key = P256.Signing.PublicKey(publicKey) { return SignerKey(certificate: certificate, key: .p256(key)) }
        if let key = P384.Signing.PublicKey(publicKey) { return SignerKey(certificate: certificate, key: .p384(key)) }
        if let key = P521.Signing.PublicKey(publicKey) { return SignerKey(certificate: certificate, key: .p521(key)) }
        if let key = _RSA.Signing.PublicKey(publicKey) { return SignerKey(certificate: certificate, key: .rsa(key)) }
        return nil
    }

    /// The DER bodies of every PEM CERTIFICATE block, or nil when a block's base64 is broken.
    static func pemBlocks(_ bytes: [UInt8]) -> [[UInt8]]? {
        var blocks: [[UInt8]] = []
        var rest = bytes[...]
        while let header = rest.firstRange(of: pemCertificateHeader) {
            let body = rest[header.upperBound...]
            guard let footer = body.firstRange(of: pemCertificateFooter) else { return nil }
            let text = body[..<footer.lowerBound].filter { $0 != 0x0A && $0 != 0x0D && $0 != 0x20 && $0 != 0x09 }
            guard let der = Data(base64Encoded: Data(text)) else { return nil }
            blocks.append(Array(der))
            rest = body[footer.upperBound...]
        }
        return blocks
    }

    // MARK: signatures

    /// Verifies `signature` over `digest` with the key as the profile's crypto library does.
    static func verify(signature: [UInt8], digest: TypedDigest, key: SignerKey, profile: PALProfile) -> SignatureFailure? {
        guard !signature.isEmpty else { return .emptySignature }
        switch key.key {
        case .rsa(let rsa):
            let modulusBytes = (rsa.keySizeInBits + 7) / 8
            // mbedtls_pk_verify: shorter fails, longer is SIG_LEN_MISMATCH; OpenSSL: siglen must be RSA_size.
            guard signature.count == modulusBytes else {
                return .rsaLengthMismatch(signature: signature.count, modulus: modulusBytes)
            }
            let rsaSignature = _RSA.Signing.RSASignature(rawRepresentation: signature)
            let valid: Bool
            switch digest {
            case .sha256(let digest): valid = rsa.isValidSignature(rsaSignature, for: digest, padding: .insecurePKCS1v1_5)
            case .sha1(let digest): valid = rsa.isValidSignature(rsaSignature, for: digest, padding: .insecurePKCS1v1_5)
            }
            return valid ? nil : .signatureMismatch
        case .p256(let ec): return verifyECDSA(signature, key: ec, digest: digest, profile: profile, coordinateBytes: 32)
        case .p384(let ec): return verifyECDSA(signature, key: ec, digest: digest, profile: profile, coordinateBytes: 48)
        case .p521(let ec): return verifyECDSA(signature, key: ec, digest: digest, profile: profile, coordinateBytes: 66)
        }
    }

    /// mbedTLS reads r and s leniently and checks them as raw r‖s; OpenSSL takes only strict DER.
    private static func verifyECDSA<Key: ECDSAPublicKey>(_ signature: [UInt8], key: Key, digest: TypedDigest, profile: PALProfile,
                                                         coordinateBytes: Int) -> SignatureFailure? {
        let parsed: Key.Signature
        switch profile {
        case .esp32MbedTLS, .cc3220SimpleLink:
            switch MbedTLSSignature.read(signature) {
            case .failure(let refusal): return .signatureEncoding(refusal.reason)
            case .success(let (r, s)):
                // r and s must lie in [1, n-1]; values wider than the curve are already out of range.
                guard let raw = rawCoordinates(r, s, width: coordinateBytes),
                      let value = try? Key.Signature(rawRepresentation: raw)
                else { return .signatureMismatch }
                parsed = value
            }
        case .posixOpenSSL:
            guard let value = try? Key.Signature(derRepresentation: signature) else {
                return .signatureEncoding("OpenSSL accepts only strict DER for an ECDSA signature (minimal lengths and integers, nothing after the SEQUENCE)")
            }
            parsed = value
        }
        let valid = switch digest {
        case .sha256(let digest): key.isValidSignature(parsed, for: digest)
        case .sha1(let digest): key.isValidSignature(parsed, for: digest)
        }
        return valid ? nil : .signatureMismatch
    }

    private static func rawCoordinates(_ r: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>, width: Int) -> [UInt8]? {
        func pad(_ value: ArraySlice<UInt8>) -> [UInt8]? {
            let significant = value.drop { $0 == 0 }
            guard significant.count <= width else { return nil }
            return [UInt8](repeating: 0, count: width - significant.count) + significant
        }
        guard let r = pad(r), let s = pad(s) else { return nil }
        return r + s
    }
}

/// The three curves' ECDSA keys and signatures behind one shape, so the verification is written once.
protocol ECDSASignatureValue {
    init<D: DataProtocol>(rawRepresentation: D) throws
    init<D: DataProtocol>(derRepresentation: D) throws
}

protocol ECDSAPublicKey {
    associatedtype Signature: ECDSASignatureValue
    func isValidSignature<D: Digest>(_ signature: Signature, for digest: D) -> Bool
}

extension P256.Signing.ECDSASignature: ECDSASignatureValue {}
extension P384.Signing.ECDSASignature: ECDSASignatureValue {}
extension P521.Signing.ECDSASignature: ECDSASignatureValue {}
extension P256.Signing.PublicKey: ECDSAPublicKey {}
extension P384.Signing.PublicKey: ECDSAPublicKey {}
extension P521.Signing.PublicKey: ECDSAPublicKey {}

/// mbedTLS 2.28's reading of an ECDSA signature (ecdsa_read_signature with mbedtls_asn1_get_tag/get_len/get_mpi): the
/// SEQUENCE must span the buffer exactly; lengths may be long form (1-4 length bytes, even when not minimal);
/// INTEGER contents are read as unsigned big-endian numbers with no minimal-encoding or sign check; anything after
/// the second INTEGER is SIG_LEN_MISMATCH.
public enum MbedTLSSignature {
    public struct Refusal: Error, Sendable {
        public var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    public static func read(_ signature: [UInt8]) -> Result<(r: ArraySlice<UInt8>, s: ArraySlice<UInt8>), Refusal> {
        var position = 0
        let end = signature.count
        guard let sequenceLength = tag(0x30, signature, &position, end) else {
            return .failure(Refusal("it does not start with a DER SEQUENCE mbedTLS can read"))
        }
        guard position + sequenceLength == end else {
            return .failure(Refusal("the SEQUENCE's length (\(sequenceLength)) does not span the signature's \(end - position) remaining bytes"))
        }
        guard let rLength = tag(0x02, signature, &position, end) else {
            return .failure(Refusal("r is not an INTEGER mbedTLS can read"))
        }
        let r = signature[position..<position + rLength]
        position += rLength
        guard let sLength = tag(0x02, signature, &position, end) else {
            return .failure(Refusal("s is not an INTEGER mbedTLS can read"))
        }
        let s = signature[position..<position + sLength]
        position += sLength
        guard position == end else { return .failure(Refusal("\(end - position) bytes follow s inside the SEQUENCE")) }
        return .success((r, s))
    }

    /// mbedtls_asn1_get_tag + mbedtls_asn1_get_len.
    static func tag(_ expected: UInt8, _ bytes: [UInt8], _ position: inout Int, _ end: Int) -> Int? {
        guard end - position >= 1, bytes[position] == expected else { return nil }
        position += 1
        guard end - position >= 1 else { return nil }
        let first = bytes[position]
        var length = 0
        if first & 0x80 == 0 {
            length = Int(first)
            position += 1
        } else {
            let count = Int(first & 0x7F)
            guard (1...4).contains(count), end - position >= count + 1 else { return nil }
            for index in 1...count { length = length << 8 | Int(bytes[position + index]) }
            position += count + 1
        }
        guard length <= end - position else { return nil }
        return length
    }
}
