import CodeSigning
import Foundation
import PostgresTestSupport
import SignerAPI
import SignerPostgres
@testable import SignerService
import SigV4
import Testing

/// A job record as `SignerService` would insert it: InProgress, for alice.
func makeJob(token: String?, createdAt: Date = Date(timeIntervalSince1970: 1_790_000_000), invoker: String = "111111111111") -> JobRecord {
    JobRecord(jobId: UUID().uuidString.lowercased(), kind: .signingJob, owner: "111111111111", invoker: invoker,
              requestedBy: "arn:aws:iam::\(invoker):user/alice", clientRequestToken: token, profileName: "esp32", profileVersion: "ABCDEFGHIJ",
              platformId: "AmazonFreeRTOS-Default", source: S3Source(bucketName: "fw", key: "app.bin", version: "v1"),
              destination: S3Destination(bucketName: "fw", prefix: "signed-"), signingMaterial: nil, overrides: nil, signingParameters: nil,
              createdAt: createdAt, completedAt: nil, signatureExpiresAt: nil, status: .inProgress, statusReason: nil, revocation: nil,
              signedObject: nil)
}

func makeProfile(_ name: String, account: String = "111111111111") -> ProfileRecord {
    ProfileRecord(account: account, name: name, version: "ABCDEFGHIJ", platformId: "AWSLambda-SHA384-ECDSA", signingMaterial: nil,
                  signatureValidityPeriod: SignatureValidityPeriod(value: 135, type: .months), overrides: nil, signingParameters: nil,
                  tags: ["team": "fw"], status: .active, statusReason: nil, revocation: nil, createdAt: Date(timeIntervalSince1970: 1_790_000_000),
                  permissions: [], policyRevisionId: nil)
}

@Suite("PostgreSQL connection strings")
struct PostgresURLTests {
    @Test("parses postgres://user[:password]@host[:port]/database, percent-decoding the user and password")
    func parses() throws {
        let full = try PostgresDatabase.parse(url: "postgres://otarig:s%40cret@db.example:6543/signer")
        #expect(full == PostgresDatabase.Location(user: "otarig", password: "s@cret", host: "db.example", port: 6543, database: "signer"))
        let short = try PostgresDatabase.parse(url: "postgresql://otarig@127.0.0.1/signer?sslmode=disable")
        #expect(short == PostgresDatabase.Location(user: "otarig", password: nil, host: "127.0.0.1", port: 5432, database: "signer"))
    }

    @Test("refuses a malformed URL with a message that names the expected form and hides the password",
          arguments: ["mysql://u@h/d", "postgres://h/d", "postgres://u:pw@h", "postgres://u:pw@h:5432/", "postgres://u:pw@h/d?sslmode=require", "not a url"])
    func refuses(_ url: String) throws {
        let error = #expect(throws: StoreError.self) { try PostgresDatabase.parse(url: url) }
        #expect(error?.message.contains("postgres://user[:password]@host[:port]/database") == true, "\(String(describing: error))")
        #expect(error?.message.contains("pw") == false, "\(String(describing: error))")
    }
}

