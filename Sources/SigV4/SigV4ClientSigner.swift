import Crypto
import Foundation

/// Signs requests as a client (facts capture talking to a signing service, its S3 and ACM): the same canonical request
/// (`SigV4Canonical`) the verifier checks, so the two cannot drift apart. The time is passed in.
public struct SigV4ClientSigner: Sendable {
    /// The access key id (`AKIA…`).
    public var accessKeyId: String
    /// The secret access key.
    public var secretAccessKey: String
    /// A session token, sent as `x-amz-security-token` when present.
    public var sessionToken: String?
    /// The region requests are scoped to.
    public var region: String

    /// A signer for one key and region.
    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, region: String) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.region = region
    }

    /// The headers to add to a request (`host` must be among `headers`): x-amz-date, x-amz-content-sha256,
    /// x-amz-security-token when there is a session token, and authorization. `rawPath` and `rawQuery` are as sent
    /// (already percent-encoded).
    public func sign(method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)], body: [UInt8],
                     service: String, now: Date) -> [(name: String, value: String)] {
        sign(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: headers, payloadHash: SHA256.hash(data: body).hexString,
             service: service, now: now)
    }

    /// As `sign(method:rawPath:rawQuery:headers:body:service:now:)`, for a body the caller has hashed itself
    /// (`payloadHash`: the lower-case hex SHA-256 of the body, or `UNSIGNED-PAYLOAD` where S3 allows it), so a large
    /// body need not be copied into an array to be signed. It is sent as `x-amz-content-sha256`.
    public func sign(method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)], payloadHash: String,
                     service: String, now: Date) -> [(name: String, value: String)] {
        let timestamp = SigV4Timestamp.format(now)
        var added: [(name: String, value: String)] = [("x-amz-date", timestamp), ("x-amz-content-sha256", payloadHash)]
        if let sessionToken { added.append(("x-amz-security-token", sessionToken)) }
        let all = headers.map { (name: $0.name.lowercased(), value: $0.value) } + added
        let signedHeaders = Set(all.map(\.name)).sorted()
        let auth = SigV4Verifier.Authorization(
            accessKeyId: accessKeyId, date: String(timestamp.prefix(8)), region: region, service: service, signedHeaders: signedHeaders,
            signature: "", timestamp: timestamp, presigned: false, expires: nil)
        // The canonical request takes the payload hash from the x-amz-content-sha256 header among `all`.
        let request = SigV4Verifier.Request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: all, body: [])
        let signature = signature(request, auth: auth)
        added.append(("authorization", "\(SigV4Canonical.algorithm) Credential=\(accessKeyId)/\(auth.date)/\(region)/\(service)/aws4_request, SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"))
        return added
    }

    /// A presigned URL's query (AWS: "Authenticating Requests: Using Query Parameters"): `rawQuery` plus the
    /// `X-Amz-*` parameters, valid for `expires` seconds from `now`. Only `host` is signed and the payload is
    /// `UNSIGNED-PAYLOAD`, as `aws s3 presign` does.
    public func presign(method: String, rawPath: String, rawQuery: String, host: String, service: String, expires: Int, now: Date) -> String {
        let timestamp = SigV4Timestamp.format(now)
        let date = String(timestamp.prefix(8))
        var parameters: [(String, String)] = [
            ("X-Amz-Algorithm", SigV4Canonical.algorithm),
            ("X-Amz-Credential", "\(accessKeyId)/\(date)/\(region)/\(service)/aws4_request"),
            ("X-Amz-Date", timestamp), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", "host"),
        ]
        if let sessionToken { parameters.append(("X-Amz-Security-Token", sessionToken)) }
        let encoded = parameters.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let query = rawQuery.isEmpty ? encoded : rawQuery + "&" + encoded
        let auth = SigV4Verifier.Authorization(accessKeyId: accessKeyId, date: date, region: region, service: service, signedHeaders: ["host"],
                                               signature: "", timestamp: timestamp, presigned: true, expires: expires)
        let request = SigV4Verifier.Request(method: method, rawPath: rawPath, rawQuery: query, headers: [("host", host)], body: [])
        return query + "&X-Amz-Signature=" + signature(request, auth: auth)
    }

    private func signature(_ request: SigV4Verifier.Request, auth: SigV4Verifier.Authorization) -> String {
        SigV4Canonical.signature(canonicalRequest: SigV4Canonical.canonicalRequest(request, auth: auth), auth: auth,
                                 key: SigV4Canonical.signingKey(secret: secretAccessKey, date: auth.date, region: auth.region, service: auth.service))
    }

    /// RFC 3986 encoding for a path segment (`keepSlash` for a whole path) or a query name or value.
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        SigV4Canonical.uriEncode(text, keepSlash: keepSlash)
    }
}
