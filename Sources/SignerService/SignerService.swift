import CodeSigning
import Foundation
import Logging
import SignerAPI
import X509

/// The signing service: all 19 AWS Signer operations over a `SignerStore`, an `ObjectStore` and a `KeyStore`.
///
/// Business rules live here: validation as AWS does it, account isolation, profile permissions, job execution.
/// `SignerHTTP` decodes a request, calls one method and encodes the answer. The clock is injected.
public actor SignerService {
    public nonisolated let region: String
    nonisolated let store: any SignerStore
    nonisolated let objects: any ObjectStore
    nonisolated let keys: any KeyStore
    nonisolated let managed: ManagedKeys
    nonisolated let now: @Sendable () -> Date
    nonisolated let logger: Logger
    nonisolated let limits: JobLimits
    nonisolated let rateLimiter: any JobRateLimiter
    /// This instance's lease on the jobs it runs: a fresh owner id per process.
    public nonisolated let lease: JobLease
    private var running: [String: Task<Void, Never>] = [:]

    /// How fast jobs may start: a token bucket per account (`TooManyRequestsException` when empty) and a cap on
    /// jobs running at once (`ThrottlingException` when reached).
    public struct JobLimits: Sendable {
        public var perAccountPerSecond: Double
        public var burst: Double
        public var maxInFlight: Int
        public init(perAccountPerSecond: Double = 1000, burst: Double = 1000, maxInFlight: Int = 1000) {
            self.perAccountPerSecond = perAccountPerSecond
            self.burst = burst
            self.maxInFlight = maxInFlight
        }
    }

    public init(region: String, store: any SignerStore, objects: any ObjectStore, keys: any KeyStore, managed: ManagedKeys,
                limits: JobLimits = JobLimits(), rateLimiter: (any JobRateLimiter)? = nil, leaseDuration: TimeInterval = 15,
                now: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "otarig.signer")) {
        self.limits = limits
        self.rateLimiter = rateLimiter ?? InMemoryJobRateLimiter(now: now)
        self.lease = JobLease(owner: UUID().uuidString.lowercased(), duration: leaseDuration)
        self.region = region
        self.store = store
        self.objects = objects
        self.keys = keys
        self.managed = managed
        self.now = now
        self.logger = logger
    }

    /// The current time in whole seconds, as AWS reports timestamps.
    nonisolated func timestamp() -> Date {
        Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))
    }

    // MARK: - Platforms

    public nonisolated func listSigningPlatforms(category: String?, partner: String?, target: String?, maxResults: Int?, nextToken: String?) throws(SignerError) -> ListSigningPlatformsResponse {
        let size = try Validate.maxResults(maxResults)
        let matching = PlatformCatalog.all.filter { platform in
            (category == nil || platform.category == category) && (partner == nil || platform.partner == partner)
                && (target == nil || platform.target == target)
        }
        let page = try PageToken.page(matching, list: "platforms", token: nextToken, maxResults: size,
                                      key: { [$0.platformId] }, isAfter: { platform, after in
                                          guard let last = after.first, let index = matching.firstIndex(where: { $0.platformId == last }) else { return true }
                                          return (matching.firstIndex(of: platform) ?? 0) > index
                                      })
        return ListSigningPlatformsResponse(platforms: page.items, nextToken: page.nextToken)
    }

    public nonisolated func getSigningPlatform(platformId: String) throws(SignerError) -> SigningPlatform {
        guard let platform = PlatformCatalog.platform(id: platformId) else {
            throw .notFound("Platform \(platformId) does not exist. Valid platforms: \(PlatformCatalog.ids.joined(separator: ", "))")
        }
        return platform
    }

    // MARK: - Profiles

    static func newProfileVersion() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    /// The catalog's rules for a platform a stored profile or job names (always one the catalog knows).
    static func rules(_ platformId: String) throws(SignerError) -> PlatformRules {
        guard let rules = PlatformCatalog.rules(platformId: platformId) else {
            throw SignerError(.internalServiceError, "platform \(platformId) is not in this server's catalog")
        }
        return rules
    }

    public func putSigningProfile(_ caller: Caller, profileName: String, _ request: PutSigningProfileRequest) async throws -> PutSigningProfileResponse {
        let name = try Validate.profileName(profileName)
        let platformId = try Validate.required(request.platformId, "platformId")
        guard let platform = PlatformCatalog.platform(id: platformId) else {
            throw SignerError.validation("1 validation error detected: Value '\(platformId)' at 'platformId' failed to satisfy constraint: Member must be one of [\(PlatformCatalog.ids.joined(separator: ", "))]")
        }
        let validity = try Self.validity(request.signatureValidityPeriod)
        if let tags = request.tags { _ = try Validate.tags(tags) }
        var material = request.signingMaterial
        if try Self.rules(platformId).requiresSigningMaterial {
            guard let arn = material?.certificateArn else { throw SignerError.validation("signing material cannot be null.") }
            _ = try Validate.arn(arn, "signingMaterial.certificateArn")
            let key = try await signingKey(arn: arn, caller: caller)
            do {
                _ = try SigningPlan.resolve(platform: platform, overrides: request.overrides, key: key)
            } catch {
                throw SignerError.validation(error.message)
            }
        } else {
            if let arn = material?.certificateArn {
                throw SignerError.validation("\(platformId) signs with keys the service manages; remove signingMaterial (got \(arn))")
            }
            material = nil
            do { _ = try SigningPlan.resolve(platform: platform, overrides: request.overrides) } catch { throw SignerError.validation(error.message) }
        }
        let record = ProfileRecord(account: caller.account, name: name, version: Self.newProfileVersion(), platformId: platformId,
                                   signingMaterial: material, signatureValidityPeriod: validity, overrides: request.overrides,
                                   signingParameters: request.signingParameters, tags: request.tags ?? [:], status: .active,
                                   statusReason: nil, revocation: nil, createdAt: timestamp(), permissions: [], policyRevisionId: nil)
        guard try await store.insertProfile(record) else {
            throw SignerError.validation("Profile with name \(name) already exists", subCode: "ProfileAlreadyExists")
        }
        logger.info("profile created", metadata: ["profile": "\(name)", "account": "\(caller.account)", "platform": "\(platformId)"])
        return PutSigningProfileResponse(arn: record.arn(region: region), profileVersion: record.version, profileVersionArn: record.versionArn(region: region))
    }

    static func validity(_ period: SignatureValidityPeriod?) throws(SignerError) -> SignatureValidityPeriod {
        guard let period else { return .default }
        let value = try Validate.required(period.value, "signatureValidityPeriod.value")
        let type = try Validate.required(period.type, "signatureValidityPeriod.type")
        let months: Int = switch type {
        case .days: value / 30
        case .months: value
        case .years: value * 12
        }
        guard value >= 1, months <= 135 else {
            throw .validation("signatureValidityPeriod must be between 1 day and 135 months (got \(value) \(type.rawValue))")
        }
        return SignatureValidityPeriod(value: value, type: type)
    }

    /// The key of an imported certificate the caller's account owns.
    nonisolated func signingKey(arn: String, caller: Caller) async throws(SignerError) -> SigningKey {
        let record: StoredCertificate?
        do { record = try await keys.certificate(arn: arn) } catch { throw SignerError(.internalServiceError, "the key store cannot be read: \(error)") }
        guard let record, record.account == caller.account else {
            throw .notFound("Certificate \(arn) not found; import it with 'aws acm import-certificate' first")
        }
        do { return try await keys.signingKey(arn: arn) } catch { throw SignerError(.internalServiceError, "the key of \(arn) cannot be read: \(error)") }
    }

    /// A profile the caller may use for `action`: its own, or another account's that grants the action.
    nonisolated func profile(_ name: String, owner: String?, caller: Caller, action: String) async throws -> ProfileRecord {
        let ownerAccount = owner ?? caller.account
        if let owner { try Validate.accountId(owner, "profileOwner") }
        guard let profile = try await store.profile(account: ownerAccount, name: name) else {
            throw SignerError.notFound("Signing Profile with name \(name) does not exist.")
        }
        if ownerAccount != caller.account, !Self.permits(profile, action: action, caller: caller) {
            throw SignerError(.accessDenied, "\(caller.principal) is not authorized to perform: \(action) on \(profile.arn(region: region))")
        }
        return profile
    }

    static func permits(_ profile: ProfileRecord, action: String, caller: Caller) -> Bool {
        profile.permissions.contains { permission in
            permission.action == action
                && (permission.principal == caller.account || permission.principal == caller.principal)
                && (permission.profileVersion == nil || permission.profileVersion == profile.version)
        }
    }

    nonisolated func response(_ profile: ProfileRecord) -> GetSigningProfileResponse {
        let platform = PlatformCatalog.platform(id: profile.platformId)
        return GetSigningProfileResponse(
            profileName: profile.name, profileVersion: profile.version, profileVersionArn: profile.versionArn(region: region),
            revocationRecord: profile.revocation, signingMaterial: profile.signingMaterial ?? SigningMaterial(certificateArn: nil),
            platformId: profile.platformId, platformDisplayName: platform?.displayName ?? profile.platformId,
            signatureValidityPeriod: profile.signatureValidityPeriod, overrides: profile.overrides,
            signingParameters: profile.signingParameters, status: profile.status, statusReason: profile.statusReason,
            arn: profile.arn(region: region), tags: profile.tags)
    }

    public nonisolated func getSigningProfile(_ caller: Caller, profileName: String, profileOwner: String?) async throws -> GetSigningProfileResponse {
        let name = try Validate.profileName(profileName)
        return response(try await profile(name, owner: profileOwner, caller: caller, action: "signer:GetSigningProfile"))
    }

    public func cancelSigningProfile(_ caller: Caller, profileName: String) async throws {
        let name = try Validate.profileName(profileName)
        guard var profile = try await store.profile(account: caller.account, name: name) else {
            throw SignerError.notFound("Signing Profile with name \(name) does not exist.")
        }
        guard profile.status == .active else { return }
        profile.status = .canceled
        try await store.saveProfile(profile)
    }

    public nonisolated func listSigningProfiles(_ caller: Caller, includeCanceled: Bool, maxResults: Int?, nextToken: String?, platformId: String?,
                                    statuses: [String]) async throws -> ListSigningProfilesResponse {
        let size = try Validate.maxResults(maxResults)
        var wanted: Set<SigningProfileStatus> = []
        for status in statuses { wanted.insert(try Validate.member(status, "statuses", as: SigningProfileStatus.self)) }
        let profiles = try await store.profiles(account: caller.account).filter { profile in
            (includeCanceled || profile.status != .canceled || wanted.contains(.canceled))
                && (wanted.isEmpty || wanted.contains(profile.status))
                && (platformId == nil || profile.platformId == platformId)
        }
        let page = try PageToken.page(profiles, list: "profiles", token: nextToken, maxResults: size,
                                      key: { [$0.name] }, isAfter: { profile, after in profile.name > (after.first ?? "") })
        let items = page.items.map { profile in
            let full = response(profile)
            return SigningProfile(profileName: full.profileName, profileVersion: full.profileVersion, profileVersionArn: full.profileVersionArn,
                                  signingMaterial: full.signingMaterial, signatureValidityPeriod: full.signatureValidityPeriod,
                                  platformId: full.platformId, platformDisplayName: full.platformDisplayName,
                                  signingParameters: full.signingParameters, status: full.status, arn: full.arn, tags: full.tags)
        }
        return ListSigningProfilesResponse(profiles: items, nextToken: page.nextToken)
    }

    public func revokeSigningProfile(_ caller: Caller, profileName: String, _ request: RevokeSigningProfileRequest) async throws {
        let name = try Validate.profileName(profileName)
        let version = try Validate.profileVersion(request.profileVersion)
        let reason = try Validate.reason(request.reason)
        let effective = try Validate.required(request.effectiveTime, "effectiveTime")
        guard var profile = try await store.profile(account: caller.account, name: name) else {
            throw SignerError.notFound("Signing Profile with name \(name) does not exist.")
        }
        guard profile.version == version else {
            throw SignerError.notFound("Signing Profile \(name) has no version \(version) (its version is \(profile.version))")
        }
        let current = timestamp()
        guard effective <= current.addingTimeInterval(1) else {
            throw SignerError.validation("effectiveTime must not be in the future; revocation takes effect from a time in the past")
        }
        if let existing = profile.revocation?.revocationEffectiveFrom, effective > existing {
            throw SignerError.validation("effectiveTime may only move earlier: the profile is revoked from \(ISO8601DateFormatter().string(from: existing))")
        }
        guard profile.status != .canceled else {
            throw SignerError.validation("Signing Profile \(name) is canceled; a canceled profile cannot be revoked")
        }
        profile.status = .revoked
        profile.statusReason = reason
        profile.revocation = SigningProfileRevocationRecord(revocationEffectiveFrom: effective, revokedAt: current, revokedBy: caller.principal)
        try await store.saveProfile(profile)
        logger.notice("profile revoked", metadata: ["profile": "\(name)", "effective": "\(effective.timeIntervalSince1970)"])
    }

    // MARK: - Jobs

    public func startSigningJob(_ caller: Caller, _ request: StartSigningJobRequest) async throws -> StartSigningJobResponse {
        let source = try Validate.required(try Validate.required(request.source, "source").s3, "source.s3")
        let destination = try Validate.required(try Validate.required(request.destination, "destination").s3, "destination.s3")
        let destinationBucket = try Validate.required(destination.bucketName, "destination.s3.bucketName")
        let name = try Validate.profileName(request.profileName)
        let token = try Validate.required(request.clientRequestToken, "clientRequestToken")
        try Validate.length(token, "clientRequestToken", 1...64)
        for (value, field) in [(source.bucketName, "source.s3.bucketName"), (source.key, "source.s3.key"), (source.version, "source.s3.version")] {
            try Validate.length(value, field, 1...1024)
        }
        let profile = try await profile(name, owner: request.profileOwner, caller: caller, action: "signer:StartSigningJob")
        guard profile.status == .active else {
            throw SignerError.validation("Signing Profile \(name) is \(profile.status.rawValue.lowercased()); only an active profile can start signing jobs")
        }
        let rules = try Self.rules(profile.platformId)
        guard rules.allowsStartSigningJob else {
            throw SignerError.validation("StartSigningJob is not supported for platform \(profile.platformId)\(rules.allowsSignPayload ? "; use SignPayload" : "")")
        }
        guard let bucket = try await objects.bucket(source.bucketName), bucket.owner == caller.account else {
            throw SignerError.validation("The source bucket \(source.bucketName) does not exist in account \(caller.account)")
        }
        guard bucket.versioning == .enabled else {
            throw SignerError.validation("The source bucket \(source.bucketName) must have versioning enabled (aws s3api put-bucket-versioning --versioning-configuration Status=Enabled)")
        }
        guard let target = try await objects.bucket(destinationBucket), target.owner == caller.account else {
            throw SignerError.validation("The destination bucket \(destinationBucket) does not exist in account \(caller.account)")
        }
        try await admit(account: caller.account)
        let created = timestamp()
        let expires = rules.setsSignatureExpiry ? Self.add(profile.signatureValidityPeriod, to: created) : nil
        let job = JobRecord(jobId: UUID().uuidString.lowercased(), kind: .signingJob, owner: profile.account, invoker: caller.account,
                            requestedBy: caller.principal, clientRequestToken: token, profileName: profile.name,
                            profileVersion: profile.version, platformId: profile.platformId, source: source, destination: destination,
                            signingMaterial: profile.signingMaterial, overrides: profile.overrides,
                            signingParameters: profile.signingParameters, createdAt: created, completedAt: nil,
                            signatureExpiresAt: expires, status: .inProgress, statusReason: nil, revocation: nil, signedObject: nil)
        let stored = try await store.insertJob(job, lease: lease)
        if stored.jobId == job.jobId {
            schedule(job)
        } else {
            try? await rateLimiter.refund(account: caller.account, burst: limits.burst)
        }
        return StartSigningJobResponse(jobId: stored.jobId, jobOwner: stored.owner)
    }

    /// Takes one job start from the account's bucket, or refuses: the account's rate first, then the server's cap.
    private func admit(account: String) async throws {
        guard running.count < limits.maxInFlight else {
            throw SignerError(.throttling, "\(running.count) signing jobs are in flight, the most this server runs at once (--max-jobs-in-flight); retry shortly")
        }
        guard try await rateLimiter.take(account: account, perSecond: limits.perAccountPerSecond, burst: limits.burst) else {
            throw SignerError(.tooManyRequests, "The allowed number of job-signing requests has been exceeded: account \(account) may start \(limits.perAccountPerSecond.formatted()) jobs per second (--job-rate); retry shortly")
        }
    }

    /// `date` + a validity period in calendar arithmetic (UTC): 2023-07-18T10:51:39Z + 135 MONTHS = 2034-10-18T10:51:39Z.
    public static func add(_ period: SignatureValidityPeriod, to date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let value = period.value ?? 135
        let components: DateComponents = switch period.type ?? .months {
        case .days: DateComponents(day: value)
        case .months: DateComponents(month: value)
        case .years: DateComponents(year: value)
        }
        return calendar.date(byAdding: components, to: date) ?? date
    }

    private func schedule(_ job: JobRecord) {
        let context = JobRunner(region: region, store: store, objects: objects, keys: keys, managed: managed, lease: lease, now: now, logger: logger)
        running[job.jobId] = Task.detached { [weak self] in
            await context.run(job)
            await self?.finished(job.jobId)
        }
    }

    private func finished(_ jobId: String) {
        running[jobId] = nil
    }

    /// Runs every job found `InProgress` at start-up (a crash or kill between accepting and completing it). A store
    /// of one instance gives this one all of them; a shared store only those whose lease has expired (the others'
    /// instances are alive and renewing theirs; `maintainLeases` picks up the rest as they expire).
    public func recover() async throws -> Int {
        let claimed = try await store.claimJobs(lease: lease, limit: limits.maxInFlight, includeLive: !store.isShared)
        for job in claimed where running[job.jobId] == nil {
            logger.notice("resuming a job found in progress", metadata: ["job": "\(job.jobId)"])
            schedule(job)
        }
        return claimed.count
    }

    /// One round of lease upkeep: renews the leases of the jobs this instance runs, then claims jobs whose lease
    /// expired (their instance died) up to the in-flight cap. Returns how many were claimed.
    public func maintainLeases() async throws -> Int {
        let mine = Array(running.keys)
        if !mine.isEmpty {
            let held = try await store.renewLeases(mine, lease: lease)
            for id in mine where !held.contains(id) && running[id] != nil {
                logger.warning("lost the lease on a running job; another instance has taken it over", metadata: ["job": "\(id)"])
            }
        }
        let room = limits.maxInFlight - running.count
        guard room > 0 else { return 0 }
        let claimed = try await store.claimJobs(lease: lease, limit: room, includeLive: false)
        for job in claimed where running[job.jobId] == nil {
            logger.notice("taking over a job whose lease expired", metadata: ["job": "\(job.jobId)"])
            schedule(job)
        }
        return claimed.count
    }

    /// Keeps leases until cancelled: `maintainLeases` every third of the lease, so a live instance's leases never lapse
    /// and a dead instance's jobs are picked up within the lease plus a third.
    public nonisolated func runLeaseKeeper() async {
        let interval = max(0.2, lease.duration / 3)
        while !Task.isCancelled {
            do {
                _ = try await maintainLeases()
            } catch {
                logger.warning("cannot renew or claim job leases; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }

    /// Waits for every job in flight (graceful shutdown).
    public func drain() async {
        while let (_, task) = running.first {
            await task.value
        }
    }

    nonisolated func visibleJob(_ jobId: String, caller: Caller) async throws -> JobRecord {
        guard !jobId.isEmpty else { throw SignerError.validation("1 validation error detected: Value '' at 'jobId' failed to satisfy constraint: Member must have length greater than or equal to 1") }
        guard let job = try await store.job(id: jobId), job.owner == caller.account || job.invoker == caller.account else {
            throw SignerError.notFound("The specified job \(jobId) does not exist.")
        }
        return job
    }

    public nonisolated func describeSigningJob(_ caller: Caller, jobId: String) async throws -> DescribeSigningJobResponse {
        let job = try await visibleJob(jobId, caller: caller)
        return DescribeSigningJobResponse(
            jobId: job.jobId, source: job.source.map { Source(s3: $0) }, signingMaterial: job.signingMaterial ?? SigningMaterial(certificateArn: nil),
            platformId: job.platformId, platformDisplayName: PlatformCatalog.platform(id: job.platformId)?.displayName ?? job.platformId,
            profileName: job.profileName, profileVersion: job.profileVersion, overrides: job.overrides,
            signingParameters: job.signingParameters, createdAt: job.createdAt, completedAt: job.completedAt,
            signatureExpiresAt: job.signatureExpiresAt, requestedBy: job.requestedBy, status: job.status, statusReason: job.statusReason,
            revocationRecord: job.revocation, signedObject: job.signedObject.map { SignedObject(s3: $0) }, jobOwner: job.owner,
            jobInvoker: job.invoker)
    }

    public struct JobFilter: Sendable {
        public var status: String?
        public var platformId: String?
        public var requestedBy: String?
        public var isRevoked: Bool?
        public var signatureExpiresBefore: Date?
        public var signatureExpiresAfter: Date?
        public var jobInvoker: String?
        public init(status: String? = nil, platformId: String? = nil, requestedBy: String? = nil, isRevoked: Bool? = nil,
                    signatureExpiresBefore: Date? = nil, signatureExpiresAfter: Date? = nil, jobInvoker: String? = nil) {
            self.status = status
            self.platformId = platformId
            self.requestedBy = requestedBy
            self.isRevoked = isRevoked
            self.signatureExpiresBefore = signatureExpiresBefore
            self.signatureExpiresAfter = signatureExpiresAfter
            self.jobInvoker = jobInvoker
        }
    }

    public nonisolated func listSigningJobs(_ caller: Caller, filter: JobFilter, maxResults: Int?, nextToken: String?) async throws -> ListSigningJobsResponse {
        let size = try Validate.maxResults(maxResults)
        let status = try filter.status.map { raw throws(SignerError) in try Validate.member(raw, "status", as: SigningStatus.self) }
        if let invoker = filter.jobInvoker { try Validate.accountId(invoker, "jobInvoker") }
        let jobs = try await store.jobs(visibleTo: caller.account).filter { job in
            (status == nil || job.status == status) && (filter.platformId == nil || job.platformId == filter.platformId)
                && (filter.requestedBy == nil || job.requestedBy == filter.requestedBy)
                && (filter.isRevoked == nil || (job.revocation != nil) == filter.isRevoked)
                && (filter.signatureExpiresBefore == nil || (job.signatureExpiresAt.map { $0 < filter.signatureExpiresBefore! } ?? false))  // invariant: checked non-nil on the left
                && (filter.signatureExpiresAfter == nil || (job.signatureExpiresAt.map { $0 > filter.signatureExpiresAfter! } ?? false))  // invariant: as above
                && (filter.jobInvoker == nil || job.invoker == filter.jobInvoker)
        }
        func sortKey(_ job: JobRecord) -> [String] { [String(format: "%015.3f", job.createdAt.timeIntervalSince1970), job.jobId] }
        let page = try PageToken.page(jobs, list: "jobs", token: nextToken, maxResults: size, key: sortKey, isAfter: { job, after in
            guard after.count == 2 else { return true }
            let key = sortKey(job)
            return key[0] < after[0] || (key[0] == after[0] && key[1] > after[1])
        })
        let items = page.items.map { job in
            SigningJob(jobId: job.jobId, source: job.source.map { Source(s3: $0) }, signedObject: job.signedObject.map { SignedObject(s3: $0) },
                       signingMaterial: job.signingMaterial ?? SigningMaterial(certificateArn: nil), createdAt: job.createdAt, status: job.status,
                       isRevoked: job.revocation != nil, profileName: job.profileName, profileVersion: job.profileVersion,
                       platformId: job.platformId, platformDisplayName: PlatformCatalog.platform(id: job.platformId)?.displayName ?? job.platformId,
                       signatureExpiresAt: job.signatureExpiresAt, jobOwner: job.owner, jobInvoker: job.invoker)
        }
        return ListSigningJobsResponse(jobs: items, nextToken: page.nextToken)
    }

    public func revokeSignature(_ caller: Caller, jobId: String, _ request: RevokeSignatureRequest) async throws {
        let reason = try Validate.reason(request.reason)
        if let owner = request.jobOwner { try Validate.accountId(owner, "jobOwner") }
        guard let job = try await store.job(id: jobId), request.jobOwner == nil || request.jobOwner == job.owner else {
            throw SignerError.notFound("The specified job \(jobId) does not exist.")
        }
        if job.owner != caller.account {
            let profile = try await store.profile(account: job.owner, name: job.profileName)
            guard let profile, Self.permits(profile, action: "signer:RevokeSignature", caller: caller) else {
                throw SignerError.notFound("The specified job \(jobId) does not exist.")
            }
        }
        guard job.revocation == nil else { return }
        let revocation = SigningJobRevocationRecord(reason: reason, revokedAt: timestamp(), revokedBy: caller.principal)
        guard try await store.revokeJob(id: jobId, revocation: revocation) else { return }
        logger.notice("signature revoked", metadata: ["job": "\(jobId)"])
    }

    // MARK: - SignPayload and revocation status (Notation)

    public func signPayload(_ caller: Caller, _ request: SignPayloadRequest) async throws -> SignPayloadResponse {
        let name = try Validate.profileName(request.profileName)
        let payload = try Validate.required(request.payload, "payload")
        try Validate.payloadSize(payload.count)
        let format = try Validate.required(request.payloadFormat, "payloadFormat")
        guard format == NotationEnvelope.payloadMediaType else {
            throw SignerError.validation("payloadFormat must be \(NotationEnvelope.payloadMediaType) (got \(format))")
        }
        let profile = try await profile(name, owner: request.profileOwner, caller: caller, action: "signer:SignPayload")
        let rules = try Self.rules(profile.platformId)
        guard rules.allowsSignPayload else {
            let allowed = PlatformCatalog.ids.filter { PlatformCatalog.rules(platformId: $0)?.allowsSignPayload == true }
            throw SignerError.validation("SignPayload is supported only for platform \(allowed.joined(separator: ", ")); profile \(name) is \(profile.platformId)")
        }
        guard profile.status == .active else {
            throw SignerError.validation("Signing Profile \(name) is \(profile.status.rawValue.lowercased()); only an active profile can sign")
        }
        let created = timestamp()
        // The Notary Project envelope always carries an expiry; the job records it when the platform's rules say so.
        let expires = Self.add(profile.signatureValidityPeriod, to: created)
        let job = JobRecord(jobId: UUID().uuidString.lowercased(), kind: .signPayload, owner: profile.account, invoker: caller.account,
                            requestedBy: caller.principal, clientRequestToken: nil, profileName: profile.name, profileVersion: profile.version,
                            platformId: profile.platformId, source: nil, destination: nil, signingMaterial: nil, overrides: profile.overrides,
                            signingParameters: profile.signingParameters, createdAt: created, completedAt: created,
                            signatureExpiresAt: rules.setsSignatureExpiry ? expires : nil, status: .succeeded, statusReason: "Signing Succeeded", revocation: nil, signedObject: nil)
        let material = try await managed.notationMaterial(now: created)
        let envelope: [UInt8]
        do {
            envelope = try NotationEnvelope.sign(payload: Array(payload), key: material.key, chain: material.chain, signingTime: created,
                                                 expiry: expires, profileVersionArn: profile.versionArn(region: region),
                                                 jobArn: job.arn(region: region))
        } catch {
            throw SignerError(.internalServiceError, "the envelope could not be signed: \(error)")
        }
        _ = try await store.insertJob(job, lease: nil)
        let metadata = ["com.amazonaws.signer.signingProfileVersion": profile.versionArn(region: region),
                        "com.amazonaws.signer.signingJob": job.arn(region: region)]
        return SignPayloadResponse(jobId: job.jobId, jobOwner: job.owner, metadata: metadata, signature: Data(envelope))
    }

    public nonisolated func getRevocationStatus(_ caller: Caller, signatureTimestamp: Date?, platformId: String?, profileVersionArn: String?,
                                    jobArn: String?, certificateHashes: [String]) async throws -> GetRevocationStatusResponse {
        let time = try Validate.required(signatureTimestamp, "signatureTimestamp")
        _ = try Validate.required(platformId, "platformId")
        let versionArn = try Validate.arn(profileVersionArn, "profileVersionArn")
        let job = try Validate.arn(jobArn, "jobArn")
        guard !certificateHashes.isEmpty else {
            throw SignerError.validation("1 validation error detected: Value null at 'certificateHashes' failed to satisfy constraint: Member must not be null")
        }
        var revoked: [String] = []
        if case .signingJob(let jobId)? = ARN(job)?.signerResource, let record = try await store.job(id: jobId),
           record.arn(region: region) == job, record.revocation != nil {
            revoked.append(job)
        }
        if let arn = ARN(versionArn), case .signingProfileVersion(let name, let version)? = arn.signerResource,
           let profile = try await store.profile(account: arn.account, name: name),
           profile.version == version, let from = profile.revocation?.revocationEffectiveFrom, time >= from {
            revoked.append(versionArn)
        }
        return GetRevocationStatusResponse(revokedEntities: revoked)
    }

    // MARK: - Permissions

    static let permissionActions = PermissionAction.allCases.map(\.rawValue)

    static func policySize(_ permissions: [Permission]) -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(permissions).count) ?? 0
    }

    public func addProfilePermission(_ caller: Caller, profileName: String, _ request: AddProfilePermissionRequest) async throws -> RevisionResponse {
        let name = try Validate.profileName(profileName)
        let action = try Validate.required(request.action, "action")
        let principal = try Validate.required(request.principal, "principal")
        let statementId = try Validate.required(request.statementId, "statementId")
        try Validate.length(statementId, "statementId", 1...64)
        guard statementId.utf8.allSatisfy({ c in (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D }) else {
            throw SignerError.validation("1 validation error detected: Value '\(statementId)' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9A-Za-z_-]+$")
        }
        if let version = request.profileVersion { _ = try Validate.profileVersion(version) }
        guard var profile = try await store.profile(account: caller.account, name: name) else {
            throw SignerError.notFound("Signing Profile with name \(name) does not exist.")
        }
        guard Self.permissionActions.contains(action) else {
            throw SignerError.validation("Action \(action) is not supported. Action must be one of [\(Self.permissionActions.joined(separator: ", "))]")
        }
        let excluded = try Self.rules(profile.platformId).excludedPermissionActions.map(\.rawValue)
        if excluded.contains(action) {
            let allowed = Self.permissionActions.filter { !excluded.contains($0) }
            throw SignerError.validation("Action \(action) not supported for platform \(profile.platformId). Action must be one of [\(allowed.joined(separator: ", "))]")
        }
        guard Self.isAccountOrRole(principal) else {
            throw SignerError.validation("Principal is not a valid AWS account id or IAM Role Arn")
        }
        if let current = profile.policyRevisionId {
            guard request.revisionId == current else {
                throw SignerError(.conflict, "The revisionId \(request.revisionId ?? "(none)") does not match the policy's current revision \(current)", subCode: "PolicyRevisionIdMismatch")
            }
        } else if let given = request.revisionId, !given.isEmpty {
            throw SignerError(.conflict, "The profile has no policy yet; omit revisionId", subCode: "PolicyRevisionIdMismatch")
        }
        guard !profile.permissions.contains(where: { $0.statementId == statementId }) else {
            throw SignerError(.conflict, "A statement with id \(statementId) already exists", subCode: "ResourceConflict")
        }
        let permissions = profile.permissions + [Permission(action: action, principal: principal, statementId: statementId, profileVersion: request.profileVersion)]
        guard Self.policySize(permissions) <= 2000 else {
            throw SignerError(.serviceLimitExceeded, "The profile policy would exceed 2000 bytes; remove statements first")
        }
        profile.permissions = permissions
        profile.policyRevisionId = UUID().uuidString.lowercased()
        try await store.saveProfile(profile)
        return RevisionResponse(revisionId: profile.policyRevisionId ?? "")
    }

    static func isAccountOrRole(_ principal: String) -> Bool {
        func digits(_ s: String) -> Bool { s.count == 12 && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        if digits(principal) { return true }
        guard let arn = ARN(principal), arn.partition.hasPrefix("aws"), digits(arn.account) else { return false }
        return arn.iamRoleName != nil
    }

    public nonisolated func listProfilePermissions(_ caller: Caller, profileName: String, nextToken: String?) async throws -> ListProfilePermissionsResponse {
        let name = try Validate.profileName(profileName)
        guard let profile = try await store.profile(account: caller.account, name: name) else {
            throw SignerError.notFound("Signing Profile with name \(name) does not exist.")
        }
        guard let revision = profile.policyRevisionId, !profile.permissions.isEmpty else {
            throw SignerError(.resourceNotFound, "No policies associated with profile \(name)", subCode: "PolicyNotFound")
        }
        let page = try PageToken.page(profile.permissions, list: "permissions:\(name)", token: nextToken, maxResults: nil, defaultSize: 25,
                                      key: { [$0.statementId ?? ""] }, isAfter: { permission, after in
                                          guard let last = after.first, let index = profile.permissions.firstIndex(where: { $0.statementId == last }) else { return true }
                                          return (profile.permissions.firstIndex(of: permission) ?? 0) > index
                                      })
        return ListProfilePermissionsResponse(revisionId: revision, policySizeBytes: Self.policySize(profile.permissions),
                                              permissions: page.items, nextToken: page.nextToken)
    }

    public func removeProfilePermission(_ caller: Caller, profileName: String, statementId: String, revisionId: String?) async throws -> RevisionResponse {
        let name = try Validate.profileName(profileName)
        let revision = try Validate.required(revisionId, "revisionId")
        guard var profile = try await store.profile(account: caller.account, name: name) else {
            throw SignerError.notFound("Signing Profile with name \(name) does not exist.")
        }
        guard profile.policyRevisionId == revision else {
            throw SignerError(.conflict, "The revisionId \(revision) does not match the policy's current revision \(profile.policyRevisionId ?? "(none)")", subCode: "PolicyRevisionIdMismatch")
        }
        guard profile.permissions.contains(where: { $0.statementId == statementId }) else {
            throw SignerError.notFound("No statement with id \(statementId) in the policy of profile \(name)")
        }
        profile.permissions.removeAll { $0.statementId == statementId }
        profile.policyRevisionId = UUID().uuidString.lowercased()
        try await store.saveProfile(profile)
        return RevisionResponse(revisionId: profile.policyRevisionId ?? "")
    }

    // MARK: - Tags

    /// The caller's profile named by a profile ARN; malformed → BadRequestException, missing → NotFoundException.
    nonisolated func taggedProfile(_ arn: String, caller: Caller) async throws -> ProfileRecord {
        guard let parsed = ARN(arn), case .signingProfile(let name)? = parsed.signerResource, (try? Validate.profileName(name)) != nil else {
            throw SignerError(.badRequest, "\(arn) is not a signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>)")
        }
        guard parsed.account == caller.account, parsed.region == region, let profile = try await store.profile(account: caller.account, name: name) else {
            throw SignerError(.notFound, "Resource \(arn) not found")
        }
        return profile
    }

    public func tagResource(_ caller: Caller, resourceArn: String, tags requested: [String: String]?) async throws {
        var profile = try await taggedProfile(resourceArn, caller: caller)
        let tags: [String: String]
        do { tags = try Validate.tags(requested) } catch { throw SignerError(.badRequest, error.message) }
        guard profile.status != .canceled else { throw SignerError(.badRequest, "Profile \(profile.name) is canceled; canceled profiles cannot be tagged") }
        profile.tags.merge(tags) { _, new in new }
        guard profile.tags.count <= 200 else { throw SignerError(.badRequest, "A profile can carry at most 200 tags") }
        try await store.saveProfile(profile)
    }

    public func untagResource(_ caller: Caller, resourceArn: String, tagKeys: [String]) async throws {
        var profile = try await taggedProfile(resourceArn, caller: caller)
        guard (1...200).contains(tagKeys.count) else { throw SignerError(.badRequest, "tagKeys must name between 1 and 200 keys") }
        for key in tagKeys {
            do { try Validate.tagKey(key, "tagKeys") } catch { throw SignerError(.badRequest, error.message) }
            profile.tags[key] = nil
        }
        try await store.saveProfile(profile)
    }

    public nonisolated func listTagsForResource(_ caller: Caller, resourceArn: String) async throws -> ListTagsForResourceResponse {
        ListTagsForResourceResponse(tags: try await taggedProfile(resourceArn, caller: caller).tags)
    }
}
