import CodeSigning
import Foundation
import PostgresNIO
import SignerService
import SwiftASN1

/// `KeyStore` over PostgreSQL: every instance signs with the same imported certificates. The bundle is checked as
/// `DirectoryKeyStore` checks it (`CertificateBundle`, ACM's rules); the private key lives in `certificate.key_pem`,
/// never in the record, and is never returned by any API.
public final class PostgresKeyStore: KeyStore {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func importCertificate(certificate: [UInt8], privateKey: [UInt8], chain: [UInt8]?, region: String, account: String, now: Date) async throws -> StoredCertificate {
        let bundle = try CertificateBundle(certificate: certificate, privateKey: privateKey, chain: chain, now: now)
        let id = UUID().uuidString.lowercased()
        let certificatePEM = try bundle.certificate.serializeAsPEM().pemString + "\n"
        let chainPEM = bundle.chain.isEmpty ? nil : try bundle.chain.map { try $0.serializeAsPEM().pemString + "\n" }.joined()
        let importedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let stored = StoredCertificate(arn: StoredCertificate.arn(region: region, account: account, id: id), region: region, account: account,
                                       importedAt: importedAt, summary: CertificateSummary(bundle.certificate),
                                       certificatePEM: certificatePEM, chainPEM: chainPEM)
        let record = try PostgresDatabase.json(stored)
        let keyPEM = bundle.key.pemRepresentation
        try await database.rows("import certificate", """
            INSERT INTO certificate (arn, account, imported_at, record, key_pem)
            VALUES (\(stored.arn), \(account), \(importedAt.timeIntervalSince1970), \(record)::json, \(keyPEM))
            """)
        return stored
    }

    public func certificate(arn: String) async throws -> StoredCertificate? {
        let rows = try await database.rows("read certificate", "SELECT record::text FROM certificate WHERE arn = \(arn)")
        return try rows.first.map { try PostgresDatabase.record(StoredCertificate.self, try $0.decode(String.self)) }
    }

    public func signingKey(arn: String) async throws -> SigningKey {
        let rows = try await database.rows("read a signing key", "SELECT key_pem FROM certificate WHERE arn = \(arn)")
        guard let row = rows.first else {
            throw StoreError("no certificate \(arn) in the key store at \(database.displayURL); list them with 'otarig cert list'")
        }
        return try SigningKey(encoded: Array(try row.decode(String.self).utf8))
    }

    public func list() async throws -> [StoredCertificate] {
        let rows = try await database.rows("list certificates", "SELECT record::text FROM certificate ORDER BY imported_at, arn")
        return try rows.map { try PostgresDatabase.record(StoredCertificate.self, try $0.decode(String.self)) }
    }

    public func delete(arn: String) async throws -> Bool {
        try await database.rows("delete certificate", "DELETE FROM certificate WHERE arn = \(arn) RETURNING arn").count == 1
    }
}

/// `ManagedKeyStorage` over PostgreSQL: the service-managed root CA and signer, one row per name, so every instance
/// signs Notation payloads with the same keys. `store` is one statement: the first instance to store a name (or to
/// replace the pair it read) wins, the others get the winner's pair back.
public final class PostgresManagedKeyStorage: ManagedKeyStorage {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    public func load(_ name: String) async throws -> (certificatePEM: String, keyPEM: String)? {
        let rows = try await database.rows("read managed key \(name)", "SELECT certificate_pem, key_pem FROM managed_key WHERE name = \(name)")
        return try rows.first.map { row in
            let (certificate, key) = try row.decode((String, String).self)
            return (certificate, key)
        }
    }

    public func store(_ name: String, certificatePEM: String, keyPEM: String, replacing: String?) async throws -> (certificatePEM: String, keyPEM: String) {
        // A concurrent insert of the same name makes ON CONFLICT wait for it, then test the stored row: only a pair
        // still equal to `replacing` is replaced (never one when `replacing` is nil).
        let rows = try await database.rows("store managed key \(name)", """
            INSERT INTO managed_key (name, certificate_pem, key_pem) VALUES (\(name), \(certificatePEM), \(keyPEM))
            ON CONFLICT (name) DO UPDATE SET certificate_pem = EXCLUDED.certificate_pem, key_pem = EXCLUDED.key_pem
            WHERE managed_key.certificate_pem IS NOT DISTINCT FROM \(replacing)
            RETURNING certificate_pem, key_pem
            """)
        if let row = rows.first {
            let (certificate, key) = try row.decode((String, String).self)
            return (certificate, key)
        }
        guard let stored = try await load(name) else {
            throw StoreError("the managed key \(name) was neither stored nor found")
        }
        return stored
    }
}
