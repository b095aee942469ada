// DaemonStatus: what pirecd publishes about itself for `pirec status`, as `status.json` in its
// control folder (ControlFiles), rewritten atomically whenever it changes and removed at a
// clean stop: its state, configuration, per-pipeline counts, the jobs running with their
// step, the last failures and the model files loaded. Times are seconds since 1970, so a
// reader computes ages itself and the file need not be rewritten as the clock runs.
import Foundation

public struct DaemonStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case running, reloading, stopping }

    public struct Pipeline: Codable, Sendable, Equatable {
        public var name: String
        public var done: Int
        public var failed: Int
        /// Not started yet: waiting in the queue or for a worker.
        public var queued: Int
        public var running: Int
    }

    public struct Job: Codable, Sendable, Equatable {
        public var pipeline: String
        public var input: String
        public var started: Double
        /// 1-based; 0 before the first step.
        public var step: Int
        public var steps: Int
        public var plugin: String
    }

    public struct Failure: Codable, Sendable, Equatable {
        public var time: Double
        public var pipeline: String
        /// Where the input lies now (the failed folder), else where it was dropped.
        public var input: String
        /// The step that failed; nil before the chain (reading the input).
        public var step: String?
        public var error: String
    }

    public struct Model: Codable, Sendable, Equatable {
        public var file: String
        public var sha256: String
        public var pipelines: [String]
    }

    public var pid: Int32
    public var state: State
    public var started: Double
    public var host: String
    public var config: String
    public var configLoaded: Double
    /// "this host's folders", or the shared queue's address and this host's name in it.
    public var queue: String
    public var workers: Int
    public var pipelines: [Pipeline]
    public var running: [Job]
    /// The newest last.
    public var failures: [Failure]
    public var models: [Model]
    /// What keeps jobs from finishing now (a full disk, the shared queue unreachable).
    public var trouble: [String]

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return Array(((try? encoder.encode(self)) ?? Data()) + [0x0A])
    }

    public static func decoded(_ bytes: [UInt8]) -> DaemonStatus? {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(DaemonStatus.self, from: Data(bytes))
    }
}
