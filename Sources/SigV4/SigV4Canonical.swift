import Crypto
import Foundation

/// The canonicalisation both sides share: the verifier rebuilds it from what arrived, the client signer from what it
/// sends, so the two cannot drift apart. AWS: "Create a canonical request for Signature Version 4"
/// (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), as botocore builds it (`botocore/auth.py`).
public enum SigV4Canonical {
    /// `AWS4-HMAC-SHA256`, the one algorithm this implementation speaks.
    public static let algorithm = "AWS4-HMAC-SHA256"

    /// The hex HMAC-SHA256 of the string to sign under the derived `key`.
    static func signature(canonicalRequest: String, auth: SigV4Verifier.Authorization, key: SymmetricKey) -> String {
        let scope = "\(auth.date)/\(auth.region)/\(auth.service)/aws4_request"
        let stringToSign = "\(algorithm)\n\(auth.timestamp)\n\(scope)\n\(SHA256.hash(data: Array(canonicalRequest.utf8)).hexString)"
        return HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key).hexString
    }

    /// The signing key: four HMACs from the secret over the day, the region, the service and `aws4_request`.
    static func signingKey(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// The canonical request for `request` as `auth` describes it (its signed headers, service and form).
    ///
    /// The path as sent for S3, and for other services normalised and URI-encoded once more; the query re-encoded
    /// with only `-_.~` unescaped and sorted; the signed headers' values trimmed and space-collapsed; the payload hash
    /// from `x-amz-content-sha256` or the SHA-256 of the body (`UNSIGNED-PAYLOAD` when presigned).
    public static func canonicalRequest(_ request: SigV4Verifier.Request, auth: SigV4Verifier.Authorization) -> String {
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
    public static func queryPairs(_ raw: String) -> [(String, String)] {
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

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// RFC 3986 encoding with only `A-Z a-z 0-9 - _ . ~` (and `/` when asked) left as is.
    public static func uriEncode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out += "/"
            default:
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(byte & 0x0F)]))
            }
        }
        return out
    }

    /// botocore's `normalize_url_path`: remove `.` and `..` segments and empty segments, keep a trailing slash.
    public static func normalize(_ path: String) -> String {
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

    /// Compares two signatures in time that does not depend on where they differ.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
