// Activations: ReLU, the residual sum, and the network's output map (tanh(x) + 1) / 2.
// Shapes: elementwise, [C, H, W] -> [C, H, W].
import Glibc

enum Activations {
    static func relu(_ x: inout Tensor) {
        x.data.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = max(p[i], 0) } }
    }

    /// x += skip (same shape).
    static func add(_ x: inout Tensor, _ skip: Tensor) {
        skip.data.withUnsafeBufferPointer { s in
            x.data.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] += s[i] } }
        }
    }

    /// Adds bias[c] to every sample of channel c of the [C, plane] buffer `x`.
    static func addBias(_ bias: [Float], to x: UnsafeMutablePointer<Float>, plane: Int, threads: Int) {
        Parallel.forRanges(bias.count, threads: threads) { channels in
            for c in channels {
                let p = x + c * plane, b = bias[c]
                for i in 0..<plane { p[i] += b }
            }
        }
    }

    /// (tanh(x) + 1) / 2, mapping to [0, 1].
    static func tanhToUnit(_ x: inout Tensor) {
        x.data.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = (tanhf(p[i]) + 1) / 2 } }
    }
}
