// ConvTranspose2D: transposed convolution (PyTorch's ConvTranspose2d) as one sgemm per tile
// of input rows, columns = weightᵀ · input, then a scatter-add of the columns (col2im).
// Shapes: input [Cin, H, W], weight [Cin, Cout, k, k], bias [Cout] or none (empty) -> output [Cout, Ho, Wo],
// Ho = (H - 1) s - 2p + k (likewise Wo).

import CPirecNetworkKernels

struct ConvTranspose2D {
    var outChannels: Int
    var kernel: Int
    var stride: Int
    var padding: Int

    func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h - 1) * stride - 2 * padding + kernel, (w - 1) * stride - 2 * padding + kernel)
    }

    /// `bf16Weight`: the weight's transpose [Cout k k][Cin] rounded to bfloat16, for the
    /// products in bf16 (`precision: bf16`; Cin even).
    func apply(_ x: Tensor, weight: [Float], bias: [Float], threads: Int = 1, threading: Threading = .openblas,
               bf16Weight: [UInt16]? = nil) -> Tensor {
        let (ho, wo) = outputSize(x.height, x.width)
        let h = x.height, w = x.width, kk = kernel * kernel
        let m = outChannels * kk
        let rowsPerTile = max(1, min(h, Conv2D.defaultTileBytes / (m * w * MemoryLayout<Float>.size)))
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: m * rowsPerTile * w)
        defer { columns.deallocate() }
        var out = Tensor(channels: outChannels, height: ho, width: wo)
        out.data.withUnsafeMutableBufferPointer { out in
            x.data.withUnsafeBufferPointer { input in
                weight.withUnsafeBufferPointer { wt in
                    var r0 = 0
                    while r0 < h {
                        let rows = min(rowsPerTile, h - r0), n = rows * w
                        // columns[m x n] = weight[Cin x m]ᵀ · input[Cin x n] (rows r0..<r0+rows, row stride H*W).
                        if let a = bf16Weight {
                            a.withUnsafeBufferPointer { a in
                                BF16.product(m: m, n: n, k: x.channels, a: a.baseAddress!, b: input.baseAddress! + r0 * w,
                                             ldb: h * w, c: columns, ldc: n, threads: threads)
                            }
                        } else {
                            BLAS.product(m: m, n: n, k: x.channels, a: wt.baseAddress!, lda: m, transposeA: true,
                                         b: input.baseAddress! + r0 * w, ldb: h * w, c: columns, ldc: n,
                                         threads: threads, threading: threading)
                        }
                        let outBase = out.baseAddress!
                        // col2im: output[co][(r0 + r) s - p + ki][ix s - p + kj] += columns[(co k + ki) k + kj][r W + ix]
                        Parallel.forRanges(outChannels, threads: threads) { range in
                            pirec_col2im(columns, rows, r0, w, kernel, stride, padding, outBase, ho, wo,
                                         range.lowerBound, range.upperBound)
                        }
                        r0 += rows
                    }
                }
            }
            Activations.addBias(bias, to: out.baseAddress!, plane: ho * wo, threads: threads)
        }
        return out
    }
}
