import Foundation
import SwiftASN1
import X509

/// The host-only policy layer: what a lab may require that no FreeRTOS device checks (the PAL sources check none of it;
/// for certificate expiry a maintainer confirms so in aws/amazon-freertos#2924): revoked signatures and profile
/// versions, signature expiry, certificate dates and the codeSigning EKU. It never changes the device verdict; it is
/// reported beside it.

/// Signer facts for the policy layer, captured from a signing service (`otarig serve` or AWS) so checks run offline.
/// The file format "otarig-signer-facts/1" (JSON):
///
///     {"format": "otarig-signer-facts/1", "capturedAt": "2026-11-22T10:00:00Z", "source": "http://127.0.0.1:8765",
///      "signingJobs": [{"jobId": "…", "signature": "<base64, as in the job document>", "platformId": "…",
///                       "profileName": "…", "profileVersion": "…", "signedAt": "<ISO 8601>",
///                       "signatureExpiresAt": null,
///                       "revocation": {"revokedAt": "…", "revokedBy": "…", "reason": "…"},
///                       "jobArn": "…", "profileVersionArn": "…",
///                       "revokedEntities": ["<ARNs GetRevocationStatus named at the signing time>"] }],
///      "profileRevocations": [{"profileName": "…", "profileVersion": "…", "effectiveTime": "…",
///                              "revokedAt": "…", "reason": "…"}]}
///
/// A signing job is matched to the image by its signature bytes (what DescribeSigningJob's signed object and the job
/// document both carry).
public struct SignerFacts: Codable, Sendable, Equatable {
    public static let formatName = "otarig-signer-facts/1"

    public var format: String
    public var capturedAt: Date?
    public var source: String?
    public var signingJobs: [SigningJob]
    public var profileRevocations: [ProfileRevocation]

    public struct SigningJob: Codable, Sendable, Equatable {
        public var jobId: String
        public var signature: String
        public var platformId: String?
        public var profileName: String?
        public var profileVersion: String?
        public var signedAt: Date?
        public var signatureExpiresAt: Date?
        public var revocation: Revocation?
        public var jobArn: String?
        public var profileVersionArn: String?
        /// What the service's GetRevocationStatus answered for this job at its signing time (nil: not asked).
        public var revokedEntities: [String]?

        public init(jobId: String, signature: String, platformId: String? = nil, profileName: String? = nil,
                    profileVersion: String? = nil, signedAt: Date? = nil, signatureExpiresAt: Date? = nil,
                    revocation: Revocation? = nil, jobArn: String? = nil, profileVersionArn: String? = nil,
                    revokedEntities: [String]? = nil) {
            self.jobArn = jobArn
            self.profileVersionArn = profileVersionArn
            self.revokedEntities = revokedEntities
            self.jobId = jobId
            self.signature = signature
            self.platformId = platformId
            self.profileName = profileName
            self.profileVersion = profileVersion
            self.signedAt = signedAt
            self.signatureExpiresAt = signatureExpiresAt
            self.revocation = revocation
        }
    }

    public struct Revocation: Codable, Sendable, Equatable {
        public var revokedAt: Date?
        public var revokedBy: String?
        public var reason: String?

        public init(revokedAt: Date? = nil, revokedBy: String? = nil, reason: String? = nil) {
            self.revokedAt = revokedAt
            self.revokedBy = revokedBy
            self.reason = reason
        }
    }

    public struct ProfileRevocation: Codable, Sendable, Equatable {
        public var profileName: String
        public var profileVersion: String
        public var effectiveTime: Date
        public var revokedAt: Date?
        public var reason: String?

        public init(profileName: String, profileVersion: String, effectiveTime: Date, revokedAt: Date? = nil, reason: String? = nil) {
            self.profileName = profileName
            self.profileVersion = profileVersion
            self.effectiveTime = effectiveTime
            self.revokedAt = revokedAt
            self.reason = reason
        }
    }

    public init(capturedAt: Date? = nil, source: String? = nil, signingJobs: [SigningJob] = [], profileRevocations: [ProfileRevocation] = []) {
        format = Self.formatName
        self.capturedAt = capturedAt
        self.source = source
        self.signingJobs = signingJobs
        self.profileRevocations = profileRevocations
    }

