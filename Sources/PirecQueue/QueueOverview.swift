// QueueOverview: the job table at a glance, for `pirec status`: per pipeline the jobs by
// state and the oldest queued job's age, and every running job with its host.
import PostgresNIO

public struct QueueOverview: Sendable, Equatable {
    public struct Pipeline: Sendable, Equatable {
        /// State (`queued`, `running`, `done`, `failed`) to count.
        public var counts: [String: Int] = [:]
        /// Seconds the oldest queued job has waited.
        public var oldestQueued: Double?

        public init() {}
    }

    public struct Running: Sendable, Equatable {
        public var host: String
        public var pipeline: String
        /// The job's first input, relative to the inbox.
        public var key: String
        /// Seconds since it was claimed.
        public var seconds: Double
        /// Seconds its lease has left (negative: lapsed, to be taken over).
        public var leaseLeft: Double
        /// How many times it was started (more than 1: after a host died or timed out on it).
        public var starts: Int
    }

    public var pipelines: [String: Pipeline] = [:]
    public var running: [Running] = []
}

extension JobTable {
    public func overview() throws -> QueueOverview {
        try database.blocking { client in
            var overview = QueueOverview()
            let counts = try await client.query("""
                SELECT pipeline, state, count(*)::int8, extract(epoch FROM now() - min(created))::float8
                FROM pirec_jobs GROUP BY pipeline, state
                """)
            for try await (pipeline, state, n, oldest) in counts.decode((String, String, Int, Double).self) {
                overview.pipelines[pipeline, default: .init()].counts[state] = n
                if state == "queued" { overview.pipelines[pipeline, default: .init()].oldestQueued = oldest }
            }
            let running = try await client.query("""
                SELECT lease_owner, pipeline, key, extract(epoch FROM now() - started)::float8,
                       extract(epoch FROM lease_until - now())::float8, attempts
                FROM pirec_jobs WHERE state = 'running' ORDER BY lease_owner, started
                """)
            for try await (host, pipeline, key, seconds, left, starts)
                in running.decode((String, String, String, Double, Double, Int).self) {
                overview.running.append(.init(host: host, pipeline: pipeline, key: key, seconds: seconds, leaseLeft: left,
                                              starts: starts))
            }
            return overview
        }
    }
}
