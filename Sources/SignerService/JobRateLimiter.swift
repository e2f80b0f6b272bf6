import Foundation

/// Per-account token buckets for StartSigningJob: each account may start `perSecond` jobs a second after a `burst`.
/// In memory (one instance's allowance) by default; in the database when several instances share one, so the limit
/// holds for the account across all of them.
public protocol JobRateLimiter: Sendable {
    /// Takes one token from `account`'s bucket (refilled at `perSecond`, holding at most `burst`); false when empty.
    func take(account: String, perSecond: Double, burst: Double) async throws -> Bool
    /// Gives one token back (an idempotent retry that started no new job).
    func refund(account: String, burst: Double) async throws
}

/// `JobRateLimiter` in this process's memory.
public actor InMemoryJobRateLimiter: JobRateLimiter {
    private var allowance: [String: (tokens: Double, updated: Date)] = [:]
    private let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    public func take(account: String, perSecond: Double, burst: Double) -> Bool {
        let current = now()
        var (tokens, updated) = allowance[account] ?? (burst, current)
        tokens = min(burst, tokens + max(0, current.timeIntervalSince(updated)) * perSecond)
        guard tokens >= 1 else {
            allowance[account] = (tokens, current)
            return false
        }
        allowance[account] = (tokens - 1, current)
        return true
    }

    public func refund(account: String, burst: Double) {
        if let (tokens, updated) = allowance[account] { allowance[account] = (min(burst, tokens + 1), updated) }
    }
}
