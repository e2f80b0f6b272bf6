import ArgumentParser
import Crypto
import Foundation
import OTAVerifier

/// `otarig revocation-list`: the signed revocation list an enforcing device is provisioned with (format in
/// Boards/README.md).
struct RevocationListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revocation-list",
        abstract: "Build and read the signed revocation list a board with 'policy: [revocation]' checks.",
        subcommands: [Build.self, Show.self]
    )

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a revocation list from signer facts and sign it.",
            discussion: """
                Every signing job in the facts whose signature was revoked (reason 1) and every signature made by a \
                profile version revoked with an effective time at or before its signing time (reason 2) becomes an \
                entry: SHA-256 of the raw signature bytes, the reason, and the revocation or effective time. The \
                list is signed with ECDSA P-256/SHA-256 by the list signer, whose certificate the device holds under \
                otarig-revocation.crt ('otarig flash --ota … --revocation-signer-cert').

                Example:
                  otarig facts capture --endpoint http://127.0.0.1:8765 --out facts.json
                  otarig revocation-list build --facts facts.json --signer-key list-signer.key --out revocations.otrl
                Exit status: 0 written, 2 bad input.
                """
        )

        @Option(help: ArgumentHelp("Signer facts ('otarig facts capture', format otarig-signer-facts/1).", valueName: "file"))
        var facts: String

        @Option(name: .customLong("signer-key"), help: ArgumentHelp("The list signer's ECDSA P-256 private key (PEM: PKCS#8 or SEC 1, as openssl writes it).", valueName: "file"))
        var signerKey: String

        @Option(help: ArgumentHelp("Where to write the list.", valueName: "file"))
        var out: String

        @Option(name: .customLong("issued-at"), help: ArgumentHelp("The list's issue time (ISO 8601 or unix seconds). Default: now.", valueName: "time"))
        var issuedAt: String?

        func run() throws {
            let facts: SignerFacts
            do {
                facts = try SignerFacts.decode(try Files.read(self.facts, what: "signer facts"))
            } catch let error as PolicyError {
                throw OtarigError("--facts '\(self.facts)': \(error.message)")
            }
            let keyText = String(decoding: try Files.read(signerKey, what: "list signer key"), as: UTF8.self)
            let key: P256.Signing.PrivateKey
            do {
                key = try P256.Signing.PrivateKey(pemRepresentation: keyText)
            } catch {
                throw OtarigError("--signer-key '\(signerKey)' is not an ECDSA P-256 private key in PEM (openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)")
            }
            let issued = try issuedAt.map { try FlashCommand.parseDeviceTime($0) } ?? Date()
            let list = RevocationList(facts: facts, issuedAt: issued)
            let bytes = try list.signed(with: key)
            try Files.writeAtomically(Data(bytes), to: out)
            Console.out("wrote \(out): \(list.entries.count) entries, \(bytes.count) bytes, issued \(UTCTimestamp.string(issued))")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a revocation list's entries (the signature is not checked).")

        @Argument(help: ArgumentHelp("The list.", valueName: "file"))
        var file: String

        func run() throws {
            let list: RevocationList
            do {
                list = try RevocationList(decoding: Array(try Files.read(file, what: "revocation list")))
            } catch let error as RevocationList.DecodeError {
                throw OtarigError("'\(file)': \(error)")
            }
            Console.out("issued \(DevicePolicy.formatTime(Int64(clamping: list.issuedAt))), \(list.entries.count) entries, \(list.signature.count)-byte signature")
            for entry in list.entries {
                let hex = entry.signatureHash.map { String(format: "%02x", $0) }.joined()
                Console.out("\(hex) \(entry.reason == .signatureRevoked ? "signature-revoked" : "profile-revoked") \(DevicePolicy.formatTime(Int64(clamping: entry.time)))")
            }
        }
    }
}
