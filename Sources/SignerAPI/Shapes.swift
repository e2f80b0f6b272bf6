import Foundation

// The request and response shapes of the 19 AWS Signer operations (API 2017-08-25), with the exact JSON member
// names of botocore's `signer/2017-08-25/service-2.json`. Timestamps are `Date`, written as epoch seconds.
// Members that are absent stay absent: every optional is omitted when nil.

/// `S3Source`: the versioned object a signing job reads.
public struct S3Source: Codable, Sendable, Equatable {
    public var bucketName: String
    public var key: String
    public var version: String
    public init(bucketName: String, key: String, version: String) {
        self.bucketName = bucketName
        self.key = key
        self.version = version
    }
}

/// `Source`.
public struct Source: Codable, Sendable, Equatable {
    public var s3: S3Source?
    public init(s3: S3Source?) { self.s3 = s3 }
}

/// `S3Destination`: where the signed object goes (`prefix + jobId`).
public struct S3Destination: Codable, Sendable, Equatable {
    public var bucketName: String?
    public var prefix: String?
    public init(bucketName: String?, prefix: String? = nil) {
        self.bucketName = bucketName
        self.prefix = prefix
    }
}

/// `Destination`.
public struct Destination: Codable, Sendable, Equatable {
    public var s3: S3Destination?
    public init(s3: S3Destination?) { self.s3 = s3 }
}

/// `S3SignedObject`.
public struct S3SignedObject: Codable, Sendable, Equatable {
    public var bucketName: String?
    public var key: String?
    public init(bucketName: String?, key: String?) {
        self.bucketName = bucketName
        self.key = key
    }
}

/// `SignedObject`: where a job wrote its signed object.
public struct SignedObject: Codable, Sendable, Equatable {
    public var s3: S3SignedObject?
    public init(s3: S3SignedObject?) { self.s3 = s3 }
}

/// `SigningMaterial`: the ACM certificate whose key signs.
public struct SigningMaterial: Codable, Sendable, Equatable {
    public var certificateArn: String?
    public init(certificateArn: String?) { self.certificateArn = certificateArn }
}

/// `ValidityType`.
public enum ValidityType: String, Codable, Sendable, CaseIterable {
    case days = "DAYS"
    case months = "MONTHS"
    case years = "YEARS"
}

/// `SignatureValidityPeriod`.
public struct SignatureValidityPeriod: Codable, Sendable, Equatable {
    public var value: Int?
    public var type: ValidityType?
    public init(value: Int?, type: ValidityType?) {
        self.value = value
        self.type = type
    }

    /// The default and maximum: 135 months.
    public static let `default` = SignatureValidityPeriod(value: 135, type: .months)
}

/// `SigningStatus`.
public enum SigningStatus: String, Codable, Sendable, CaseIterable {
    case inProgress = "InProgress"
    case failed = "Failed"
    case succeeded = "Succeeded"
}

/// `SigningProfileStatus`.
public enum SigningProfileStatus: String, Codable, Sendable, CaseIterable {
    case active = "Active"
    case canceled = "Canceled"
    case revoked = "Revoked"
}

/// `SigningProfileRevocationRecord`.
public struct SigningProfileRevocationRecord: Codable, Sendable, Equatable {
    public var revocationEffectiveFrom: Date?
    public var revokedAt: Date?
    public var revokedBy: String?
    public init(revocationEffectiveFrom: Date?, revokedAt: Date?, revokedBy: String?) {
        self.revocationEffectiveFrom = revocationEffectiveFrom
        self.revokedAt = revokedAt
        self.revokedBy = revokedBy
    }
}

/// `SigningJobRevocationRecord`.
public struct SigningJobRevocationRecord: Codable, Sendable, Equatable {
    public var reason: String?
    public var revokedAt: Date?
    public var revokedBy: String?
    public init(reason: String?, revokedAt: Date?, revokedBy: String?) {
        self.reason = reason
        self.revokedAt = revokedAt
        self.revokedBy = revokedBy
    }
}

/// `Permission`: one statement of a profile's cross-account policy.
public struct Permission: Codable, Sendable, Equatable {
    public var action: String?
    public var principal: String?
    public var statementId: String?
    public var profileVersion: String?
    public init(action: String?, principal: String?, statementId: String?, profileVersion: String?) {
        self.action = action
        self.principal = principal
        self.statementId = statementId
        self.profileVersion = profileVersion
    }
}

// MARK: - Profiles

