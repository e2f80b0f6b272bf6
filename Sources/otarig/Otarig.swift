import ArgumentParser
import CodeSigning
import Foundation
import SignerHTTP
import SignerService
import SigV4

/// `otarig`: the one executable. Only this target reads arguments, the environment and files.
@main
struct Otarig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otarig",
        abstract: "A hardware-in-the-loop rig for signed firmware.",
        discussion: """
            Sign FreeRTOS OTA images exactly as AWS Signer does, make and import code-signing certificates, serve \
            the AWS Signer API, flash ESP32 boards (real or simulated), and cross-check what a device decides with \
            the host twin of its OTA verifier.

            Start here:
              otarig cert create --platform AmazonFreeRTOS-Default
              otarig sign --platform AmazonFreeRTOS-Default --cert codesign.crt.pem --key codesign.key.pem \\
                  --in firmware.bin --job-doc job.json --certname codesign.crt.pem
            Exit status: 0 success, 2 bad input (the message names the problem and the fix).
            """,
        subcommands: [RunCommand.self, DemoCommand.self, ReplayCommand.self, ReportCommand.self, PlatformsCommand.self, SignCommand.self, CertCommand.self, ServeCommand.self, DeviceVerifyCommand.self, VerifyCommand.self, ExplainCommand.self, FactsCommand.self, SimCommand.self, FlashCommand.self, RevocationListCommand.self, AppImageCommand.self, BoardsCommand.self]
    )

    /// Runs the command; any failure that is not a request for help exits with status 2 and one line on stderr.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if error is ExitCode || exitCode(for: error) == .success {
                exit(withError: error)
            }
            let message: String
            switch error {
            case let error as CodeSigningError: message = error.message
            case let error as CredentialsFile.ParseError: message = error.message
            case let error as StoreError: message = error.message
            case let error as OtarigError: message = error.message
            default:
                // ArgumentParser's own text starts with "Error: "; ours already says "otarig: error:".
                let full = fullMessage(for: error)
                message = full.hasPrefix("Error: ") ? String(full.dropFirst(7)) : full
            }
            Console.error("otarig: error: \(message)")
            Foundation.exit(2)
        }
    }
}

/// A bad-input failure of the CLI: one line naming the problem and the fix.
struct OtarigError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Where state lives between runs: the key store, and the signing service's database and buckets.
struct DataDirectoryOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Where otarig keeps its state (key store, database, buckets).", valueName: "dir"))
    var dataDirectory: String = "./.otarig"

    var keyStoreDirectory: URL { URL(fileURLWithPath: dataDirectory).appendingPathComponent("keys") }

    func keyStore() throws -> DirectoryKeyStore {
        try DirectoryKeyStore(directory: keyStoreDirectory)
    }
}

enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
