import ArgumentParser
import Foundation
import OTAVerifier
import SigV4
import SignerClient

/// Where a signing service is and who calls it: the endpoint, region and credentials the aws CLI would use.
struct SignerEndpointOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The signing service (otarig serve or AWS Signer). Default: $AWS_ENDPOINT_URL_SIGNER, then $AWS_ENDPOINT_URL.", valueName: "url"))
    var endpoint: String?

    @Option(help: ArgumentHelp("The region requests are signed for. Default: $AWS_REGION, $AWS_DEFAULT_REGION, then us-east-1.", valueName: "region"))
    var region: String?

    @Option(name: .customLong("aws-profile"), help: ArgumentHelp("The credentials profile. Default: $AWS_PROFILE, then default; keys in $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY win.", valueName: "name"))
    var awsProfile: String?

    func client() throws -> SignerClient {
        try Self.client(endpoint: endpoint, region: region, awsProfile: awsProfile)
    }

    static func client(endpoint: String?, region: String?, awsProfile: String?) throws -> SignerClient {
        let environment = ProcessInfo.processInfo.environment
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let text = endpoint ?? env("AWS_ENDPOINT_URL_SIGNER") ?? env("AWS_ENDPOINT_URL") else {
            throw OtarigError("no signing service: pass --endpoint URL (e.g. http://127.0.0.1:8765 for 'otarig serve') or set AWS_ENDPOINT_URL")
        }
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw OtarigError("--endpoint '\(text)' is not an http(s) URL such as http://127.0.0.1:8765 or https://signer.us-east-1.amazonaws.com")
        }
        let region = region ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1"
        let signer: SigV4ClientSigner
        if let id = env("AWS_ACCESS_KEY_ID"), let secret = env("AWS_SECRET_ACCESS_KEY") {
            signer = SigV4ClientSigner(accessKeyId: id, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN"), region: region)
        } else {
            let path = env("AWS_SHARED_CREDENTIALS_FILE") ?? (NSHomeDirectory() + "/.aws/credentials")
            let profile = awsProfile ?? env("AWS_PROFILE") ?? "default"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw OtarigError("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_SHARED_CREDENTIALS_FILE ('\(path)' does not read); 'otarig serve' prints the file it made")
            }
            let credentials: [Credential]
            do {
                credentials = try CredentialsFile.parse(String(decoding: data, as: UTF8.self))
            } catch {
                throw OtarigError("the credentials file '\(path)': \(error.message)")
            }
            guard let credential = credentials.first(where: { $0.profile == profile }) else {
                throw OtarigError("the credentials file '\(path)' has no [\(profile)] profile; it has \(credentials.map { "[\($0.profile)]" }.joined(separator: ", ")); pass --aws-profile")
            }
            signer = SigV4ClientSigner(accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, region: region)
        }
        return SignerClient(endpoint: url, signer: signer)
    }
}

/// `otarig facts`: signer facts for the policy layer.
struct FactsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facts",
        abstract: "Capture the facts the policy layer checks (revocations, expiry) from a signing service.",
        subcommands: [CaptureCommand.self]
    )

    struct CaptureCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "capture",
            abstract: "Read every signing job's revocation and expiry, and its profile's, into an otarig-signer-facts/1 file.",
            discussion: """
                Calls ListSigningJobs, then for each succeeded job DescribeSigningJob, the signed object in its \
                destination bucket (to match the job to an image by its signature), GetSigningProfile and \
                GetRevocationStatus (with the signing certificate's hash from ACM), all signed with SigV4 as the aws \
                CLI signs them. The file lets 'otarig verify --revocations FILE' check policy offline; \
                'otarig verify --signer URL' does the same capture live.

                Examples:
                  otarig facts capture --endpoint http://127.0.0.1:8765 --out facts.json
                  AWS_ENDPOINT_URL=http://127.0.0.1:8765 AWS_PROFILE=alice otarig facts capture --out facts.json
                Exit status: 0 written, 2 bad input or the service could not be read.
                """
        )

        @OptionGroup var service: SignerEndpointOptions

        @Option(help: ArgumentHelp("Where to write the facts.", valueName: "file"))
        var out: String

        func run() async throws {
            let client = try service.client()
            let facts: SignerFacts
            do {
                facts = try await SignerFactsCapture.capture(client) { Console.error($0) }
            } catch {
                throw OtarigError("cannot capture signer facts: \(error.message)")
            }
            try Files.writeAtomically(try facts.encoded(), to: out)
            let revoked = facts.signingJobs.filter { $0.revocation != nil }.count
            Console.out("captured \(facts.signingJobs.count) signing jobs (\(revoked) revoked) and \(facts.profileRevocations.count) profile revocations from \(client.endpoint.absoluteString) into \(out)")
        }
    }
}