/// `PutSigningProfileRequest` (body members; `profileName` is in the path).
public struct PutSigningProfileRequest: Codable, Sendable, Equatable {
    public var signingMaterial: SigningMaterial?
    public var signatureValidityPeriod: SignatureValidityPeriod?
    public var platformId: String?
    public var overrides: SigningPlatformOverrides?
    public var signingParameters: [String: String]?
    public var tags: [String: String]?
    public init(signingMaterial: SigningMaterial? = nil, signatureValidityPeriod: SignatureValidityPeriod? = nil, platformId: String?,
                overrides: SigningPlatformOverrides? = nil, signingParameters: [String: String]? = nil, tags: [String: String]? = nil) {
        self.signingMaterial = signingMaterial
        self.signatureValidityPeriod = signatureValidityPeriod
        self.platformId = platformId
        self.overrides = overrides
        self.signingParameters = signingParameters
        self.tags = tags
    }
}

/// `PutSigningProfileResponse`.
public struct PutSigningProfileResponse: Codable, Sendable, Equatable {
    public var arn: String
    public var profileVersion: String
    public var profileVersionArn: String
    public init(arn: String, profileVersion: String, profileVersionArn: String) {
        self.arn = arn
        self.profileVersion = profileVersion
        self.profileVersionArn = profileVersionArn
    }
}

/// `GetSigningProfileResponse`.
public struct GetSigningProfileResponse: Codable, Sendable, Equatable {
    public var profileName: String
    public var profileVersion: String
    public var profileVersionArn: String
    public var revocationRecord: SigningProfileRevocationRecord?
    public var signingMaterial: SigningMaterial?
    public var platformId: String
    public var platformDisplayName: String
    public var signatureValidityPeriod: SignatureValidityPeriod
    public var overrides: SigningPlatformOverrides?
    public var signingParameters: [String: String]?
    public var status: SigningProfileStatus
    public var statusReason: String?
    public var arn: String
    public var tags: [String: String]
    public init(profileName: String, profileVersion: String, profileVersionArn: String, revocationRecord: SigningProfileRevocationRecord? = nil, signingMaterial: SigningMaterial? = nil, platformId: String, platformDisplayName: String, signatureValidityPeriod: SignatureValidityPeriod, overrides: SigningPlatformOverrides? = nil, signingParameters: [String: String]? = nil, status: SigningProfileStatus, statusReason: String? = nil, arn: String, tags: [String: String]) {
        self.profileName = profileName
        self.profileVersion = profileVersion
        self.profileVersionArn = profileVersionArn
        self.revocationRecord = revocationRecord
        self.signingMaterial = signingMaterial
        self.platformId = platformId
        self.platformDisplayName = platformDisplayName
        self.signatureValidityPeriod = signatureValidityPeriod
        self.overrides = overrides
        self.signingParameters = signingParameters
        self.status = status
        self.statusReason = statusReason
        self.arn = arn
        self.tags = tags
    }
}

/// `SigningProfile`: a ListSigningProfiles item (no `overrides`).
public struct SigningProfile: Codable, Sendable, Equatable {
    public var profileName: String
    public var profileVersion: String
    public var profileVersionArn: String
    public var signingMaterial: SigningMaterial?
    public var signatureValidityPeriod: SignatureValidityPeriod
    public var platformId: String
    public var platformDisplayName: String
    public var signingParameters: [String: String]?
    public var status: SigningProfileStatus
    public var arn: String
    public var tags: [String: String]
    public init(profileName: String, profileVersion: String, profileVersionArn: String, signingMaterial: SigningMaterial? = nil, signatureValidityPeriod: SignatureValidityPeriod, platformId: String, platformDisplayName: String, signingParameters: [String: String]? = nil, status: SigningProfileStatus, arn: String, tags: [String: String]) {
        self.profileName = profileName
        self.profileVersion = profileVersion
        self.profileVersionArn = profileVersionArn
        self.signingMaterial = signingMaterial
        self.signatureValidityPeriod = signatureValidityPeriod
        self.platformId = platformId
        self.platformDisplayName = platformDisplayName
        self.signingParameters = signingParameters
        self.status = status
        self.arn = arn
        self.tags = tags
    }
}

/// `ListSigningProfilesResponse`.
public struct ListSigningProfilesResponse: Codable, Sendable, Equatable {
    public var profiles: [SigningProfile]
    public var nextToken: String?
    public init(profiles: [SigningProfile], nextToken: String? = nil) {
        self.profiles = profiles
        self.nextToken = nextToken
    }
}

