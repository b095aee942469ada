// JobTable: the claim protocol on `pirec_jobs` (docs/queue.md), for one host. Ingest is
// idempotent across hosts (a unique key on pipeline, input and identity); a claim takes the
// oldest job that is queued or whose lease ran out with FOR UPDATE SKIP LOCKED, so hosts
// never wait for each other and no job is claimed twice; finishing checks that the claim is
// still this host's, so a host whose lease was taken over cannot overwrite the result.
// Attempts count starts, not claims: a job claimed by a host that died before starting it
// (it waited behind the job that killed the host) is not blamed.
import Foundation
import PostgresNIO

/// A job this host holds.
public struct Claim: Sendable, Hashable {
    public var id: Int64
    public var pipeline: String
    /// Slot to path, relative to the pipeline's inbox.
    public var inputs: [String: String]
    /// The row's claim count at this claim: what proves the claim is still the latest
    /// (renewing, starting and ending check it).
    public var token: Int
    /// How many times the job was started before (by hosts that then died or timed out).
    public var starts: Int
}

public struct JobTable: Sendable {
    public let database: QueueDatabase
    /// This host's name in claims.
    public let host: String
    /// Seconds a claim lasts without renewal.
    public let leaseSeconds: Int

    public init(database: QueueDatabase, host: String, leaseSeconds: Int) {
        self.database = database
        self.host = host
        self.leaseSeconds = leaseSeconds
    }

    /// What `claim` found.
    public enum Claimed: Sendable, Equatable {
        /// Run it.
        case run(Claim)
        /// It has crashed or timed out `max_attempts` times: it is now `failed`; move its
        /// inputs to the failed folder.
        case givenUp(Claim, error: String)
    }

    /// What `ingest` found.
    public enum Ingested: Sendable, Equatable {
        /// This call added the job.
        case added
        /// A job for the same files exists (another host, or an earlier scan, saw them):
        /// its state, and seconds since it ended when it has.
        case known(id: Int64, state: String, endedSecondsAgo: Double?, error: String?)
    }

    /// Adds a job for `inputs` unless one with the same pipeline, key and identity exists.
    @discardableResult
    public func ingest(pipeline: String, key: String, identity: String, inputs: [String: String]) throws -> Ingested {
        let json = JobTable.json(inputs)
        return try database.blocking { client in
            let rows = try await client.query("""
                INSERT INTO pirec_jobs (pipeline, key, identity, inputs) VALUES (\(pipeline), \(key), \(identity), \(json)::jsonb)
                ON CONFLICT (pipeline, key, identity) DO NOTHING RETURNING id
                """)
            for try await _ in rows.decode(Int64.self) { return .added }
            let known = try await client.query("""
                SELECT id, state, extract(epoch FROM now() - finished)::float8, error FROM pirec_jobs
                WHERE pipeline = \(pipeline) AND key = \(key) AND identity = \(identity)
                """)
            for try await (id, state, ago, error) in known.decode((Int64, String, Double?, String?).self) {
                return .known(id: id, state: state, endedSecondsAgo: ago, error: error)
            }
            return .known(id: 0, state: "queued", endedSecondsAgo: nil, error: nil)
        }
    }

    /// Makes this host's running jobs claimable at once (it restarted: whatever it ran then
    /// is not running now); their attempts stay counted. Returns how many.
    public func releaseOwn() throws -> Int {
        let host = host
        return try database.blocking { client in
            var count = 0
            let rows = try await client.query("""
                UPDATE pirec_jobs SET lease_until = now() - interval '1 second'
                WHERE state = 'running' AND lease_owner = \(host) RETURNING id
                """)
            for try await _ in rows.decode(Int64.self) { count += 1 }
            return count
        }
    }

    /// Takes the oldest claimable job of `pipelines` for this host, or nil when there is none.
    public func claim(pipelines: [String], maxAttempts: Int) throws -> Claimed? {
        let (host, lease) = (host, leaseSeconds)
        return try database.blocking { client in
            let rows = try await client.query("""
                UPDATE pirec_jobs SET
                    state = CASE WHEN attempts >= \(maxAttempts) THEN 'failed' ELSE 'running' END,
                    error = CASE WHEN attempts >= \(maxAttempts)
                        THEN 'crashed or timed out ' || attempts || ' times (max_attempts ' || \(maxAttempts) || ')'
                        ELSE error END,
                    finished = CASE WHEN attempts >= \(maxAttempts) THEN now() ELSE finished END,
                    claims = claims + 1,
                    lease_owner = \(host), lease_until = now() + \(lease) * interval '1 second', started = now()
                WHERE id = (SELECT id FROM pirec_jobs
                            WHERE pipeline = ANY(\(pipelines))
                              AND (state = 'queued' OR (state = 'running' AND lease_until < now()))
                            ORDER BY created, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, pipeline, inputs::text, claims, attempts, state, coalesce(error, '')
                """)
            for try await (id, pipeline, inputs, claims, attempts, state, error)
                in rows.decode((Int64, String, String, Int, Int, String, String).self) {
                let claim = Claim(id: id, pipeline: pipeline, inputs: JobTable.inputs(inputs), token: claims, starts: attempts)
                return state == "failed" ? .givenUp(claim, error: error) : .run(claim)
            }
            return nil
        }
    }

