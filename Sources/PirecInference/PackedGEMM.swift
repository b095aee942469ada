// PackedGEMM: fp32 matrix products whose left side is packed once, at load (CPirecNetworkKernels'
// pirec_gemm.c, AVX-512), for the Winograd domain's products with the transformed weights;
// the right side comes in panels of 32 columns, as WinogradConv3x3's input transform writes
// it (pirec_gemm is called there). OpenBLAS's sgemm packs both sides and zeroes the result
// on every call. CPUs without AVX-512 keep OpenBLAS (BLAS.swift).
import CPirecNetworkKernels

enum PackedGEMM {
    /// Whether this CPU runs the kernel (AVX-512 F).
    static let available = pirec_gemm_available() == 1

    /// A [m x k] (row-major) packed for pirec_gemm.
    static func pack(_ a: UnsafePointer<Float>, m: Int, k: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: pirec_gemm_packed_count(m, k)) { buffer, count in
            pirec_gemm_pack_a(a, m, k, buffer.baseAddress!)
            count = buffer.count
        }
    }
}
