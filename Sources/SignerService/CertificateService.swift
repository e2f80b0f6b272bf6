import CodeSigning
import Foundation
import SignerAPI
import SwiftASN1
import X509

/// An ACM error: the exception name (`ResourceNotFoundException`) and a message. `SignerHTTP` maps each code to its
/// HTTP status in one exhaustive table.
public struct ACMError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The ACM exceptions this server answers with (botocore `acm/2015-12-08/service-2.json`, plus the JSON 1.1
    /// protocol's `SerializationException`, `UnknownOperationException` and `InternalFailure`).
    public enum Code: String, Sendable, CaseIterable {
        case internalFailure = "InternalFailure"
        case invalidArnException = "InvalidArnException"
        case resourceInUseException = "ResourceInUseException"
        case resourceNotFoundException = "ResourceNotFoundException"
        case serializationException = "SerializationException"
        case unknownOperationException = "UnknownOperationException"
        case validationException = "ValidationException"
    }

    /// The exception name.
    public var code: Code
    /// What to tell the caller.
    public var message: String
    /// An error with `code` and `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    /// `Code: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}

/// The ACM subset signing needs, over a `KeyStore`, scoped to the caller's account. Private keys never leave it.
public struct CertificateService: Sendable {
    public let keys: any KeyStore
    public let store: any SignerStore
    public let region: String
    let now: @Sendable () -> Date

    public init(keys: any KeyStore, store: any SignerStore, region: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.keys = keys
        self.store = store
        self.region = region
        self.now = now
    }

    public func importCertificate(certificate: Data, privateKey: Data, chain: Data?, caller: Caller) async throws -> StoredCertificate {
        do {
            return try await keys.importCertificate(certificate: Array(certificate), privateKey: Array(privateKey), chain: chain.map { Array($0) },
                                              region: region, account: caller.account, now: now())
        } catch let error as CodeSigningError {
            throw ACMError(.validationException, error.message)
        }
    }

    public func certificate(arn: String, caller: Caller) async throws -> StoredCertificate {
        guard arn.hasPrefix("arn:"), arn.count >= 20 else {
            throw ACMError(.invalidArnException, "\(arn) is not a valid certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)")
        }
        guard let record = try await keys.certificate(arn: arn), record.account == caller.account else {
            throw ACMError(.resourceNotFoundException, "Could not find certificate \(arn).")
        }
        return record
    }

    public func list(caller: Caller) async throws -> [StoredCertificate] {
        try await keys.list().filter { $0.account == caller.account && $0.region == region }
    }

    /// Profiles of the caller's account that sign with this certificate and are not canceled.
    public func usedBy(arn: String, caller: Caller) async throws -> [ProfileRecord] {
        try await store.profiles(account: caller.account).filter { $0.signingMaterial?.certificateArn == arn && $0.status != .canceled }
    }

    public func delete(arn: String, caller: Caller) async throws {
        _ = try await certificate(arn: arn, caller: caller)
        let users = try await usedBy(arn: arn, caller: caller)
        guard users.isEmpty else {
            throw ACMError(.resourceInUseException, "Certificate \(arn) is in use by signing profile(s) \(users.map(\.name).joined(separator: ", ")); cancel them first")
        }
        _ = try await keys.delete(arn: arn)
    }

    // MARK: - The ACM operations' rules and views

    /// ImportCertificate: a new certificate only (re-import is refused), with certificate and key required.
    public func importCertificate(_ request: ACM.ImportCertificateRequest, caller: Caller) async throws -> ACM.ImportCertificateResponse {
        guard request.certificateArn == nil else {
            throw ACMError(.validationException, "Re-importing into an existing CertificateArn is not supported; import a new certificate")
        }
        guard let certificate = request.certificate else {
            throw ACMError(.validationException, "1 validation error detected: Value null at 'certificate' failed to satisfy constraint: Member must not be null")
        }
        guard let key = request.privateKey else {
            throw ACMError(.validationException, "1 validation error detected: Value null at 'privateKey' failed to satisfy constraint: Member must not be null")
        }
        let record = try await importCertificate(certificate: certificate, privateKey: key, chain: request.certificateChain, caller: caller)
        return ACM.ImportCertificateResponse(certificateArn: record.arn)
    }

    /// DescribeCertificate: the ACM view of an imported certificate, with the profiles that use it.
    public func describeCertificate(arn: String, caller: Caller) async throws -> ACM.DescribeCertificateResponse {
        let record = try await certificate(arn: arn, caller: caller)
        let users = try await usedBy(arn: arn, caller: caller).map { $0.arn(region: region) }
        return ACM.DescribeCertificateResponse(certificate: Self.detail(record, inUseBy: users))
    }

    /// GetCertificate: the certificate and its chain, PEM.
    public func getCertificate(arn: String, caller: Caller) async throws -> ACM.GetCertificateResponse {
        let record = try await certificate(arn: arn, caller: caller)
        return ACM.GetCertificateResponse(certificate: record.certificatePEM, certificateChain: record.chainPEM)
    }

    /// ListCertificates: a summary of each of the caller's certificates in this region.
    public func listCertificates(caller: Caller) async throws -> ACM.ListCertificatesResponse {
        ACM.ListCertificatesResponse(certificateSummaryList: try await list(caller: caller).map { Self.detail($0, inUseBy: nil) })
    }

    /// The ACM record of an imported certificate: always `ISSUED` and `IMPORTED`, used for digital signatures, with
    /// the code-signing extended key usage when the certificate has it.
    static func detail(_ record: StoredCertificate, inUseBy: [String]?) -> ACM.CertificateDetail {
        let certificate = try? Certificate(pemEncoded: record.certificatePEM)
        return ACM.CertificateDetail(
            certificateArn: record.arn, domainName: certificate.flatMap(commonName) ?? record.summary.subject, subject: record.summary.subject,
            issuer: record.summary.issuer, serial: record.summary.serial, keyAlgorithm: record.summary.keyAlgorithm,
            signatureAlgorithm: record.summary.signatureAlgorithm.uppercased(), status: "ISSUED", type: "IMPORTED",
            importedAt: record.importedAt, notBefore: certificate?.notValidBefore, notAfter: certificate?.notValidAfter, inUseBy: inUseBy,
            keyUsages: [ACM.KeyUsage(name: "DIGITAL_SIGNATURE")],
            extendedKeyUsages: record.summary.hasCodeSigningEKU ? [ACM.KeyUsage(name: "CODE_SIGNING", oid: "1.3.6.1.5.5.7.3.3")] : nil)
    }

    /// The subject's common name, read from the parsed name (so an escaped comma stays inside it).
    static func commonName(_ certificate: Certificate) -> String? {
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return String(attribute.value) ?? attribute.value.description
            }
        }
        return nil
    }
}
