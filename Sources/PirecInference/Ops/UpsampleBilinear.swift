// UpsampleBilinear: x2 bilinear upsampling with PyTorch's align_corners=False semantics:
// output index o reads source position (o + 0.5) / 2 - 0.5, clamped at 0, between the two
// nearest samples (the last one repeated at the far edge). Shapes: [C, H, W] -> [C, 2H, 2W].

enum UpsampleBilinear {
    /// For each output index: the two source indices and their weights.
    static func taps(_ n: Int) -> [(Int, Int, Float, Float)] {
        (0..<(2 * n)).map { o in
            let source = max(Float(0.5) * (Float(o) + 0.5) - 0.5, 0)
            let i0 = Int(source)
            let i1 = i0 < n - 1 ? i0 + 1 : i0
            let l1 = source - Float(i0)
            return (i0, i1, 1 - l1, l1)
        }
    }

    static func apply(_ x: Tensor, threads: Int = 1) -> Tensor {
        let h = x.height, w = x.width, ho = 2 * h, wo = 2 * w
        let rows = taps(h), cols = taps(w)
        return Tensor(channels: x.channels, height: ho, width: wo) { out in
            x.data.withUnsafeBufferPointer { src in
                let source = src.baseAddress!, target = out.baseAddress!
                Parallel.forRanges(x.channels, threads: threads) { range in
                for c in range {
                    let s = source + c * h * w, d = target + c * ho * wo
                    for oy in 0..<ho {
                        let (y0, y1, a0, a1) = rows[oy]
                        let r0 = s + y0 * w, r1 = s + y1 * w, dst = d + oy * wo
                        for ox in 0..<wo {
                            let (x0, x1, b0, b1) = cols[ox]
                            dst[ox] = a0 * (b0 * r0[x0] + b1 * r0[x1]) + a1 * (b0 * r1[x0] + b1 * r1[x1])
                        }
                    }
                }
                }
            }
        }
    }
}
