import Foundation
import HTTPTypes
import Hummingbird
import SignerAPI
import SignerService

/// The Signer REST-JSON routes: decode → one `SignerService` call → encode. No business rules here.
struct SignerRoutes: Sendable {
    let service: SignerService

    /// Calls the service for `operation`, decoded once from `request` (`SignerOperation(method:segments:)`).
    func handle(_ operation: SignerOperation, _ request: WireRequest) async throws -> Response {
        let caller = request.caller
        switch operation {
        case .listSigningPlatforms:
            return try JSONWire.platforms(try service.listSigningPlatforms(
                category: request.query("category"), partner: request.query("partner"), target: request.query("target"),
                maxResults: try request.int("maxResults"), nextToken: request.query("nextToken")))
        case .getSigningPlatform(let platformId):
            return try JSONWire.platform(try service.getSigningPlatform(platformId: platformId))
        case .listSigningProfiles:
            return try JSONWire.response(try await service.listSigningProfiles(
                caller, includeCanceled: try request.bool("includeCanceled") ?? false, maxResults: try request.int("maxResults"),
                nextToken: request.query("nextToken"), platformId: request.query("platformId"), statuses: request.queryAll("statuses")))
        case .putSigningProfile(let profileName):
            let body = try JSONWire.decode(PutSigningProfileRequest.self, from: request.body)
            return try JSONWire.response(try await service.putSigningProfile(caller, profileName: profileName, body))
        case .getSigningProfile(let profileName):
            return try JSONWire.response(try await service.getSigningProfile(caller, profileName: profileName, profileOwner: request.query("profileOwner")))
        case .cancelSigningProfile(let profileName):
            try await service.cancelSigningProfile(caller, profileName: profileName)
            return try JSONWire.response(EmptyResponse())
        case .revokeSigningProfile(let profileName):
            let body = try JSONWire.decode(RevokeSigningProfileRequest.self, from: request.body)
            try await service.revokeSigningProfile(caller, profileName: profileName, body)
            return try JSONWire.response(EmptyResponse())
        case .addProfilePermission(let profileName):
            let body = try JSONWire.decode(AddProfilePermissionRequest.self, from: request.body)
            return try JSONWire.response(try await service.addProfilePermission(caller, profileName: profileName, body))
        case .listProfilePermissions(let profileName):
            return try JSONWire.response(try await service.listProfilePermissions(caller, profileName: profileName, nextToken: request.query("nextToken")))
        case .removeProfilePermission(let profileName, let statementId):
            return try JSONWire.response(try await service.removeProfilePermission(caller, profileName: profileName, statementId: statementId,
                                                                                  revisionId: request.query("revisionId")))
        case .startSigningJob:
            let body = try JSONWire.decode(StartSigningJobRequest.self, from: request.body)
            return try JSONWire.response(try await service.startSigningJob(caller, body))
        case .listSigningJobs:
            let filter = SignerService.JobFilter(
                status: request.query("status"), platformId: request.query("platformId"), requestedBy: request.query("requestedBy"),
                isRevoked: try request.bool("isRevoked"), signatureExpiresBefore: try request.timestamp("signatureExpiresBefore"),
                signatureExpiresAfter: try request.timestamp("signatureExpiresAfter"), jobInvoker: request.query("jobInvoker"))
            return try JSONWire.response(try await service.listSigningJobs(caller, filter: filter, maxResults: try request.int("maxResults"),
                                                                          nextToken: request.query("nextToken")))
        case .signPayload:
            let body = try JSONWire.decode(SignPayloadRequest.self, from: request.body)
            return try JSONWire.response(try await service.signPayload(caller, body))
        case .describeSigningJob(let jobId):
            return try JSONWire.response(try await service.describeSigningJob(caller, jobId: jobId))
        case .revokeSignature(let jobId):
            let body = try JSONWire.decode(RevokeSignatureRequest.self, from: request.body)
            try await service.revokeSignature(caller, jobId: jobId, body)
            return try JSONWire.response(EmptyResponse())
        case .getRevocationStatus:
            return try JSONWire.response(try await service.getRevocationStatus(
                caller, signatureTimestamp: try request.timestamp("signatureTimestamp"), platformId: request.query("platformId"),
                profileVersionArn: request.query("profileVersionArn"), jobArn: request.query("jobArn"),
                certificateHashes: request.queryAll("certificateHashes")))
        case .tagResource(let resourceArn):
            let body = try JSONWire.decode(TagResourceRequest.self, from: request.body)
            try await service.tagResource(caller, resourceArn: resourceArn, tags: body.tags)
            return try JSONWire.response(EmptyResponse())
        case .untagResource(let resourceArn):
            try await service.untagResource(caller, resourceArn: resourceArn, tagKeys: request.queryAll("tagKeys"))
            return try JSONWire.response(EmptyResponse())
        case .listTagsForResource(let resourceArn):
            return try JSONWire.response(try await service.listTagsForResource(caller, resourceArn: resourceArn))
        }
    }
}
