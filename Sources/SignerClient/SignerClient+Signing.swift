import Foundation
import SignerAPI

// The calls a user makes to get firmware signed, in the order the aws CLI makes them: a versioned bucket, the image
// uploaded, the certificate imported into ACM, a signing profile, StartSigningJob, and revocations. The rig's
// scenarios use exactly these, so what they test is what a user's pipeline does.
extension SignerClient {
    /// S3 CreateBucket and PutBucketVersioning (Enabled). A bucket that exists already is kept.
    public func createVersionedBucket(_ bucket: String) async throws(Failure) {
        do {
            _ = try await call("PUT", [bucket], service: .s3)
        } catch where error.message.contains("BucketAlreadyOwnedByYou") || error.message.contains("HTTP 409") {
            // Ours already: fine.
        }
        let body = Array("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>".utf8)
        _ = try await call("PUT", [bucket], query: [("versioning", "")], body: body, service: .s3)
    }

    /// S3 PutObject; returns the version id the bucket gave the object.
    public func putObject(bucket: String, key: String, bytes: [UInt8]) async throws(Failure) -> String {
        let response = try await exchange("PUT", [bucket] + key.split(separator: "/", omittingEmptySubsequences: false).map(String.init),
                                          body: bytes, service: .s3)
        guard let version = response.headers.first(where: { $0.name.lowercased() == "x-amz-version-id" })?.value else {
            throw Failure(message: "PutObject s3://\(bucket)/\(key) answered without x-amz-version-id: is versioning enabled on the bucket?")
        }
        return version
    }

    /// ACM ImportCertificate; returns the certificate ARN.
    public func importCertificate(certificatePEM: String, privateKeyPEM: String, chainPEM: String? = nil) async throws(Failure) -> String {
        let request = ACM.ImportCertificateRequest(certificate: Data(certificatePEM.utf8), privateKey: Data(privateKeyPEM.utf8),
                                                   certificateChain: chainPEM.map { Data($0.utf8) })
        let data = try await call("POST", [""], body: try encode(request, "ImportCertificate"), service: .acm,
                                  headers: [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", ACM.targetPrefix + "ImportCertificate")])
        struct Answer: Decodable { var CertificateArn: String }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(data)).CertificateArn
        } catch {
            throw Failure(message: "ImportCertificate answered JSON without CertificateArn: \(error)")
        }
    }

    /// PutSigningProfile.
    public func putSigningProfile(name: String, _ request: PutSigningProfileRequest) async throws(Failure) -> PutSigningProfileResponse {
        try await send("PUT", ["signing-profiles", name], request, as: PutSigningProfileResponse.self, "PutSigningProfile")
    }

    /// StartSigningJob.
    public func startSigningJob(_ request: StartSigningJobRequest) async throws(Failure) -> StartSigningJobResponse {
        try await send("POST", ["signing-jobs"], request, as: StartSigningJobResponse.self, "StartSigningJob")
    }

    /// DescribeSigningJob until the job leaves InProgress, at most `timeout` seconds (what `aws signer wait
    /// successful-signing-job` does, polling faster because a local service signs in milliseconds).
    public func waitForSigningJob(jobId: String, timeout: Double) async throws(Failure) -> DescribeSigningJobResponse {
        let deadline = Date().addingTimeInterval(timeout)
        var pause: UInt64 = 5_000_000
        while true {
            let job = try await describeSigningJob(jobId: jobId)
            if job.status != .inProgress { return job }
            guard Date() < deadline else {
                throw Failure(message: "signing job \(jobId) is still InProgress after \(Int(timeout)) s")
            }
            try? await Task.sleep(nanoseconds: pause)
            pause = min(pause * 2, 500_000_000)
        }
    }

    /// RevokeSignature.
    public func revokeSignature(jobId: String, reason: String) async throws(Failure) {
        _ = try await call("PUT", ["signing-jobs", jobId, "revoke"], body: try encode(RevokeSignatureRequest(reason: reason), "RevokeSignature"),
                           service: .signer, headers: [("content-type", "application/json")])
    }

    /// RevokeSigningProfile.
    public func revokeSigningProfile(name: String, profileVersion: String, effectiveTime: Date, reason: String) async throws(Failure) {
        let request = RevokeSigningProfileRequest(profileVersion: profileVersion, reason: reason, effectiveTime: effectiveTime)
        _ = try await call("PUT", ["signing-profiles", name, "revoke"], body: try encode(request, "RevokeSigningProfile"),
                           service: .signer, headers: [("content-type", "application/json")])
    }

    private func send<Request: Encodable, Answer: Decodable>(_ method: String, _ segments: [String], _ request: Request, as: Answer.Type,
                                                             _ operation: String) async throws(Failure) -> Answer {
        let data = try await call(method, segments, body: try encode(request, operation), service: .signer,
                                  headers: [("content-type", "application/json")])
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        do {
            return try decoder.decode(Answer.self, from: Data(data))
        } catch {
            throw Failure(message: "\(operation) answered JSON that is not its response: \(error)")
        }
    }

    private func encode(_ value: some Encodable, _ operation: String) throws(Failure) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw Failure(message: "\(operation): the request does not encode: \(error)")
        }
    }
}
