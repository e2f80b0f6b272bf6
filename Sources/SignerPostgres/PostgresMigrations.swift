/// The schema, as numbered migrations applied once each (`PostgresDatabase.migrate()`), recorded in
/// `otarig_schema_migrations`. A migration is never edited once released: a change is a new one.
enum PostgresMigrations {
    struct Migration: Sendable {
        var version: String
        var statements: [String]
    }

    /// The `pg_advisory_xact_lock` key the migrations run under ("otarig" as ASCII, big-endian).
    static let lockKey: Int64 = 0x6f_7461_7269_67

    static let all: [Migration] = [
        Migration(version: "0001", statements: [
            // Records are the JSON SQLiteSignerStore writes; the columns beside them are what queries select on.
            """
            CREATE TABLE profile (account TEXT NOT NULL, name TEXT NOT NULL, record JSON NOT NULL, PRIMARY KEY (account, name))
            """,
            """
            CREATE TABLE job (job_id TEXT PRIMARY KEY, owner TEXT NOT NULL, invoker TEXT NOT NULL, token TEXT,
                              status TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, record JSON NOT NULL,
                              lease_owner TEXT, lease_until TIMESTAMPTZ,
                              CONSTRAINT job_token UNIQUE (invoker, token))
            """,
            "CREATE INDEX job_owner ON job (owner, created_at)",
            "CREATE INDEX job_invoker ON job (invoker, created_at)",
            "CREATE INDEX job_in_progress ON job (created_at) WHERE status = 'InProgress'",
            """
            CREATE TABLE job_allowance (account TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL, updated TIMESTAMPTZ NOT NULL)
            """,
            """
            CREATE TABLE certificate (arn TEXT PRIMARY KEY, account TEXT NOT NULL, imported_at DOUBLE PRECISION NOT NULL,
                                      record JSON NOT NULL, key_pem TEXT NOT NULL)
            """,
            "CREATE TABLE managed_key (name TEXT PRIMARY KEY, certificate_pem TEXT NOT NULL, key_pem TEXT NOT NULL)",
            """
            CREATE TABLE credential (access_key_id TEXT PRIMARY KEY, secret TEXT NOT NULL, account TEXT NOT NULL,
                                     principal TEXT NOT NULL, profile TEXT NOT NULL)
            """,
            """
            CREATE TABLE bucket_owner (name TEXT PRIMARY KEY, owner TEXT NOT NULL, region TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL)
            """,
        ]),
    ]
}
