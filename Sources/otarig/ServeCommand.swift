import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SignerHTTP
import SignerService
import SigV4

/// `otarig serve`: the AWS Signer API (with the S3 and ACM calls signing needs) on one port.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the AWS Signer API, and the S3 and ACM calls a signing workflow needs, on one port.",
        discussion: """
            The unmodified aws CLI and boto3 work against it:

              otarig serve --data-dir ./.otarig &
              export AWS_ENDPOINT_URL=http://127.0.0.1:8765 AWS_DEFAULT_REGION=us-east-1
              export AWS_SHARED_CREDENTIALS_FILE=./.otarig/credentials
              aws signer list-signing-platforms

            Requests are checked with SigV4 against the credentials file (the ~/.aws/credentials format, whose \
            sections may also say account_id and principal_arn). Without --credentials the server keeps one in the \
            data directory, made with a fresh key on first start. Everything (profiles, jobs, buckets, imported \
            certificates) lives in the data directory and survives a restart; jobs found in progress at start-up \
            are finished. GetRevocationStatus needs AWS_DISABLE_HOST_PREFIX_INJECTION=true on the client, because \
            botocore otherwise sends it to data-<host>. SIGTERM or Ctrl-C finishes the jobs in flight, then exits.

            Several instances behind a load balancer share one PostgreSQL database and one S3-compatible store:

              otarig serve --database postgres://otarig@db:5432/signer \\
                  --objects s3://s3.lab:9000/ --objects-credentials s3-key.ini --data-dir ./i1 --port 8801

            Each instance migrates the schema at start (safe when they start together; 'otarig serve migrate' does \
            it alone, 'otarig serve status' shows it), records the access keys of its credentials file in the \
            database, and holds a lease on each job it runs (--job-lease): when an instance dies, another finishes \
            its jobs once their leases expire. GET /health names the store or object store it cannot reach (503).
            """,
        subcommands: [Migrate.self, Status.self]
    )

    @Option(help: ArgumentHelp("The port to listen on (0 picks a free one and prints it).", valueName: "port"))
    var port = 8765

    @Option(help: ArgumentHelp("The address to listen on.", valueName: "address"))
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("The region this server is (clients must sign for it).", valueName: "region"))
    var region = "us-east-1"

    @Option(help: ArgumentHelp("A credentials file (INI, as ~/.aws/credentials) naming the keys the server accepts.", valueName: "file"))
    var credentials: String?

    @Option(name: .customLong("max-object-size"), help: ArgumentHelp("The largest S3 object body accepted, in MiB.", valueName: "MiB"))
    var maxObjectSize = 256

    @Option(name: .customLong("job-rate"), help: ArgumentHelp("Signing jobs one account may start per second (TooManyRequestsException beyond).", valueName: "n"))
    var jobRate: Double = 1000

    @Option(name: .customLong("job-burst"), help: ArgumentHelp("Signing jobs one account may start at once before --job-rate applies.", valueName: "n"))
    var jobBurst: Double = 1000

    @Option(name: .customLong("max-jobs-in-flight"), help: ArgumentHelp("Signing jobs running at once (ThrottlingException beyond).", valueName: "n"))
    var maxJobsInFlight = 1000

    @Option(name: .customLong("job-lease"), help: ArgumentHelp("Seconds a job's lease lasts without renewal: when an instance dies, another finishes its jobs after this.", valueName: "seconds"))
    var jobLease: Double = 15

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel = "info"

    @OptionGroup var data: DataDirectoryOptions

    @OptionGroup(title: "Shared state (several instances)") var stores: StoreOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
        guard maxObjectSize >= 1 else { throw ValidationError("--max-object-size must be at least 1 (MiB)") }
        guard jobLease >= 1, jobLease <= 3600 else { throw ValidationError("--job-lease must be between 1 and 3600 seconds (got \(jobLease))") }
        guard jobRate > 0, jobBurst >= 1, maxJobsInFlight >= 1 else {
            throw ValidationError("--job-rate must be above 0, --job-burst and --max-jobs-in-flight at least 1")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "otarig.serve")
        let dataDirectory = URL(fileURLWithPath: data.dataDirectory)
        let fileKeys = try loadCredentials(dataDirectory: dataDirectory)
        let opened = try await stores.open(dataDirectory: dataDirectory, credentials: fileKeys, logger: logger)
        do {
            try await serve(opened, dataDirectory: dataDirectory, logger: logger)
        } catch {
            await opened.close()
            throw error
        }
        await opened.close()
    }

    private func serve(_ opened: OpenedStores, dataDirectory: URL, logger: Logger) async throws {
        let server: SignerServer
        do {
            server = try SignerServer(configuration: .init(host: host, port: port, region: region, dataDirectory: dataDirectory,
                                                           credentials: opened.credentials, maxObjectBytes: maxObjectSize << 20,
                                                           jobLimits: .init(perAccountPerSecond: jobRate, burst: jobBurst, maxInFlight: maxJobsInFlight),
                                                           leaseDuration: jobLease),
                                    components: opened.components, logger: logger)
        } catch {
            throw OtarigError("cannot open the data directory \(dataDirectory.path): \(error)")
        }
        let recovered = try await server.service.recover()
        if recovered > 0 { Console.out("otarig serve: finishing \(recovered) signing job(s) found in progress") }
        Console.out("otarig serve: instance \(server.service.lease.owner), job leases of \(jobLease.formatted()) s")
        let host = self.host, region = self.region, summary = opened.summary
        let app = server.application { port in
            Console.out("otarig serve: listening on http://\(host):\(port) (region \(region)), \(summary)")
        }
        try await app.runService()
    }

    private func loadCredentials(dataDirectory: URL) throws -> [Credential] {
        if let credentials {
            let text = String(decoding: try Files.read(credentials, what: "credentials file"), as: UTF8.self)
            do { return try CredentialsFile.parse(text) } catch {
                throw OtarigError("the credentials file '\(credentials)' is not usable: \(error.message)")
            }
        }
        let path = dataDirectory.appendingPathComponent("credentials").path
        if FileManager.default.fileExists(atPath: path) {
            let text = String(decoding: try Files.read(path, what: "credentials file"), as: UTF8.self)
            do {
                let parsed = try CredentialsFile.parse(text)
                Console.out("otarig serve: credentials in \(path) (profile \(parsed[0].profile))")
                return parsed
            } catch {
                throw OtarigError("the credentials file '\(path)' is not usable: \(error.message); fix it or remove it to get a new key")
            }
        }
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let credential = CredentialsFile.generate()
        try Files.writeAtomically(Data(CredentialsFile.render(credential).utf8), to: path, mode: 0o600, durable: true)
        Console.out("otarig serve: made a new access key \(credential.accessKeyId) for account \(credential.account); credentials in \(path)")
        return [credential]
    }
}
