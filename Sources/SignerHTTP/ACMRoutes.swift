import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SignerAPI
import SignerService

/// The ACM subset on JSON 1.1 (`POST /`, `X-Amz-Target: CertificateManager.<Operation>`): ImportCertificate,
/// DescribeCertificate, GetCertificate, ListCertificates, DeleteCertificate. Decode → one `CertificateService` call → encode.
struct ACMRoutes: Sendable {
    let certificates: CertificateService

    static func decode<T: Decodable>(_ type: T.Type, _ body: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: body.isEmpty ? Data("{}".utf8) : body)
        } catch let DecodingError.typeMismatch(_, context) {
            throw ACMError(.validationException, "1 validation error detected: Value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw ACMError(.serializationException, "The request body is not valid JSON")
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()

    static func json<T: Encodable>(_ value: T) throws -> Response {
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/x-amz-json-1.1"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Calls the certificate service for `operation`, decoded once from the request's target (`ACMOperation.parse`).
    func handle(_ operation: ACMOperation, _ request: WireRequest) async throws -> Response {
        let caller = request.caller
        switch operation {
        case .importCertificate:
            return try Self.json(try await certificates.importCertificate(Self.decode(ACM.ImportCertificateRequest.self, request.body), caller: caller))
        case .describeCertificate:
            let arn = try Self.decode(ACM.CertificateArnRequest.self, request.body).certificateArn ?? ""
            return try Self.json(try await certificates.describeCertificate(arn: arn, caller: caller))
        case .getCertificate:
            let arn = try Self.decode(ACM.CertificateArnRequest.self, request.body).certificateArn ?? ""
            return try Self.json(try await certificates.getCertificate(arn: arn, caller: caller))
        case .listCertificates:
            _ = try Self.decode(ACM.ListCertificatesRequest.self, request.body)
            return try Self.json(try await certificates.listCertificates(caller: caller))
        case .deleteCertificate:
            let arn = try Self.decode(ACM.CertificateArnRequest.self, request.body).certificateArn ?? ""
            try await certificates.delete(arn: arn, caller: caller)
            return try Self.json([String: String]())
        }
    }
}
