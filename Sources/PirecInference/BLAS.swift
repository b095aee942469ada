// BLAS: every OpenBLAS call of the engine goes through here, so thread settings and the
// row-major conventions live in one place.
import COpenBLAS

enum BLAS {
    /// C[m x n] = alpha * op(A) * B[k x n] + beta * C, all row-major. op(A) is A[m x k], or
    /// the transpose of A[k x m] when `transposeA`.
    static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                     b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                     alpha: Float = 1, beta: Float = 0) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// The same product with the columns of B and C split across `threads` threads, each
    /// running a single-threaded sgemm (OpenBLAS set to one thread). Used when the engine
    /// splits the work itself (`Threading.engine`).
    static func splitGemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                          b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        // Chunks of whole 64-column panels, so each thread's sgemm keeps full-width kernels.
        let panels = (n + 63) / 64
        Parallel.forRanges(panels, threads: threads) { range in
            let first = range.lowerBound * 64, last = min(n, range.upperBound * 64)
            gemm(m: m, n: last - first, k: k, a: a, lda: lda, transposeA: transposeA, b: b + first, ldb: ldb,
                 c: c + first, ldc: ldc)
        }
    }

    /// A product on `threads` threads, split by the engine or left to OpenBLAS's own threads.
    static func product(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                        threads: Int, threading: Threading) {
        if threading == .engine && threads > 1 {
            splitGemm(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, c: c, ldc: ldc,
                      threads: threads)
        } else {
            gemm(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, c: c, ldc: ldc)
        }
    }

    /// OpenBLAS's own worker threads for the calls that follow (process-wide).
    static func setThreads(_ count: Int) { openblas_set_num_threads(Int32(count)) }

}

/// Who runs matrix products on several threads.
public enum Threading: String, Sendable, CaseIterable {
    /// OpenBLAS's own threads (its idle threads spin while the engine's loops run).
    case openblas
    /// The engine splits each product's columns across its threads, OpenBLAS on one thread.
    case engine
}

