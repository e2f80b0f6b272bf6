import ArgumentParser
import CodeSigning
import Foundation
import SignerAPI
import SignerService
import X509

extension SigningKey.Spec: ExpressibleByArgument {}
extension CertificateFactory.SignatureHash: ExpressibleByArgument {}

/// `otarig cert …`: code-signing material.
struct CertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Make, import and list code-signing certificates.",
        subcommands: [Create.self, CreateCA.self, Import.self, List.self]
    )

    /// Options shared by `create` and `create-ca`.
    struct Subject: ParsableArguments {
        @Option(name: .customLong("common-name"), help: ArgumentHelp("The subject's CN.", valueName: "cn"))
        var commonName: String?

        @Option(help: ArgumentHelp("The subject's O (optional).", valueName: "org"))
        var organization: String?

        @Option(help: ArgumentHelp("Days of validity from now.", valueName: "n"))
        var days: Int?

        @Option(name: .customLong("cert-hash"), help: ArgumentHelp("Digest of the certificate's own signature: sha1, sha256, sha384.", valueName: "hash"))
        var certHash: CertificateFactory.SignatureHash?

        @Flag(help: "Replace existing output files.")
        var force = false
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Make a key and an X.509 v3 code-signing certificate (keyUsage digitalSignature, EKU codeSigning).",
            discussion: """
                Self-signed by default, as the FreeRTOS recipe for ESP32 and POSIX devices does. With --ca-cert and \
                --ca-key the certificate is issued by that CA; --platform AmazonFreeRTOS-TI-CC3220SF then makes the \
                CC3220 recipe: an RSA-2048 key and a certificate signed with SHA-1 by the CA.

                Examples:
                  otarig cert create --platform AmazonFreeRTOS-Default
                  otarig cert create-ca --cert-out ca.crt.pem --key-out ca.key.pem
                  otarig cert create --platform AmazonFreeRTOS-TI-CC3220SF --ca-cert ca.crt.pem --ca-key ca.key.pem \\
                      --cert-out tisigner.crt.pem --key-out tisigner.key.pem
                """
        )

        @Option(help: ArgumentHelp("Pick the key type (and CA digest) the platform signs with.", valueName: "id"))
        var platform: String?

        @Option(name: .customLong("key-type"), help: ArgumentHelp("ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096 (default: the platform's, else ec-p256).", valueName: "type"))
        var keyType: SigningKey.Spec?

        @Option(name: .customLong("ca-cert"), help: ArgumentHelp("Issue the certificate from this CA certificate (with --ca-key).", valueName: "file"))
        var caCert: String?

        @Option(name: .customLong("ca-key"), help: ArgumentHelp("The CA's private key.", valueName: "file"))
        var caKey: String?

        @Option(name: .customLong("cert-out"), help: ArgumentHelp("Where to write the certificate.", valueName: "file"))
        var certOut = "codesign.crt.pem"

        @Option(name: .customLong("key-out"), help: ArgumentHelp("Where to write the private key (mode 0600).", valueName: "file"))
        var keyOut = "codesign.key.pem"

        @OptionGroup var subject: Subject

        func validate() throws {
            if (caCert == nil) != (caKey == nil) {
                throw ValidationError("--ca-cert and --ca-key go together: the CA certificate and its private key")
            }
            if let days = subject.days, days < 1 { throw ValidationError("--days must be at least 1") }
        }

        func run() throws {
            let platform = try platform.map { id -> SigningPlatform in
                guard let found = PlatformCatalog.platform(id: id) else {
                    throw OtarigError("unknown platform '\(id)'; choose one of: \(PlatformCatalog.ids.joined(separator: ", "))")
                }
                return found
            }
            try Files.refuseOverwrite([certOut, keyOut], force: subject.force)
            var issuer: (certificate: Certificate, key: SigningKey)?
            if let caCert, let caKey {
                let certificates = try CertificateBundle.parseCertificates(Array(try Files.read(caCert, what: "CA certificate")), what: "CA certificate")
                guard let certificate = certificates.first else { throw OtarigError("no certificate in '\(caCert)'") }
                issuer = (certificate, try SigningKey(encoded: Array(try Files.read(caKey, what: "CA private key"))))
            }
            let spec = keyType ?? Self.defaultKeyType(for: platform)
            let key = try SigningKey.generate(spec)
            if let platform {
                try SigningPlan.resolve(platform: platform, key: key).check(key: key)
            }
            let hash = subject.certHash ?? Self.defaultCertificateHash(platform: platform, issuerKey: issuer?.key ?? key)
            let issued = try CertificateFactory.codeSigningCertificate(
                commonName: subject.commonName ?? "otarig code signer", organization: subject.organization, key: key,
                notBefore: Date().addingTimeInterval(-60), days: subject.days ?? 365, issuer: issuer, signatureHash: hash)
            try Files.writeAtomically(Data(issued.keyPEM.utf8), to: keyOut, mode: 0o600, durable: true)
            try Files.writeAtomically(Data(issued.certificatePEM.utf8), to: certOut)
            let summary = CertificateSummary(issued.certificate)
            Console.out("made an \(key.summary) code-signing certificate, \(issuer == nil ? "self-signed" : "issued by \(summary.issuer)"), signed with \(summary.signatureAlgorithm)")
            Console.out("  certificate: \(certOut) (valid until \(summary.notAfter))")
            Console.out("  private key: \(keyOut) (mode 0600)")
        }

        static func defaultKeyType(for platform: SigningPlatform?) -> SigningKey.Spec {
            guard let platform else { return .ecP256 }
            let configuration = platform.signingConfiguration
            if configuration.encryptionAlgorithmOptions.defaultValue == .rsa { return .rsa2048 }
            return configuration.hashAlgorithmOptions.defaultValue == .sha384 ? .ecP384 : .ecP256
        }

        /// SHA-1 for the CC3220 recipe (RSA issuer, SHA-1 platform), SHA-384 for a P-384 issuer, else SHA-256.
        static func defaultCertificateHash(platform: SigningPlatform?, issuerKey: SigningKey) -> CertificateFactory.SignatureHash {
            if case .rsa = issuerKey, platform?.signingConfiguration.hashAlgorithmOptions.defaultValue == .sha1 { return .insecureSHA1 }
            if case .p384 = issuerKey { return .sha384 }
            return .sha256
        }
    }

    struct CreateCA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-ca",
            abstract: "Make a lab CA (key + self-signed CA certificate) to issue code-signing certificates from.",
            discussion: "An RSA-2048 CA can issue CC3220SF signer certificates (SHA-1 signed, as the TI recipe needs)."
        )

        @Option(name: .customLong("key-type"), help: ArgumentHelp("ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096.", valueName: "type"))
        var keyType: SigningKey.Spec = .rsa2048

        @Option(name: .customLong("cert-out"), help: ArgumentHelp("Where to write the CA certificate.", valueName: "file"))
        var certOut = "ca.crt.pem"

        @Option(name: .customLong("key-out"), help: ArgumentHelp("Where to write the CA private key (mode 0600).", valueName: "file"))
        var keyOut = "ca.key.pem"

        @OptionGroup var subject: Subject

        func run() throws {
            try Files.refuseOverwrite([certOut, keyOut], force: subject.force)
            let key = try SigningKey.generate(keyType)
            let hash = subject.certHash ?? { if case .p384 = key { return .sha384 } else { return .sha256 } }()
            let issued = try CertificateFactory.certificateAuthority(
                commonName: subject.commonName ?? "otarig lab CA", organization: subject.organization, key: key,
                notBefore: Date().addingTimeInterval(-60), days: subject.days ?? 3650, signatureHash: hash)
            try Files.writeAtomically(Data(issued.keyPEM.utf8), to: keyOut, mode: 0o600, durable: true)
            try Files.writeAtomically(Data(issued.certificatePEM.utf8), to: certOut)
            Console.out("made an \(key.summary) lab CA, valid until \(CertificateSummary(issued.certificate).notAfter)")
            Console.out("  certificate: \(certOut)")
            Console.out("  private key: \(keyOut) (mode 0600)")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import a certificate and its private key into the key store, as ACM ImportCertificate does.",
            discussion: """
                Refuses a key that does not belong to the certificate and a certificate outside its validity \
                window. Prints the ACM-style ARN that --certificate-arn and signing profiles name. The key is \
                stored with mode 0600 and never shown again.
                """
        )

        @Option(help: ArgumentHelp("The certificate (PEM or DER).", valueName: "file"))
        var certificate: String

        @Option(name: .customLong("private-key"), help: ArgumentHelp("Its private key (PEM or DER).", valueName: "file"))
        var privateKey: String

        @Option(name: .customLong("certificate-chain"), help: ArgumentHelp("The issuing CA certificates, issuer first.", valueName: "file"))
        var certificateChain: String?

        @Option(help: ArgumentHelp("The region in the ARN.", valueName: "region"))
        var region = "us-east-1"

        @Option(help: ArgumentHelp("The 12-digit account in the ARN.", valueName: "id"))
        var account = "123456789012"

        @OptionGroup var data: DataDirectoryOptions

        func validate() throws {
            guard account.count == 12, account.allSatisfy(\.isASCII), account.allSatisfy(\.isNumber) else {
                throw ValidationError("--account must be 12 digits (got '\(account)')")
            }
            guard !region.isEmpty, region.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw ValidationError("--region must look like us-east-1 (got '\(region)')")
            }
        }

        func run() async throws {
            let certificateBytes = try Files.read(certificate, what: "certificate")
            let keyBytes = try Files.read(privateKey, what: "private key")
            let chainBytes = try certificateChain.map { try Files.read($0, what: "certificate chain") }
            let record = try await data.keyStore().importCertificate(
                certificate: Array(certificateBytes), privateKey: Array(keyBytes), chain: chainBytes.map { Array($0) },
                region: region, account: account, now: Date())
            Console.out(record.arn)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List imported certificates (never their keys)."
        )

        @Flag(help: "Print JSON records instead of a table.")
        var json = false

        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            let records = try await data.keyStore().list()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .secondsSince1970
                Console.out(String(decoding: try encoder.encode(records), as: UTF8.self))
                return
            }
            guard !records.isEmpty else {
                Console.out("no certificates in \(data.keyStoreDirectory.path); import one with 'otarig cert import'")
                return
            }
            Console.out(Table.render(
                header: ["ARN", "KEY", "NOT AFTER", "SUBJECT"],
                rows: records.map { [$0.arn, $0.summary.keyAlgorithm, $0.summary.notAfter, $0.summary.subject] }))
        }
    }
}
