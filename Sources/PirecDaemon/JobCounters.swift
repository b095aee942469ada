// JobCounters: the jobs done and failed since the daemon started (per pipeline), the jobs
// running now with the step each is in, the last failures with their reasons, and what
// keeps jobs from finishing now: for STATUS=, the log and `pirec status`. Written by the
// workers and the queue, read by the dispatcher's loop.
import Synchronization

final class JobCounters: Sendable {
    enum Counter { case done, failed, running }

    /// A job on a worker thread: where it is in its chain.
    struct RunningJob: Sendable, Equatable {
        var pipeline: String
        var input: String
        var started: Double
        /// The step running now (0-based) and its plugin; -1 before the first.
        var step = -1
        var plugin = ""
        var steps: Int
    }

    struct Failure: Sendable, Equatable {
        var time: Double
        var pipeline: String
        var input: String
        var step: String?
        var message: String
    }

    struct Snapshot: Sendable, Equatable {
        var done: [String: Int] = [:]
        var failed: [String: Int] = [:]
        /// Worker number to its job.
        var running: [Int: RunningJob] = [:]
        /// The newest last.
        var failures: [Failure] = []
    }

    /// How many failures `pirec status` can show.
    static let failuresKept = 10

    private let state = Mutex(Snapshot())
    private let problem = Mutex<String?>(nil)
    /// The Prometheus series every job's end also feeds (pirecd with `metrics:`).
    let metrics: DaemonMetrics?

    init(metrics: DaemonMetrics? = nil) { self.metrics = metrics }

    /// Why jobs cannot finish ("cannot write /outbox: no space left on device; retrying"),
    /// nil when nothing stops them.
    var trouble: String? {
        get { problem.withLock { $0 } }
        set { problem.withLock { $0 = newValue } }
    }

    /// Counts a job that ended (its job-log line is `record`'s), done or failed.
    func count(_ record: JobRecord) {
        metrics?.count(record)
        state.withLock { s in
            guard let error = record.error else {
                s.done[record.pipeline, default: 0] += 1
                return
            }
            s.failed[record.pipeline, default: 0] += 1
            // Where the input lies now: the failed folder, once it was moved there.
            let input = (record.archived.isEmpty ? record.inputs : record.archived).values.sorted()
            s.failures.append(Failure(time: record.finished, pipeline: record.pipeline,
                                      input: input.joined(separator: " + "),
                                      step: error.step, message: error.message))
            if s.failures.count > Self.failuresKept { s.failures.removeFirst(s.failures.count - Self.failuresKept) }
        }
    }

    func begin(worker: Int, _ job: RunningJob) { state.withLock { $0.running[worker] = job } }

    func enter(worker: Int, step: Int, plugin: String) {
        state.withLock { s in
            s.running[worker]?.step = step
            s.running[worker]?.plugin = plugin
        }
    }

    func end(worker: Int) { state.withLock { _ = $0.running.removeValue(forKey: worker) } }

    func value(_ counter: Counter) -> Int {
        state.withLock { s in
            switch counter {
            case .done: s.done.values.reduce(0, +)
            case .failed: s.failed.values.reduce(0, +)
            case .running: s.running.count
            }
        }
    }

    var snapshot: Snapshot { state.withLock { $0 } }
}
