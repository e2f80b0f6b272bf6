import Crypto
import Foundation

/// The Notary Project JWS envelope that AWS Signer's SignPayload returns for Notation-OCI-SHA384-ECDSA
/// (`application/jose+json`, JWS JSON serialization, ES384). Layout from the Notary Project signature
/// specification (signature-envelope-jws.md) and the aws-signer-notation-plugin's use of it
/// (aws/aws-signer-notation-plugin `internal/signer/signer.go`).
public enum NotationEnvelope {
    public static let payloadMediaType = "application/vnd.cncf.notary.payload.v1+json"
    public static let envelopeMediaType = "application/jose+json"

    static func base64URL(_ bytes: some DataProtocol) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Signs `payload` (the Notary payload JSON) with the P-384 `key`; `chain` is leaf-first DER certificates.
    public static func sign(payload: [UInt8], key: SigningKey, chain: [[UInt8]], signingTime: Date, expiry: Date,
                            profileVersionArn: String, jobArn: String) throws -> [UInt8] {
        guard case .p384(let p384) = key else {
            throw CodeSigningError(.unsupportedKey, "Notation envelopes are signed with ES384; the key is \(key.summary)")
        }
        let critical = ["io.cncf.notary.signingScheme", "io.cncf.notary.authenticSigningTime", "io.cncf.notary.expiry",
                        "io.cncf.notary.verificationPlugin"]
        let header = "{\"alg\":\"ES384\",\"crit\":[" + critical.map(JSONText.quoted).joined(separator: ",") + "],"
            + "\"cty\":\(JSONText.quoted(payloadMediaType)),"
            + "\"io.cncf.notary.signingScheme\":\"notary.x509.signingAuthority\","
            + "\"io.cncf.notary.authenticSigningTime\":\(JSONText.quoted(rfc3339(signingTime))),"
            + "\"io.cncf.notary.expiry\":\(JSONText.quoted(rfc3339(expiry))),"
            + "\"io.cncf.notary.verificationPlugin\":\"com.amazonaws.signer.notation.plugin\","
            + "\"com.amazonaws.signer.signingProfileVersion\":\(JSONText.quoted(profileVersionArn)),"
            + "\"com.amazonaws.signer.signingJob\":\(JSONText.quoted(jobArn))}"
        let protected = base64URL(Array(header.utf8))
        let encodedPayload = base64URL(payload)
        let signingInput = Array("\(protected).\(encodedPayload)".utf8)
        let signature = try p384.signature(for: SHA384.hash(data: signingInput)).rawRepresentation
        let x5c = chain.map { JSONText.quoted(Data($0).base64EncodedString()) }.joined(separator: ",")
        let envelope = "{\"payload\":\(JSONText.quoted(encodedPayload)),\"protected\":\(JSONText.quoted(protected)),"
            + "\"header\":{\"x5c\":[\(x5c)],\"io.cncf.notary.signingAgent\":\"otarig\"},"
            + "\"signature\":\(JSONText.quoted(base64URL(signature)))}"
        return Array(envelope.utf8)
    }
}
