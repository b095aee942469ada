// JobTable: the claim protocol on `pirec_jobs` (docs/queue.md), for one host. Ingest is
// idempotent across hosts (a unique key on pipeline, input and identity); a claim takes the
// oldest job that is queued or whose lease ran out with FOR UPDATE SKIP LOCKED, so hosts
// never wait for each other and no job is claimed twice; finishing checks that the claim is
// still this host's, so a host whose lease was taken over cannot overwrite the result.
import Foundation
import PostgresNIO

/// A job this host holds.
public struct Claim: Sendable, Equatable {
    public var id: Int64
    public var pipeline: String
    /// Slot to path, relative to the pipeline's inbox.
    public var inputs: [String: String]
    /// Which start this is (1 for the first); a finish is accepted only for the latest.
    public var attempt: Int
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

    /// Adds a job for `inputs` unless one with the same pipeline, key and identity exists
    /// (another host, or an earlier scan, saw the same files). True when this call added it.
    @discardableResult
    public func ingest(pipeline: String, key: String, identity: String, inputs: [String: String]) throws -> Bool {
        let json = JobTable.json(inputs)
        return try database.blocking { client in
            let rows = try await client.query("""
                INSERT INTO pirec_jobs (pipeline, key, identity, inputs) VALUES (\(pipeline), \(key), \(identity), \(json)::jsonb)
                ON CONFLICT (pipeline, key, identity) DO NOTHING RETURNING id
                """)
            var added = false
            for try await _ in rows.decode(Int64.self) { added = true }
            return added
        }
    }

    /// Takes the oldest claimable job of `pipelines` for this host, or nil when there is none.
    public func claim(pipelines: [String], maxAttempts: Int) throws -> Claimed? {
        let (host, lease) = (host, leaseSeconds)
        return try database.blocking { client in
            let rows = try await client.query("""
                UPDATE pirec_jobs SET
                    state = CASE WHEN attempts >= \(maxAttempts) THEN 'failed' ELSE 'running' END,
                    attempts = CASE WHEN attempts >= \(maxAttempts) THEN attempts ELSE attempts + 1 END,
                    error = CASE WHEN attempts >= \(maxAttempts)
                        THEN 'crashed or timed out ' || attempts || ' times (max_attempts ' || \(maxAttempts) || ')'
                        ELSE error END,
                    finished = CASE WHEN attempts >= \(maxAttempts) THEN now() ELSE finished END,
                    lease_owner = \(host), lease_until = now() + \(lease) * interval '1 second', started = now()
                WHERE id = (SELECT id FROM pirec_jobs
                            WHERE pipeline = ANY(\(pipelines))
                              AND (state = 'queued' OR (state = 'running' AND lease_until < now()))
                            ORDER BY created, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, pipeline, inputs::text, attempts, state, coalesce(error, '')
                """)
            for try await (id, pipeline, inputs, attempts, state, error) in rows.decode((Int64, String, String, Int, String, String).self) {
                let claim = Claim(id: id, pipeline: pipeline, inputs: JobTable.inputs(inputs), attempt: attempts)
                return state == "failed" ? .givenUp(claim, error: error) : .run(claim)
            }
            return nil
        }
    }

    /// Extends the lease of a running job; false when it is no longer this host's.
    public func renew(_ claim: Claim) throws -> Bool {
        let (host, lease) = (host, leaseSeconds)
        return try database.blocking { client in
            try await JobTable.one(client.query("""
                UPDATE pirec_jobs SET lease_until = now() + \(lease) * interval '1 second'
                WHERE id = \(claim.id) AND state = 'running' AND lease_owner = \(host) AND attempts = \(claim.attempt)
                RETURNING id
                """))
        }
    }

    /// Marks the job done with its outputs, in the same statement that checks the claim is
    /// still this host's latest; false when it is not (the result must then be discarded).
    public func finish(_ claim: Claim, outputs: [String]) throws -> Bool {
        try end(claim, state: "done", error: nil, outputs: outputs)
    }

    /// Marks the job failed with `error`, under the same check as `finish`.
    public func fail(_ claim: Claim, error: String) throws -> Bool {
        try end(claim, state: "failed", error: error, outputs: [])
    }

    private func end(_ claim: Claim, state: String, error: String?, outputs: [String]) throws -> Bool {
        let host = host
        let outputsJSON = String(decoding: try JSONSerialization.data(withJSONObject: outputs), as: UTF8.self)
        return try database.blocking { client in
            try await JobTable.one(client.query("""
                UPDATE pirec_jobs SET state = \(state), error = \(error), outputs = \(outputsJSON)::jsonb,
                    finished = now(), lease_owner = NULL, lease_until = NULL
                WHERE id = \(claim.id) AND state = 'running' AND lease_owner = \(host) AND attempts = \(claim.attempt)
                RETURNING id
                """))
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
