import Foundation
import HTTPTypes
import Hummingbird
import SignerAPI
import SignerService

/// The Signer REST-JSON routes: decode → one `SignerService` call → encode. No business rules here.
struct SignerRoutes: Sendable {
    let service: SignerService

    /// The operation a request names, for the request log; nil when no route matches.
    static func operation(_ request: WireRequest) -> String? {
        let s = request.segments
        switch (request.method, s.count, s.first) {
        case (.get, 1, "signing-platforms"): return "ListSigningPlatforms"
        case (.get, 2, "signing-platforms"): return "GetSigningPlatform"
        case (.get, 1, "signing-profiles"): return "ListSigningProfiles"
        case (.put, 2, "signing-profiles"): return "PutSigningProfile"
        case (.get, 2, "signing-profiles"): return "GetSigningProfile"
        case (.delete, 2, "signing-profiles"): return "CancelSigningProfile"
        case (.put, 3, "signing-profiles") where s[2] == "revoke": return "RevokeSigningProfile"
        case (.post, 3, "signing-profiles") where s[2] == "permissions": return "AddProfilePermission"
        case (.get, 3, "signing-profiles") where s[2] == "permissions": return "ListProfilePermissions"
        case (.delete, 4, "signing-profiles") where s[2] == "permissions": return "RemoveProfilePermission"
        case (.post, 1, "signing-jobs"): return "StartSigningJob"
        case (.get, 1, "signing-jobs"): return "ListSigningJobs"
        case (.post, 2, "signing-jobs") where s[1] == "with-payload": return "SignPayload"
        case (.get, 2, "signing-jobs"): return "DescribeSigningJob"
        case (.put, 3, "signing-jobs") where s[2] == "revoke": return "RevokeSignature"
        case (.get, 1, "revocations"): return "GetRevocationStatus"
        case (.post, 2, "tags"): return "TagResource"
        case (.delete, 2, "tags"): return "UntagResource"
        case (.get, 2, "tags"): return "ListTagsForResource"
        default: return nil
        }
    }

    func handle(_ request: WireRequest) async throws -> Response {
        let caller = request.caller
        let s = request.segments
        guard let operation = Self.operation(request) else {
            throw SignerError(.resourceNotFound, "No Signer operation matches \(request.method.rawValue) \(request.rawPath)")
        }
        switch operation {
        case "ListSigningPlatforms":
            return try JSONWire.platforms(try service.listSigningPlatforms(
                category: request.query("category"), partner: request.query("partner"), target: request.query("target"),
                maxResults: try request.int("maxResults"), nextToken: request.query("nextToken")))
        case "GetSigningPlatform":
            return try JSONWire.platform(try service.getSigningPlatform(platformId: s[1]))
        case "ListSigningProfiles":
            return try JSONWire.response(try await service.listSigningProfiles(
                caller, includeCanceled: try request.bool("includeCanceled") ?? false, maxResults: try request.int("maxResults"),
                nextToken: request.query("nextToken"), platformId: request.query("platformId"), statuses: request.queryAll("statuses")))
        case "PutSigningProfile":
            let body = try JSONWire.decode(PutSigningProfileRequest.self, from: request.body)
            return try JSONWire.response(try await service.putSigningProfile(caller, profileName: s[1], body))
        case "GetSigningProfile":
            return try JSONWire.response(try await service.getSigningProfile(caller, profileName: s[1], profileOwner: request.query("profileOwner")))
        case "CancelSigningProfile":
            try await service.cancelSigningProfile(caller, profileName: s[1])
            return try JSONWire.response(EmptyResponse())
        case "RevokeSigningProfile":
            let body = try JSONWire.decode(RevokeSigningProfileRequest.self, from: request.body)
            try await service.revokeSigningProfile(caller, profileName: s[1], body)
            return try JSONWire.response(EmptyResponse())
        case "AddProfilePermission":
            let body = try JSONWire.decode(AddProfilePermissionRequest.self, from: request.body)
            return try JSONWire.response(try await service.addProfilePermission(caller, profileName: s[1], body))
        case "ListProfilePermissions":
            return try JSONWire.response(try await service.listProfilePermissions(caller, profileName: s[1], nextToken: request.query("nextToken")))
        case "RemoveProfilePermission":
            return try JSONWire.response(try await service.removeProfilePermission(caller, profileName: s[1], statementId: s[3],
                                                                                  revisionId: request.query("revisionId")))
        case "StartSigningJob":
            let body = try JSONWire.decode(StartSigningJobRequest.self, from: request.body)
            return try JSONWire.response(try await service.startSigningJob(caller, body))
        case "ListSigningJobs":
            let filter = SignerService.JobFilter(
                status: request.query("status"), platformId: request.query("platformId"), requestedBy: request.query("requestedBy"),
                isRevoked: try request.bool("isRevoked"), signatureExpiresBefore: try request.timestamp("signatureExpiresBefore"),
                signatureExpiresAfter: try request.timestamp("signatureExpiresAfter"), jobInvoker: request.query("jobInvoker"))
            return try JSONWire.response(try await service.listSigningJobs(caller, filter: filter, maxResults: try request.int("maxResults"),
                                                                          nextToken: request.query("nextToken")))
        case "SignPayload":
            let body = try JSONWire.decode(SignPayloadRequest.self, from: request.body)
            return try JSONWire.response(try await service.signPayload(caller, body))
        case "DescribeSigningJob":
            return try JSONWire.response(try await service.describeSigningJob(caller, jobId: s[1]))
        case "RevokeSignature":
            let body = try JSONWire.decode(RevokeSignatureRequest.self, from: request.body)
            try await service.revokeSignature(caller, jobId: s[1], body)
            return try JSONWire.response(EmptyResponse())
        case "GetRevocationStatus":
            return try JSONWire.response(try await service.getRevocationStatus(
                caller, signatureTimestamp: try request.timestamp("signatureTimestamp"), platformId: request.query("platformId"),
                profileVersionArn: request.query("profileVersionArn"), jobArn: request.query("jobArn"),
                certificateHashes: request.queryAll("certificateHashes")))
        case "TagResource":
            let body = try JSONWire.decode(TagResourceRequest.self, from: request.body)
            try await service.tagResource(caller, resourceArn: s[1], tags: body.tags)
            return try JSONWire.response(EmptyResponse())
        case "UntagResource":
            try await service.untagResource(caller, resourceArn: s[1], tagKeys: request.queryAll("tagKeys"))
            return try JSONWire.response(EmptyResponse())
        default:  // "ListTagsForResource"
            return try JSONWire.response(try await service.listTagsForResource(caller, resourceArn: s[1]))
        }
    }
}
