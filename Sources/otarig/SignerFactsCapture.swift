import ArgumentParser
import CodeSigning
import Crypto
import Foundation
import OTAVerifier
import SignerAPI
import SignerHTTP

/// Where a signing service is and who calls it: the endpoint, region and credentials the aws CLI would use.
struct SignerEndpointOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The signing service (otarig serve or AWS Signer). Default: $AWS_ENDPOINT_URL_SIGNER, then $AWS_ENDPOINT_URL.", valueName: "url"))
    var endpoint: String?

    @Option(help: ArgumentHelp("The region requests are signed for. Default: $AWS_REGION, $AWS_DEFAULT_REGION, then us-east-1.", valueName: "region"))
    var region: String?

    @Option(name: .customLong("aws-profile"), help: ArgumentHelp("The credentials profile. Default: $AWS_PROFILE, then default; keys in $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY win.", valueName: "name"))
    var awsProfile: String?

    func client() throws -> AWSServiceClient {
        try Self.client(endpoint: endpoint, region: region, awsProfile: awsProfile)
    }

    static func client(endpoint: String?, region: String?, awsProfile: String?) throws -> AWSServiceClient {
        let environment = ProcessInfo.processInfo.environment
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let text = endpoint ?? env("AWS_ENDPOINT_URL_SIGNER") ?? env("AWS_ENDPOINT_URL") else {
            throw OtarigError("no signing service: pass --endpoint URL (e.g. http://127.0.0.1:8765 for 'otarig serve') or set AWS_ENDPOINT_URL")
        }
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw OtarigError("--endpoint '\(text)' is not an http URL such as http://127.0.0.1:8765")
        }
        guard scheme == "http" else {
            throw OtarigError("--endpoint '\(text)' is https; otarig speaks plain http to a signing service on the lab network (otarig serve). For AWS Signer, capture through an http proxy that forwards to it")
        }
        let region = region ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1"
        let signer: SigV4ClientSigner
        if let id = env("AWS_ACCESS_KEY_ID"), let secret = env("AWS_SECRET_ACCESS_KEY") {
            signer = SigV4ClientSigner(accessKeyId: id, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN"), region: region)
        } else {
            let path = env("AWS_SHARED_CREDENTIALS_FILE") ?? (NSHomeDirectory() + "/.aws/credentials")
            let profile = awsProfile ?? env("AWS_PROFILE") ?? "default"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw OtarigError("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_SHARED_CREDENTIALS_FILE ('\(path)' does not read); 'otarig serve' prints the file it made")
            }
            let credentials: [Credential]
            do {
                credentials = try CredentialsFile.parse(String(decoding: data, as: UTF8.self))
            } catch {
                throw OtarigError("the credentials file '\(path)': \(error.message)")
            }
            guard let credential = credentials.first(where: { $0.profile == profile }) else {
                throw OtarigError("the credentials file '\(path)' has no [\(profile)] profile; it has \(credentials.map { "[\($0.profile)]" }.joined(separator: ", ")); pass --aws-profile")
            }
            signer = SigV4ClientSigner(accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, region: region)
        }
        return AWSServiceClient(endpoint: url, signer: signer)
    }
}

/// A SigV4-signed HTTP client for the Signer REST-JSON API, the S3 GetObject and ACM GetCertificate calls a capture needs.
struct AWSServiceClient: Sendable {
    var endpoint: URL
    var signer: SigV4ClientSigner

    struct Failure: Error { var message: String }

    /// Sends one request; `path` segments are encoded here. A non-2xx answer throws with the service's message.
    func call(_ method: String, _ segments: [String], query: [(String, String)] = [], body: [UInt8] = [], service: String,
              headers: [(name: String, value: String)] = []) async throws -> Data {
        let rawPath = "/" + segments.map { SigV4ClientSigner.encode($0) }.joined(separator: "/")
        let rawQuery = query.map { "\(SigV4ClientSigner.encode($0.0))=\(SigV4ClientSigner.encode($0.1))" }.joined(separator: "&")
        let host = endpoint.host ?? "127.0.0.1"
        let port = endpoint.port ?? 80
        let hostHeader = endpoint.port.map { "\(host):\($0)" } ?? host
        let target = rawPath + (rawQuery.isEmpty ? "" : "?" + rawQuery)
        let signed = signer.sign(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: [("host", hostHeader)] + headers, body: body,
                                 service: service, now: Date())
        let response: HTTPClient.Response
        do {
            response = try HTTPClient.send(host: host, port: port, method: method, target: target,
                                           headers: [("host", hostHeader)] + headers + signed, body: body)
        } catch {
            throw Failure(message: "cannot reach \(endpoint.absoluteString): \(error)")
        }
        guard (200..<300).contains(response.status) else {
            let text = String(decoding: response.body.prefix(400), as: UTF8.self)
            throw Failure(message: "\(method) \(rawPath) answered HTTP \(response.status): \(text)")
        }
        return Data(response.body)
    }

    func signer<T: Decodable>(_ type: T.Type, _ segments: [String], query: [(String, String)] = []) async throws -> T {
        let data = try await call("GET", segments, query: query, service: "signer")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        do {
            return try decoder.decode(T.self, from: data)
        } catch {
            throw Failure(message: "GET /\(segments.joined(separator: "/")) answered JSON that is not a \(T.self): \(error)")
        }
    }
}

