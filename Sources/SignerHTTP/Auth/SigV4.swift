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

    public init(credentials: [Credential]) {
        self.credentials = Dictionary(credentials.map { ($0.accessKeyId, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Reads the authorization parts without checking them (the service decides how much body to accept).
    public static func authorization(of request: Request) throws(Failure) -> Authorization {
        if let header = request.header("authorization") {
            guard header.hasPrefix("AWS4-HMAC-SHA256 ") else {
                throw Failure(kind: .malformed, message: "Only AWS4-HMAC-SHA256 (Signature Version 4) is supported")
            }
            var fields: [String: String] = [:]
            for part in header.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
                let trimmed = part.trimmingCharacters(in: .whitespaces)
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                fields[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
            }
            guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"], let signature = fields["Signature"] else {
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
                             signedHeaders: signedHeaders.split(separator: ";").map { String($0).lowercased() },
                             signature: signature.lowercased(), timestamp: timestamp, presigned: presigned, expires: expires)
    }

    /// Checks the signature, the key and the clock. `region` is the server's; a request scoped elsewhere is refused.
    public func verify(_ request: Request, now: Date, region: String) throws(Failure) -> Identity {
        let auth = try Self.authorization(of: request)
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
            let actual = SHA256.hash(data: request.body).hex
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
        let stringToSign = "AWS4-HMAC-SHA256\n\(auth.timestamp)\n\(scope)\n\(SHA256.hash(data: Array(canonical.utf8)).hex)"
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [auth.date, auth.region, auth.service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return Data(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key)).hex
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
            payload = SHA256.hash(data: request.body).hex
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

    static func parseTimestamp(_ text: String) -> Date? {
        guard text.count == 16, text.utf8.dropFirst(8).first == UInt8(ascii: "T"), text.hasSuffix("Z") else { return nil }
        let digits = text.filter(\.isNumber)
        guard digits.count == 14 else { return nil }
        let numbers = [0..<4, 4..<6, 6..<8, 8..<10, 10..<12, 12..<14].map { range -> Int in
            let start = digits.index(digits.startIndex, offsetBy: range.lowerBound)
            let end = digits.index(digits.startIndex, offsetBy: range.upperBound)
            return Int(digits[start..<end]) ?? -1
        }
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour, components.minute, components.second) =
            (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar.date(from: components)
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

extension Sequence where Element == UInt8 {
    /// Lower-case hex.
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

extension SHA256.Digest {
    var hex: String { Array(self).hex }
}
