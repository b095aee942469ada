// InstanceNorm: per channel, subtract the mean and divide by sqrt(biased variance + eps),
// eps 1e-5, no affine parameters and no running statistics (PyTorch's InstanceNorm2d
// defaults), optionally followed by ReLU in the same pass. Shapes: [C, H, W] -> [C, H, W].
// Sums are taken in Float64 so large planes do not lose precision.

enum InstanceNorm {
    static let epsilon = 1e-5

    static func apply(_ x: inout Tensor, relu: Bool, threads: Int = 1) {
        let n = x.plane, channels = x.channels
        x.data.withUnsafeMutableBufferPointer { data in
            let base = data.baseAddress!
            Parallel.forRanges(channels, threads: threads) { range in
            for c in range {
                let p = base + c * n
                var sum = 0.0
                for i in 0..<n { sum += Double(p[i]) }
                let mean = sum / Double(n)
                var squares = 0.0
                for i in 0..<n {
                    let d = Double(p[i]) - mean
                    squares += d * d
                }
                let scale = Float(1 / (squares / Double(n) + epsilon).squareRoot())
                let shift = Float(-mean) * scale
                if relu {
                    for i in 0..<n { p[i] = max(p[i] * scale + shift, 0) }
                } else {
                    for i in 0..<n { p[i] = p[i] * scale + shift }
                }
            }
            }
        }
    }
}
