// WorkerPool: claimed jobs run on `workers` threads. Each thread makes its own plugin states
// (one ChainWorker per watched pipeline) before it takes a job, so no plugin state ever
// crosses threads; the pool starts only when every thread has made its states, which is
// what lets a reload load the new configuration beside the old and keep the old on failure.
// The dispatcher sees the `Workers` protocol (tests run jobs inline through it).
import Dispatch
import Foundation
import Logging
import PirecCore
import Synchronization

protocol Workers: AnyObject {
    /// Whether another job may be handed over now (the queue in front of the threads is
    /// bounded: the dispatcher claims no more than fit).
    var hasRoom: Bool { get }
    /// Jobs handed over and not finished (waiting or running).
    var pending: Int { get }
    /// Jobs handed over that wait for a thread, by pipeline index.
    var waitingByPipeline: [Int: Int] { get }
    func submit(_ job: ClaimedJob)
    /// Lets running jobs finish and takes no more; jobs still waiting are handed back to
    /// their store (on disk they stay claimed for the next start).
    /// Waits up to `timeoutSeconds`, calling `waiting` about every `pollSeconds` (watchdog
    /// pings); false when a job was still running at the deadline.
    func stop(timeoutSeconds: Double, pollSeconds: Double, waiting: () -> Void) -> Bool
}

final class WorkerPool: Workers, Sendable {
    private let queue: BlockingQueue<ClaimedJob>
    private let threadCount: Int
    private let store: any JobStore
    private let exited = DispatchSemaphore(value: 0)
    private let pendingCount = Atomic<Int>(0)
    private let waitingByIndex = Mutex<[Int: Int]>([:])
    private let stoppedThreads = Atomic<Int>(0)
    private let stopping = StopFlag()

    /// Starts the threads and waits until each has made its plugin states; throws (with every
    /// thread stopped) when some could not. `finished` is called on a worker thread after
    /// each job.
    init(generation: Generation, store: any JobStore, counters: JobCounters, logger: Logger,
         finished: @escaping @Sendable () -> Void) throws(ConfigErrors) {
        let workers = generation.configuration.workers
        threadCount = workers
        self.store = store
        queue = BlockingQueue(capacity: max(2, workers * 2))
        let execution = JobExecution(generation: generation, store: store, counters: counters, logger: logger,
                                     stopping: stopping)
        let isolation = RerunAlone()
        let ready = DispatchSemaphore(value: 0)
        let reports = StartReports()
        for number in 1...workers {
            let thread = Thread { [self] in
                defer { exited.signal() }
                let chains: [Int: ChainWorker]
                do throws(ConfigErrors) { chains = try generation.makeChains(logger: logger) } catch {
                    reports.errors.withLock { $0.append(error.errors) }
                    ready.signal()
                    return
                }
                ready.signal()
                while let job = queue.pop() {
                    waitingByIndex.withLock { $0[job.pipeline, default: 1] -= 1 }
                    execution.execute(job, chains: chains, isolation: isolation, worker: number)
                    pendingCount.subtract(1, ordering: .relaxed)
                    finished()
                }
            }
            thread.name = "pirecd-worker-\(number)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        for _ in 0..<workers { ready.wait() }
        // Threads make the same states, so the first thread's errors stand for all.
        if let first = reports.errors.withLock({ $0.first }) {
            queue.close(waking: workers)
            for _ in 0..<workers { exited.wait() }
            throw ConfigErrors(first)
        }
    }

    /// What the threads found while making their plugin states.
    private final class StartReports: Sendable {
        let errors = Mutex<[[ConfigError]]>([])
    }

    var hasRoom: Bool { queue.count < queue.capacity }
    var pending: Int { pendingCount.load(ordering: .relaxed) }
    var waitingByPipeline: [Int: Int] { waitingByIndex.withLock { $0.filter { $0.value > 0 } } }

    func submit(_ job: ClaimedJob) {
        pendingCount.add(1, ordering: .relaxed)
        waitingByIndex.withLock { $0[job.pipeline, default: 0] += 1 }
        queue.push(job)
    }

    func stop(timeoutSeconds: Double, pollSeconds: Double, waiting: () -> Void) -> Bool {
        stopping.raise()
        let left = queue.close(waking: threadCount)
        pendingCount.subtract(left.count, ordering: .relaxed)
        waitingByIndex.withLock { counts in for job in left { counts[job.pipeline, default: 1] -= 1 } }
        for job in left { store.unclaim(job) }
        let deadline = DispatchTime.now() + min(timeoutSeconds, 1e9)
        while stoppedThreads.load(ordering: .relaxed) < threadCount {
            let next = min(deadline, DispatchTime.now() + pollSeconds)
            if exited.wait(timeout: next) == .success {
                stoppedThreads.add(1, ordering: .relaxed)
            } else if DispatchTime.now() >= deadline {
                return false
            } else {
                waiting()
            }
        }
        return true
    }
}

/// Raised once, when the workers stop: a job waiting to retry stops waiting.
final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    func raise() { raised.store(true, ordering: .relaxed) }

    /// Waits up to `seconds`; true when the flag is (or gets) raised meanwhile.
    func wait(seconds: Double) -> Bool {
        let deadline = DispatchTime.now() + seconds
        while !raised.load(ordering: .relaxed) {
            if DispatchTime.now() >= deadline { return false }
            usleep(100_000)
        }
        return true
    }
}

/// The crash-isolation rule: a job rerun after it was running when the daemon died runs
/// alone (no other job beside it, and none starts until it ends), so that if the daemon dies
/// again the blame is certain. A readers-writer lock that lets a waiting writer in first.
final class RerunAlone: @unchecked Sendable {  // a pthread rwlock: thread-safe by itself
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    init() {
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func run(alone: Bool, _ body: () -> Void) {
        _ = alone ? pthread_rwlock_wrlock(lock) : pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        body()
    }
}

/// A bounded first-in first-out queue between one producer and blocking consumers.
final class BlockingQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var head = 0
        var closed = false
    }

    private let state = Mutex(State())
    /// One signal per item pushed, and one per consumer woken by `close`.
    private let available = DispatchSemaphore(value: 0)
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { state.withLock { $0.items.count - $0.head } }

    func push(_ element: Element) {
        state.withLock { $0.items.append(element) }
        available.signal()
    }

    /// The next element, waiting for one; nil once closed.
    func pop() -> Element? {
        available.wait()
        return state.withLock { state -> Element? in
            guard !state.closed, state.head < state.items.count else { return nil }
            let element = state.items[state.head]
            state.head += 1
            if state.head == state.items.count {
                state.items.removeAll(keepingCapacity: true)
                state.head = 0
            }
            return element
        }
    }

    /// Wakes `consumers` waiting consumers with nil; returns the elements left.
    @discardableResult
    func close(waking consumers: Int) -> [Element] {
        let left = state.withLock { state -> [Element] in
            state.closed = true
            return Array(state.items[state.head...])
        }
        for _ in 0..<consumers { available.signal() }
        return left
    }
}
