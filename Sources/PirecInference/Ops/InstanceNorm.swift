// InstanceNorm: per channel, subtract the mean and divide by sqrt(biased variance + eps),
// eps 1e-5, no affine parameters and no running statistics (PyTorch's InstanceNorm2d
// defaults), optionally followed by ReLU in the same pass. Shapes: [C, H, W] -> [C, H, W].
// Each plane is one call of pirec_instance_norm (C, compiled per instruction set), whose
// sums are Float64 so large planes do not lose precision.
import CPirecNetworkKernels

enum InstanceNorm {
    static let epsilon = 1e-5

    static func apply(_ x: inout Tensor, relu: Bool, threads: Int = 1) {
        let n = x.plane
        x.data.withUnsafeMutableBufferPointer { data in
            let base = data.baseAddress!
            Parallel.forRanges(x.channels, threads: threads) { range in
                for c in range { pirec_instance_norm(base + c * n, n, epsilon, relu ? 1 : 0) }
            }
        }
    }
}