/// `RevokeSigningProfileRequest` (body).
public struct RevokeSigningProfileRequest: Codable, Sendable, Equatable {
    public var profileVersion: String?
    public var reason: String?
    public var effectiveTime: Date?
    public init(profileVersion: String?, reason: String?, effectiveTime: Date?) {
        self.profileVersion = profileVersion
        self.reason = reason
        self.effectiveTime = effectiveTime
    }
}

// MARK: - Jobs

/// `StartSigningJobRequest`.
public struct StartSigningJobRequest: Codable, Sendable, Equatable {
    public var source: Source?
    public var destination: Destination?
    public var profileName: String?
    public var clientRequestToken: String?
    public var profileOwner: String?
    public init(source: Source?, destination: Destination?, profileName: String?, clientRequestToken: String?, profileOwner: String? = nil) {
        self.source = source
        self.destination = destination
        self.profileName = profileName
        self.clientRequestToken = clientRequestToken
        self.profileOwner = profileOwner
    }
}

/// `StartSigningJobResponse`.
public struct StartSigningJobResponse: Codable, Sendable, Equatable {
    public var jobId: String
    public var jobOwner: String
    public init(jobId: String, jobOwner: String) {
        self.jobId = jobId
        self.jobOwner = jobOwner
    }
}

/// `SigningPlatformOverrides` as a job reports it, and the rest of `DescribeSigningJobResponse`.
public struct DescribeSigningJobResponse: Codable, Sendable, Equatable {
    public var jobId: String
    public var source: Source?
    public var signingMaterial: SigningMaterial?
    public var platformId: String
    public var platformDisplayName: String
    public var profileName: String
    public var profileVersion: String
    public var overrides: SigningPlatformOverrides?
    public var signingParameters: [String: String]?
    public var createdAt: Date
    public var completedAt: Date?
    public var signatureExpiresAt: Date?
    public var requestedBy: String
    public var status: SigningStatus
    public var statusReason: String?
    public var revocationRecord: SigningJobRevocationRecord?
    public var signedObject: SignedObject?
    public var jobOwner: String
    public var jobInvoker: String
    public init(jobId: String, source: Source? = nil, signingMaterial: SigningMaterial? = nil, platformId: String, platformDisplayName: String, profileName: String, profileVersion: String, overrides: SigningPlatformOverrides? = nil, signingParameters: [String: String]? = nil, createdAt: Date, completedAt: Date? = nil, signatureExpiresAt: Date? = nil, requestedBy: String, status: SigningStatus, statusReason: String? = nil, revocationRecord: SigningJobRevocationRecord? = nil, signedObject: SignedObject? = nil, jobOwner: String, jobInvoker: String) {
        self.jobId = jobId
        self.source = source
        self.signingMaterial = signingMaterial
        self.platformId = platformId
        self.platformDisplayName = platformDisplayName
        self.profileName = profileName
        self.profileVersion = profileVersion
        self.overrides = overrides
        self.signingParameters = signingParameters
        self.createdAt = createdAt
        self.completedAt = completedAt
        self.signatureExpiresAt = signatureExpiresAt
        self.requestedBy = requestedBy
        self.status = status
        self.statusReason = statusReason
        self.revocationRecord = revocationRecord
        self.signedObject = signedObject
        self.jobOwner = jobOwner
        self.jobInvoker = jobInvoker
    }
}

/// `SigningJob`: a ListSigningJobs item.
public struct SigningJob: Codable, Sendable, Equatable {
    public var jobId: String
    public var source: Source?
    public var signedObject: SignedObject?
    public var signingMaterial: SigningMaterial?
    public var createdAt: Date
    public var status: SigningStatus
    public var isRevoked: Bool
    public var profileName: String
    public var profileVersion: String
    public var platformId: String
    public var platformDisplayName: String
    public var signatureExpiresAt: Date?
    public var jobOwner: String
    public var jobInvoker: String
    public init(jobId: String, source: Source? = nil, signedObject: SignedObject? = nil, signingMaterial: SigningMaterial? = nil, createdAt: Date, status: SigningStatus, isRevoked: Bool, profileName: String, profileVersion: String, platformId: String, platformDisplayName: String, signatureExpiresAt: Date? = nil, jobOwner: String, jobInvoker: String) {
        self.jobId = jobId
        self.source = source
        self.signedObject = signedObject
        self.signingMaterial = signingMaterial
        self.createdAt = createdAt
        self.status = status
        self.isRevoked = isRevoked
        self.profileName = profileName
        self.profileVersion = profileVersion
        self.platformId = platformId
        self.platformDisplayName = platformDisplayName
        self.signatureExpiresAt = signatureExpiresAt
        self.jobOwner = jobOwner
        self.jobInvoker = jobInvoker
    }
}

