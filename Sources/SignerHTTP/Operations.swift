import HTTPTypes
import SignerAPI
import SignerService

/// The services this server speaks, named by the SigV4 credential scope.
enum AWSService: String, Sendable {
    case signer, s3, acm
}

/// A Signer REST-JSON operation, read once from the method and path (AWS Signer API 2017-08-25, `requestUri` of each
/// operation); the cases carry their path parameters.
enum SignerOperation: Sendable, Equatable {
    case listSigningPlatforms
    case getSigningPlatform(platformId: String)
    case listSigningProfiles
    case putSigningProfile(profileName: String)
    case getSigningProfile(profileName: String)
    case cancelSigningProfile(profileName: String)
    case revokeSigningProfile(profileName: String)
    case addProfilePermission(profileName: String)
    case listProfilePermissions(profileName: String)
    case removeProfilePermission(profileName: String, statementId: String)
    case startSigningJob
    case listSigningJobs
    case signPayload
    case describeSigningJob(jobId: String)
    case revokeSignature(jobId: String)
    case getRevocationStatus
    case tagResource(resourceArn: String)
    case untagResource(resourceArn: String)
    case listTagsForResource(resourceArn: String)

    /// The operation `method` and the decoded path `segments` name, or nil when no route matches.
    init?(method: HTTPRequest.Method, segments s: [String]) {
        switch (method, s.count, s.first) {
        case (.get, 1, "signing-platforms"): self = .listSigningPlatforms
        case (.get, 2, "signing-platforms"): self = .getSigningPlatform(platformId: s[1])
        case (.get, 1, "signing-profiles"): self = .listSigningProfiles
        case (.put, 2, "signing-profiles"): self = .putSigningProfile(profileName: s[1])
        case (.get, 2, "signing-profiles"): self = .getSigningProfile(profileName: s[1])
        case (.delete, 2, "signing-profiles"): self = .cancelSigningProfile(profileName: s[1])
        case (.put, 3, "signing-profiles") where s[2] == "revoke": self = .revokeSigningProfile(profileName: s[1])
        case (.post, 3, "signing-profiles") where s[2] == "permissions": self = .addProfilePermission(profileName: s[1])
        case (.get, 3, "signing-profiles") where s[2] == "permissions": self = .listProfilePermissions(profileName: s[1])
        case (.delete, 4, "signing-profiles") where s[2] == "permissions":
            self = .removeProfilePermission(profileName: s[1], statementId: s[3])
        case (.post, 1, "signing-jobs"): self = .startSigningJob
        case (.get, 1, "signing-jobs"): self = .listSigningJobs
        case (.post, 2, "signing-jobs") where s[1] == "with-payload": self = .signPayload
        case (.get, 2, "signing-jobs"): self = .describeSigningJob(jobId: s[1])
        case (.put, 3, "signing-jobs") where s[2] == "revoke": self = .revokeSignature(jobId: s[1])
        case (.get, 1, "revocations"): self = .getRevocationStatus
        case (.post, 2, "tags"): self = .tagResource(resourceArn: s[1])
        case (.delete, 2, "tags"): self = .untagResource(resourceArn: s[1])
        case (.get, 2, "tags"): self = .listTagsForResource(resourceArn: s[1])
        default: return nil
        }
    }

    /// The API's operation name, for the request log.
    var name: String {
        switch self {
        case .listSigningPlatforms: "ListSigningPlatforms"
        case .getSigningPlatform: "GetSigningPlatform"
        case .listSigningProfiles: "ListSigningProfiles"
        case .putSigningProfile: "PutSigningProfile"
        case .getSigningProfile: "GetSigningProfile"
        case .cancelSigningProfile: "CancelSigningProfile"
        case .revokeSigningProfile: "RevokeSigningProfile"
        case .addProfilePermission: "AddProfilePermission"
        case .listProfilePermissions: "ListProfilePermissions"
        case .removeProfilePermission: "RemoveProfilePermission"
        case .startSigningJob: "StartSigningJob"
        case .listSigningJobs: "ListSigningJobs"
        case .signPayload: "SignPayload"
        case .describeSigningJob: "DescribeSigningJob"
        case .revokeSignature: "RevokeSignature"
        case .getRevocationStatus: "GetRevocationStatus"
        case .tagResource: "TagResource"
        case .untagResource: "UntagResource"
        case .listTagsForResource: "ListTagsForResource"
        }
    }
}

