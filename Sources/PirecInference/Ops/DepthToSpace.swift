// DepthToSpace: PyTorch's pixel_shuffle, the sub-pixel output of a super-resolution network.
// Shapes: [C * S * S, H, W] -> [C, H * S, W * S]; input channel c * S * S + i * S + j fills
// output pixel (y * S + i, x * S + j) of channel c.

enum DepthToSpace {
    static func apply(_ x: Tensor, scale s: Int, threads: Int = 1) -> Tensor {
        precondition(s >= 1 && x.channels % (s * s) == 0, "depth-to-space: \(x.channels) channels, scale \(s)")
        let c = x.channels / (s * s), h = x.height, w = x.width, ow = w * s
        return Tensor(channels: c, height: h * s, width: ow) { out in
            x.data.withUnsafeBufferPointer { input in
                Parallel.forRanges(c * h, threads: threads) { rows in
                    for row in rows {
                        let channel = row / h, y = row % h
                        for i in 0..<s {
                            let line = (channel * h * s + y * s + i) * ow
                            for j in 0..<s {
                                let source = ((channel * s * s + i * s + j) * h + y) * w
                                for xx in 0..<w { out[line + xx * s + j] = input[source + xx] }
                            }
                        }
                    }
                }
            }
        }
    }
}
