import Crypto
import Foundation
import SigV4

/// S3's older presigned-URL form (`?AWSAccessKeyId=…&Expires=…&Signature=…`, HMAC-SHA1), which `aws s3 presign` and
/// boto3's `generate_presigned_url` still produce for S3 unless told to use SigV4. Accepted for GET and HEAD only.
///
/// String to sign, as botocore's `HmacV1QueryAuth` builds it: `VERB\n\n\n<Expires>\n<path as sent>[?<sub-resources>]`,
/// the sub-resources being the query parameters S3 signs (versionId, the response-* overrides, …), sorted, unescaped.
enum SigV2Query {
    static let signedSubresources: Set<String> = [
        "versionId", "versions", "versioning", "location", "acl", "tagging", "uploadId", "partNumber", "uploads",
        "response-content-type", "response-content-language", "response-expires", "response-cache-control",
        "response-content-disposition", "response-content-encoding",
    ]

    /// Whether the query carries a SigV2 presigned signature.
    static func applies(to rawQuery: String) -> Bool {
        let names = Set(SigV4Canonical.queryPairs(rawQuery).map(\.0))
        return names.contains("AWSAccessKeyId") && names.contains("Signature") && names.contains("Expires")
    }

    static func verify(method: String, rawPath: String, rawQuery: String, credentials: [String: Credential], now: Date) throws(SigV4Verifier.Failure) -> Credential {
        let pairs = SigV4Canonical.queryPairs(rawQuery)
        func value(_ name: String) -> String? { pairs.first { $0.0 == name }?.1 }
        guard method == "GET" || method == "HEAD" else {
            throw SigV4Verifier.Failure(kind: .malformed, message: "Query-string signatures (Signature Version 2) are accepted for GET and HEAD only; sign with SigV4")
        }
        guard let accessKey = value("AWSAccessKeyId"), let signature = value("Signature"), let expiresText = value("Expires"),
              let expires = Double(expiresText) else {
            throw SigV4Verifier.Failure(kind: .malformed, message: "A presigned URL needs AWSAccessKeyId, Expires and Signature")
        }
        guard let credential = credentials[accessKey] else {
            throw SigV4Verifier.Failure(kind: .unknownKey, message: "unknown access key \(accessKey)")
        }
        guard now.timeIntervalSince1970 <= expires else {
            throw SigV4Verifier.Failure(kind: .skewed, message: "Request has expired: the URL was valid until \(Int(expires))")
        }
        var resource = rawPath
        let subresources = pairs.filter { signedSubresources.contains($0.0) }.sorted { $0.0 < $1.0 }
        if !subresources.isEmpty {
            resource += "?" + subresources.map { $0.1.isEmpty ? $0.0 : "\($0.0)=\($0.1)" }.joined(separator: "&")
        }
        let stringToSign = "\(method)\n\n\n\(expiresText)\n\(resource)"
        let expected = Data(HMAC<Insecure.SHA1>.authenticationCode(for: Array(stringToSign.utf8),
                                                                   using: SymmetricKey(data: Array(credential.secretAccessKey.utf8)))).base64EncodedString()
        guard SigV4Canonical.constantTimeEqual(expected, signature) else {
            throw SigV4Verifier.Failure(kind: .badSignature, message: "The request signature we calculated does not match the signature you provided.")
        }
        return credential
    }
}
