import CodeSigning
import Foundation
import SignerAPI

/// An ACM error: the exception name (`ResourceNotFoundException`) and a message.
public struct ACMError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code): \(message)" }
}

/// The ACM subset signing needs, over a `KeyStore`, scoped to the caller's account. Private keys never leave it.
public struct CertificateService: Sendable {
    public let keys: any KeyStore
    public let store: any SignerStore
    public let region: String
    let now: @Sendable () -> Date

    public init(keys: any KeyStore, store: any SignerStore, region: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.keys = keys
        self.store = store
        self.region = region
        self.now = now
    }

    public func importCertificate(certificate: Data, privateKey: Data, chain: Data?, caller: Caller) throws -> StoredCertificate {
        do {
            return try keys.importCertificate(certificate: Array(certificate), privateKey: Array(privateKey), chain: chain.map { Array($0) },
                                              region: region, account: caller.account, now: now())
        } catch let error as CodeSigningError {
            throw ACMError("ValidationException", error.message)
        }
    }

    public func certificate(arn: String, caller: Caller) throws -> StoredCertificate {
        guard arn.hasPrefix("arn:"), arn.count >= 20 else {
            throw ACMError("InvalidArnException", "\(arn) is not a valid certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)")
        }
        guard let record = try keys.certificate(arn: arn), record.account == caller.account else {
            throw ACMError("ResourceNotFoundException", "Could not find certificate \(arn).")
        }
        return record
    }

    public func list(caller: Caller) throws -> [StoredCertificate] {
        try keys.list().filter { $0.account == caller.account && $0.region == region }
    }

    /// Profiles of the caller's account that sign with this certificate and are not canceled.
    public func usedBy(arn: String, caller: Caller) async throws -> [ProfileRecord] {
        try await store.profiles(account: caller.account).filter { $0.signingMaterial?.certificateArn == arn && $0.status != .canceled }
    }

    public func delete(arn: String, caller: Caller) async throws {
        _ = try certificate(arn: arn, caller: caller)
        let users = try await usedBy(arn: arn, caller: caller)
        guard users.isEmpty else {
            throw ACMError("ResourceInUseException", "Certificate \(arn) is in use by signing profile(s) \(users.map(\.name).joined(separator: ", ")); cancel them first")
        }
        _ = try keys.delete(arn: arn)
    }
}
