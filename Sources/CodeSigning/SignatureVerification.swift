import Crypto
import Foundation
import SignerAPI
import X509
import CryptoExtras

extension SignatureAlgorithm {
    /// True when `signature` is a valid signature of `payload` by the key in `certificate` under this algorithm.
    ///
    /// This is the signer's own check (strict DER, as swift-crypto parses it). It is not the device's check: the
    /// device-equivalent verdict, with mbedTLS's and OpenSSL's quirks, is `OTAVerifier`'s job.
    public func isValidSignature(_ signature: [UInt8], for payload: some DataProtocol, certificate: Certificate) -> Bool {
        let key = certificate.publicKey
        switch self {
        case .sha256WithECDSA, .sha384WithECDSA:
            if let p256 = P256.Signing.PublicKey(key), let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) {
                return hash == .sha256 ? p256.isValidSignature(parsed, for: SHA256.hash(data: payload))
                                       : p256.isValidSignature(parsed, for: SHA384.hash(data: payload))
            }
            if let p384 = P384.Signing.PublicKey(key), let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature) {
                return hash == .sha256 ? p384.isValidSignature(parsed, for: SHA256.hash(data: payload))
                                       : p384.isValidSignature(parsed, for: SHA384.hash(data: payload))
            }
            return false
        case .sha256WithRSA, .sha384WithRSA, .insecureSHA1WithRSA:
            guard let rsa = _RSA.Signing.PublicKey(key) else { return false }
            let parsed = _RSA.Signing.RSASignature(rawRepresentation: signature)
            switch hash {
            case .sha1: return rsa.isValidSignature(parsed, for: Insecure.SHA1.hash(data: payload), padding: .insecurePKCS1v1_5)
            case .sha256: return rsa.isValidSignature(parsed, for: SHA256.hash(data: payload), padding: .insecurePKCS1v1_5)
            case .sha384: return rsa.isValidSignature(parsed, for: SHA384.hash(data: payload), padding: .insecurePKCS1v1_5)
            }
        }
    }
}
