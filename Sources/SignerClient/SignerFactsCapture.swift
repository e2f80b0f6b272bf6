import CodeSigning
import Crypto
import Foundation
import OTAVerifier
import SignerAPI
import SigV4
import SwiftASN1

/// Reads the facts the policy layer needs from a signing service: every succeeded signing job (DescribeSigningJob),
/// its signature (the signed object, read from the destination bucket), its profile's revocation
/// (GetSigningProfile), and the service's own answer on the job and the profile version at the signing time
/// (GetRevocationStatus).
public enum SignerFactsCapture {
    /// Captures the facts; `progress` gets warnings about jobs that cannot be matched to an image.
    public static func capture(_ client: SignerClient, progress: (String) -> Void) async throws(SignerClient.Failure) -> SignerFacts {
        var facts = SignerFacts(capturedAt: client.now(), source: client.endpoint.absoluteString)
        var summaries: [SigningJob] = []
        var token: String?
        repeat {
            let page = try await client.listSigningJobs(maxResults: 25, nextToken: token)
            summaries += page.jobs
            token = page.nextToken
        } while token != nil

        var profiles: [String: GetSigningProfileResponse] = [:]
        var certificateHashes: [String: String] = [:]
        for summary in summaries where summary.status == .succeeded {
            let job = try await client.describeSigningJob(jobId: summary.jobId)
            let profileKey = job.profileName + "\u{0}" + job.jobOwner
            if profiles[profileKey] == nil {
                profiles[profileKey] = try? await client.getSigningProfile(profileName: job.profileName, profileOwner: job.jobOwner)
            }
            let profile = profiles[profileKey]
            let signedAt = job.completedAt ?? job.createdAt

            var signature = ""
            if let bucket = job.signedObject?.s3?.bucketName, let key = job.signedObject?.s3?.key {
                do {
                    signature = try SignedObjectDocument(decoding: Data(try await client.getObject(bucket: bucket, key: key))).signatureBase64
                } catch {
                    progress("warning: signing job \(job.jobId): its signed object s3://\(bucket)/\(key) does not read (\(error)); the job cannot be matched to an image")
                }
            }

            let jobArn = ARN.signer(.signingJob(jobId: job.jobId), region: client.signer.region, account: job.jobOwner)
            let versionArn = profile.flatMap { ARN($0.arn + "/" + job.profileVersion) }
            var revokedEntities: [String]?
            if let certificateArn = job.signingMaterial?.certificateArn, certificateHashes[certificateArn] == nil {
                certificateHashes[certificateArn] = try? await certificateHash(client, arn: certificateArn)
            }
            if let versionArn, let hash = job.signingMaterial?.certificateArn.flatMap({ certificateHashes[$0] }) {
                revokedEntities = try? await client.getRevocationStatus(
                    signatureTimestamp: UTCTimestamp.string(signedAt), platformId: job.platformId, profileVersionArn: versionArn, jobArn: jobArn,
                    certificateHashes: [hash]).revokedEntities
            }
            facts.signingJobs.append(SignerFacts.SigningJob(
                jobId: job.jobId, signature: signature, platformId: job.platformId, profileName: job.profileName,
                profileVersion: job.profileVersion, signedAt: signedAt, signatureExpiresAt: job.signatureExpiresAt,
                revocation: job.revocationRecord.map { .init(revokedAt: $0.revokedAt, revokedBy: $0.revokedBy, reason: $0.reason) },
                jobArn: jobArn.description, profileVersionArn: versionArn?.description, revokedEntities: revokedEntities))
        }
        for profile in profiles.values.sorted(by: { $0.profileName < $1.profileName }) {
            if let record = profile.revocationRecord, let effective = record.revocationEffectiveFrom {
                facts.profileRevocations.append(.init(profileName: profile.profileName, profileVersion: profile.profileVersion,
                                                      effectiveTime: effective, revokedAt: record.revokedAt, reason: profile.statusReason))
            }
        }
        return facts
    }

    /// The SHA-256 of the signing certificate's DER, hex, from ACM GetCertificate.
    static func certificateHash(_ client: SignerClient, arn: String) async throws(SignerClient.Failure) -> String {
        guard let pem = try await client.getCertificate(arn: arn).certificate else {
            throw SignerClient.Failure(message: "GetCertificate gave no certificate")
        }
        let documents: [PEMDocument]
        do { documents = try PEMDocument.parseMultiple(pemString: pem) } catch {
            throw SignerClient.Failure(message: "GetCertificate gave a certificate that is not PEM: \(error)")
        }
        guard let document = documents.first(where: { $0.discriminator == "CERTIFICATE" }) else {
            throw SignerClient.Failure(message: "GetCertificate gave no CERTIFICATE block")
        }
        return HexEncoding.lowercase(SHA256.hash(data: document.derBytes))
    }
}
