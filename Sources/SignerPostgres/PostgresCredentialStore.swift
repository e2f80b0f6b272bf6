import Foundation
import PostgresNIO
import SignerService
import SigV4

/// The access keys every instance accepts, in PostgreSQL (`credential`), so a key added through one instance
/// authenticates on all of them. The secret is stored as the credentials file holds it: protect the database.
public final class PostgresCredentialStore: Sendable {
    let database: PostgresDatabase

    public init(database: PostgresDatabase) {
        self.database = database
    }

    /// Every stored key, ordered by access key id.
    public func load() async throws -> [Credential] {
        let rows = try await database.rows("load access keys", """
            SELECT profile, access_key_id, secret, account, principal FROM credential ORDER BY access_key_id
            """)
        return try rows.map { row in
            let (profile, id, secret, account, principal) = try row.decode((String, String, String, String, String).self)
            return Credential(profile: profile, accessKeyId: id, secretAccessKey: secret, account: account, principal: principal)
        }
    }

    /// Adds the keys, or replaces the stored ones with the same access key id, in one transaction.
    public func upsert(_ credentials: [Credential]) async throws {
        guard !credentials.isEmpty else { return }
        let logger = database.logger
        try await database.transaction("store access keys") { connection in
            for credential in credentials {
                try await connection.query("""
                    INSERT INTO credential (access_key_id, secret, account, principal, profile)
                    VALUES (\(credential.accessKeyId), \(credential.secretAccessKey), \(credential.account), \(credential.principal), \(credential.profile))
                    ON CONFLICT (access_key_id) DO UPDATE SET secret = EXCLUDED.secret, account = EXCLUDED.account,
                        principal = EXCLUDED.principal, profile = EXCLUDED.profile
                    """, logger: logger)
            }
        }
    }
}
