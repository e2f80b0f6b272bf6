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
