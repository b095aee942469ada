// JobCounters: the jobs done, failed and running since the daemon started, and what keeps
// jobs from finishing now, for STATUS= and the log; written by the workers and the queue,
// read by the dispatcher's loop.
import Synchronization

final class JobCounters: Sendable {
    enum Counter { case done, failed, running }

    private let done = Atomic<Int>(0)
    private let failed = Atomic<Int>(0)
    private let running = Atomic<Int>(0)
    private let problem = Mutex<String?>(nil)

    /// Why jobs cannot finish ("cannot write /outbox: no space left on device; retrying"),
    /// nil when nothing stops them.
    var trouble: String? {
        get { problem.withLock { $0 } }
        set { problem.withLock { $0 = newValue } }
    }

    func add(_ counter: Counter, _ n: Int = 1) {
        switch counter {
        case .done: done.add(n, ordering: .relaxed)
        case .failed: failed.add(n, ordering: .relaxed)
        case .running: running.add(n, ordering: .relaxed)
        }
    }

    func value(_ counter: Counter) -> Int {
        switch counter {
        case .done: done.load(ordering: .relaxed)
        case .failed: failed.load(ordering: .relaxed)
        case .running: running.load(ordering: .relaxed)
        }
    }
}
