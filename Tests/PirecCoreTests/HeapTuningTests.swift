// HeapTuning: a job's multi-megabyte buffers are reused from the heap, not mapped afresh
// (and page-faulted in again) for every job.
import Glibc
import PirecCore
import Testing

@Suite struct HeapTuningTests {
    /// Minor page faults of this thread so far.
    static func faults() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD, which the Glibc module hides
        return usage.ru_minflt
    }

    @Test func largeBuffersAreReusedNotRemapped() {
        HeapTuning.keepLargeBuffers()
        let size = 8 << 20, rounds = 10
        func job() {
            let buffer = malloc(size)!
            memset(buffer, 1, size)
            free(buffer)
        }
        job()
        let before = HeapTuningTests.faults()
        for _ in 0..<rounds { job() }
        let faults = HeapTuningTests.faults() - before
        // A fresh mapping faults in every 4 KiB page: 2,048 per round.
        #expect(faults < rounds * size / 4096 / 20, "\(faults) page faults for \(rounds) reused 8 MiB buffers")
    }
}
