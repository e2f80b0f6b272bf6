import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SignerAPI
import SignerService
import SigV4

/// One thing `/health` checks (the store, the object store): fine when `check` returns within two seconds.
public struct HealthCheck: Sendable {
    public var name: String
    public var check: @Sendable () async throws -> Void
    public init(name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }
}

/// The one HTTP responder of `otarig serve`: Signer (REST-JSON), S3 (REST-XML) and ACM (JSON 1.1) on one port,
/// told apart by the service in the SigV4 credential scope. Every request is authenticated, logged on one line
/// with its request id, and answered in its protocol's error format; nothing deterministic becomes a 500.
public struct OtarigResponder: HTTPResponder {
    public typealias Context = BasicRequestContext

    let credentials: CredentialSource
    let region: String
    let signer: SignerRoutes
    let s3: S3Routes
    let acm: ACMRoutes
    let logger: Logger
    let now: @Sendable () -> Date
    /// The largest S3 object body accepted; JSON bodies are limited to `maxJSONBytes`.
    let maxObjectBytes: Int
    static let maxJSONBytes = 1 << 20
    /// What `/health` checks besides the process answering.
    public var healthChecks: [HealthCheck] = []

    /// `reload`, when given, is asked for the current access keys (the shared database's) when a request names one
    /// that neither `credentials` nor the last reload holds, at most once a second; its keys win over `credentials`.
    public init(credentials: [Credential], reload: (@Sendable () async throws -> [Credential])? = nil, region: String, service: SignerService,
                buckets: BucketService, certificates: CertificateService,
                logger: Logger, maxObjectBytes: Int = 256 << 20, now: @escaping @Sendable () -> Date = { Date() }) {
        self.credentials = CredentialSource(credentials: credentials, reload: reload)
        self.region = region
        signer = SignerRoutes(service: service)
        s3 = S3Routes(buckets: buckets)
        acm = ACMRoutes(certificates: certificates)
        self.logger = logger
        self.maxObjectBytes = maxObjectBytes
        self.now = now
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        var body = request
        return await respond(to: request.head) { limit in try await body.collectBody(upTo: limit) }
    }

    /// Answers a request whose body is already in memory: the same path as a socket, for tests.
    public func respond(to head: HTTPRequest, body: [UInt8]) async -> Response {
        await respond(to: head) { limit in
            guard body.count <= limit else { throw SigV4Verifier.Failure(kind: .malformed, message: "too large") }
            return ByteBuffer(bytes: body)
        }
    }

