import Foundation
import SignerAPI

/// A signature algorithm as AWS Signer names it in the signed object (`signatureAlgorithm`).
///
/// SHA-1 is fenced by name (`insecureSHA1WithRSA`): only `AmazonFreeRTOS-TI-CC3220SF` allows it.
public enum SignatureAlgorithm: String, Sendable, CaseIterable, Codable {
    case sha256WithECDSA = "SHA256withECDSA"
    case sha384WithECDSA = "SHA384withECDSA"
    case sha256WithRSA = "SHA256withRSA"
    case sha384WithRSA = "SHA384withRSA"
    case insecureSHA1WithRSA = "SHA1withRSA"

    /// The algorithm for an encryption/hash pair, or nil when there is none (ECDSA with SHA-1).
    public init?(encryption: EncryptionAlgorithm, hash: HashAlgorithm) {
        switch (encryption, hash) {
        case (.ecdsa, .sha256): self = .sha256WithECDSA
        case (.ecdsa, .sha384): self = .sha384WithECDSA
        case (.rsa, .sha256): self = .sha256WithRSA
        case (.rsa, .sha384): self = .sha384WithRSA
        case (.rsa, .sha1): self = .insecureSHA1WithRSA
        case (.ecdsa, .sha1): return nil
        }
    }

    public var encryption: EncryptionAlgorithm {
        switch self {
        case .sha256WithECDSA, .sha384WithECDSA: .ecdsa
        case .sha256WithRSA, .sha384WithRSA, .insecureSHA1WithRSA: .rsa
        }
    }

    public var hash: HashAlgorithm {
        switch self {
        case .sha256WithECDSA, .sha256WithRSA: .sha256
        case .sha384WithECDSA, .sha384WithRSA: .sha384
        case .insecureSHA1WithRSA: .sha1
        }
    }

    /// The job-document key that carries this signature: `sig-<hash>-<alg>` lower-cased, as AWS IoT derives it
    /// from `signatureAlgorithm` (`SHA256withECDSA` → `sig-sha256-ecdsa`, `SHA1withRSA` → `sig-sha1-rsa`).
    /// Source: aws-samples/aws-iot-create-ota-update-deconstructed `create_ota_update.py`.
    public var jobDocumentSignatureKey: String {
        "sig-" + rawValue.replacingOccurrences(of: "with", with: "-").lowercased()
    }

    /// The `openssl dgst` digest option for this algorithm (`-sha256`), for messages and tests.
    public var opensslDigest: String { "-" + hash.rawValue.lowercased() }
}
