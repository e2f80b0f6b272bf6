import ArgumentParser
import CodeSigning
import SignerAPI
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

    /// The message ArgumentParser would print for the error `parse` throws, or nil when it parses.
    static func refusal<Command: ParsableCommand>(_ command: Command.Type, _ arguments: [String]) -> String? {
        do {
            _ = try command.parse(arguments)
            return nil
        } catch {
            return command.message(for: error)
        }
    }

    @Test("sign refuses ambiguous or missing key sources and a job document without its certname, naming the fix", arguments: [
        (["--platform", "P", "--in", "f"], "say which key signs"),
        (["--platform", "P", "--in", "f", "--cert", "c.pem"], "--cert needs --key"),
        (["--platform", "P", "--in", "f", "--key", "k.pem"], "--key needs --cert"),
        (["--platform", "P", "--in", "f", "--cert", "c", "--key", "k", "--certificate-arn", "a"], "--certificate-arn and --cert/--key both name a key"),
        (["--platform", "P", "--in", "f", "--cert", "c", "--key", "k", "--job-doc", "j.json"], "--job-doc needs --certname"),
        (["--platform", "P", "--in", "f", "--cert", "c", "--key", "k", "--certname", "c.der"], "add --job-doc FILE"),
        (["--platform", "P", "--in", "f", "--cert", "c", "--key", "k", "--format", "Zip"], "'Zip' is invalid for '--format"),
    ])
    func signRefuses(arguments: [String], reason: String) throws {
        let message = try #require(Self.refusal(SignCommand.self, arguments), "parsed")
        #expect(message.contains(reason), "\(message)")
    }

    @Test("cert create needs --ca-cert and --ca-key together")
    func certCreateCA() throws {
        let message = try #require(Self.refusal(CertCommand.Create.self, ["--ca-cert", "ca.pem"]), "parsed")
        #expect(message.contains("--ca-cert and --ca-key go together"), "\(message)")
        let command = try CertCommand.Create.parse(["--ca-cert", "ca.pem", "--ca-key", "ca.key", "--key-type", "rsa-2048"])
        #expect(command.keyType == .rsa2048)
    }

    @Test("cert import checks the account id")
    func certImportAccount() throws {
        let message = try #require(Self.refusal(CertCommand.Import.self, ["--certificate", "c", "--private-key", "k", "--account", "12345"]), "parsed")
        #expect(message.contains("--account must be 12 digits (got '12345')"), "\(message)")
    }

    @Test("flash takes the reset sequence and the after action by name, and refuses unknown ones")
    func flashSequences() throws {
        let command = try FlashCommand.parse(["--port", "/dev/null", "--before", "classic", "--after", "hard-reset", "a.bin@0x10000"])
        #expect(command.before == .classic && command.after == .hardReset)
        #expect(try FlashCommand.parse(["--port", "/dev/null", "--before", "none", "a.bin@0x10000"]).before == .noReset)
        let message = try #require(Self.refusal(FlashCommand.self, ["--port", "/dev/null", "--before", "hard-reset", "a.bin@0x10000"]), "parsed")
        #expect(message.contains("'hard-reset' is invalid for '--before"), "\(message)")
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

enum SignerAPIForTests {
    static func platform(_ id: String) -> SigningPlatform? { PlatformCatalog.platform(id: id) }
}
