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

    /// C[m x n] (row stride ldc) = A[m x k] (bf16, row-major) · B[k x n] (fp32, row stride
    /// ldb), k even; the columns split across `threads` threads in whole 32-column panels,
    /// each thread packing its own part of B.
    static func product(m: Int, n: Int, k: Int, a: UnsafePointer<UInt16>, b: UnsafePointer<Float>, ldb: Int,
                        c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        precondition(k % 2 == 0, "bf16 products pair the inner dimension")
        let panelCount = (n + 31) / 32, panelWords = 16 * k
        let panels = UnsafeMutablePointer<UInt32>.allocate(capacity: panelCount * panelWords)
        defer { panels.deallocate() }
        Parallel.forRanges(panelCount, threads: threads) { range in
            let first = range.lowerBound * 32, count = min(n, range.upperBound * 32) - first
            let own = panels + range.lowerBound * panelWords
            pirec_bf16_pack(b + first, k, count, ldb, own)
            pirec_bf16_gemm(a, m, k, own, count, c + first, ldc)
        }
    }
}
