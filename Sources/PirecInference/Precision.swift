// Precision: what the network's matrix products compute in. bf16 rounds both operands to
// bfloat16 and sums the products in fp32 (AVX512_BF16's vdpbf16ps, CPirecNetworkKernels'
// pirec_bf16.c, at 2.2x OpenBLAS's fp32 rate) where that keeps the error near a direct
// convolution's: the im2col products (7x7 and stride-2 convolutions, the transposed ones)
// and F(2x2) Winograd tiles; F(4x4) tiles stay fp32 (bf16 there errs 5-9x more,
// bench/winograd_bf16.py). Held within the quality gate ShippedModelTests checks (output
// PSNR against fp32); BENCHMARKS.md has the speed.
import CPirecNetworkKernels

public enum Precision: String, Sendable, CaseIterable {
    case fp32
    case bf16
    /// bf16 where the CPU has AVX512_BF16, else fp32.
    case auto

    /// Whether this CPU runs the bf16 products.
    public static let bf16Available = pirec_bf16_available() == 1

    /// fp32 or bf16 on this CPU; nil for bf16 on a CPU without the instruction.
    public var resolved: Precision? {
        switch self {
        case .fp32: .fp32
        case .bf16: Precision.bf16Available ? .bf16 : nil
        case .auto: Precision.bf16Available ? .bf16 : .fp32
        }
    }
}