/// Reads the facts the policy layer needs from a signing service: every succeeded signing job (DescribeSigningJob),
/// its signature (the signed object, read from the destination bucket), its profile's revocation
/// (GetSigningProfile), and the service's own answer on the job and the profile version at the signing time
/// (GetRevocationStatus).
enum SignerFactsCapture {
    static func capture(_ client: AWSServiceClient, progress: (String) -> Void) async throws -> SignerFacts {
        var facts = SignerFacts(capturedAt: Date(), source: client.endpoint.absoluteString)
        var summaries: [SigningJob] = []
        var token: String?
        repeat {
            var query = [("maxResults", "25")]
            if let token { query.append(("nextToken", token)) }
            let page = try await client.signer(ListSigningJobsResponse.self, ["signing-jobs"], query: query)
            summaries += page.jobs
            token = page.nextToken
        } while token != nil

        var profiles: [String: GetSigningProfileResponse] = [:]
        var certificateHashes: [String: String] = [:]
        for summary in summaries where summary.status == .succeeded {
            let job = try await client.signer(DescribeSigningJobResponse.self, ["signing-jobs", summary.jobId])
            let profileKey = job.profileName + "\u{0}" + job.jobOwner
            if profiles[profileKey] == nil {
                profiles[profileKey] = try? await client.signer(GetSigningProfileResponse.self, ["signing-profiles", job.profileName],
                                                                query: [("profileOwner", job.jobOwner)])
            }
            let profile = profiles[profileKey]
            let signedAt = job.completedAt ?? job.createdAt

            var signature = ""
            if let bucket = job.signedObject?.s3?.bucketName, let key = job.signedObject?.s3?.key {
                do {
                    let object = try await client.call("GET", [bucket] + key.split(separator: "/", omittingEmptySubsequences: false).map(String.init), service: "s3")
                    signature = try SignedObjectDocument(decoding: object).signatureBase64
                } catch {
                    progress("warning: signing job \(job.jobId): its signed object s3://\(bucket)/\(key) does not read (\(error)); the job cannot be matched to an image")
                }
            }

            let jobArn = "arn:aws:signer:\(client.signer.region):\(job.jobOwner):/signing-jobs/\(job.jobId)"
            let versionArn = profile.map { "\($0.arn)/\(job.profileVersion)" }
            var revokedEntities: [String]?
            if let certificateArn = job.signingMaterial?.certificateArn, certificateHashes[certificateArn] == nil {
                certificateHashes[certificateArn] = try? await certificateHash(client, arn: certificateArn)
            }
            if let versionArn, let hash = job.signingMaterial?.certificateArn.flatMap({ certificateHashes[$0] }) {
                revokedEntities = try? await client.signer(GetRevocationStatusResponse.self, ["revocations"], query: [
                    ("signatureTimestamp", UTCTimestamp.string(signedAt)), ("platformId", job.platformId),
                    ("profileVersionArn", versionArn), ("jobArn", jobArn), ("certificateHashes", hash),
                ]).revokedEntities
            }
            facts.signingJobs.append(SignerFacts.SigningJob(
                jobId: job.jobId, signature: signature, platformId: job.platformId, profileName: job.profileName,
                profileVersion: job.profileVersion, signedAt: signedAt, signatureExpiresAt: job.signatureExpiresAt,
                revocation: job.revocationRecord.map { .init(revokedAt: $0.revokedAt, revokedBy: $0.revokedBy, reason: $0.reason) },
                jobArn: jobArn, profileVersionArn: versionArn, revokedEntities: revokedEntities))
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
    static func certificateHash(_ client: AWSServiceClient, arn: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["CertificateArn": arn])
        let data = try await client.call("POST", [""], body: Array(body), service: "acm",
                                         headers: [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "CertificateManager.GetCertificate")])
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let pem = object["Certificate"] as? String,
              let body = pem.components(separatedBy: "-----BEGIN CERTIFICATE-----").dropFirst().first?.components(separatedBy: "-----END").first,
              let der = Data(base64Encoded: body.filter { !$0.isWhitespace })
        else { throw AWSServiceClient.Failure(message: "GetCertificate gave no certificate") }
        return SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
    }
}

/// `otarig facts`: signer facts for the policy layer.
struct FactsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facts",
        abstract: "Capture the facts the policy layer checks (revocations, expiry) from a signing service.",
        subcommands: [CaptureCommand.self]
    )

    struct CaptureCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "capture",
            abstract: "Read every signing job's revocation and expiry, and its profile's, into an otarig-signer-facts/1 file.",
            discussion: """
                Calls ListSigningJobs, then for each succeeded job DescribeSigningJob, the signed object in its \
                destination bucket (to match the job to an image by its signature), GetSigningProfile and \
                GetRevocationStatus (with the signing certificate's hash from ACM), all signed with SigV4 as the aws \
                CLI signs them. The file lets 'otarig verify --revocations FILE' check policy offline; \
                'otarig verify --signer URL' does the same capture live.

                Examples:
                  otarig facts capture --endpoint http://127.0.0.1:8765 --out facts.json
                  AWS_ENDPOINT_URL=http://127.0.0.1:8765 AWS_PROFILE=alice otarig facts capture --out facts.json
                Exit status: 0 written, 2 bad input or the service could not be read.
                """
        )

        @OptionGroup var service: SignerEndpointOptions

        @Option(help: ArgumentHelp("Where to write the facts.", valueName: "file"))
        var out: String

        func run() async throws {
            let client = try service.client()
            let facts: SignerFacts
            do {
                facts = try await SignerFactsCapture.capture(client) { Console.error($0) }
            } catch let failure as AWSServiceClient.Failure {
                throw OtarigError("cannot capture signer facts: \(failure.message)")
            }
            try Files.writeAtomically(try facts.encoded(), to: out)
            let revoked = facts.signingJobs.filter { $0.revocation != nil }.count
            Console.out("captured \(facts.signingJobs.count) signing jobs (\(revoked) revoked) and \(facts.profileRevocations.count) profile revocations from \(client.endpoint.absoluteString) into \(out)")
        }
    }
}
