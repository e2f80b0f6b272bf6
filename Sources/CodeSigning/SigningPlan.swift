import Foundation
import SignerAPI

/// What a signing job on a platform will do: the signature algorithm and the signed-object format, resolved from
/// the platform's defaults, a profile's overrides and the key, each checked against what the platform allows.
public struct SigningPlan: Sendable, Equatable {
    public var platform: SigningPlatform
    public var algorithm: SignatureAlgorithm
    public var format: ImageFormat

    /// Resolves a plan for `platform` with a profile's `overrides`.
    ///
    /// Without an encryption override the platform default applies, except that when `key` is given and the
    /// platform also allows the key's algorithm, the key's algorithm is used (an RSA key on `AmazonFreeRTOS-Default`
    /// signs `SHA256withRSA`). Overrides outside the platform's allowed values are refused.
    public static func resolve(
        platform: SigningPlatform,
        overrides: SigningPlatformOverrides? = nil,
        key: SigningKey? = nil
    ) throws(CodeSigningError) -> SigningPlan {
        let configuration = platform.signingConfiguration
        let allowedEncryption = configuration.encryptionAlgorithmOptions.allowedValues
        let allowedHash = configuration.hashAlgorithmOptions.allowedValues
        let id = platform.platformId

        var encryption = configuration.encryptionAlgorithmOptions.defaultValue
        if let requested = overrides?.signingConfiguration?.encryptionAlgorithm {
            guard allowedEncryption.contains(requested) else {
                throw CodeSigningError(.algorithmNotAllowed, "\(id) does not allow encryption algorithm \(requested.rawValue); allowed: \(list(allowedEncryption))")
            }
            encryption = requested
        } else if let key, key.encryptionAlgorithm != encryption, allowedEncryption.contains(key.encryptionAlgorithm) {
            encryption = key.encryptionAlgorithm
        }

        var hash = configuration.hashAlgorithmOptions.defaultValue
        if let requested = overrides?.signingConfiguration?.hashAlgorithm {
            guard allowedHash.contains(requested) else {
                throw CodeSigningError(.algorithmNotAllowed, "\(id) does not allow hash algorithm \(requested.rawValue); allowed: \(list(allowedHash))")
            }
            hash = requested
        }

        var format = platform.signingImageFormat.defaultFormat
        if let requested = overrides?.signingImageFormat {
            guard platform.signingImageFormat.supportedFormats.contains(requested) else {
                throw CodeSigningError(.formatNotAllowed, "\(id) does not support signed-object format \(requested.rawValue); supported: \(list(platform.signingImageFormat.supportedFormats))")
            }
            format = requested
        }
        guard format != .json else {
            throw CodeSigningError(.formatNotAllowed, "signed-object format JSON is not produced by any platform; use JSONEmbedded or JSONDetached")
        }

        guard let algorithm = SignatureAlgorithm(encryption: encryption, hash: hash) else {
            throw CodeSigningError(.algorithmNotAllowed, "\(id) cannot combine \(encryption.rawValue) with \(hash.rawValue)")
        }
        let plan = SigningPlan(platform: platform, algorithm: algorithm, format: format)
        if let key { try plan.check(key: key) }
        return plan
    }

    /// Refuses a key that cannot make this plan's signatures, naming what would.
    public func check(key: SigningKey) throws(CodeSigningError) {
        let id = platform.platformId
        guard key.encryptionAlgorithm == algorithm.encryption else {
            let allowed = platform.signingConfiguration.encryptionAlgorithmOptions.allowedValues
            let fix = allowed.contains(key.encryptionAlgorithm)
                ? "pass --encryption-algorithm \(key.encryptionAlgorithm.rawValue) (the platform allows it)"
                : "use a key of type \(Self.list(allowed)) instead"
            throw CodeSigningError(.algorithmNotAllowed, "an \(key.summary) key cannot sign for \(id), which signs \(algorithm.rawValue); \(fix)")
        }
        if let required = key.requiredECDSAHash, required != algorithm.hash {
            let curve = algorithm.hash == .sha384 ? "P-384" : "P-256"
            throw CodeSigningError(.algorithmNotAllowed, "an \(key.summary) key signs with \(required.rawValue), but \(id) signs \(algorithm.rawValue); use an ECDSA \(curve) key")
        }
    }

    /// Refuses an empty payload or one above the platform's `maxSizeInMB`.
    public func check(payloadSize: Int) throws(CodeSigningError) {
        guard payloadSize > 0 else {
            throw CodeSigningError(.emptyPayload, "the payload is empty; there is nothing to sign")
        }
        guard payloadSize <= platform.maxPayloadBytes else {
            let mib = Double(payloadSize) / 1_048_576
            throw CodeSigningError(.payloadTooLarge, "the payload is \(payloadSize) bytes (\(String(format: "%.1f", mib)) MiB); \(platform.platformId) signs at most \(platform.maxSizeInMB) MiB (maxSizeInMB)")
        }
    }

    private static func list<T: RawRepresentable>(_ values: [T]) -> String where T.RawValue == String {
        values.map(\.rawValue).joined(separator: ", ")
    }
}
