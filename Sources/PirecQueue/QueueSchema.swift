// QueueSchema: the job table's schema, created and migrated by pirecd itself at start. Each
// migration moves the schema one version up and runs, with the version bump, in one
// transaction under an advisory lock, so hosts that start at the same instant wait for each
// other: the first migrates, the others find the schema current. docs/queue.md explains the
// table; this file is its one definition.
import PostgresNIO

public enum QueueSchema {
    /// The advisory lock every migration holds (an arbitrary constant: "pirec" in ASCII).
    static let lock: Int64 = 0x7069_7265_63

    /// The statements of each migration; migration i (from 0) makes version i + 1.
    static let migrations: [[PostgresQuery]] = [
        [
            """
            CREATE TABLE pirec_jobs (
                id bigserial PRIMARY KEY,
                pipeline text NOT NULL,
                key text NOT NULL,
                identity text NOT NULL,
                inputs jsonb NOT NULL,
                state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
                attempts integer NOT NULL DEFAULT 0,
                lease_owner text,
                lease_until timestamptz,
                created timestamptz NOT NULL DEFAULT now(),
                started timestamptz,
                finished timestamptz,
                error text,
                UNIQUE (pipeline, key, identity)
            )
            """,
        ],
        [
            "CREATE INDEX pirec_jobs_claimable ON pirec_jobs (created, id) WHERE state IN ('queued', 'running')",
            "ALTER TABLE pirec_jobs ADD COLUMN outputs jsonb",
        ],
        // Attempts count starts; claims are counted apart, as the token of the latest claim.
        ["ALTER TABLE pirec_jobs ADD COLUMN claims integer NOT NULL DEFAULT 0"],
    ]

    /// The version this build writes and reads.
    public static var current: Int { migrations.count }

    /// Brings the database up to `version` (default: current); returns the version found.
    /// A database newer than this build is refused.
    @discardableResult
    public static func migrate(_ database: QueueDatabase, to version: Int = current) throws -> Int {
        let logger = database.logger
        return try database.blocking { client in
            try await client.withConnection { connection in
                try await connection.withTransaction(logger: logger) { connection in
                    try await connection.query("SELECT pg_advisory_xact_lock(\(lock))", logger: logger)
                    try await connection.query("CREATE TABLE IF NOT EXISTS pirec_schema (version integer NOT NULL)",
                                               logger: logger)
                    var found = 0
                    for try await (v) in try await connection.query("SELECT version FROM pirec_schema", logger: logger)
                        .decode(Int.self) { found = v }
                    guard found <= current else { throw SchemaError.newer(found: found, known: current) }
                    if found == 0 { try await connection.query("INSERT INTO pirec_schema VALUES (0)", logger: logger) }
                    for step in migrations.indices where step >= found && step < version {
                        for statement in migrations[step] { try await connection.query(statement, logger: logger) }
                    }
                    if version > found {
                        try await connection.query("UPDATE pirec_schema SET version = \(version)", logger: logger)
                    }
                    return found
                }
            }
        }
    }

    /// The version the database is at (0: no schema).
    public static func version(_ database: QueueDatabase) throws -> Int {
        let logger = database.logger
        return try database.blocking { client in
            let exists = try await client.query("SELECT to_regclass('pirec_schema') IS NOT NULL", logger: logger)
            var found = false
            for try await (e) in exists.decode(Bool.self) { found = e }
            guard found else { return 0 }
            var version = 0
            for try await (v) in try await client.query("SELECT version FROM pirec_schema", logger: logger).decode(Int.self) {
                version = v
            }
            return version
        }
    }
}

public enum SchemaError: Error, Equatable, CustomStringConvertible {
    case newer(found: Int, known: Int)

    public var description: String {
        switch self {
        case let .newer(found, known):
            "the job table's schema is version \(found), newer than this pirecd's \(known): update pirec on this host"
        }
    }
}
