import Foundation
import SignerAPI

/// Who makes a request: the account and the IAM principal that SigV4 authenticated.
public struct Caller: Sendable, Equatable {
    public var account: String
    public var principal: String
    public init(account: String, principal: String) {
        self.account = account
        self.principal = principal
    }
}

/// A signing profile as the service keeps it.
public struct ProfileRecord: Codable, Sendable, Equatable {
    public var account: String
    public var name: String
    public var version: String
    public var platformId: String
    public var signingMaterial: SigningMaterial?
    public var signatureValidityPeriod: SignatureValidityPeriod
    public var overrides: SigningPlatformOverrides?
    public var signingParameters: [String: String]?
    public var tags: [String: String]
    public var status: SigningProfileStatus
    public var statusReason: String?
    public var revocation: SigningProfileRevocationRecord?
    public var createdAt: Date
    public var permissions: [Permission]
    public var policyRevisionId: String?

    /// `arn:aws:signer:<region>:<account>:/signing-profiles/<name>` (note the `:/`).
    public func arn(region: String) -> String { ARN.signer(.signingProfile(name: name), region: region, account: account).description }
    /// `arn:aws:signer:<region>:<account>:/signing-profiles/<name>/<version>`.
    public func versionArn(region: String) -> String {
        ARN.signer(.signingProfileVersion(name: name, version: version), region: region, account: account).description
    }
}

/// What kind of request made a job.
public enum JobKind: String, Codable, Sendable {
    case signingJob
    case signPayload
}

/// A signing job as the service keeps it.
public struct JobRecord: Codable, Sendable, Equatable {
    public var jobId: String
    public var kind: JobKind
    /// The profile owner's account (`jobOwner`).
    public var owner: String
    /// The caller's account (`jobInvoker`).
    public var invoker: String
    public var requestedBy: String
    public var clientRequestToken: String?
    public var profileName: String
    public var profileVersion: String
    public var platformId: String
    public var source: S3Source?
    public var destination: S3Destination?
    public var signingMaterial: SigningMaterial?
    public var overrides: SigningPlatformOverrides?
    public var signingParameters: [String: String]?
    public var createdAt: Date
    public var completedAt: Date?
    public var signatureExpiresAt: Date?
    public var status: SigningStatus
    public var statusReason: String?
    public var revocation: SigningJobRevocationRecord?
    public var signedObject: S3SignedObject?

    /// `arn:aws:signer:<region>:<owner>:/signing-jobs/<jobId>`.
    public func arn(region: String) -> String { ARN.signer(.signingJob(jobId: jobId), region: region, account: owner).description }
}

/// The JSON form of a stored record (profile, job, certificate), the same in every `SignerStore`: sorted keys, dates
/// as seconds since 1970. A database written by one store reads back in another.
public enum RecordCoding {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()
}