    /// Decodes the file format, with a message naming what is wrong.
    public static func decode(_ data: Data) throws(PolicyError) -> SignerFacts {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let facts: SignerFacts
        do {
            facts = try decoder.decode(SignerFacts.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw PolicyError("missing \"\(key.stringValue)\" at \(path(context))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw PolicyError("wrong type at \(path(context)): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw PolicyError("\(context.debugDescription) at \(path(context)) (dates are ISO 8601, e.g. 2026-11-22T10:00:00Z)")
        } catch {
            throw PolicyError("not JSON: \(error)")
        }
        guard facts.format == formatName else {
            throw PolicyError("format is \"\(facts.format)\"; this otarig reads \"\(formatName)\"")
        }
        return facts
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "the top level" : String(path.drop { $0 == "." })
    }
}

public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One policy check and what it found.
public struct PolicyFinding: Sendable, Equatable {
    public enum Check: String, Sendable, CaseIterable {
        case signatureRevoked = "signature-revoked"
        case profileRevoked = "profile-revoked"
        case signatureExpired = "signature-expired"
        case certificateValidity = "certificate-validity"
        case codeSigningEKU = "code-signing-eku"
    }

    public enum Result: String, Sendable {
        case pass, fail
        /// The facts needed are missing (no snapshot, or the signature is not in it).
        case unknown
    }

    public var check: Check
    public var result: Result
    public var detail: String

    public init(check: Check, result: Result, detail: String) {
        self.check = check
        self.result = result
        self.detail = detail
    }
}

public struct PolicyVerdict: Sendable {
    public var findings: [PolicyFinding]
    public var passed: Bool { !findings.contains { $0.result == .fail } }
    public var failures: [PolicyFinding] { findings.filter { $0.result == .fail } }
}

public enum Policy {
    /// Evaluates the policy for the signature the job carried and the certificate the device used, at `now`.
    public static func evaluate(signature: [UInt8], certificate: [UInt8]?, facts: SignerFacts?, now: Date) -> PolicyVerdict {
        var findings: [PolicyFinding] = []
        let encoded = Data(signature).base64EncodedString()
        let job = facts?.signingJobs.first { $0.signature == encoded }

        if facts == nil {
            findings.append(.init(check: .signatureRevoked, result: .unknown, detail: "no signer facts given (--revocations FILE)"))
        } else if let job {
            if let revocation = job.revocation {
                let when = revocation.revokedAt.map { " at \(iso($0))" } ?? ""
                findings.append(.init(check: .signatureRevoked, result: .fail,
                                      detail: "signing job \(job.jobId)'s signature was revoked\(when)\(revocation.reason.map { ": \($0)" } ?? "")"))
            } else if let arn = job.jobArn, job.revokedEntities?.contains(arn) == true {
                findings.append(.init(check: .signatureRevoked, result: .fail,
                                      detail: "the service's GetRevocationStatus lists signing job \(job.jobId) as revoked"))
            } else {
                findings.append(.init(check: .signatureRevoked, result: .pass, detail: "signing job \(job.jobId) is not revoked"))
            }
        } else {
            findings.append(.init(check: .signatureRevoked, result: .unknown, detail: "the signature is not one of the \(facts?.signingJobs.count ?? 0) signing jobs in the facts"))
        }

        if let job, let name = job.profileName, let version = job.profileVersion {
            let revoked = facts?.profileRevocations.first { $0.profileName == name && $0.profileVersion == version }
            if let revoked, let signedAt = job.signedAt {
                if revoked.effectiveTime <= signedAt {
                    findings.append(.init(check: .profileRevoked, result: .fail,
                                          detail: "profile \(name) version \(version) was revoked effective \(iso(revoked.effectiveTime)), at or before the signing time \(iso(signedAt))\(revoked.reason.map { ": \($0)" } ?? "")"))
                } else {
                    findings.append(.init(check: .profileRevoked, result: .pass,
                                          detail: "profile \(name) version \(version) is revoked effective \(iso(revoked.effectiveTime)), after this signature (\(iso(signedAt)))"))
                }
            } else if revoked != nil {
                findings.append(.init(check: .profileRevoked, result: .unknown, detail: "profile \(name) version \(version) is revoked but the signing time is unknown"))
            } else if let arn = job.profileVersionArn, job.revokedEntities?.contains(arn) == true {
                findings.append(.init(check: .profileRevoked, result: .fail,
                                      detail: "the service's GetRevocationStatus lists profile \(name) version \(version) as revoked at the signing time"))
            } else {
                findings.append(.init(check: .profileRevoked, result: .pass, detail: "profile \(name) version \(version) is not revoked"))
            }
        } else {
            findings.append(.init(check: .profileRevoked, result: .unknown, detail: "no signing job with a profile version for this signature"))
        }

        if let expires = job?.signatureExpiresAt {
            findings.append(expires <= now
                ? .init(check: .signatureExpired, result: .fail, detail: "the signature expired at \(iso(expires))")
                : .init(check: .signatureExpired, result: .pass, detail: "the signature is valid until \(iso(expires))"))
        } else {
            findings.append(.init(check: .signatureExpired, result: job == nil ? .unknown : .pass,
                                  detail: job == nil ? "no signing job for this signature" : "the signature has no expiry (FreeRTOS platforms have none)"))
        }

        if let certificate, let parsed = parseAny(certificate) {
            let notBefore = parsed.notValidBefore, notAfter = parsed.notValidAfter
            if now < notBefore {
                findings.append(.init(check: .certificateValidity, result: .fail, detail: "the certificate is not valid before \(iso(notBefore))"))
            } else if now > notAfter {
                findings.append(.init(check: .certificateValidity, result: .fail, detail: "the certificate expired at \(iso(notAfter))"))
            } else {
                findings.append(.init(check: .certificateValidity, result: .pass, detail: "valid from \(iso(notBefore)) to \(iso(notAfter))"))
            }
            let eku = try? parsed.extensions.extendedKeyUsage
            if let eku, eku.contains(.codeSigning) {
                findings.append(.init(check: .codeSigningEKU, result: .pass, detail: "extendedKeyUsage has codeSigning (1.3.6.1.5.5.7.3.3)"))
            } else {
                findings.append(.init(check: .codeSigningEKU, result: .fail,
                                      detail: eku == nil ? "the certificate has no extendedKeyUsage; AWS requires codeSigning (1.3.6.1.5.5.7.3.3)" : "extendedKeyUsage lacks codeSigning (1.3.6.1.5.5.7.3.3)"))
            }
        } else {
            findings.append(.init(check: .certificateValidity, result: .unknown, detail: "no certificate the device used"))
            findings.append(.init(check: .codeSigningEKU, result: .unknown, detail: "no certificate the device used"))
        }
        return PolicyVerdict(findings: findings)
    }

    private static func parseAny(_ bytes: [UInt8]) -> Certificate? {
        if let der = SignatureChecker.pemBlocks(bytes)?.first, let certificate = try? Certificate(derEncoded: der) { return certificate }
        return try? Certificate(derEncoded: bytes)
    }

    static func iso(_ date: Date) -> String {
        UTCTimestamp.string(date)
    }
}
