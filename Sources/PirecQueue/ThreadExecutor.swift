// ThreadExecutor: a task executor with one thread of its own. QueueDatabase's operations
// run on it, so they never wait for a thread of Swift's cooperative pool: code that blocks
// pool threads (a synchronous test waiting on a process, a plugin) cannot starve the
// queue's database calls. A task started with it as its executor preference runs there,
// its child tasks too, and so does the default actors' code it calls (SE-0417).
import Foundation
import Glibc
import Synchronization

final class ThreadExecutor: TaskExecutor, Sendable {
    private enum Mode { case running, stopping }
    private let queue = Mutex<(jobs: [UnownedJob], mode: Mode, thread: pthread_t?)>(([], .running, nil))
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.withLock { $0.jobs.append(job) }
        ready.signal()
    }

    /// Runs the jobs already queued, then ends the thread; jobs enqueued later never run.
    /// Called on the thread itself (the owner's last reference dropped by a job), it only
    /// asks: waiting there would never end.
    func stop() {
        let own = queue.withLock { state in
            state.mode = .stopping
            return state.thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        }
        ready.signal()
        if !own { finished.wait() }
    }

    private func loop() {
        queue.withLock { $0.thread = pthread_self() }
        while true {
            ready.wait()
            let (batch, mode) = queue.withLock { state in
                defer { state.jobs.removeAll(keepingCapacity: true) }
                return (state.jobs, state.mode)
            }
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            if mode == .stopping { break }
        }
        finished.signal()
    }
}
