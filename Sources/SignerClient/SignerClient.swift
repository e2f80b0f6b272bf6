import Foundation
import SigV4
import SignerAPI

/// A SigV4-signed client of a signing service's Signer REST-JSON API and the S3 GetObject and ACM GetCertificate
/// calls facts capture needs. The transport is given (`AsyncHTTPTransport` in the tool; the responder itself in tests).
public struct SignerClient: Sendable {
    /// The service's base URL (`http://127.0.0.1:8765`).
    public var endpoint: URL
    /// Signs every request.
    public var signer: SigV4ClientSigner
    /// Carries the signed requests.
    public var transport: any HTTPTransport
    /// The clock used for the signatures' `X-Amz-Date`.
    public var now: @Sendable () -> Date

    /// A client of `endpoint` (http or https; host and optional port).
    public init(endpoint: URL, signer: SigV4ClientSigner, transport: any HTTPTransport = AsyncHTTPTransport(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.endpoint = endpoint
        self.signer = signer
        self.transport = transport
        self.now = now
    }

    /// A call that could not be made or that the service refused; the message says which and why.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What went wrong, with the service's own message for a non-2xx answer.
        public var message: String
        /// The message.
        public var description: String { message }
    }

    /// The services a request can be signed for: the credential scope's service name.
    public enum Service: String, Sendable {
        /// AWS Signer (REST-JSON).
        case signer
        /// Amazon S3 (REST-XML, path style).
        case s3
        /// AWS Certificate Manager (JSON 1.1).
        case acm
    }

    /// Sends one request; `segments` are encoded here. A non-2xx answer throws with the service's message.
    public func call(_ method: String, _ segments: [String], query: [(String, String)] = [], body: [UInt8] = [], service: Service,
                     headers: [(name: String, value: String)] = []) async throws(Failure) -> [UInt8] {
        try await exchange(method, segments, query: query, body: body, service: service, headers: headers).body
    }

    /// Sends one request and returns the whole answer (status, headers, body); a non-2xx answer throws.
    public func exchange(_ method: String, _ segments: [String], query: [(String, String)] = [], body: [UInt8] = [], service: Service,
                         headers: [(name: String, value: String)] = []) async throws(Failure) -> HTTPExchange.Response {
        let rawPath = "/" + segments.map { SigV4ClientSigner.encode($0) }.joined(separator: "/")
        let rawQuery = query.map { "\(SigV4ClientSigner.encode($0.0))=\(SigV4ClientSigner.encode($0.1))" }.joined(separator: "&")
        let host = endpoint.host ?? "127.0.0.1"
        let scheme = endpoint.scheme?.lowercased() ?? "http"
        let port = endpoint.port ?? (scheme == "https" ? 443 : 80)
        let hostHeader = endpoint.port.map { "\(host):\($0)" } ?? host
        let target = rawPath + (rawQuery.isEmpty ? "" : "?" + rawQuery)
        let unsigned = [("host", hostHeader)] + headers
        let signed = signer.sign(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: unsigned, body: body,
                                 service: service.rawValue, now: now())
        let response: HTTPExchange.Response
        do {
            response = try await transport.send(HTTPExchange.Request(method: method, target: target, headers: unsigned + signed, body: body),
                                                to: HTTPOrigin(scheme: scheme, host: host, port: port))
        } catch {
            throw Failure(message: "cannot reach \(endpoint.absoluteString): \(error)")
        }
        guard (200..<300).contains(response.status) else {
            let text = String(decoding: response.body.prefix(400), as: UTF8.self)
            throw Failure(message: "\(method) \(rawPath) answered HTTP \(response.status): \(text)")
        }
        return response
    }

    /// A Signer GET decoded as `T` (timestamps as epoch seconds, as the REST-JSON protocol sends them).
    public func signer<T: Decodable>(_ type: T.Type, _ segments: [String], query: [(String, String)] = []) async throws(Failure) -> T {
        let data = try await call("GET", segments, query: query, service: .signer)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        do {
            return try decoder.decode(T.self, from: Data(data))
        } catch {
            throw Failure(message: "GET /\(segments.joined(separator: "/")) answered JSON that is not a \(T.self): \(error)")
        }
    }

    // MARK: - Operations

    /// ListSigningJobs, one page.
    public func listSigningJobs(maxResults: Int, nextToken: String?) async throws(Failure) -> ListSigningJobsResponse {
        var query = [("maxResults", String(maxResults))]
        if let nextToken { query.append(("nextToken", nextToken)) }
        return try await signer(ListSigningJobsResponse.self, ["signing-jobs"], query: query)
    }

    /// DescribeSigningJob.
    public func describeSigningJob(jobId: String) async throws(Failure) -> DescribeSigningJobResponse {
        try await signer(DescribeSigningJobResponse.self, ["signing-jobs", jobId])
    }

    /// GetSigningProfile (of another account's profile when `profileOwner` is given).
    public func getSigningProfile(profileName: String, profileOwner: String?) async throws(Failure) -> GetSigningProfileResponse {
        try await signer(GetSigningProfileResponse.self, ["signing-profiles", profileName], query: profileOwner.map { [("profileOwner", $0)] } ?? [])
    }

    /// GetRevocationStatus.
    public func getRevocationStatus(signatureTimestamp: String, platformId: String, profileVersionArn: ARN, jobArn: ARN,
                                    certificateHashes: [String]) async throws(Failure) -> GetRevocationStatusResponse {
        try await signer(GetRevocationStatusResponse.self, ["revocations"], query: [
            ("signatureTimestamp", signatureTimestamp), ("platformId", platformId), ("profileVersionArn", profileVersionArn.description),
            ("jobArn", jobArn.description),
        ] + certificateHashes.map { ("certificateHashes", $0) })
    }

    /// S3 GetObject (path style; the key's `/` separate path segments).
    public func getObject(bucket: String, key: String) async throws(Failure) -> [UInt8] {
        try await call("GET", [bucket] + key.split(separator: "/", omittingEmptySubsequences: false).map(String.init), service: .s3)
    }

    /// ACM GetCertificate.
    public func getCertificate(arn: String) async throws(Failure) -> ACM.GetCertificateResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let body: [UInt8]
        do { body = Array(try encoder.encode(ACM.CertificateArnRequest(certificateArn: arn))) } catch {
            throw Failure(message: "GetCertificate: the request does not encode: \(error)")
        }
        let data = try await call("POST", [""], body: body, service: .acm,
                                  headers: [("content-type", "application/x-amz-json-1.1"), ("x-amz-target", ACM.targetPrefix + "GetCertificate")])
        do {
            return try JSONDecoder().decode(ACM.GetCertificateResponse.self, from: Data(data))
        } catch {
            throw Failure(message: "GetCertificate answered JSON that is not a GetCertificate response: \(error)")
        }
    }
}
