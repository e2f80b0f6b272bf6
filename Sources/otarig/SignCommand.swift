import ArgumentParser
import CodeSigning
import DurableFiles
import Foundation
import SignerAPI
import SignerService
import X509

extension EncryptionAlgorithm: ExpressibleByArgument {}
extension HashAlgorithm: ExpressibleByArgument {}
extension ImageFormat: ExpressibleByArgument {}

/// `otarig sign`: what a signing job does, on local files.
struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a firmware file for a signing platform, writing AWS Signer's signed object.",
        discussion: """
            The signed object is byte for byte what an AWS Signer job writes to its destination bucket: \
            JSONEmbedded {"rawPayloadSize","signature","signatureAlgorithm","payload"} for the FreeRTOS platforms, \
            JSONDetached with payloadLocation.s3 for AWS IoT Device Management. With --job-doc it also writes the \
            OTA job document AWS IoT would derive from the job (afr_ota.files[] with filesize, certfile and the \
            sig-<hash>-<alg> signature key).

            The key comes from a certificate imported with 'otarig cert import' (--certificate-arn) or from files \
            (--cert and --key; the key must belong to the certificate).

            Examples:
              otarig sign --platform AmazonFreeRTOS-Default --cert codesign.crt.pem --key codesign.key.pem --in fw.bin
              otarig sign --platform AmazonFreeRTOS-TI-CC3220SF --certificate-arn arn:aws:acm:… --in fw.bin \\
                  --job-doc job.json --certname /cert/ota.der
              otarig sign --platform AWSIoTDeviceManagement-SHA256-ECDSA --cert c.pem --key k.pem --in fw.bin \\
                  --payload-location 's3://firmware/fw.bin?versionId=3HL4kqtJlcpXroDTDmJ'
            """
    )

    @Option(help: ArgumentHelp("The signing platform id (see 'otarig platforms').", valueName: "id"))
    var platform: String

    @Option(name: .customLong("certificate-arn"), help: ArgumentHelp("An imported certificate whose key signs (see 'otarig cert list').", valueName: "arn"))
    var certificateARN: String?

    @Option(help: ArgumentHelp("The code-signing certificate (PEM or DER); goes with --key.", valueName: "file"))
    var cert: String?

    @Option(help: ArgumentHelp("The private key of --cert (PEM or DER).", valueName: "file"))
    var key: String?

    @Option(name: .customLong("in"), help: ArgumentHelp("The unsigned firmware file.", valueName: "file"))
    var input: String

    @Option(help: ArgumentHelp("Signed-object format (JSONEmbedded, JSONDetached); default: the platform's.", valueName: "format"))
    var format: ImageFormat?

    @Option(name: .customLong("encryption-algorithm"), help: ArgumentHelp("Override the platform's encryption algorithm (RSA, ECDSA), within what it allows.", valueName: "alg"))
    var encryptionAlgorithm: EncryptionAlgorithm?

    @Option(name: .customLong("hash-algorithm"), help: ArgumentHelp("Override the platform's hash algorithm (SHA1, SHA256, SHA384), within what it allows.", valueName: "alg"))
    var hashAlgorithm: HashAlgorithm?

    @Option(help: ArgumentHelp("Where to write the signed object (default: <in>.signed.json).", valueName: "file"))
    var out: String?

    @Option(name: .customLong("signature-out"), help: ArgumentHelp("Also write the raw signature bytes (for 'openssl dgst -verify -signature').", valueName: "file"))
    var signatureOut: String?

    @Option(name: .customLong("payload-location"), help: ArgumentHelp("For JSONDetached: where the payload lives, s3://BUCKET/KEY?versionId=VERSION.", valueName: "url"))
    var payloadLocation: String?

    @Option(name: .customLong("job-doc"), help: ArgumentHelp("Also write the OTA job document AWS IoT derives from the job.", valueName: "file"))
    var jobDocument: String?

    @Option(help: ArgumentHelp("The job document's certfile: the certificate's path or label on the device.", valueName: "name"))
    var certname: String?

    @Option(name: .customLong("stream-name"), help: ArgumentHelp("The job document's streamname (default: AFR_OTA-<uuid>).", valueName: "name"))
    var streamName: String?

    @Option(name: .customLong("file-path"), help: ArgumentHelp("The job document's filepath on the device (default: null, as AWS IoT writes it).", valueName: "path"))
    var filePath: String?

    @OptionGroup var data: DataDirectoryOptions

    func validate() throws {
        switch (certificateARN, cert, key) {
        case (nil, nil, nil):
            throw ValidationError("say which key signs: --certificate-arn ARN, or --cert FILE with --key FILE")
        case (.some, nil, nil), (nil, .some, .some):
            break
        case (.some, _, _):
            throw ValidationError("--certificate-arn and --cert/--key both name a key; pass one of them")
        case (nil, .some, nil):
            throw ValidationError("--cert needs --key, the private key that belongs to the certificate")
        case (nil, nil, .some):
            throw ValidationError("--key needs --cert, the certificate the key belongs to")
        }
        if jobDocument != nil, certname == nil {
            throw ValidationError("--job-doc needs --certname, the certificate's path or label on the device (its certfile)")
        }
        if jobDocument == nil, certname != nil || streamName != nil || filePath != nil {
            throw ValidationError("--certname, --stream-name and --file-path describe the job document; add --job-doc FILE")
        }
    }

    func run() async throws {
        guard let platform = PlatformCatalog.platform(id: platform) else {
            throw OtarigError("unknown platform '\(self.platform)'; choose one of: \(PlatformCatalog.ids.joined(separator: ", "))")
        }
        let signingKey = try await loadKey()
        var overrides = SigningPlatformOverrides(signingImageFormat: format)
        if encryptionAlgorithm != nil || hashAlgorithm != nil {
            overrides.signingConfiguration = .init(encryptionAlgorithm: encryptionAlgorithm, hashAlgorithm: hashAlgorithm)
        }
        let plan = try SigningPlan.resolve(platform: platform, overrides: overrides, key: signingKey)
        let location = try payloadLocation.map(Self.parseS3URL)
        if plan.format == .jsonDetached, location == nil {
            throw OtarigError("\(platform.platformId) writes JSONDetached, which names where the payload lives: pass --payload-location s3://BUCKET/KEY?versionId=VERSION")
        }
        // Pass 1 hashes the file in chunks; pass 2 (JSONEmbedded) streams its base64 into the output. Memory stays
        // constant whatever the payload's size.
        let size = try Files.size(input, what: "payload")
        try plan.check(payloadSize: size)
        var hasher = PayloadHasher(plan.algorithm.hash)
        let hashed = try Files.forEachChunk(input, what: "payload") { hasher.update($0) }
        guard hashed == size else { throw OtarigError("the payload '\(input)' changed while it was being signed; sign it again") }
        let signature = try plan.signature(for: hasher.finalize(), payloadSize: size, key: signingKey)

        let outPath = out ?? input + ".signed.json"
        var document: String?
        if jobDocument != nil, let certname {
            let stream = streamName ?? "AFR_OTA-" + UUID().uuidString.lowercased()
            let summary = SignedObjectDocument(rawPayloadSize: size, signature: signature, signatureAlgorithm: plan.algorithm.rawValue, payload: .embedded(Data()))
            document = try OTAJobDocument(signedObject: summary, certname: certname, streamname: stream, filepath: filePath).encoded()
        }
        if plan.format == .jsonDetached, let location {
            let signed = SignedObjectDocument(rawPayloadSize: size, signature: signature, signatureAlgorithm: plan.algorithm.rawValue, payload: .detached(location))
            try Files.writeAtomically(signed.encoded(), to: outPath)
        } else {
            try writeEmbedded(to: outPath, size: size, signature: signature, algorithm: plan.algorithm)
        }
        if let signatureOut { try Files.writeAtomically(Data(signature), to: signatureOut) }
        if let jobDocument, let document { try Files.writeAtomically(Data((document + "\n").utf8), to: jobDocument) }

        Console.out("signed \(input) (\(size) bytes) for \(platform.platformId) with \(plan.algorithm.rawValue) (\(signingKey.summary))")
        Console.out("  signed object: \(outPath) (\(plan.format.rawValue))")
        if let signatureOut { Console.out("  signature:     \(signatureOut) (\(signature.count) bytes)") }
        if let jobDocument, let certname {
            Console.out("  job document:  \(jobDocument) (\(plan.algorithm.jobDocumentSignatureKey), certfile \"\(certname)\")")
        }
    }

    /// Streams a JSONEmbedded object: head, the payload's base64 chunk by chunk, tail; renamed into place at the end.
    private func writeEmbedded(to path: String, size: Int, signature: [UInt8], algorithm: SignatureAlgorithm) throws {
        let writer: AtomicFile
        do {
            writer = try AtomicFile(path: path)
        } catch {
            throw OtarigError(error.description)
        }
        do {
            try writer.write(SignedObjectDocument.embeddedHead(rawPayloadSize: size, signature: signature, signatureAlgorithm: algorithm.rawValue))
            var encoder = Base64Encoder()
            var text: [UInt8] = []
            text.reserveCapacity(Base64Encoder.encodedLength(1 << 16) + 4)
            let encoded = try Files.forEachChunk(input, what: "payload") { chunk in
                text.removeAll(keepingCapacity: true)
                encoder.encode(chunk, into: &text)
                try writer.write(text)
            }
            guard encoded == size else { throw OtarigError("the payload '\(input)' changed while it was being signed; sign it again") }
            text.removeAll(keepingCapacity: true)
            encoder.finish(into: &text)
            try writer.write(text + SignedObjectDocument.embeddedTail)
            try writer.commit()
        } catch let error as AtomicFile.Failure {
            // Dropping the writer removes its temporary file; the destination is untouched.
            throw OtarigError(error.description)
        }
    }

    private func loadKey() async throws -> SigningKey {
        if let certificateARN {
            let store = try data.keyStore()
            guard let record = try await store.certificate(arn: certificateARN) else {
                throw OtarigError("no certificate \(certificateARN) in \(data.keyStoreDirectory.path); import one with 'otarig cert import' or list them with 'otarig cert list'")
            }
            warnIfOutsideValidity(record.summary.notBefore, record.summary.notAfter)
            return try await store.signingKey(arn: certificateARN)
        }
        guard let cert, let key else { throw OtarigError("pass --cert and --key") }  // validate() ensured both
        let certificates = try CertificateBundle.parseCertificates(Array(try Files.read(cert, what: "certificate")), what: "certificate")
        guard let certificate = certificates.first else { throw OtarigError("the certificate '\(cert)' holds no certificate") }
        let signingKey = try SigningKey(encoded: Array(try Files.read(key, what: "private key")))
        guard signingKey.matches(certificate) else {
            throw OtarigError("the private key '\(key)' (\(signingKey.summary)) does not belong to the certificate '\(cert)' (\(CertificateSummary(certificate).keyAlgorithm)); pass the key the certificate was made for")
        }
        let summary = CertificateSummary(certificate)
        warnIfOutsideValidity(summary.notBefore, summary.notAfter)
        return signingKey
    }

    private func warnIfOutsideValidity(_ notBefore: String, _ notAfter: String) {
        let formatter = ISO8601DateFormatter()
        let now = Date()
        if let end = formatter.date(from: notAfter), now > end {
            Console.error("otarig: warning: the certificate expired on \(notAfter); devices ignore certificate dates, but ACM would not import it")
        } else if let start = formatter.date(from: notBefore), now < start {
            Console.error("otarig: warning: the certificate is not valid before \(notBefore)")
        }
    }

    /// `s3://BUCKET/KEY?versionId=VERSION` → the location; every part is required.
    static func parseS3URL(_ text: String) throws -> S3Source {
        let usage = "pass --payload-location as s3://BUCKET/KEY?versionId=VERSION"
        guard text.hasPrefix("s3://"), let components = URLComponents(string: text), let bucket = components.host, !bucket.isEmpty else {
            throw OtarigError("'\(text)' is not an S3 URL; \(usage)")
        }
        let key = String(components.path.dropFirst())
        guard !key.isEmpty else { throw OtarigError("'\(text)' names no object key; \(usage)") }
        guard let version = components.queryItems?.first(where: { $0.name == "versionId" })?.value, !version.isEmpty else {
            throw OtarigError("'\(text)' names no version (signing jobs read a versioned object); \(usage)")
        }
        return S3Source(bucketName: bucket, key: key, version: version)
    }
}
