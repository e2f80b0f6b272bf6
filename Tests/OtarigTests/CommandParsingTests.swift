import ArgumentParser
import Testing
@testable import otarig

@Suite("Parsing the CLI")
struct CommandParsingTests {
    @Test("sign accepts a certificate ARN or a certificate with its key")
    func signKeySources() throws {
        _ = try SignCommand.parse(["--platform", "AmazonFreeRTOS-Default", "--certificate-arn", "arn:aws:acm:us-east-1:123456789012:certificate/x", "--in", "fw.bin"])
        let command = try SignCommand.parse(["--platform", "AmazonFreeRTOS-Default", "--cert", "c.pem", "--key", "k.pem", "--in", "fw.bin", "--format", "JSONEmbedded"])
        #expect(command.format == .jsonEmbedded)
    }

    @Test("sign refuses ambiguous or missing key sources and a job document without its certname", arguments: [
        ["--platform", "P", "--in", "f"],
        ["--platform", "P", "--in", "f", "--cert", "c.pem"],
        ["--platform", "P", "--in", "f", "--key", "k.pem"],
        ["--platform", "P", "--in", "f", "--cert", "c", "--key", "k", "--certificate-arn", "a"],
        ["--platform", "P", "--in", "f", "--cert", "c", "--key", "k", "--job-doc", "j.json"],
        ["--platform", "P", "--in", "f", "--cert", "c", "--key", "k", "--certname", "c.der"],
        ["--platform", "P", "--in", "f", "--cert", "c", "--key", "k", "--format", "Zip"],
    ])
    func signRefuses(arguments: [String]) {
        #expect(throws: (any Error).self) { try SignCommand.parse(arguments) }
    }

    @Test("cert create needs --ca-cert and --ca-key together")
    func certCreateCA() throws {
        #expect(throws: (any Error).self) { try CertCommand.Create.parse(["--ca-cert", "ca.pem"]) }
        let command = try CertCommand.Create.parse(["--ca-cert", "ca.pem", "--ca-key", "ca.key", "--key-type", "rsa-2048"])
        #expect(command.keyType == .rsa2048)
    }

    @Test("cert import checks the account id")
    func certImportAccount() {
        #expect(throws: (any Error).self) { try CertCommand.Import.parse(["--certificate", "c", "--private-key", "k", "--account", "12345"]) }
    }

    @Test("S3 payload locations need a bucket, a key and a version", arguments: [
        ("s3://fw/app.bin?versionId=v1", true), ("s3://fw/dir/app.bin?versionId=v1", true),
        ("s3://fw/app.bin", false), ("s3:///app.bin?versionId=v1", false), ("https://fw/app.bin?versionId=v1", false), ("s3://fw/?versionId=v", false),
    ])
    func s3Locations(text: String, valid: Bool) {
        let location = try? SignCommand.parseS3URL(text)
        #expect((location != nil) == valid)
        if valid { #expect(location?.bucketName == "fw") }
    }

    @Test("cert create picks the platform's key type and the CC3220 recipe's SHA-1")
    func certDefaults() throws {
        let ti = try #require(SignerAPIForTests.platform("AmazonFreeRTOS-TI-CC3220SF"))
        #expect(CertCommand.Create.defaultKeyType(for: ti) == .rsa2048)
        #expect(CertCommand.Create.defaultKeyType(for: SignerAPIForTests.platform("AWSLambda-SHA384-ECDSA")) == .ecP384)
        #expect(CertCommand.Create.defaultKeyType(for: nil) == .ecP256)
    }
}

import SignerAPI
enum SignerAPIForTests {
    static func platform(_ id: String) -> SigningPlatform? { PlatformCatalog.platform(id: id) }
}
