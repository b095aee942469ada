// BF16: matrix products with bfloat16 operands and fp32 sums (AVX512_BF16's vdpbf16ps,
// CPirecNetworkKernels' pirec_bf16.c), beside BLAS.swift's fp32 ones. The weights are
// rounded once at load (`round`); the other operand is packed to bf16 per product.
import CPirecNetworkKernels

enum BF16 {
    /// Each value rounded to the nearest bfloat16 (ties to even).
    static func round(_ values: [Float]) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: values.count) { buffer, count in
            pirec_bf16_round(values, values.count, buffer.baseAddress!)
            count = values.count
        }
    }

    /// The words of pirec_bf16_pack's panels for B [k x n].
    static func panelWords(k: Int, n: Int) -> Int { (n + 31) / 32 * 16 * k }

    /// C[m x n] (row stride ldc) = A[m x k] (bf16, row-major) · B[k x n] (fp32, row stride
    /// ldb), k even; the columns split across `threads` threads in whole 32-column panels,
    /// each thread packing its own part of B.
    static func product(m: Int, n: Int, k: Int, a: UnsafePointer<UInt16>, b: UnsafePointer<Float>, ldb: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        precondition(k % 2 == 0, "bf16 products pair the inner dimension")
        let panels = UnsafeMutablePointer<UInt32>.allocate(capacity: panelWords(k: k, n: n))
        defer { panels.deallocate() }
        forPanels(n: n, k: k, threads: threads) { first, count, offset in
            pirec_bf16_pack(b + first, k, count, ldb, panels + offset)
            pirec_bf16_gemm(a, m, k, panels + offset, count, c + first, ldc)
        }
    }

    /// The same with B already packed (pirec_im2col_bf16).
    static func product(m: Int, n: Int, k: Int, a: UnsafePointer<UInt16>, panels: UnsafePointer<UInt32>,
                        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        forPanels(n: n, k: k, threads: threads) { first, count, offset in
            pirec_bf16_gemm(a, m, k, panels + offset, count, c + first, ldc)
        }
    }

    /// Splits the n columns across threads in whole 32-column panels: body(first column,
    /// columns, the panels' offset in words).
    private static func forPanels(n: Int, k: Int, threads: Int, _ body: (Int, Int, Int) -> Void) {
        Parallel.forRanges((n + 31) / 32, threads: threads) { range in
            let first = range.lowerBound * 32
            body(first, min(n, range.upperBound * 32) - first, range.lowerBound * 16 * k)
        }
    }
}
