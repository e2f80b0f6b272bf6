import CodeSigning
import DurableFiles
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SignerAPI
import SwiftASN1

/// An imported code-signing certificate as the key store records it. The private key is never part of this record.
public struct StoredCertificate: Sendable, Codable, Equatable {
    /// `arn:aws:acm:<region>:<account>:certificate/<uuid>`.
    public var arn: String
    public var region: String
    public var account: String
    public var importedAt: Date
    public var summary: CertificateSummary
    public var certificatePEM: String
    public var chainPEM: String?

    public init(arn: String, region: String, account: String, importedAt: Date, summary: CertificateSummary, certificatePEM: String, chainPEM: String?) {
        self.arn = arn
        self.region = region
        self.account = account
        self.importedAt = importedAt
        self.summary = summary
        self.certificatePEM = certificatePEM
        self.chainPEM = chainPEM
    }

    /// The ACM ARN for a certificate id.
    public static func arn(region: String, account: String, id: String) -> String {
        "arn:aws:acm:\(region):\(account):certificate/\(id)"
    }
}

/// Imported certificates and their private keys (the ACM subset the signing service needs).
public protocol KeyStore: Sendable {
    /// Checks the bundle as ACM does and stores it; returns the record with a fresh ARN.
    func importCertificate(certificate: [UInt8], privateKey: [UInt8], chain: [UInt8]?, region: String, account: String, now: Date) async throws -> StoredCertificate
    /// The record for `arn`, or nil.
    func certificate(arn: String) async throws -> StoredCertificate?
    /// The private key for `arn`, for signing. Never returned by any API.
    func signingKey(arn: String) async throws -> SigningKey
    /// Every stored certificate, oldest first.
    func list() async throws -> [StoredCertificate]
    /// Removes a certificate and its key; false when there was none.
    func delete(arn: String) async throws -> Bool
}

/// The error type of `SignerService`'s stores: what could not be read or written, and where.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A key store in a directory: one folder per certificate, `<dir>/<uuid>/{certificate.pem, chain.pem, key.pem,
/// record.json}`. Folders are mode 0700 and `key.pem` is mode 0600. Each certificate is written to a temporary
/// folder and renamed into place, so a crash never leaves half a certificate behind.
public final class DirectoryKeyStore: KeyStore {
    public let directory: URL

    public init(directory: URL) throws {
        self.directory = directory
        try Self.makeDirectory(directory)
    }

    private static func makeDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError("cannot create the key store directory \(url.path): \(error.localizedDescription)")
        }
    }

    private static func id(fromARN arn: String) -> String? {
        guard let range = arn.range(of: ":certificate/") else { return nil }
        let id = String(arn[range.upperBound...])
        return UUID(uuidString: id) == nil ? nil : id.lowercased()
    }

    public func importCertificate(certificate: [UInt8], privateKey: [UInt8], chain: [UInt8]?, region: String, account: String, now: Date) async throws -> StoredCertificate {
        let bundle = try CertificateBundle(certificate: certificate, privateKey: privateKey, chain: chain, now: now)
        let id = UUID().uuidString.lowercased()
        let certificatePEM = try bundle.certificate.serializeAsPEM().pemString + "\n"
        let chainPEM = bundle.chain.isEmpty ? nil : try bundle.chain.map { try $0.serializeAsPEM().pemString + "\n" }.joined()
        let record = StoredCertificate(arn: StoredCertificate.arn(region: region, account: account, id: id), region: region,
                                       account: account, importedAt: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)), summary: CertificateSummary(bundle.certificate),
                                       certificatePEM: certificatePEM, chainPEM: chainPEM)
        let staging = directory.appendingPathComponent(".import-\(id)")
        try Self.makeDirectory(staging)
        do {
            try Self.write(Data(certificatePEM.utf8), to: staging.appendingPathComponent("certificate.pem"), mode: 0o644)
            if let chainPEM { try Self.write(Data(chainPEM.utf8), to: staging.appendingPathComponent("chain.pem"), mode: 0o644) }
            try Self.write(Data(bundle.key.pemRepresentation.utf8), to: staging.appendingPathComponent("key.pem"), mode: 0o600)
            try Self.write(try Self.encoder.encode(record), to: staging.appendingPathComponent("record.json"), mode: 0o644)
            guard rename(staging.path, directory.appendingPathComponent(id).path) == 0 else {
                throw StoreError("cannot move the imported certificate into \(directory.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
        return record
    }

    public func certificate(arn: String) async throws -> StoredCertificate? {
        guard let id = Self.id(fromARN: arn) else { return nil }
        let url = directory.appendingPathComponent(id).appendingPathComponent("record.json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        let record = try Self.decoder.decode(StoredCertificate.self, from: data)
        return record.arn == arn ? record : nil
    }

    public func signingKey(arn: String) async throws -> SigningKey {
        guard try await certificate(arn: arn) != nil, let id = Self.id(fromARN: arn) else {
            throw StoreError("no certificate \(arn) in the key store \(directory.path); list them with 'otarig cert list'")
        }
        let url = directory.appendingPathComponent(id).appendingPathComponent("key.pem")
        guard let data = try? Data(contentsOf: url) else {
            throw StoreError("the private key of \(arn) cannot be read from \(url.path)")
        }
        return try SigningKey(encoded: Array(data))
    }

    public func list() async throws -> [StoredCertificate] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.compactMap { name -> StoredCertificate? in
            let url = directory.appendingPathComponent(name).appendingPathComponent("record.json")
            guard let data = try? Data(contentsOf: url) else { return nil }
            return try? Self.decoder.decode(StoredCertificate.self, from: data)
        }.sorted { ($0.importedAt, $0.arn) < ($1.importedAt, $1.arn) }
    }

    public func delete(arn: String) async throws -> Bool {
        guard try await certificate(arn: arn) != nil, let id = Self.id(fromARN: arn) else { return false }
        try FileManager.default.removeItem(at: directory.appendingPathComponent(id))
        return true
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    /// Writes `url` with `mode`, durably (`AtomicFile`: synced, renamed into place, directory synced): the one
    /// durable write of the stores (keys, object data), so an acknowledged write survives a crash.
    static func write(_ data: Data, to url: URL, mode: mode_t) throws {
        do {
            let file = try AtomicFile(path: url.path, mode: mode)
            try data.withUnsafeBytes { try file.write($0) }
            try file.commit(durable: true)
        } catch let failure as AtomicFile.Failure {
            throw StoreError(failure.description)
        }
    }
}