/// `ListSigningJobsResponse`.
public struct ListSigningJobsResponse: Codable, Sendable, Equatable {
    public var jobs: [SigningJob]
    public var nextToken: String?
    public init(jobs: [SigningJob], nextToken: String? = nil) {
        self.jobs = jobs
        self.nextToken = nextToken
    }
}

/// `ListSigningPlatformsResponse`.
public struct ListSigningPlatformsResponse: Codable, Sendable, Equatable {
    public var platforms: [SigningPlatform]
    public var nextToken: String?
    public init(platforms: [SigningPlatform], nextToken: String? = nil) {
        self.platforms = platforms
        self.nextToken = nextToken
    }
}

/// `RevokeSignatureRequest` (body).
public struct RevokeSignatureRequest: Codable, Sendable, Equatable {
    public var jobOwner: String?
    public var reason: String?
    public init(jobOwner: String? = nil, reason: String?) {
        self.jobOwner = jobOwner
        self.reason = reason
    }
}

/// `SignPayloadRequest`.
public struct SignPayloadRequest: Codable, Sendable, Equatable {
    public var profileName: String?
    public var profileOwner: String?
    public var payload: Data?
    public var payloadFormat: String?
    public init(profileName: String?, profileOwner: String? = nil, payload: Data?, payloadFormat: String?) {
        self.profileName = profileName
        self.profileOwner = profileOwner
        self.payload = payload
        self.payloadFormat = payloadFormat
    }
}

/// `SignPayloadResponse`.
public struct SignPayloadResponse: Codable, Sendable, Equatable {
    public var jobId: String
    public var jobOwner: String
    public var metadata: [String: String]
    public var signature: Data
    public init(jobId: String, jobOwner: String, metadata: [String: String], signature: Data) {
        self.jobId = jobId
        self.jobOwner = jobOwner
        self.metadata = metadata
        self.signature = signature
    }
}

/// `GetRevocationStatusResponse`.
public struct GetRevocationStatusResponse: Codable, Sendable, Equatable {
    public var revokedEntities: [String]
    public init(revokedEntities: [String]) {
        self.revokedEntities = revokedEntities
    }
}

// MARK: - Permissions and tags

/// `AddProfilePermissionRequest` (body).
public struct AddProfilePermissionRequest: Codable, Sendable, Equatable {
    public var profileVersion: String?
    public var action: String?
    public var principal: String?
    public var revisionId: String?
    public var statementId: String?
    public init(profileVersion: String? = nil, action: String?, principal: String?, revisionId: String? = nil, statementId: String?) {
        self.profileVersion = profileVersion
        self.action = action
        self.principal = principal
        self.revisionId = revisionId
        self.statementId = statementId
    }
}

/// The `{revisionId}` that AddProfilePermission and RemoveProfilePermission return.
public struct RevisionResponse: Codable, Sendable, Equatable {
    public var revisionId: String
    public init(revisionId: String) {
        self.revisionId = revisionId
    }
}

/// `ListProfilePermissionsResponse`.
public struct ListProfilePermissionsResponse: Codable, Sendable, Equatable {
    public var revisionId: String
    public var policySizeBytes: Int
    public var permissions: [Permission]
    public var nextToken: String?
    public init(revisionId: String, policySizeBytes: Int, permissions: [Permission], nextToken: String? = nil) {
        self.revisionId = revisionId
        self.policySizeBytes = policySizeBytes
        self.permissions = permissions
        self.nextToken = nextToken
    }
}

/// `TagResourceRequest` (body).
public struct TagResourceRequest: Codable, Sendable, Equatable {
    public var tags: [String: String]?
    public init(tags: [String: String]?) { self.tags = tags }
}

/// `ListTagsForResourceResponse`.
public struct ListTagsForResourceResponse: Codable, Sendable, Equatable {
    public var tags: [String: String]
    public init(tags: [String: String]) {
        self.tags = tags
    }
}

/// The empty `{}` of operations without output members.
public struct EmptyResponse: Codable, Sendable, Equatable {
    public init() {}
}
