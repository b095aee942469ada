// Activations: ReLU, the residual sums, and the networks' output maps ((tanh(x) + 1) / 2,
// a clamp to [0, 1]). Shapes: elementwise, [C, H, W] -> [C, H, W], but `addRepeated`.
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

    /// x[c * n + i] += skip[c] for i in 0..<n: x is [C * n, H, W], skip [C, H, W]. Before a
    /// depth-to-space of scale S (n = S * S) this adds skip's nearest-neighbour enlargement.
    static func addRepeated(_ x: inout Tensor, _ skip: Tensor, times n: Int) {
        precondition(x.channels == skip.channels * n && x.plane == skip.plane, "repeated residual: shapes differ")
        let plane = x.plane
        skip.data.withUnsafeBufferPointer { s in
            x.data.withUnsafeMutableBufferPointer { p in
                for c in 0..<skip.channels {
                    for i in 0..<n {
                        let target = (c * n + i) * plane, source = c * plane
                        for k in 0..<plane { p[target + k] += s[source + k] }
                    }
                }
            }
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

    /// min(max(x, 0), 1).
    static func clampUnit(_ x: inout Tensor) {
        x.data.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = min(max(p[i], 0), 1) } }
    }
}
