import CodeSigning
import Foundation
import Logging
import SignerAPI
import X509

/// Runs one signing job outside the service actor: reads the source version, signs it as the platform says,
/// writes the signed object to `prefix + jobId` in the destination bucket, and records Succeeded or Failed.
struct JobRunner: Sendable {
    let region: String
    let store: any SignerStore
    let objects: any ObjectStore
    let keys: any KeyStore
    let managed: ManagedKeys
    let lease: JobLease
    let now: @Sendable () -> Date
    let logger: Logger

    func run(_ job: JobRecord) async {
        var job = job
        let started = now()
        do {
            job.signedObject = try await signRetryingOutages(job)
            job.status = .succeeded
            job.statusReason = "Signing Succeeded"
        } catch let error as CodeSigningError {
            job.status = .failed
            job.statusReason = error.message
        } catch let error as S3Error {
            job.status = .failed
            switch error.code {
            case .noSuchKey, .noSuchVersion:
                job.statusReason = "The source object s3://\(job.source?.bucketName ?? "")/\(job.source?.key ?? "") version \(job.source?.version ?? "") does not exist (\(error.code.rawValue))"
            default:
                job.statusReason = error.description
            }
        } catch let error as SignerError {
            job.status = .failed
            job.statusReason = error.message
        } catch {
            job.status = .failed
            job.statusReason = "Signing failed: \(error)"
        }
        job.completedAt = Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))
        // The store may be briefly unreachable (a database restart): retry for about one lease; after that the lease
        // lapses and this or another instance runs the job again.
        var attempt = 0
        while true {
            do {
                guard try await store.finishJob(job, lease: lease) else {
                    logger.warning("another instance took this job over (its lease expired); its outcome stands", metadata: ["job": "\(job.jobId)"])
                    return
                }
                break
            } catch {
                attempt += 1
                guard Double(attempt) * 0.5 < lease.duration else {
                    logger.error("cannot record the job's outcome; it runs again once its lease expires", metadata: ["job": "\(job.jobId)", "error": "\(error)"])
                    return
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        let elapsed = String(format: "%.1f", now().timeIntervalSince(started) * 1000)
        logger.info("job finished", metadata: ["job": "\(job.jobId)", "status": "\(job.status.rawValue)", "ms": "\(elapsed)",
                                                "reason": "\(job.statusReason ?? "")"])
    }

    /// A store that cannot be reached (`StoreError`: a database restart, the object store briefly down) is retried
    /// for about 7 s before the job fails with the reason; every other error fails the job at once.
    private func signRetryingOutages(_ job: JobRecord) async throws -> S3SignedObject {
        var delay = 1.0
        while true {
            do {
                return try await sign(job)
            } catch let error as StoreError where delay <= 4 {
                logger.warning("a store is unreachable while signing; retrying", metadata: ["job": "\(job.jobId)", "error": "\(error)",
                                                                                            "retry_in_s": "\(delay)"])
                try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                delay *= 2
            }
        }
    }

    /// Hashing and signing an image is CPU work of up to a second: it runs on its own threads, so Swift's cooperative
    /// pool (two threads on a 2-core machine) stays free for requests and for renewing job leases. A lease that is
    /// not renewed in time is taken over by another instance.
    static let signingQueue = DispatchQueue(label: "otarig.signing", qos: .userInitiated, attributes: .concurrent)

    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            signingQueue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    private func sign(_ job: JobRecord) async throws -> S3SignedObject {
        guard let source = job.source, let bucket = job.destination?.bucketName else {
            throw SignerError.validation("the job has no source or destination")
        }
        guard let platform = PlatformCatalog.platform(id: job.platformId) else {
            throw SignerError.validation("unknown platform \(job.platformId)")
        }
        let key: SigningKey
        if let arn = job.signingMaterial?.certificateArn {
            guard let record = try await keys.certificate(arn: arn) else {
                throw SignerError.validation("The signing certificate \(arn) no longer exists in ACM")
            }
            if let certificate = try? CertificateBundle.parseCertificates(Array(record.certificatePEM.utf8), what: "certificate").first {
                do {
                    try CertificateBundle.checkValidity(certificate, now: now())
                } catch {
                    throw SignerError.validation("The signing certificate \(arn) is outside its validity period (\(record.summary.notBefore) to \(record.summary.notAfter)); it can no longer sign")
                }
            }
            key = try await keys.signingKey(arn: arn)
        } else {
            key = try await managed.notationMaterial(now: now()).key
        }
        let (_, payload) = try await objects.get(bucket: source.bucketName, key: source.key, versionId: source.version)
        let plan = try SigningPlan.resolve(platform: platform, overrides: job.overrides, key: key)
        let location = S3Source(bucketName: source.bucketName, key: source.key, version: source.version)
        let document = try await Self.offThePool { try plan.sign(payload, with: key, payloadLocation: location) }
        let objectKey = (job.destination?.prefix ?? "") + job.jobId
        _ = try await objects.put(bucket: bucket, key: objectKey, data: document.encoded(), contentType: "application/json", now: now())
        return S3SignedObject(bucketName: bucket, key: objectKey)
    }
}