    private func respond(to head: HTTPRequest, collect: (Int) async throws -> ByteBuffer) async -> Response {
        let started = ContinuousClock.now
        let requestId = UUID().uuidString.lowercased()
        var outcome = await route(head, collect: collect, requestId: requestId)
        outcome.response.headers[.amznRequestId] = requestId
        outcome.response.headers[.amzRequestId] = requestId
        guard logger.logLevel <= .info else { return outcome.response }
        let elapsed = started.duration(to: .now)
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "request_id": "\(requestId)", "method": "\(head.method.rawValue)", "path": "\(head.path ?? "")",
            "service": "\(outcome.service)", "operation": "\(outcome.operation)", "status": "\(outcome.response.status.code)",
            "ms": "\(String(format: "%.2f", ms))",
        ]
        if let account = outcome.account { metadata["account"] = "\(account)" }
        if let error = outcome.error { metadata["error"] = "\(error)" }
        logger.info("request", metadata: metadata)
        return outcome.response
    }

    struct Outcome {
        var response: Response
        var service: String
        var operation: String
        var account: String?
        var error: String?
    }

    private func route(_ request: HTTPRequest, collect: (Int) async throws -> ByteBuffer, requestId: String) async -> Outcome {
        let target = request.path ?? "/"
        let rawPath = String(target.prefix { $0 != "?" })
        let rawQuery = target.contains("?") ? String(target.drop { $0 != "?" }.dropFirst()) : ""
        var headers = request.headerFields.map { (name: $0.name.canonicalName, value: $0.value) }
        // HTTPTypes carries Host as the request's authority, not as a header field; SigV4 signs it as `host`.
        if let authority = request.authority, !headers.contains(where: { $0.name == "host" }) {
            headers.append((name: "host", value: authority))
        }
        let unsigned = SigV4Verifier.Request(method: request.method.rawValue, rawPath: rawPath, rawQuery: rawQuery, headers: headers, body: [])

        if request.method == .get, rawPath == "/health", unsigned.headers.first(where: { $0.name == "authorization" }) == nil,
           !rawQuery.contains("X-Amz-Signature") {
            return Outcome(response: await health(), service: "health", operation: "Health")
        }

        if SigV2Query.applies(to: rawQuery) {
            let accessKey = SigV4Canonical.queryPairs(rawQuery).first { $0.0 == "AWSAccessKeyId" }?.1 ?? ""
            let verifier: SigV4Verifier
            do {
                verifier = try await credentials.verifier(knowing: accessKey)
            } catch {
                return internalError(error, service: .s3, scope: AWSService.s3.rawValue, operation: "Authenticate", requestId: requestId, head: request.method == .head)
            }
            do {
                let credential = try SigV2Query.verify(method: request.method.rawValue, rawPath: rawPath, rawQuery: rawQuery,
                                                       credentials: verifier.credentials, now: now())
                let caller = Caller(account: credential.account, principal: credential.principal)
                let wire = WireRequest(method: request.method, rawPath: rawPath, segments: WireRequest.segments(of: rawPath),
                                       query: SigV4Canonical.queryPairs(rawQuery), headers: request.headerFields, body: Data(), caller: caller,
                                       requestId: requestId)
                return await s3Outcome(wire, head: request.method == .head, requestId: requestId)
            } catch {
                return Outcome(response: S3ErrorMapping.response(S3ErrorMapping.authError(error), requestId: requestId, head: request.method == .head),
                               service: AWSService.s3.rawValue, operation: "Unauthenticated", error: error.message)
            }
        }

        // The scope names the service, which decides the body limit and the error format.
        let authorization: SigV4Verifier.Authorization
        do {
            authorization = try SigV4Verifier.authorization(of: unsigned)
        } catch {
            let s3Like = headers.contains { $0.name == "x-amz-content-sha256" }
            return s3Like
                ? Outcome(response: S3ErrorMapping.response(S3ErrorMapping.authError(error), requestId: requestId, head: request.method == .head), service: AWSService.s3.rawValue, operation: "Unauthenticated", error: error.message)
                : Outcome(response: SignerErrorMapping.authResponse(error), service: "unknown", operation: "Unauthenticated", error: error.message)
        }
        let scope = authorization.service
        let service = AWSService(rawValue: scope)
        let limit = service == .s3 ? maxObjectBytes : Self.maxJSONBytes
        let buffer: ByteBuffer
        do {
            buffer = try await collect(limit)
        } catch {
            let message = "The request body is larger than this server accepts for \(scope) (\(limit) bytes)"
            return errorOutcome(service: service, scope: scope, operation: "TooLarge", requestId: requestId, head: false,
                                signer: SignerError.validation(message), s3: S3Error(.entityTooLarge, message), acm: ACMError(.validationException, message))
        }
        let bytes = Array(buffer.readableBytesView)
        let verifier: SigV4Verifier
        do {
            verifier = try await credentials.verifier(knowing: authorization.accessKeyId)
        } catch {
            return internalError(error, service: service, scope: scope, operation: "Authenticate", requestId: requestId, head: request.method == .head)
        }
        let identity: SigV4Verifier.Identity
        do {
            identity = try verifier.verify(SigV4Verifier.Request(method: request.method.rawValue, rawPath: rawPath, rawQuery: rawQuery,
                                                                 headers: headers, body: bytes), authorization: authorization, now: now(), region: region)
        } catch {
            if service == .s3 {
                return Outcome(response: S3ErrorMapping.response(S3ErrorMapping.authError(error), requestId: requestId, head: request.method == .head),
                               service: scope, operation: "Unauthenticated", error: error.message)
            }
            return Outcome(response: SignerErrorMapping.authResponse(error), service: scope, operation: "Unauthenticated", error: error.message)
        }
        let caller = Caller(account: identity.credential.account, principal: identity.credential.principal)
        let wire = WireRequest(method: request.method, rawPath: rawPath, segments: WireRequest.segments(of: rawPath),
                               query: SigV4Canonical.queryPairs(rawQuery), headers: request.headerFields, body: Data(bytes), caller: caller,
                               requestId: requestId)
        switch service {
        case .signer:
            guard let operation = SignerOperation(method: wire.method, segments: wire.segments) else {
                let error = SignerError(.resourceNotFound, "No Signer operation matches \(request.method.rawValue) \(rawPath)")
                return Outcome(response: SignerErrorMapping.response(error), service: scope, operation: "Unknown", account: caller.account, error: error.description)
            }
            do {
                return Outcome(response: try await signer.handle(operation, wire), service: scope, operation: operation.name, account: caller.account)
            } catch let error as SignerError {
                return Outcome(response: SignerErrorMapping.response(error), service: scope, operation: operation.name, account: caller.account, error: error.description)
            } catch {
                return internalError(error, service: service, scope: scope, operation: operation.name, requestId: requestId, head: false)
            }
        case .s3:
            return await s3Outcome(wire, head: request.method == .head, requestId: requestId)
        case .acm:
            let operation: ACMOperation
            switch ACMOperation.parse(wire) {
            case .success(let parsed): operation = parsed
            case .failure(let error):
                return Outcome(response: ACMErrorMapping.response(error), service: scope, operation: "Unknown", account: caller.account, error: error.description)
            }
            do {
                return Outcome(response: try await acm.handle(operation, wire), service: scope, operation: operation.rawValue, account: caller.account)
            } catch let error as ACMError {
                return Outcome(response: ACMErrorMapping.response(error), service: scope, operation: operation.rawValue, account: caller.account, error: error.description)
            } catch {
                return internalError(error, service: service, scope: scope, operation: operation.rawValue, requestId: requestId, head: false)
            }
        case nil:
            let error = SignerError.validation("This server speaks signer, s3 and acm; the request was signed for '\(scope)'")
            return Outcome(response: SignerErrorMapping.response(error), service: scope, operation: "Unknown", account: caller.account, error: error.message)
        }
    }

    /// `{"status": "ok", "region": …, "<check>": "ok"}` with 200, or 503 naming each check that failed and why.
    private func health() async -> Response {
        var fields = ["region": region]
        let results = await withTaskGroup(of: (String, String?).self) { group in
            for check in healthChecks {
                group.addTask {
                    do {
                        try await withThrowingTaskGroup(of: Void.self) { race in
                            race.addTask { try await check.check() }
                            race.addTask {
                                try await Task.sleep(for: .seconds(2))
                                throw StoreError("no answer within 2 s")
                            }
                            try await race.next()
                            race.cancelAll()
                        }
                        return (check.name, nil)
                    } catch {
                        return (check.name, "\(error)")
                    }
                }
            }
            var collected: [(String, String?)] = []
            for await result in group { collected.append(result) }
            return collected
        }
        var healthy = true
        for (name, failure) in results {
            fields[name] = failure.map { "unreachable: \($0)" } ?? "ok"
            if failure != nil { healthy = false }
        }
        fields["status"] = healthy ? "ok" : "unavailable"
        var response = (try? JSONWire.response(fields)) ?? Response(status: .ok)
        if !healthy { response.status = .serviceUnavailable }
        return response
    }

    private func s3Outcome(_ wire: WireRequest, head: Bool, requestId: String) async -> Outcome {
        let operation = S3Operation(wire)
        do {
            return Outcome(response: try await s3.handle(operation, wire), service: AWSService.s3.rawValue, operation: operation.name, account: wire.caller.account)
        } catch let error as S3Error {
            return Outcome(response: S3ErrorMapping.response(error, requestId: requestId, head: head), service: AWSService.s3.rawValue,
                           operation: operation.name, account: wire.caller.account, error: error.description)
        } catch {
            return internalError(error, service: .s3, scope: AWSService.s3.rawValue, operation: operation.name, requestId: requestId, head: head)
        }
    }

    /// The error in the format of `service`'s protocol (Signer's JSON for a service this server does not speak).
    private func errorOutcome(service: AWSService?, scope: String, operation: String, requestId: String, head: Bool, signer: SignerError,
                              s3: S3Error, acm: ACMError) -> Outcome {
        switch service {
        case .s3: Outcome(response: S3ErrorMapping.response(s3, requestId: requestId, head: head), service: scope, operation: operation, error: s3.message)
        case .acm: Outcome(response: ACMErrorMapping.response(acm), service: scope, operation: operation, error: acm.message)
        case .signer, nil: Outcome(response: SignerErrorMapping.response(signer), service: scope, operation: operation, error: signer.message)
        }
    }

    /// A failure of the server itself (disk, database): a 500 in the protocol's format, logged at error level.
    private func internalError(_ error: any Error, service: AWSService?, scope: String, operation: String, requestId: String, head: Bool) -> Outcome {
        logger.error("internal error", metadata: ["request_id": "\(requestId)", "operation": "\(operation)", "error": "\(error)"])
        let message = "The server could not complete the request (request id \(requestId)); see its log"
        return errorOutcome(service: service, scope: scope, operation: operation, requestId: requestId, head: head,
                            signer: SignerError(.internalServiceError, message), s3: S3Error(.internalError, message), acm: ACMError(.internalFailure, message))
    }
}

