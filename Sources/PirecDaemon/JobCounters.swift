// JobCounters: the jobs done, failed and running since the daemon started, for STATUS= and
// the log; written by the workers and the queue, read by the dispatcher's loop.
import Synchronization

final class JobCounters: Sendable {
    enum Counter { case done, failed, running }

    private let done = Atomic<Int>(0)
    private let failed = Atomic<Int>(0)
    private let running = Atomic<Int>(0)

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
