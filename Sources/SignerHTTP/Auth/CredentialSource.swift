import Foundation
import SigV4

/// The access keys `OtarigResponder` accepts: a fixed list, or a list it reloads (from the shared database) when a
/// request names an access key id it does not know, at most once per `minimumInterval`, so a key added through
/// one instance authenticates on every instance. Concurrent requests share one reload.
final class CredentialSource: @unchecked Sendable {
    private let lock = NSLock()
    private let initial: [Credential]
    private var current: SigV4Verifier
    private let reload: (@Sendable () async throws -> [Credential])?
    private let minimumInterval: Duration
    private var lastReload: ContinuousClock.Instant?
    private var inFlight: Task<SigV4Verifier, any Error>?

    init(credentials: [Credential], reload: (@Sendable () async throws -> [Credential])?, minimumInterval: Duration = .seconds(1)) {
        initial = credentials
        current = SigV4Verifier(credentials: credentials)
        self.reload = reload
        self.minimumInterval = minimumInterval
    }

    /// The verifier as it stands.
    var verifier: SigV4Verifier { lock.withLock { current } }

    /// The verifier, reloaded first when `accessKeyId` is unknown and the last reload is old enough. A reload that
    /// fails throws (the store is away: a retryable 500, never a 403 for a key that may exist).
    func verifier(knowing accessKeyId: String) async throws -> SigV4Verifier {
        guard let reload else { return verifier }
        let task: Task<SigV4Verifier, any Error>? = lock.withLock {
            if current.credentials[accessKeyId] != nil { return nil }
            if let inFlight { return inFlight }
            if let lastReload, lastReload.duration(to: .now) < minimumInterval { return nil }
            let initial = initial
            let started = Task { [weak self] () throws -> SigV4Verifier in
                // The reloaded keys first: they win over a fixed key with the same id.
                let verifier = SigV4Verifier(credentials: try await reload() + initial)
                self?.finished(verifier)
                return verifier
            }
            inFlight = started
            return started
        }
        guard let task else { return verifier }
        do {
            return try await task.value
        } catch {
            lock.withLock { inFlight = nil }
            throw error
        }
    }

    private func finished(_ verifier: SigV4Verifier) {
        lock.withLock {
            current = verifier
            lastReload = .now
            inFlight = nil
        }
    }
}