/// Everything `otarig serve` runs, built from a data directory.
public struct SignerServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var region: String
        public var dataDirectory: URL
        public var credentials: [Credential]
        public var maxObjectBytes: Int
        public var jobLimits: SignerService.JobLimits
        /// How long a job's lease lasts without renewal: how soon another instance finishes the jobs of one that died.
        public var leaseDuration: TimeInterval
        public init(host: String = "127.0.0.1", port: Int = 8765, region: String = "us-east-1", dataDirectory: URL, credentials: [Credential],
                    maxObjectBytes: Int = 256 << 20, jobLimits: SignerService.JobLimits = .init(), leaseDuration: TimeInterval = 15) {
            self.jobLimits = jobLimits
            self.leaseDuration = leaseDuration
            self.host = host
            self.port = port
            self.region = region
            self.dataDirectory = dataDirectory
            self.credentials = credentials
            self.maxObjectBytes = maxObjectBytes
        }
    }

    /// The stores a server runs on. `dataDirectory(_:)` is the default; `otarig serve --database/--objects` builds
    /// others (PostgreSQL, an external S3-compatible store) and passes them in.
    public struct Components: Sendable {
        public var store: any SignerStore
        public var objects: any ObjectStore
        public var keys: any KeyStore
        public var managed: ManagedKeys
        public var rateLimiter: (any JobRateLimiter)?
        /// What `/health` checks.
        public var healthChecks: [HealthCheck]
        /// Services that must run beside the HTTP server.
        public var services: [any Service]
        /// Where to re-read the access keys when a request names one the server does not know (a shared database).
        public var reloadCredentials: (@Sendable () async throws -> [Credential])?
        public init(store: any SignerStore, objects: any ObjectStore, keys: any KeyStore, managed: ManagedKeys, rateLimiter: (any JobRateLimiter)? = nil,
                    healthChecks: [HealthCheck] = [], services: [any Service] = [], reloadCredentials: (@Sendable () async throws -> [Credential])? = nil) {
            self.reloadCredentials = reloadCredentials
            self.store = store
            self.objects = objects
            self.keys = keys
            self.managed = managed
            self.rateLimiter = rateLimiter
            self.healthChecks = healthChecks
            self.services = services
        }

        /// A data directory's stores: `otarig.sqlite` (WAL), `objects/`, `keys/`, `managed/` (created if missing).
        public static func dataDirectory(_ directory: URL) throws -> Components {
            let database = try openDatabase(in: directory)
            return try dataDirectory(directory, database: database,
                                     objects: DiskObjectStore(database: database, directory: directory.appendingPathComponent("objects")))
        }

        /// The data directory's `otarig.sqlite`, the directory made (mode 0700) if missing.
        public static func openDatabase(in directory: URL) throws -> SignerDatabase {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            return try SignerDatabase(path: directory.appendingPathComponent("otarig.sqlite").path)
        }

        /// A data directory's profiles and jobs (in `database`), key store and managed keys, with the objects given.
        public static func dataDirectory(_ directory: URL, database: SignerDatabase, objects: any ObjectStore) throws -> Components {
            let store = SQLiteSignerStore(database: database)
            return Components(store: store, objects: objects, keys: try DirectoryKeyStore(directory: directory.appendingPathComponent("keys")),
                              managed: ManagedKeys(directory: directory.appendingPathComponent("managed")),
                              healthChecks: [HealthCheck(name: "store", check: { _ = try await store.job(id: "health-check") })])
        }
    }

    public let configuration: Configuration
    public let service: SignerService
    public let buckets: BucketService
    public let certificates: CertificateService
    let components: Components
    let logger: Logger

    /// Opens (or creates) the data directory: `otarig.sqlite` (WAL), `objects/`, `keys/`, `managed/`.
    public init(configuration: Configuration, logger: Logger) throws {
        try self.init(configuration: configuration, components: .dataDirectory(configuration.dataDirectory), logger: logger)
    }

    /// A server on the given stores.
    public init(configuration: Configuration, components: Components, logger: Logger) throws {
        self.configuration = configuration
        self.components = components
        self.logger = logger
        service = SignerService(region: configuration.region, store: components.store, objects: components.objects, keys: components.keys,
                                managed: components.managed, limits: configuration.jobLimits, rateLimiter: components.rateLimiter,
                                leaseDuration: configuration.leaseDuration, logger: logger)
        buckets = BucketService(objects: components.objects, region: configuration.region)
        certificates = CertificateService(keys: components.keys, store: components.store, region: configuration.region)
    }

    /// The Hummingbird application; `onRunning` gets the bound port (useful with port 0).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var responder = OtarigResponder(credentials: configuration.credentials, reload: components.reloadCredentials, region: configuration.region, service: service,
                                        buckets: buckets, certificates: certificates, logger: logger,
                                        maxObjectBytes: configuration.maxObjectBytes)
        responder.healthChecks = components.healthChecks
        return Application(
            responder: responder,
            server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "otarig"),
            services: components.services + [LeaseKeeper(service: service), JobDrain(service: service, logger: logger)],
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}

/// Renews this instance's job leases and takes over jobs whose lease expired, until shutdown (it stops after
/// `JobDrain`, so the jobs being finished keep their leases).
struct LeaseKeeper: Service {
    let service: SignerService

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await service.runLeaseKeeper()
        }
    }
}

/// On graceful shutdown, waits for the signing jobs in flight before the process exits.
struct JobDrain: Service {
    let service: SignerService
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.notice("shutting down: finishing the signing jobs in flight")
        await service.drain()
    }
}
