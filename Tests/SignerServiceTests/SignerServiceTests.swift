import CodeSigning
import Foundation
import Logging
import SignerAPI
import PostgresTestSupport
import SignerPostgres
import Testing
@testable import SignerService

/// The store a fixture's service runs on: the same business tests run on both.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `SQLiteSignerStore`, `DirectoryKeyStore`, managed keys in a directory, rate limits in memory: one instance.
    case sqlite
    /// `PostgresSignerStore`, `PostgresKeyStore`, `PostgresManagedKeyStorage`, `PostgresJobRateLimiter` on a fresh
    /// database of the test process's own PostgreSQL cluster (`TestPostgres`): the shared set-up.
    case postgres
    var testDescription: String { rawValue }
}

/// A service over a temporary data directory (and, for `.postgres`, a fresh database), with a clock the test moves.
final class ServiceFixture: @unchecked Sendable {
    let kind: StoreKind
    let directory: URL
    let clock: Clock
    let service: SignerService
    let objects: DiskObjectStore
    let keys: any KeyStore
    let store: any SignerStore
    /// The PostgreSQL database (`.postgres`), whose client runs until `remove()`.
    let databaseURL: String?
    private let postgres: SignerPostgres.PostgresDatabase?
    private let client: Task<Void, Never>?
    static let alice = Caller(account: "111111111111", principal: "arn:aws:iam::111111111111:user/alice")

    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var value = Date(timeIntervalSince1970: 1_790_000_000)
        var now: Date { lock.withLock { value } }
        func advance(_ seconds: TimeInterval) { lock.withLock { value += seconds } }
    }

    /// A new service; with `directory` (and `databaseURL`) another instance over the same state, as after a restart.
    init(_ kind: StoreKind, directory: URL? = nil, databaseURL: String? = nil) async throws {
        self.kind = kind
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("otarig-service-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        clock = Clock()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let clock = self.clock
        let database = try SignerDatabase(path: self.directory.appendingPathComponent("otarig.sqlite").path)
        objects = try DiskObjectStore(database: database, directory: self.directory.appendingPathComponent("objects"))
        let managed: ManagedKeys
        var rateLimiter: (any JobRateLimiter)?
        switch kind {
        case .sqlite:
            store = SQLiteSignerStore(database: database)
            keys = try DirectoryKeyStore(directory: self.directory.appendingPathComponent("keys"))
            managed = ManagedKeys(directory: self.directory.appendingPathComponent("managed"))
            postgres = nil
            client = nil
            self.databaseURL = nil
        case .postgres:
            let url: String
            if let databaseURL {
                url = databaseURL
            } else {
                let cluster = try TestPostgres.cluster()
                url = cluster.url(database: try await TestPostgres.createDatabase(in: cluster))
            }
            let postgres = try SignerPostgres.PostgresDatabase(url: url, logger: logger, maximumConnections: 8)
            client = Task { await postgres.run() }
            try await postgres.migrate()
            store = PostgresSignerStore(database: postgres)
            keys = PostgresKeyStore(database: postgres)
            managed = ManagedKeys(storage: PostgresManagedKeyStorage(database: postgres))
            rateLimiter = PostgresJobRateLimiter(database: postgres)
            self.postgres = postgres
            self.databaseURL = url
        }
        service = SignerService(region: "us-east-1", store: store, objects: objects, keys: keys, managed: managed,
                                rateLimiter: rateLimiter, now: { clock.now }, logger: logger)
    }

    func remove() {
        client?.cancel()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A versioned bucket of alice's account.
    func makeVersionedBucket(_ name: String) async throws {
        try await objects.createBucket(name: name, owner: Self.alice.account, region: "us-east-1", now: clock.now)
        try await objects.setVersioning(bucket: name, status: .enabled)
    }

    /// An imported ECDSA P-256 certificate of alice's account.
    func importCertificate() async throws -> (arn: String, certificate: CertificateFactory.Issued) {
        let key = try SigningKey.generate(.ecP256)
        let issued = try CertificateFactory.codeSigningCertificate(commonName: "t", key: key, notBefore: clock.now.addingTimeInterval(-60), days: 30)
        let record = try await keys.importCertificate(certificate: Array(issued.certificatePEM.utf8), privateKey: Array(key.pemRepresentation.utf8),
                                                chain: nil, region: "us-east-1", account: Self.alice.account, now: clock.now)
        return (record.arn, issued)
    }
}

@Suite("The signing service")
struct SignerServiceTests {
    @Test("adds validity periods in calendar arithmetic: 2023-07-18T10:51:39Z + 135 months = 2034-10-18T10:51:39Z")
    func calendarArithmetic() throws {
        let start = try #require(ISO8601DateFormatter().date(from: "2023-07-18T10:51:39Z"))
        let end = SignerService.add(SignatureValidityPeriod(value: 135, type: .months), to: start)
        #expect(ISO8601DateFormatter().string(from: end) == "2034-10-18T10:51:39Z")
        let leap = try #require(ISO8601DateFormatter().date(from: "2024-01-31T00:00:00Z"))
        #expect(ISO8601DateFormatter().string(from: SignerService.add(SignatureValidityPeriod(value: 1, type: .months), to: leap)) == "2024-02-29T00:00:00Z")
    }

    @Test("revokes a profile only from the past, and only ever earlier", arguments: StoreKind.allCases)
    func revocationRules(_ kind: StoreKind) async throws {
        let fixture = try await ServiceFixture(kind)
        defer { fixture.remove() }
        let put = try await fixture.service.putSigningProfile(ServiceFixture.alice, profileName: "lambda_p", PutSigningProfileRequest(platformId: "AWSLambda-SHA384-ECDSA"))
        let now = fixture.clock.now
        let future = await #expect(throws: SignerError.self) {
            try await fixture.service.revokeSigningProfile(ServiceFixture.alice, profileName: "lambda_p",
                                                           RevokeSigningProfileRequest(profileVersion: put.profileVersion, reason: "r", effectiveTime: now.addingTimeInterval(3600)))
        }
        #expect(future?.code == .validation && future?.message.contains("effectiveTime must not be in the future") == true, "\(String(describing: future))")
        try await fixture.service.revokeSigningProfile(ServiceFixture.alice, profileName: "lambda_p",
                                                       RevokeSigningProfileRequest(profileVersion: put.profileVersion, reason: "leaked", effectiveTime: now.addingTimeInterval(-100)))
        let later = await #expect(throws: SignerError.self) {
            try await fixture.service.revokeSigningProfile(ServiceFixture.alice, profileName: "lambda_p",
                                                           RevokeSigningProfileRequest(profileVersion: put.profileVersion, reason: "r", effectiveTime: now.addingTimeInterval(-50)))
        }
        #expect(later?.code == .validation && later?.message.contains("effectiveTime may only move earlier") == true, "\(String(describing: later))")
        try await fixture.service.revokeSigningProfile(ServiceFixture.alice, profileName: "lambda_p",
                                                       RevokeSigningProfileRequest(profileVersion: put.profileVersion, reason: "earlier", effectiveTime: now.addingTimeInterval(-500)))
        let profile = try await fixture.service.getSigningProfile(ServiceFixture.alice, profileName: "lambda_p", profileOwner: nil)
        #expect(profile.status == .revoked)
        #expect(profile.revocationRecord?.revocationEffectiveFrom == now.addingTimeInterval(-500))
        let status = try await fixture.service.getRevocationStatus(ServiceFixture.alice, signatureTimestamp: now.addingTimeInterval(-400),
                                                                   platformId: "AWSLambda-SHA384-ECDSA", profileVersionArn: put.profileVersionArn,
                                                                   jobArn: "arn:aws:signer:us-east-1:111111111111:/signing-jobs/none", certificateHashes: ["aa"])
        #expect(status.revokedEntities == [put.profileVersionArn])
        let revokedStart = await #expect(throws: SignerError.self) {
            _ = try await fixture.service.startSigningJob(ServiceFixture.alice, StartSigningJobRequest(
                source: Source(s3: S3Source(bucketName: "b", key: "k", version: "v")), destination: Destination(s3: S3Destination(bucketName: "b")),
                profileName: "lambda_p", clientRequestToken: "t"))
        }
        #expect(revokedStart?.code == .validation && revokedStart?.message.contains("only an active profile can start signing jobs") == true, "\(String(describing: revokedStart))")
    }

    @Test("pages profiles 25 at a time with an opaque token, and refuses a forged one", arguments: StoreKind.allCases)
    func pagination(_ kind: StoreKind) async throws {
        let fixture = try await ServiceFixture(kind)
        defer { fixture.remove() }
        for index in 0..<30 {
            _ = try await fixture.service.putSigningProfile(ServiceFixture.alice, profileName: String(format: "p%02d", index),
                                                             PutSigningProfileRequest(platformId: "AWSLambda-SHA384-ECDSA"))
        }
        let first = try await fixture.service.listSigningProfiles(ServiceFixture.alice, includeCanceled: false, maxResults: nil, nextToken: nil, platformId: nil, statuses: [])
        #expect(first.profiles.count == 25)
        let token = try #require(first.nextToken)
        let second = try await fixture.service.listSigningProfiles(ServiceFixture.alice, includeCanceled: false, maxResults: 25, nextToken: token, platformId: nil, statuses: [])
        #expect(second.profiles.map(\.profileName) == ["p25", "p26", "p27", "p28", "p29"])
        #expect(second.nextToken == nil)
        let forged = await #expect(throws: SignerError.self) {
            _ = try await fixture.service.listSigningProfiles(ServiceFixture.alice, includeCanceled: false, maxResults: nil, nextToken: "forged", platformId: nil, statuses: [])
        }
        #expect(forged?.code == .validation && forged?.message.contains("nextToken is invalid") == true, "\(String(describing: forged))")
        let bogus = await #expect(throws: SignerError.self) {
            _ = try await fixture.service.listSigningProfiles(ServiceFixture.alice, includeCanceled: false, maxResults: nil, nextToken: nil, platformId: nil, statuses: ["Bogus"])
        }
        #expect(bogus?.code == .validation && bogus?.message.contains("statuses") == true, "\(String(describing: bogus))")
    }

    @Test("keeps everything across a restart, and finishes a job found in progress", arguments: StoreKind.allCases)
    func restartAndRecovery(_ kind: StoreKind) async throws {
        let fixture = try await ServiceFixture(kind)
        defer { fixture.remove() }
        let (arn, issued) = try await fixture.importCertificate()
        _ = try await fixture.service.putSigningProfile(ServiceFixture.alice, profileName: "esp32", PutSigningProfileRequest(
            signingMaterial: SigningMaterial(certificateArn: arn), platformId: "AmazonFreeRTOS-Default"))
        try await fixture.makeVersionedBucket("fw-bucket")
        let payload = Data((0..<3000).map { UInt8(truncatingIfNeeded: $0) })
        let version = try await fixture.objects.put(bucket: "fw-bucket", key: "app.bin", data: payload, contentType: nil, now: fixture.clock.now)
        // A job accepted before a crash: recorded InProgress, never run.
        let pending = JobRecord(jobId: UUID().uuidString.lowercased(), kind: .signingJob, owner: ServiceFixture.alice.account, invoker: ServiceFixture.alice.account,
                                requestedBy: ServiceFixture.alice.principal, clientRequestToken: "before-crash", profileName: "esp32", profileVersion: "x",
                                platformId: "AmazonFreeRTOS-Default", source: S3Source(bucketName: "fw-bucket", key: "app.bin", version: version.versionId),
                                destination: S3Destination(bucketName: "fw-bucket", prefix: "signed-"), signingMaterial: SigningMaterial(certificateArn: arn),
                                overrides: nil, signingParameters: nil, createdAt: fixture.clock.now, completedAt: nil, signatureExpiresAt: nil,
                                status: .inProgress, statusReason: nil, revocation: nil, signedObject: nil)
        // One instance on SQLite takes over every job at start-up, live lease or not; on the shared store a job is taken
        // over once the dead instance's lease has expired (on the database's clock).
        let leaseDuration: TimeInterval = kind == .sqlite ? 600 : 1
        _ = try await fixture.store.insertJob(pending, lease: JobLease(owner: "a-process-that-was-killed", duration: leaseDuration))
        if kind == .postgres { try await Task.sleep(for: .milliseconds(1200)) }

        let restarted = try await ServiceFixture(kind, directory: fixture.directory, databaseURL: fixture.databaseURL)
        defer { restarted.remove() }
        #expect(try await restarted.service.getSigningProfile(ServiceFixture.alice, profileName: "esp32", profileOwner: nil).status == .active)
        #expect(try await restarted.service.recover() == 1)
        await restarted.service.drain()
        let job = try await restarted.service.describeSigningJob(ServiceFixture.alice, jobId: pending.jobId)
        #expect(job.status == .succeeded)
        let (_, data) = try await restarted.objects.get(bucket: "fw-bucket", key: "signed-\(pending.jobId)", versionId: nil)
        let document = try SignedObjectDocument(decoding: data)
        #expect(SignatureAlgorithm.sha256WithECDSA.isValidSignature(document.signature, for: payload, certificate: issued.certificate))
    }

    @Test("fails a job whose source version does not exist, with a reason", arguments: StoreKind.allCases)
    func failedJob(_ kind: StoreKind) async throws {
        let fixture = try await ServiceFixture(kind)
        defer { fixture.remove() }
        let (arn, _) = try await fixture.importCertificate()
        _ = try await fixture.service.putSigningProfile(ServiceFixture.alice, profileName: "esp32", PutSigningProfileRequest(
            signingMaterial: SigningMaterial(certificateArn: arn), platformId: "AmazonFreeRTOS-Default"))
        try await fixture.makeVersionedBucket("fw-bucket")
        let started = try await fixture.service.startSigningJob(ServiceFixture.alice, StartSigningJobRequest(
            source: Source(s3: S3Source(bucketName: "fw-bucket", key: "missing.bin", version: "nope")),
            destination: Destination(s3: S3Destination(bucketName: "fw-bucket")), profileName: "esp32", clientRequestToken: "t"))
        await fixture.service.drain()
        let job = try await fixture.service.describeSigningJob(ServiceFixture.alice, jobId: started.jobId)
        #expect(job.status == .failed)
        #expect(job.statusReason?.contains("does not exist") == true)
    }

    @Test("signs a Notation payload into a JWS envelope that names the job and profile version", arguments: StoreKind.allCases)
    func signPayload(_ kind: StoreKind) async throws {
        let fixture = try await ServiceFixture(kind)
        defer { fixture.remove() }
        let put = try await fixture.service.putSigningProfile(ServiceFixture.alice, profileName: "notation", PutSigningProfileRequest(platformId: "Notation-OCI-SHA384-ECDSA"))
        let payload = Data(#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:00","size":1}}"#.utf8)
        let response = try await fixture.service.signPayload(ServiceFixture.alice, SignPayloadRequest(profileName: "notation", payload: payload,
                                                                                                       payloadFormat: NotationEnvelope.payloadMediaType))
        let envelope = try #require(try JSONSerialization.jsonObject(with: response.signature) as? [String: Any])
        #expect(envelope["payload"] is String && envelope["protected"] is String && envelope["signature"] is String)
        #expect(response.metadata["com.amazonaws.signer.signingProfileVersion"] == put.profileVersionArn)
        let jobs = try await fixture.service.listSigningJobs(ServiceFixture.alice, filter: .init(), maxResults: nil, nextToken: nil)
        #expect(jobs.jobs.map(\.jobId) == [response.jobId])
        #expect(jobs.jobs.first?.source == nil)
    }
}
