/// The shapes of `ListSigningPlatforms` / `GetSigningPlatform` (AWS Signer API 2017-08-25), with the exact JSON names.

/// The public-key algorithm of a signature (`EncryptionAlgorithm` in the API model).
public enum EncryptionAlgorithm: String, Codable, Sendable, CaseIterable {
    case rsa = "RSA"
    case ecdsa = "ECDSA"
}

/// The digest of a signature. The model's enum is `SHA1|SHA256`; the live catalog also returns `SHA384`
/// (Lambda, Notation), which botocore does not validate in responses.
public enum HashAlgorithm: String, Codable, Sendable, CaseIterable {
    case sha1 = "SHA1"
    case sha256 = "SHA256"
    case sha384 = "SHA384"
}

/// The format of the signed object a signing job writes (`ImageFormat`).
public enum ImageFormat: String, Codable, Sendable, CaseIterable {
    case json = "JSON"
    case jsonEmbedded = "JSONEmbedded"
    case jsonDetached = "JSONDetached"
}

/// `EncryptionAlgorithmOptions`: which encryption algorithms a platform allows and which it picks by default.
public struct EncryptionAlgorithmOptions: Codable, Sendable, Equatable {
    public var allowedValues: [EncryptionAlgorithm]
    public var defaultValue: EncryptionAlgorithm
}

/// `HashAlgorithmOptions`: which digests a platform allows and which it picks by default.
public struct HashAlgorithmOptions: Codable, Sendable, Equatable {
    public var allowedValues: [HashAlgorithm]
    public var defaultValue: HashAlgorithm
}

/// `SigningConfiguration` of a platform.
public struct SigningConfiguration: Codable, Sendable, Equatable {
    public var encryptionAlgorithmOptions: EncryptionAlgorithmOptions
    public var hashAlgorithmOptions: HashAlgorithmOptions
}

/// `SigningImageFormat` of a platform.
public struct SigningImageFormat: Codable, Sendable, Equatable {
    public var supportedFormats: [ImageFormat]
    public var defaultFormat: ImageFormat
}

/// `SigningPlatform`: one entry of the catalog.
public struct SigningPlatform: Codable, Sendable, Equatable {
    public var platformId: String
    public var displayName: String
    public var partner: String
    public var target: String
    public var category: String
    public var signingConfiguration: SigningConfiguration
    public var signingImageFormat: SigningImageFormat
    public var maxSizeInMB: Int
    public var revocationSupported: Bool

    /// The largest payload, in bytes, this platform signs (`maxSizeInMB` × 2^20).
    public var maxPayloadBytes: Int { maxSizeInMB * 1_048_576 }
}

/// `SigningConfigurationOverrides`: the encryption and hash a profile asks for instead of the platform defaults.
public struct SigningConfigurationOverrides: Codable, Sendable, Equatable {
    public var encryptionAlgorithm: EncryptionAlgorithm?
    public var hashAlgorithm: HashAlgorithm?

    public init(encryptionAlgorithm: EncryptionAlgorithm? = nil, hashAlgorithm: HashAlgorithm? = nil) {
        self.encryptionAlgorithm = encryptionAlgorithm
        self.hashAlgorithm = hashAlgorithm
    }
}

/// `SigningPlatformOverrides`: a profile's overrides of the platform defaults.
public struct SigningPlatformOverrides: Codable, Sendable, Equatable {
    public var signingConfiguration: SigningConfigurationOverrides?
    public var signingImageFormat: ImageFormat?

    public init(signingConfiguration: SigningConfigurationOverrides? = nil, signingImageFormat: ImageFormat? = nil) {
        self.signingConfiguration = signingConfiguration
        self.signingImageFormat = signingImageFormat
    }

    /// True when nothing is overridden.
    public var isEmpty: Bool {
        signingImageFormat == nil
            && signingConfiguration?.encryptionAlgorithm == nil
            && signingConfiguration?.hashAlgorithm == nil
    }
}