/// An S3 operation of the path-style subset, read once from the method, the path and the sub-resource parameters.
enum S3Operation: Sendable, Equatable {
    case listBuckets
    case createBucket(bucket: String)
    case putBucketVersioning(bucket: String)
    case headBucket(bucket: String)
    case getBucketVersioning(bucket: String)
    case getBucketLocation(bucket: String)
    case listObjectVersions(bucket: String)
    case listObjects(bucket: String)
    case listObjectsV2(bucket: String)
    case putObject(bucket: String, key: String)
    case copyObject(bucket: String, key: String)
    case getObject(bucket: String, key: String)
    case headObject(bucket: String, key: String)
    case deleteObject(bucket: String, key: String)
    /// A method and path outside the subset.
    case unsupported

    /// The operation a request names.
    init(_ request: WireRequest) {
        let s = request.segments
        let bucket = s.first ?? ""
        let key = s.count > 1 ? s.dropFirst().joined(separator: "/") : ""
        let bucketOnly = s.count == 1 || (s.count == 2 && s[1].isEmpty)
        switch (request.method, s.isEmpty ? 0 : (bucketOnly ? 1 : 2)) {
        case (.get, 0): self = .listBuckets
        case (.put, 1): self = request.has("versioning") ? .putBucketVersioning(bucket: bucket) : .createBucket(bucket: bucket)
        case (.head, 1): self = .headBucket(bucket: bucket)
        case (.get, 1):
            if request.has("versioning") {
                self = .getBucketVersioning(bucket: bucket)
            } else if request.has("location") {
                self = .getBucketLocation(bucket: bucket)
            } else if request.has("versions") {
                self = .listObjectVersions(bucket: bucket)
            } else {
                self = request.query("list-type") == "2" ? .listObjectsV2(bucket: bucket) : .listObjects(bucket: bucket)
            }
        case (.put, 2): self = request.header("x-amz-copy-source") != nil ? .copyObject(bucket: bucket, key: key) : .putObject(bucket: bucket, key: key)
        case (.get, 2): self = .getObject(bucket: bucket, key: key)
        case (.head, 2): self = .headObject(bucket: bucket, key: key)
        case (.delete, 2): self = .deleteObject(bucket: bucket, key: key)
        default: self = .unsupported
        }
    }

    /// The API's operation name, for the request log.
    var name: String {
        switch self {
        case .listBuckets: "ListBuckets"
        case .createBucket: "CreateBucket"
        case .putBucketVersioning: "PutBucketVersioning"
        case .headBucket: "HeadBucket"
        case .getBucketVersioning: "GetBucketVersioning"
        case .getBucketLocation: "GetBucketLocation"
        case .listObjectVersions: "ListObjectVersions"
        case .listObjects: "ListObjects"
        case .listObjectsV2: "ListObjectsV2"
        case .putObject: "PutObject"
        case .copyObject: "CopyObject"
        case .getObject: "GetObject"
        case .headObject: "HeadObject"
        case .deleteObject: "DeleteObject"
        case .unsupported: "Unsupported"
        }
    }
}

/// An ACM operation on JSON 1.1 (`POST /`, `X-Amz-Target: CertificateManager.<Operation>`).
enum ACMOperation: String, Sendable, CaseIterable {
    case importCertificate = "ImportCertificate"
    case describeCertificate = "DescribeCertificate"
    case getCertificate = "GetCertificate"
    case listCertificates = "ListCertificates"
    case deleteCertificate = "DeleteCertificate"

    /// The operation a request's target names; nil (with the name asked for, if any) when it is not one of these.
    static func parse(_ request: WireRequest) -> Result<ACMOperation, ACMError> {
        guard request.method == .post, let target = request.header("x-amz-target"), target.hasPrefix(ACM.targetPrefix) else {
            return .failure(unknown("(none)"))
        }
        let name = String(target.dropFirst(ACM.targetPrefix.count))
        return ACMOperation(rawValue: name).map { .success($0) } ?? .failure(unknown(name))
    }

    private static func unknown(_ name: String) -> ACMError {
        ACMError(.unknownOperationException, "Operation \(name) is not supported; this server implements \(allCases.map(\.rawValue).joined(separator: ", "))")
    }
}
