import Crypto
import Foundation

/// AWS Signature Version 4 verification, as a value: give it the request's parts, it says who signed or why not.
/// No I/O and no clock reads (the time is passed in).
///
/// The canonical request (`SigV4Canonical`) is rebuilt the way botocore builds it (`botocore/auth.py`,
/// `SigV4Auth.canonical_request`). Header and presigned-query forms.
public struct SigV4Verifier: Sendable {
    /// The largest clock difference accepted: 15 minutes, as AWS allows.
    public static let maximumSkew: TimeInterval = 15 * 60

    /// A request as it arrived (or as a client will send it).
    public struct Request: Sendable {
        /// The HTTP method, e.g. `GET`.
        public var method: String
        /// The path as sent, still percent-encoded.
        public var rawPath: String
        /// The query as sent, without the `?`.
        public var rawQuery: String
        /// Header names lower-cased; repeated headers appear repeatedly.
        public var headers: [(name: String, value: String)]
        /// The body bytes.
        public var body: [UInt8]

        /// A request from its parts.
        public init(method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)], body: [UInt8]) {
            self.method = method
            self.rawPath = rawPath
            self.rawQuery = rawQuery
            self.headers = headers
            self.body = body
        }

        func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
    }

    /// Who signed: the credential and the scope the request was signed for.
    public struct Identity: Sendable, Equatable {
        /// The key that signed.
        public var credential: Credential
        /// The service of the credential scope (`signer`, `s3`, `acm`).
        public var service: String
        /// The region of the credential scope.
        public var region: String
    }

    /// Why a request was refused. `code` is the AWS error name for the service's protocol.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What went wrong.
        public enum Kind: Sendable, Equatable {
            case missing, malformed, unknownKey, badSignature, skewed, wrongRegion
        }
        /// What went wrong.
        public var kind: Kind
        /// What to tell the caller.
        public var message: String
        /// The message.
        public var description: String { message }

        /// A failure of `kind` with `message`.
        public init(kind: Kind, message: String) {
            self.kind = kind
            self.message = message
        }
    }

    /// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header or of presigned query parameters.
    public struct Authorization: Sendable, Equatable {
        public var accessKeyId: String
        public var date: String
        public var region: String
        public var service: String
        public var signedHeaders: [String]
        public var signature: String
        public var timestamp: String
        public var presigned: Bool
        public var expires: Int?

        /// The parts, as read from a request or as a client is about to send them.
        public init(accessKeyId: String, date: String, region: String, service: String, signedHeaders: [String], signature: String,
                    timestamp: String, presigned: Bool, expires: Int?) {
            self.accessKeyId = accessKeyId
            self.date = date
            self.region = region
            self.service = service
            self.signedHeaders = signedHeaders
            self.signature = signature
            self.timestamp = timestamp
            self.presigned = presigned
            self.expires = expires
        }
    }

    /// The accepted keys by access key id.
    public let credentials: [String: Credential]
    private let signingKeys = SigningKeyCache()

    /// A verifier that accepts `credentials` (the first of a repeated access key id wins).
    public init(credentials: [Credential]) {
        self.credentials = Dictionary(credentials.map { ($0.accessKeyId, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The derived signing key depends only on the secret, the day, the region and the service, so it is kept, as
    /// AWS's SigV4 documentation suggests, instead of being derived for every request.
    final class SigningKeyCache: @unchecked Sendable {
        private let lock = NSLock()
        private var keys: [String: SymmetricKey] = [:]

        func key(secret: String, date: String, region: String, service: String) -> SymmetricKey {
            let name = "\(secret)\u{0}\(date)\u{0}\(region)\u{0}\(service)"
            if let key = lock.withLock({ keys[name] }) { return key }
            let key = SigV4Canonical.signingKey(secret: secret, date: date, region: region, service: service)
            lock.withLock {
                if keys.count > 1024 { keys.removeAll() }
                keys[name] = key
            }
            return key
        }
    }

    /// Reads the authorization parts without checking them (the service decides how much body to accept).
    public static func authorization(of request: Request) throws(Failure) -> Authorization {
        if let header = request.header("authorization") {
            guard header.hasPrefix("AWS4-HMAC-SHA256 ") else {
                throw Failure(kind: .malformed, message: "Only AWS4-HMAC-SHA256 (Signature Version 4) is supported")
            }
            var fields: [Substring: Substring] = [:]
            for part in header.utf8.dropFirst("AWS4-HMAC-SHA256 ".utf8.count).split(separator: UInt8(ascii: ",")) {
                let trimmed = Substring(part).drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                fields[trimmed[..<equals]] = trimmed[trimmed.index(after: equals)...]
            }
            guard let credential = fields["Credential"].map(String.init), let signedHeaders = fields["SignedHeaders"].map(String.init),
                  let signature = fields["Signature"].map(String.init) else {
                throw Failure(kind: .malformed, message: "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'")
            }
            guard let timestamp = request.header("x-amz-date") ?? request.header("date") else {
                throw Failure(kind: .malformed, message: "Authorization requires an X-Amz-Date header")
            }
            return try parts(credential: credential, signedHeaders: signedHeaders, signature: signature, timestamp: timestamp, presigned: false, expires: nil)
        }
        let query = SigV4Canonical.queryPairs(request.rawQuery)
        func value(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
        guard let algorithm = value("X-Amz-Algorithm") else {
            throw Failure(kind: .missing, message: "Missing Authentication Token: sign the request with Signature Version 4")
        }
        guard algorithm == "AWS4-HMAC-SHA256" else {
            throw Failure(kind: .malformed, message: "X-Amz-Algorithm must be AWS4-HMAC-SHA256")
        }
        guard let credential = value("X-Amz-Credential"), let signedHeaders = value("X-Amz-SignedHeaders"),
              let signature = value("X-Amz-Signature"), let timestamp = value("X-Amz-Date") else {
            throw Failure(kind: .malformed, message: "A presigned URL needs X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature")
        }
        let expires = value("X-Amz-Expires").flatMap(Int.init)
        return try parts(credential: credential, signedHeaders: signedHeaders, signature: signature, timestamp: timestamp, presigned: true, expires: expires)
    }

    private static func parts(credential: String, signedHeaders: String, signature: String, timestamp: String, presigned: Bool,
                              expires: Int?) throws(Failure) -> Authorization {
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request", scope[1].count == 8 else {
            throw Failure(kind: .malformed, message: "Credential should be scoped correctly: <key>/<yyyymmdd>/<region>/<service>/aws4_request (got '\(credential)')")
        }
        return Authorization(accessKeyId: scope[0], date: scope[1], region: scope[2], service: scope[3],
                             signedHeaders: signedHeaders.split(separator: ";").map { Self.asciiLowercased($0) },
                             signature: Self.asciiLowercased(signature[...]), timestamp: timestamp, presigned: presigned, expires: expires)
    }

    static func asciiLowercased(_ text: Substring) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }

    /// Checks the signature, the key and the clock. `region` is the server's; a request scoped elsewhere is refused.
    public func verify(_ request: Request, now: Date, region: String) throws(Failure) -> Identity {
        try verify(request, authorization: try Self.authorization(of: request), now: now, region: region)
    }

    /// `verify` with the authorization already read (the server reads it first to choose the body limit).
    public func verify(_ request: Request, authorization auth: Authorization, now: Date, region: String) throws(Failure) -> Identity {
        guard let credential = credentials[auth.accessKeyId] else {
            throw Failure(kind: .unknownKey, message: "The security token included in the request is invalid: unknown access key \(auth.accessKeyId)")
        }
        guard let signedAt = SigV4Timestamp.parse(auth.timestamp) else {
            throw Failure(kind: .malformed, message: "X-Amz-Date '\(auth.timestamp)' is not in the form 20240102T030405Z")
        }
        guard auth.timestamp.hasPrefix(auth.date) else {
            throw Failure(kind: .malformed, message: "The credential scope date \(auth.date) does not match X-Amz-Date \(auth.timestamp)")
        }
        if auth.presigned {
            let expires = TimeInterval(auth.expires ?? 900)
            guard now <= signedAt.addingTimeInterval(expires), now >= signedAt.addingTimeInterval(-Self.maximumSkew) else {
                throw Failure(kind: .skewed, message: "Request has expired: signed at \(auth.timestamp), valid for \(Int(expires)) seconds")
            }
        } else if abs(now.timeIntervalSince(signedAt)) > Self.maximumSkew {
            throw Failure(kind: .skewed, message: "Signature expired: \(auth.timestamp) is now earlier than \(SigV4Timestamp.format(now.addingTimeInterval(-Self.maximumSkew))) (\(SigV4Timestamp.format(now)) - 15 min.)")
        }
        guard auth.region == region else {
            throw Failure(kind: .wrongRegion, message: "Credential should be scoped to a valid region: this server serves \(region), the request was signed for '\(auth.region)' (set AWS_DEFAULT_REGION=\(region))")
        }
        guard auth.signedHeaders.contains("host") else {
            throw Failure(kind: .malformed, message: "The host header must be signed")
        }
        let expected = signature(for: request, auth: auth, secret: credential.secretAccessKey)
        guard SigV4Canonical.constantTimeEqual(expected, auth.signature) else {
            throw Failure(kind: .badSignature, message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
        }
        if !auth.presigned, let declared = request.header("x-amz-content-sha256"), declared.count == 64 {
            let actual = SHA256.hash(data: request.body).hexString
            guard declared.lowercased() == actual else {
                throw Failure(kind: .badSignature, message: "The provided 'x-amz-content-sha256' header does not match what was computed.")
            }
        }
        return Identity(credential: credential, service: auth.service, region: auth.region)
    }

    /// The signature a client with `secret` would send (the server's cached signing key).
    public func signature(for request: Request, auth: Authorization, secret: String) -> String {
        SigV4Canonical.signature(canonicalRequest: SigV4Canonical.canonicalRequest(request, auth: auth), auth: auth,
                                 key: signingKeys.key(secret: secret, date: auth.date, region: auth.region, service: auth.service))
    }
}
