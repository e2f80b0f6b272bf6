import Foundation
import SignerAPI

/// The signed object a signing job writes to the destination bucket, byte for byte as AWS Signer writes it (real
/// objects quoted in repost.aws answers and in aws-samples/aws-iot-create-ota-update-deconstructed `README.md`, ‘Signed
/// Object’; the JSONDetached form from a real object shown in a 2025 Ai-Thinker BW20 / AWS IoT Core blog post):
///
/// - JSONEmbedded: `{"rawPayloadSize":N,"signature":"<b64>","signatureAlgorithm":"SHA256withECDSA","payload":"<b64>"}`
/// - JSONDetached: the same with `"payloadLocation":{"s3":{"bucketName":…,"key":…,"version":…}}` instead of `payload`.
///
/// Compact JSON, that key order, standard base64 with padding.
public struct SignedObjectDocument: Sendable, Equatable {
    public enum Payload: Sendable, Equatable {
        case embedded(Data)
        case detached(S3Source)
    }

    public var rawPayloadSize: Int
    public var signature: [UInt8]
    /// The `signatureAlgorithm` string as written (`SHA256withECDSA`, `SHA1withRSA`, …).
    public var signatureAlgorithm: String
    public var payload: Payload

    public init(rawPayloadSize: Int, signature: [UInt8], signatureAlgorithm: String, payload: Payload) {
        self.rawPayloadSize = rawPayloadSize
        self.signature = signature
        self.signatureAlgorithm = signatureAlgorithm
        self.payload = payload
    }

    /// The signature as the signed object carries it: standard base64.
    public var signatureBase64: String { Data(signature).base64EncodedString() }

    /// The format this object is written in.
    public var format: ImageFormat {
        switch payload {
        case .embedded: .jsonEmbedded
        case .detached: .jsonDetached
        }
    }

    /// The object's bytes as AWS writes them.
    public func encoded() -> Data {
        switch payload {
        case .embedded(let bytes):
            var out = Self.embeddedHead(rawPayloadSize: rawPayloadSize, signature: signature, signatureAlgorithm: signatureAlgorithm)
            out.reserveCapacity(out.count + Base64Encoder.encodedLength(bytes.count) + Self.embeddedTail.count)
            var encoder = Base64Encoder()
            for region in bytes.regions {
                region.withUnsafeBytes { encoder.encode($0, into: &out) }
            }
            encoder.finish(into: &out)
            out += Self.embeddedTail
            return Data(out)
        case .detached(let location):
            var text = "{\"rawPayloadSize\":\(rawPayloadSize),\"signature\":\(JSONText.quoted(Data(signature).base64EncodedString())),"
            text += "\"signatureAlgorithm\":\(JSONText.quoted(signatureAlgorithm)),"
            text += "\"payloadLocation\":{\"s3\":{\"bucketName\":\(JSONText.quoted(location.bucketName)),"
            text += "\"key\":\(JSONText.quoted(location.key)),\"version\":\(JSONText.quoted(location.version))}}}"
            return Data(text.utf8)
        }
    }

    /// A JSONEmbedded object up to the opening quote of `payload`: a streaming writer sends this, then the
    /// payload's base64 (`Base64Encoder`), then `embeddedTail`.
    public static func embeddedHead(rawPayloadSize: Int, signature: [UInt8], signatureAlgorithm: String) -> [UInt8] {
        let text = "{\"rawPayloadSize\":\(rawPayloadSize),\"signature\":\(JSONText.quoted(Data(signature).base64EncodedString())),"
            + "\"signatureAlgorithm\":\(JSONText.quoted(signatureAlgorithm)),\"payload\":\""
        return Array(text.utf8)
    }

    /// What closes a JSONEmbedded object after the payload's base64.
    public static let embeddedTail: [UInt8] = Array("\"}".utf8)

    private struct Wire: Decodable {
        struct Location: Decodable { var s3: S3Source }
        var rawPayloadSize: Int
        var signature: String
        var signatureAlgorithm: String
        var payload: String?
        var payloadLocation: Location?
    }

    /// Parses a signed object (either format). Malformed objects throw, naming the field.
    public init(decoding data: Data) throws(CodeSigningError) {
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw CodeSigningError(.malformedSignedObject, "the signed object has no '\(key.stringValue)' field")
        } catch let DecodingError.typeMismatch(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw CodeSigningError(.malformedSignedObject, "the signed object's '\(path)' field has the wrong type")
        } catch {
            throw CodeSigningError(.malformedSignedObject, "the signed object is not JSON an AWS signing job writes")
        }
        guard let signature = Data(base64Encoded: wire.signature) else {
            throw CodeSigningError(.malformedSignedObject, "the signed object's 'signature' is not standard base64")
        }
        let payload: Payload
        switch (wire.payload, wire.payloadLocation) {
        case (let text?, nil):
            guard let bytes = Data(base64Encoded: text) else {
                throw CodeSigningError(.malformedSignedObject, "the signed object's 'payload' is not standard base64")
            }
            payload = .embedded(bytes)
        case (nil, let location?):
            payload = .detached(location.s3)
        default:
            throw CodeSigningError(.malformedSignedObject, "the signed object needs exactly one of 'payload' (JSONEmbedded) and 'payloadLocation' (JSONDetached)")
        }
        self.init(rawPayloadSize: wire.rawPayloadSize, signature: Array(signature), signatureAlgorithm: wire.signatureAlgorithm, payload: payload)
    }
}

extension SigningPlan {
    /// Signs `payload` and wraps it in the plan's signed-object format. JSONDetached needs `payloadLocation`.
    public func sign(
        _ payload: Data,
        with key: SigningKey,
        payloadLocation: S3Source? = nil
    ) throws(CodeSigningError) -> SignedObjectDocument {
        try check(key: key)
        try check(payloadSize: payload.count)
        let wrapped: SignedObjectDocument.Payload
        switch format {
        case .jsonDetached:
            guard let payloadLocation else {
                throw CodeSigningError(.missingPayloadLocation, "JSONDetached names where the payload lives: give its bucket, key and version")
            }
            wrapped = .detached(payloadLocation)
        default:
            wrapped = .embedded(payload)
        }
        let signature = try self.signature(for: PayloadDigest.of(payload, hash: algorithm.hash), payloadSize: payload.count, key: key)
        return SignedObjectDocument(rawPayloadSize: payload.count, signature: signature, signatureAlgorithm: algorithm.rawValue, payload: wrapped)
    }

    /// Signs a payload that was hashed incrementally: checks the key and the size as `sign` does.
    public func signature(for digest: PayloadDigest, payloadSize: Int, key: SigningKey) throws(CodeSigningError) -> [UInt8] {
        try check(key: key)
        try check(payloadSize: payloadSize)
        return try key.signature(forDigest: digest, algorithm: algorithm)
    }
}
