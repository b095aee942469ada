// Precision: what the Winograd-domain matrix products compute in. bf16 rounds both operands
// to bfloat16 and sums the products in fp32 (AVX512_BF16's vdpbf16ps, CPirecNetworkKernels'
// pirec_bf16.c): the products at 2.2x OpenBLAS's fp32 rate, on F(2x2) tiles only (so the
// network is level with fp32 for now, BENCHMARKS.md), within the quality gate that
// ShippedModelTests holds (output PSNR against fp32).
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