@Suite("The PostgreSQL store", .serialized)
struct PostgresStoreTests {
    @Test("4 concurrent migrate() calls on an empty database all succeed and apply each migration once")
    func migrationRace() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let before = try await database.status()
            #expect(before.applied.isEmpty && before.pending == PostgresDatabase.migrationVersions)
            let results = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 { group.addTask { try await database.migrate() } }
                return try await group.reduce(into: [[String]]()) { $0.append($1) }
            }
            #expect(results.count == 4)
            #expect(results.flatMap { $0 }.sorted() == PostgresDatabase.migrationVersions, "\(results)")
            let status = try await database.status()
            #expect(status.applied == PostgresDatabase.migrationVersions && status.pending.isEmpty)
            #expect(status.serverVersion.first?.isNumber == true, "\(status.serverVersion)")
            #expect(try await database.migrate() == [])
        }
    }

    @Test("keeps profiles: insert once per name, read, save, list by name, count in status")
    func profiles() async throws {
        try await TestPostgres.withDatabase { database in
            let store = PostgresSignerStore(database: database)
            #expect(try await store.insertProfile(makeProfile("zeta")))
            #expect(try await store.insertProfile(makeProfile("alpha")))
            #expect(try await !store.insertProfile(makeProfile("alpha")))
            #expect(try await store.insertProfile(makeProfile("alpha", account: "222222222222")))
            var alpha = try #require(try await store.profile(account: "111111111111", name: "alpha"))
            #expect(alpha == makeProfile("alpha"))
            alpha.status = .revoked
            alpha.statusReason = "leaked"
            try await store.saveProfile(alpha)
            #expect(try await store.profile(account: "111111111111", name: "alpha") == alpha)
            #expect(try await store.profiles(account: "111111111111").map(\.name) == ["alpha", "zeta"])
            #expect(try await store.profile(account: "333333333333", name: "alpha") == nil)
            #expect(try await database.status().profiles == 3)
        }
    }

    @Test("20 concurrent insertJob calls with one client token make one job, and every caller gets it")
    func tokenIdempotency() async throws {
        try await TestPostgres.withDatabase { database in
            let store = PostgresSignerStore(database: database)
            let lease = JobLease(owner: "instance-a", duration: 30)
            let returned = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await store.insertJob(makeJob(token: "same-token"), lease: lease).jobId } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(returned).count == 1, "\(Set(returned))")
            let jobs = try await store.jobs(visibleTo: "111111111111")
            #expect(jobs.map(\.jobId) == [returned[0]])
            // The same token from another invoker is another job; no token never collides.
            _ = try await store.insertJob(makeJob(token: "same-token", invoker: "222222222222"), lease: nil)
            _ = try await store.insertJob(makeJob(token: nil), lease: nil)
            _ = try await store.insertJob(makeJob(token: nil), lease: nil)
            let status = try await database.status()
            #expect(status.jobs == 4 && status.inProgressJobs == 4)
        }
    }

    @Test("two instances claiming at once never get the same job, and together get every one, oldest first")
    func concurrentClaims() async throws {
        try await TestPostgres.withDatabase { database in
            let store = PostgresSignerStore(database: database)
            let base = Date(timeIntervalSince1970: 1_790_000_000)
            var inserted: [String] = []
            for index in 0..<60 {
                inserted.append(try await store.insertJob(makeJob(token: "t\(index)", createdAt: base.addingTimeInterval(Double(index))), lease: nil).jobId)
            }
            let all = inserted
            // A second instance: its own client and pool on the same database.
            try await TestPostgres.withSecondClient(of: database) { other in
                let stores = [store, PostgresSignerStore(database: other)]
                let claimed = try await withThrowingTaskGroup(of: [[String]].self) { group in
                    for (index, claimer) in stores.enumerated() {
                        group.addTask {
                            var batches: [[String]] = []
                            while true {
                                let batch = try await claimer.claimJobs(lease: JobLease(owner: "instance-\(index)", duration: 60), limit: 3, includeLive: false)
                                if batch.isEmpty { return batches }
                                batches.append(batch.map(\.jobId))
                            }
                        }
                    }
                    return try await group.reduce(into: [[String]]()) { $0 += $1 }
                }
                let got = claimed.flatMap { $0 }
                #expect(got.count == 60, "claimed \(got.count)")
                #expect(Set(got) == Set(all))
                for batch in claimed {
                    let order = batch.compactMap { all.firstIndex(of: $0) }
                    #expect(order == order.sorted(), "a batch is oldest first")
                }
                // Every job is now leased: nothing left to claim, except with includeLive for a third owner.
                #expect(try await stores[0].claimJobs(lease: JobLease(owner: "instance-0", duration: 60), limit: 100, includeLive: false).isEmpty)
                #expect(try await stores[1].claimJobs(lease: JobLease(owner: "instance-2", duration: 60), limit: 100, includeLive: true).count == 60)
            }
        }
    }

    @Test("a lease expires on the database clock and the job is claimable; the stale owner can neither finish nor renew it")
    func leaseExpiry() async throws {
        try await TestPostgres.withDatabase { database in
            let store = PostgresSignerStore(database: database)
            let a = JobLease(owner: "instance-a", duration: 1)
            let b = JobLease(owner: "instance-b", duration: 60)
            let job = try await store.insertJob(makeJob(token: "t"), lease: a)
            #expect(try await store.claimJobs(lease: b, limit: 10, includeLive: false).isEmpty, "a live lease is not claimable")
            #expect(try await store.renewLeases([job.jobId, "unknown"], lease: a) == [job.jobId])
            try await Task.sleep(for: .milliseconds(1300))
            let claimed = try await store.claimJobs(lease: b, limit: 10, includeLive: false)
            #expect(claimed.map(\.jobId) == [job.jobId])
            // The stale owner: its finish writes nothing, its renewal holds nothing.
            var stale = job
            stale.status = .failed
            stale.statusReason = "stale"
            #expect(try await !store.finishJob(stale, lease: a))
            #expect(try await store.renewLeases([job.jobId], lease: a).isEmpty)
            #expect(try await store.job(id: job.jobId)?.status == .inProgress)
            #expect(try await store.job(id: job.jobId)?.statusReason == nil)
            // The new owner finishes it; the lease is gone, so nobody can claim it again.
            var done = job
            done.status = .succeeded
            done.completedAt = Date(timeIntervalSince1970: 1_790_000_100)
            #expect(try await store.finishJob(done, lease: b))
            #expect(try await store.job(id: job.jobId) == done)
            #expect(try await store.claimJobs(lease: a, limit: 10, includeLive: true).isEmpty)
            #expect(try await store.renewLeases([job.jobId], lease: b).isEmpty)
            #expect(try await database.status().inProgressJobs == 0)
            // A revocation changes the record only, once: a later claim still sees a finished job.
            let revocation = SigningJobRevocationRecord(reason: "r", revokedAt: Date(timeIntervalSince1970: 1_790_000_200), revokedBy: "alice")
            #expect(try await store.revokeJob(id: job.jobId, revocation: revocation))
            #expect(try await !store.revokeJob(id: job.jobId, revocation: revocation))
            #expect(try await !store.revokeJob(id: "no-such-job", revocation: revocation))
            var revoked = done
            revoked.revocation = revocation
            #expect(try await store.job(id: job.jobId) == revoked)
            #expect(try await store.claimJobs(lease: a, limit: 10, includeLive: true).isEmpty)
            // A finished job cannot be finished again, even by a lease holder.
            #expect(try await !store.finishJob(done, lease: b))
        }
    }

    @Test("the job rate limit is one bucket per account in the database, shared by two limiter objects")
    func sharedRateLimit() async throws {
        try await TestPostgres.withDatabase { database in
            try await TestPostgres.withSecondClient(of: database) { other in
                let limiters = [PostgresJobRateLimiter(database: database), PostgresJobRateLimiter(database: other)]
                // A slow refill (one token per 1000 s): a full bucket of 5 gives 5 tokens across both instances.
                var taken = 0
                for index in 0..<10 where try await limiters[index % 2].take(account: "a", perSecond: 0.001, burst: 5) { taken += 1 }
                #expect(taken == 5)
                #expect(try await limiters[0].take(account: "b", perSecond: 0.001, burst: 5), "another account has its own bucket")
                try await limiters[1].refund(account: "a", burst: 5)
                #expect(try await limiters[0].take(account: "a", perSecond: 0.001, burst: 5))
                #expect(try await !limiters[1].take(account: "a", perSecond: 0.001, burst: 5))
                // A refund never fills past the burst.
                for _ in 0..<3 { try await limiters[0].refund(account: "b", burst: 5) }
                var fromFull = 0
                for _ in 0..<8 where try await limiters[1].take(account: "b", perSecond: 0.001, burst: 5) { fromFull += 1 }
                #expect(fromFull == 5)
                // Refill: 4 tokens per second. Empty the bucket, wait 0.6 s (2.4 tokens): two more, not three.
                for _ in 0..<3 { _ = try await limiters[0].take(account: "c", perSecond: 4, burst: 2) }
                try await Task.sleep(for: .milliseconds(600))
                var refilled = 0
                for index in 0..<3 where try await limiters[index % 2].take(account: "c", perSecond: 4, burst: 2) { refilled += 1 }
                #expect(refilled == 2)
            }
        }
    }

    @Test("keeps imported certificates and their keys, refuses what ACM refuses, and stores nothing then")
    func keyStore() async throws {
        try await TestPostgres.withDatabase { database in
            let store = PostgresKeyStore(database: database)
            let now = Date()
            let key = try SigningKey.generate(.ecP256)
            let issued = try CertificateFactory.codeSigningCertificate(commonName: "pg", key: key, notBefore: now.addingTimeInterval(-60), days: 30)
            let record = try await store.importCertificate(certificate: Array(issued.certificatePEM.utf8), privateKey: Array(key.pemRepresentation.utf8),
                                                           chain: nil, region: "eu-west-1", account: "111122223333", now: now)
            #expect(record.arn.hasPrefix("arn:aws:acm:eu-west-1:111122223333:certificate/"))
            #expect(try await store.certificate(arn: record.arn) == record)
            #expect(try await store.list() == [record])
            #expect(try await store.signingKey(arn: record.arn).certificatePublicKey == key.certificatePublicKey)
            #expect(try await store.certificate(arn: record.arn.replacingOccurrences(of: "eu-west-1", with: "us-east-1")) == nil)
            let stranger = try SigningKey.generate(.ecP256)
            let refused = await #expect(throws: CodeSigningError.self) {
                _ = try await store.importCertificate(certificate: Array(issued.certificatePEM.utf8), privateKey: Array(stranger.pemRepresentation.utf8),
                                                      chain: nil, region: "eu-west-1", account: "111122223333", now: now)
            }
            #expect(refused?.code == .keyMismatch)
            #expect(try await store.list().count == 1)
            #expect(try await store.delete(arn: record.arn))
            #expect(try await !store.delete(arn: record.arn))
            #expect(try await store.list().isEmpty)
            await #expect(throws: StoreError.self) { _ = try await store.signingKey(arn: record.arn) }
        }
    }

    @Test("two instances storing the managed root at once: one wins, both get the winner's pair; a stale replace changes nothing")
    func managedKeyRace() async throws {
        try await TestPostgres.withDatabase { database in
            try await TestPostgres.withSecondClient(of: database) { other in
                let storages = [PostgresManagedKeyStorage(database: database), PostgresManagedKeyStorage(database: other)]
                #expect(try await storages[0].load("root") == nil)
                let results = try await withThrowingTaskGroup(of: String.self) { group in
                    for index in 0..<8 {
                        group.addTask {
                            try await storages[index % 2].store("root", certificatePEM: "cert-\(index)", keyPEM: "key-\(index)", replacing: nil).certificatePEM
                        }
                    }
                    return try await group.reduce(into: [String]()) { $0.append($1) }
                }
                #expect(Set(results).count == 1, "\(results)")
                let winner = try #require(results.first)
                let loaded = try #require(try await storages[1].load("root"))
                #expect(loaded.certificatePEM == winner && loaded.keyPEM == winner.replacingOccurrences(of: "cert", with: "key"))
                // Renewal: replacing the pair read succeeds once; a second renewal from the same stale read loses.
                let renewed = try await storages[0].store("root", certificatePEM: "renewed", keyPEM: "renewed-key", replacing: winner)
                #expect(renewed.certificatePEM == "renewed" && renewed.keyPEM == "renewed-key")
                let late = try await storages[1].store("root", certificatePEM: "late", keyPEM: "late-key", replacing: winner)
                #expect(late.certificatePEM == "renewed" && late.keyPEM == "renewed-key")
                #expect(try await storages[0].load("signer") == nil)
            }
        }
    }

    @Test("access keys and bucket owners are the same for every instance")
    func credentialsAndBuckets() async throws {
        try await TestPostgres.withDatabase { database in
            try await TestPostgres.withSecondClient(of: database) { other in
                let first = CredentialsFile.generate(profile: "lab", account: "111111111111")
                let second = CredentialsFile.generate(profile: "ci", account: "222222222222")
                try await PostgresCredentialStore(database: database).upsert([first, second])
                let loaded = try await PostgresCredentialStore(database: other).load()
                #expect(Set(loaded.map(\.accessKeyId)) == [first.accessKeyId, second.accessKeyId])
                #expect(loaded.first { $0.accessKeyId == first.accessKeyId } == first)
                var rotated = first
                rotated.secretAccessKey = "rotated"
                try await PostgresCredentialStore(database: other).upsert([rotated])
                #expect(try await PostgresCredentialStore(database: database).load().first { $0.accessKeyId == first.accessKeyId } == rotated)

                let registries = [PostgresBucketRegistry(database: database), PostgresBucketRegistry(database: other)]
                let created = Date(timeIntervalSince1970: 1_790_000_000)
                #expect(try await registries[0].record(bucket: "fw", owner: "111111111111", region: "us-east-1", createdAt: created))
                #expect(try await !registries[1].record(bucket: "fw", owner: "222222222222", region: "us-east-1", createdAt: created))
                #expect(try await registries[1].owner(of: "fw") == "111111111111")
                try await registries[1].forget(bucket: "fw")
                #expect(try await registries[0].owner(of: "fw") == nil)
            }
        }
    }
}