    /// Counts a start of the claimed job, before it runs (so the count survives the job
    /// killing the host); false when the claim is no longer this host's (do not run it).
    public func start(_ claim: Claim) throws -> Bool {
        try update(claim, "attempts = attempts + 1")
    }

    /// Hands a claimed job back to the queue (this host stops or reloads): one that did not
    /// start, or, with `started`, one that started but stopped through no fault of its own
    /// (it waited for room to write its results), whose start is then not counted.
    @discardableResult
    public func unclaim(_ claim: Claim, started: Bool = false) throws -> Bool {
        try update(claim, "state = 'queued', lease_owner = NULL, lease_until = NULL"
            + (started ? ", attempts = greatest(attempts - 1, 0)" : ""))
    }

    /// Extends the lease of a running job; false when it is no longer this host's.
    public func renew(_ claim: Claim) throws -> Bool {
        try update(claim, "lease_until = now() + \(leaseSeconds) * interval '1 second'")
    }

    /// `assignments` (SQL, from this file only) on the claimed row if it is still this
    /// host's running claim.
    private func update(_ claim: Claim, _ assignments: String) throws -> Bool {
        let host = host
        return try database.blocking { client in
            let query: PostgresQuery = """
                UPDATE pirec_jobs SET \(unescaped: assignments)
                WHERE id = \(claim.id) AND state = 'running' AND lease_owner = \(host) AND claims = \(claim.token) RETURNING id
                """
            return try await JobTable.one(client.query(query))
        }
    }

    /// Marks the job done with its outputs, after `publish` (which makes them visible) ran
    /// inside the same transaction, holding the row's lock, once the claim was checked to be
    /// still this host's latest: while the lock is held no other host can take the job over.
    /// False when the claim is not ours (then `publish` did not run). Repeating a finish
    /// whose answer was lost is safe: a job this attempt already finished answers true.
    public func finish(_ claim: Claim, outputs: [String], publish: @escaping @Sendable () throws -> Void) throws -> Bool {
        try end(claim, state: "done", error: nil, outputs: outputs, publish: publish)
    }

    /// Marks the job failed with `error`, under the same check as `finish`.
    public func fail(_ claim: Claim, error: String) throws -> Bool {
        try end(claim, state: "failed", error: error, outputs: [], publish: {})
    }

    private func end(_ claim: Claim, state: String, error: String?, outputs: [String],
                     publish: @escaping @Sendable () throws -> Void) throws -> Bool {
        let (host, logger) = (host, database.logger)
        let outputsJSON = String(decoding: try JSONSerialization.data(withJSONObject: outputs), as: UTF8.self)
        return try database.blocking { client in
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query("""
                    SELECT state FROM pirec_jobs
                    WHERE id = \(claim.id) AND lease_owner = \(host) AND claims = \(claim.token) FOR UPDATE
                    """, logger: logger)
                var found: String?
                for try await (s) in rows.decode(String.self) { found = s }
                guard let found else { return false }
                if found != "running" { return found == state }  // this attempt ended it already
                try publish()
                try await connection.query("""
                    UPDATE pirec_jobs SET state = \(state), error = \(error), outputs = \(outputsJSON)::jsonb,
                        finished = now(), lease_until = NULL
                    WHERE id = \(claim.id)
                    """, logger: logger)
                return true
            }
        }
    }

    /// Jobs by pipeline and state, for `pirec status`.
    public func counts() throws -> [String: [String: Int]] {
        try database.blocking { client in
            var counts: [String: [String: Int]] = [:]
            let rows = try await client.query("SELECT pipeline, state, count(*) FROM pirec_jobs GROUP BY pipeline, state")
            for try await (pipeline, state, n) in rows.decode((String, String, Int).self) { counts[pipeline, default: [:]][state] = n }
            return counts
        }
    }

    private static func one(_ rows: PostgresRowSequence) async throws -> Bool {
        var found = false
        for try await _ in rows.decode(Int64.self) { found = true }
        return found
    }

    static func json(_ inputs: [String: String]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: inputs, options: [.sortedKeys])) ?? Data("{}".utf8),
               as: UTF8.self)
    }

    static func inputs(_ json: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: String] ?? [:]
    }
}
