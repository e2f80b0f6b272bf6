import Foundation

/// The AWS Certificate Manager (2015-12-08, JSON 1.1) shapes the signing workflow uses, with the API's member names
/// (`CertificateArn`, …) as JSON keys (botocore `acm/2015-12-08/service-2.json`).
public enum ACM {
    /// The `X-Amz-Target` prefix of every ACM operation.
    public static let targetPrefix = "CertificateManager."

    /// GetCertificate, DescribeCertificate and DeleteCertificate input.
    public struct CertificateArnRequest: Codable, Sendable, Equatable {
        /// The certificate's ARN.
        public var certificateArn: String?
        /// A request for `certificateArn`.
        public init(certificateArn: String?) { self.certificateArn = certificateArn }
        enum CodingKeys: String, CodingKey { case certificateArn = "CertificateArn" }
    }

    /// GetCertificate output: the certificate and its chain, PEM.
    public struct GetCertificateResponse: Codable, Sendable, Equatable {
        /// The certificate, PEM.
        public var certificate: String?
        /// The chain above it, PEM, when one was imported.
        public var certificateChain: String?
        /// A response from its parts.
        public init(certificate: String?, certificateChain: String?) {
            self.certificate = certificate
            self.certificateChain = certificateChain
        }
        enum CodingKeys: String, CodingKey {
            case certificate = "Certificate"
            case certificateChain = "CertificateChain"
        }
    }
}

extension ACM {
    /// ImportCertificate input: the blobs arrive base64-encoded in JSON, as botocore sends them.
    public struct ImportCertificateRequest: Codable, Sendable, Equatable {
        /// The certificate, PEM bytes.
        public var certificate: Data?
        /// The private key, PEM bytes.
        public var privateKey: Data?
        /// The chain, PEM bytes.
        public var certificateChain: Data?
        /// Set only to re-import into an existing certificate (not supported here).
        public var certificateArn: String?
        /// A request from its parts.
        public init(certificate: Data?, privateKey: Data?, certificateChain: Data? = nil, certificateArn: String? = nil) {
            self.certificate = certificate
            self.privateKey = privateKey
            self.certificateChain = certificateChain
            self.certificateArn = certificateArn
        }
        enum CodingKeys: String, CodingKey {
            case certificate = "Certificate"
            case privateKey = "PrivateKey"
            case certificateChain = "CertificateChain"
            case certificateArn = "CertificateArn"
        }
    }

    /// ImportCertificate output.
    public struct ImportCertificateResponse: Codable, Sendable, Equatable {
        /// The new certificate's ARN.
        public var certificateArn: String
        /// A response for `certificateArn`.
        public init(certificateArn: String) { self.certificateArn = certificateArn }
        enum CodingKeys: String, CodingKey { case certificateArn = "CertificateArn" }
    }

    /// ListCertificates input (paging is accepted and ignored: a lab holds few certificates).
    public struct ListCertificatesRequest: Codable, Sendable, Equatable {
        /// The token of the next page.
        public var nextToken: String?
        /// The page size.
        public var maxItems: Int?
        enum CodingKeys: String, CodingKey {
            case nextToken = "NextToken"
            case maxItems = "MaxItems"
        }
    }

    /// `KeyUsage` / `ExtendedKeyUsage` entries.
    public struct KeyUsage: Codable, Sendable, Equatable {
        /// `DIGITAL_SIGNATURE`, `CODE_SIGNING`, …
        public var name: String
        /// The extended key usage's OID, when it is one.
        public var oid: String?
        /// A usage from its parts.
        public init(name: String, oid: String? = nil) {
            self.name = name
            self.oid = oid
        }
        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case oid = "OID"
        }
    }

    /// `CertificateDetail` (DescribeCertificate) and, without `InUseBy`, a `CertificateSummaryList` entry.
    public struct CertificateDetail: Codable, Sendable, Equatable {
        /// The `CertificateArn` member.
        public var certificateArn: String
        /// The `DomainName` member.
        public var domainName: String
        /// The `Subject` member.
        public var subject: String
        /// The `Issuer` member.
        public var issuer: String
        /// The `Serial` member.
        public var serial: String
        /// The `KeyAlgorithm` member.
        public var keyAlgorithm: String
        /// The `SignatureAlgorithm` member.
        public var signatureAlgorithm: String
        /// `ISSUED` for every imported certificate.
        public var status: String
        /// `IMPORTED` for every certificate here.
        public var type: String
        /// The `ImportedAt` member.
        public var importedAt: Date
        /// The `NotBefore` member.
        public var notBefore: Date?
        /// The `NotAfter` member.
        public var notAfter: Date?
        /// The ARNs of the resources (signing profiles) that use it; nil in list summaries.
        public var inUseBy: [String]?
        /// The `KeyUsages` member.
        public var keyUsages: [KeyUsage]
        /// The `ExtendedKeyUsages` member.
        public var extendedKeyUsages: [KeyUsage]?

        /// A detail from its parts.
        public init(certificateArn: String, domainName: String, subject: String, issuer: String, serial: String, keyAlgorithm: String,
                    signatureAlgorithm: String, status: String, type: String, importedAt: Date, notBefore: Date?, notAfter: Date?,
                    inUseBy: [String]?, keyUsages: [KeyUsage], extendedKeyUsages: [KeyUsage]?) {
            self.certificateArn = certificateArn
            self.domainName = domainName
            self.subject = subject
            self.issuer = issuer
            self.serial = serial
            self.keyAlgorithm = keyAlgorithm
            self.signatureAlgorithm = signatureAlgorithm
            self.status = status
            self.type = type
            self.importedAt = importedAt
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.inUseBy = inUseBy
            self.keyUsages = keyUsages
            self.extendedKeyUsages = extendedKeyUsages
        }

        enum CodingKeys: String, CodingKey {
            case certificateArn = "CertificateArn"
            case domainName = "DomainName"
            case subject = "Subject"
            case issuer = "Issuer"
            case serial = "Serial"
            case keyAlgorithm = "KeyAlgorithm"
            case signatureAlgorithm = "SignatureAlgorithm"
            case status = "Status"
            case type = "Type"
            case importedAt = "ImportedAt"
            case notBefore = "NotBefore"
            case notAfter = "NotAfter"
            case inUseBy = "InUseBy"
            case keyUsages = "KeyUsages"
            case extendedKeyUsages = "ExtendedKeyUsages"
        }
    }

    /// DescribeCertificate output.
    public struct DescribeCertificateResponse: Codable, Sendable, Equatable {
        /// The certificate's detail.
        public var certificate: CertificateDetail
        /// A response for `certificate`.
        public init(certificate: CertificateDetail) { self.certificate = certificate }
        enum CodingKeys: String, CodingKey { case certificate = "Certificate" }
    }

    /// ListCertificates output.
    public struct ListCertificatesResponse: Codable, Sendable, Equatable {
        /// One summary per certificate.
        public var certificateSummaryList: [CertificateDetail]
        /// A response for `certificateSummaryList`.
        public init(certificateSummaryList: [CertificateDetail]) { self.certificateSummaryList = certificateSummaryList }
        enum CodingKeys: String, CodingKey { case certificateSummaryList = "CertificateSummaryList" }
    }
}
