import CodeSigning
import Crypto
import Foundation

/// AWS Signature Version 4 verification, as a value: give it the request's parts, it says who signed or why not.
/// No I/O and no clock reads (the time is passed in).
///
/// The canonical request is rebuilt the way botocore builds it (`botocore/auth.py`, `SigV4Auth.canonical_request`):
/// the path as sent for S3, and for other services the path normalised and URI-encoded once more; the query
/// re-encoded with only `-_.~` unescaped and sorted; the signed headers' values trimmed and space-collapsed; the
/// payload hash from `x-amz-content-sha256` or the SHA-256 of the body. Header and presigned-query forms.
public struct SigV4Verifier: Sendable {
    /// The largest clock difference accepted: 15 minutes, as AWS allows.
    public static let maximumSkew: TimeInterval = 15 * 60

    public struct Request: Sendable {
        public var method: String
        public var rawPath: String
        public var rawQuery: String
        /// Header names lower-cased; repeated headers appear repeatedly.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

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
        public var credential: Credential
        public var service: String
        public var region: String
    }

    /// Why a request was refused. `code` is the AWS error name for the service's protocol.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            case missing, malformed, unknownKey, badSignature, skewed, wrongRegion
        }
        public var kind: Kind
        public var message: String
        public var description: String { message }
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
    }

    let credentials: [String: Credential]
    private let signingKeys = SigningKeyCache()

    public init(credentials: [Credential]) {
        self.credentials = Dictionary(credentials.map { ($0.accessKeyId, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The derived signing key (four HMACs from the secret) depends only on the secret, the day, the region and the
    /// service, so it is kept, as AWS's SigV4 documentation suggests, instead of being derived for every request.
    final class SigningKeyCache: @unchecked Sendable {
        private let lock = NSLock()
        private var keys: [String: SymmetricKey] = [:]

        func key(secret: String, date: String, region: String, service: String) -> SymmetricKey {
            let name = "\(secret)\u{0}\(date)\u{0}\(region)\u{0}\(service)"
            if let key = lock.withLock({ keys[name] }) { return key }
            var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
            for part in [date, region, service, "aws4_request"] {
                key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
            }
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
        let query = Self.queryPairs(request.rawQuery)
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
        guard let signedAt = Self.parseTimestamp(auth.timestamp) else {
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
            throw Failure(kind: .skewed, message: "Signature expired: \(auth.timestamp) is now earlier than \(Self.formatTimestamp(now.addingTimeInterval(-Self.maximumSkew))) (\(Self.formatTimestamp(now)) - 15 min.)")
        }
        guard auth.region == region else {
            throw Failure(kind: .wrongRegion, message: "Credential should be scoped to a valid region: this server serves \(region), the request was signed for '\(auth.region)' (set AWS_DEFAULT_REGION=\(region))")
        }
        guard auth.signedHeaders.contains("host") else {
            throw Failure(kind: .malformed, message: "The host header must be signed")
        }
        let expected = signature(for: request, auth: auth, secret: credential.secretAccessKey)
        guard Self.constantTimeEqual(expected, auth.signature) else {
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

    /// The signature a client with `secret` would send: for tests and for clients.
    public func signature(for request: Request, auth: Authorization, secret: String) -> String {
        let canonical = Self.canonicalRequest(request, auth: auth)
        let scope = "\(auth.date)/\(auth.region)/\(auth.service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(auth.timestamp)\n\(scope)\n\(SHA256.hash(data: Array(canonical.utf8)).hexString)"
        let key = signingKeys.key(secret: secret, date: auth.date, region: auth.region, service: auth.service)
        return Data(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key)).hexString
    }

    static func canonicalRequest(_ request: Request, auth: Authorization) -> String {
        let path = auth.service == "s3" ? (request.rawPath.isEmpty ? "/" : request.rawPath) : Self.uriEncode(Self.normalize(request.rawPath), keepSlash: true)
        var pairs = Self.queryPairs(request.rawQuery)
        if auth.presigned { pairs.removeAll { $0.0 == "X-Amz-Signature" } }
        let encoded: [(String, String)] = pairs.map { pair in
            (Self.uriEncode(pair.0, keepSlash: false), Self.uriEncode(pair.1, keepSlash: false))
        }
        let sorted = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in
            a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
        }
        let query = sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let headers = auth.signedHeaders.map { name -> String in
            let values: [String] = request.headers.filter { $0.name == name }.map { header in
                header.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            }
            return "\(name):\(values.joined(separator: ","))"
        }.joined(separator: "\n")
        let payload: String
        if auth.presigned {
            payload = "UNSIGNED-PAYLOAD"
        } else if let declared = request.header("x-amz-content-sha256") {
            payload = declared
        } else {
            payload = SHA256.hash(data: request.body).hexString
        }
        return [request.method.uppercased(), path, query, headers + "\n", auth.signedHeaders.joined(separator: ";"), payload].joined(separator: "\n")
    }

    /// Query pairs with %XX decoded (a `+` stays a `+`, as botocore never sends one for a space).
    static func queryPairs(_ raw: String) -> [(String, String)] {
        raw.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (percentDecode(String(parts[0])), parts.count > 1 ? percentDecode(String(parts[1])) : "")
        }
    }

    /// %XX-decodes; malformed escapes are kept as written.
    public static func percentDecode(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.first {
            if byte == UInt8(ascii: "%"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.dropFirst().prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
                utf8 = utf8.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// RFC 3986 encoding with only `A-Z a-z 0-9 - _ . ~` (and `/` when asked) left as is.
    static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out += "/"
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// botocore's `normalize_url_path`: remove `.` and `..` segments and empty segments, keep a trailing slash.
    static func normalize(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { if !output.isEmpty { output.removeLast() }; continue }
            output.append(segment)
        }
        var result = "/" + output.joined(separator: "/")
        if path.hasSuffix("/"), result != "/" { result += "/" }
        return result
    }

    /// `20240102T030405Z` → the date (UTC), without a calendar: days from civil (H. Hinnant's algorithm).
    static func parseTimestamp(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
              let minute = number(11..<13), let second = number(13..<15),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3600 + minute * 60 + second))
    }

    static func formatTimestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}


/// Signs requests as a client (`otarig facts capture` talking to a signing service and its S3): the same canonical
/// request the verifier checks, so the two cannot drift apart.
public struct SigV4ClientSigner: Sendable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var region: String

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
        let timestamp = SigV4Verifier.formatTimestamp(now)
        var added: [(name: String, value: String)] = [("x-amz-date", timestamp), ("x-amz-content-sha256", SHA256.hash(data: body).hexString)]
        if let sessionToken { added.append(("x-amz-security-token", sessionToken)) }
        let all = headers.map { (name: $0.name.lowercased(), value: $0.value) } + added
        let signedHeaders = Set(all.map(\.name)).sorted()
        let auth = SigV4Verifier.Authorization(
            accessKeyId: accessKeyId, date: String(timestamp.prefix(8)), region: region, service: service, signedHeaders: signedHeaders,
            signature: "", timestamp: timestamp, presigned: false, expires: nil)
        let request = SigV4Verifier.Request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: all, body: body)
        let signature = SigV4Verifier(credentials: []).signature(for: request, auth: auth, secret: secretAccessKey)
        added.append(("authorization", "AWS4-HMAC-SHA256 Credential=\(accessKeyId)/\(auth.date)/\(region)/\(service)/aws4_request, SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"))
        return added
    }

    /// RFC 3986 encoding for a path segment or query value.
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        SigV4Verifier.uriEncode(text, keepSlash: keepSlash)
    }
}
