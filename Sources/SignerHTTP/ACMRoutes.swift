import CodeSigning
import Foundation
import Hummingbird
import SignerService

/// The ACM subset on JSON 1.1 (`POST /`, `X-Amz-Target: CertificateManager.<Operation>`): ImportCertificate,
/// DescribeCertificate, GetCertificate, ListCertificates, DeleteCertificate.
struct ACMRoutes: Sendable {
    let certificates: CertificateService

    struct ImportRequest: Decodable {
        var Certificate: Data?
        var PrivateKey: Data?
        var CertificateChain: Data?
        var CertificateArn: String?
    }

    struct ArnRequest: Decodable { var CertificateArn: String? }

    struct ListRequest: Decodable {
        var NextToken: String?
        var MaxItems: Int?
    }

    static func operation(_ request: WireRequest) -> String? {
        guard request.method == .post, let target = request.header("x-amz-target"), target.hasPrefix("CertificateManager.") else { return nil }
        return String(target.dropFirst("CertificateManager.".count))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: body.isEmpty ? Data("{}".utf8) : body)
        } catch let DecodingError.typeMismatch(_, context) {
            throw ACMError("ValidationException", "1 validation error detected: Value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw ACMError("SerializationException", "The request body is not valid JSON")
        }
    }

    func describe(_ record: StoredCertificate, inUseBy: [String]) -> [String: Any] {
        let formatter = ISO8601DateFormatter()
        var out: [String: Any] = [
            "CertificateArn": record.arn, "DomainName": Self.commonName(record.summary.subject), "Subject": record.summary.subject,
            "Issuer": record.summary.issuer, "Serial": record.summary.serial, "KeyAlgorithm": record.summary.keyAlgorithm,
            "SignatureAlgorithm": record.summary.signatureAlgorithm.uppercased(), "Status": "ISSUED", "Type": "IMPORTED",
            "ImportedAt": record.importedAt.timeIntervalSince1970, "InUseBy": inUseBy,
            "KeyUsages": [["Name": "DIGITAL_SIGNATURE"]],
        ]
        if let start = formatter.date(from: record.summary.notBefore) { out["NotBefore"] = start.timeIntervalSince1970 }
        if let end = formatter.date(from: record.summary.notAfter) { out["NotAfter"] = end.timeIntervalSince1970 }
        if record.summary.hasCodeSigningEKU { out["ExtendedKeyUsages"] = [["Name": "CODE_SIGNING", "OID": "1.3.6.1.5.5.7.3.3"]] }
        return out
    }

    static func commonName(_ subject: String) -> String {
        subject.split(separator: ",").first { $0.hasPrefix("CN=") }.map { String($0.dropFirst(3)) } ?? subject
    }

    static func json(_ object: Any) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        var headers = HTTPFields()
        headers[.contentType] = "application/x-amz-json-1.1"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    func handle(_ request: WireRequest) async throws -> Response {
        let caller = request.caller
        switch Self.operation(request) {
        case "ImportCertificate":
            let body = try Self.decode(ImportRequest.self, request.body)
            guard body.CertificateArn == nil else {
                throw ACMError("ValidationException", "Re-importing into an existing CertificateArn is not supported; import a new certificate")
            }
            guard let certificate = body.Certificate else { throw ACMError("ValidationException", "1 validation error detected: Value null at 'certificate' failed to satisfy constraint: Member must not be null") }
            guard let key = body.PrivateKey else { throw ACMError("ValidationException", "1 validation error detected: Value null at 'privateKey' failed to satisfy constraint: Member must not be null") }
            let record = try certificates.importCertificate(certificate: certificate, privateKey: key, chain: body.CertificateChain, caller: caller)
            return try Self.json(["CertificateArn": record.arn])
        case "DescribeCertificate":
            let arn = try Self.decode(ArnRequest.self, request.body).CertificateArn ?? ""
            let record = try certificates.certificate(arn: arn, caller: caller)
            let users = try await certificates.usedBy(arn: arn, caller: caller).map { $0.arn(region: certificates.region) }
            return try Self.json(["Certificate": describe(record, inUseBy: users)])
        case "GetCertificate":
            let arn = try Self.decode(ArnRequest.self, request.body).CertificateArn ?? ""
            let record = try certificates.certificate(arn: arn, caller: caller)
            var out = ["Certificate": record.certificatePEM]
            if let chain = record.chainPEM { out["CertificateChain"] = chain }
            return try Self.json(out)
        case "ListCertificates":
            _ = try Self.decode(ListRequest.self, request.body)
            let summaries = try certificates.list(caller: caller).map { record -> [String: Any] in
                var summary = describe(record, inUseBy: [])
                summary.removeValue(forKey: "InUseBy")
                return summary
            }
            return try Self.json(["CertificateSummaryList": summaries])
        case "DeleteCertificate":
            let arn = try Self.decode(ArnRequest.self, request.body).CertificateArn ?? ""
            try await certificates.delete(arn: arn, caller: caller)
            return try Self.json([String: String]())
        case let other:
            throw ACMError("UnknownOperationException", "Operation \(other ?? "(none)") is not supported; this server implements ImportCertificate, DescribeCertificate, GetCertificate, ListCertificates, DeleteCertificate")
        }
    }
}

import HTTPTypes
import NIOCore
