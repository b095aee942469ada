// Parallel: splits the engine's own loops (im2col, col2im, norms, resampling) across
// threads; OpenBLAS splits the matrix products itself. Without this the loops outside
// BLAS, a third of the time on one thread, would not shrink with more threads.
import Dispatch

enum Parallel {
    /// Calls `body` on disjoint ranges covering 0..<count, on up to `threads` threads.
    static func forRanges(_ count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        let parts = min(max(threads, 1), count)
        guard parts > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        // Each part touches its own slice of the buffers the body captures; the wrapper
        // tells the compiler so.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(value: body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                shared.value((count * part / parts)..<(count * (part + 1) / parts))
            }
        }
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {  // a body each part calls on its own range only
    let value: Value
}