@Suite("PostgreSQL going away")
struct PostgresRestartTests {
    @Test("while the server is stopped queries fail with a StoreError; after it is back the same client answers again")
    func restart() async throws {
        let cluster = try TestPostgres.Cluster.start()
        defer { cluster.destroy() }
        try await TestPostgres.withDatabase(cluster: cluster, operationTimeout: .seconds(8)) { database in
            let store = PostgresSignerStore(database: database)
            #expect(try await store.insertProfile(makeProfile("before")))
            try await database.ping()
            try cluster.stopServer()
            let started = ContinuousClock.now
            let down = await #expect(throws: StoreError.self) { try await database.ping() }
            #expect(started.duration(to: .now) < .seconds(40), "a query fails after the operation timeout (8 s), not after postgres-nio's 60 s wait for a connection")
            #expect(down?.message.contains("PostgreSQL") == true, "\(String(describing: down))")
            await #expect(throws: StoreError.self) { _ = try await store.profile(account: "111111111111", name: "before") }
            try cluster.startAgain()
            // The pool reconnects by itself (with its backoff): the same client, no new one.
            var answered = false
            let deadline = ContinuousClock.now.advanced(by: .seconds(20))
            while !answered, ContinuousClock.now < deadline {
                do {
                    try await database.ping()
                    answered = true
                } catch {
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            #expect(answered, "the client answered again within 20 s of the restart")
            #expect(try await store.profile(account: "111111111111", name: "before")?.name == "before")
            #expect(try await store.insertProfile(makeProfile("after")))
        }
    }
}
