// Conv2D: 2-D convolution (cross-correlation, as PyTorch) by im2col and one sgemm per tile
// of output rows, so scratch memory stays bounded at any image size.
// Shapes: input [Cin, H, W], weight [Cout, Cin, kH, kW], bias [Cout] or none (empty) -> output
// [Cout, Ho, Wo], Ho = (H + 2p - d(kH - 1) - 1) / s + 1 (likewise Wo). Padding is zeros (as
// Conv2d's own) or a reflection (a ReflectionPad2d folded into the convolution). 3x3
// stride-1 convolutions run as Winograd (WinogradConv3x3.swift: F(4x4, 3x3) or F(2x2, 3x3)); three output channels
// run directly, since their im2col matrix would be mostly memory traffic.

import CPirecNetworkKernels

struct Conv2D {
    enum Padding { case zeros, reflect }

    var outChannels: Int
    var kernel: Int
    var stride = 1
    var padding = 0
    var dilation = 1
    var paddingMode = Padding.zeros
    /// Scratch for im2col, per tile (rows are never split).
    var tileBytes = Conv2D.defaultTileBytes

    static let defaultTileBytes = 32 << 20

    func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1,
         (w + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1)
    }

    /// The Winograd tile this convolution on an input of `channels` x `h` x `w` runs with,
    /// F(4x4, 3x3), else F(2x2, 3x3), whichever's blocks divide the output; nil: im2col.
    func winogradTile(channels: Int, _ h: Int, _ w: Int) -> WinogradConv3x3.Tile? {
        let (ho, wo) = outputSize(h, w)
        guard kernel == 3 && stride == 1 && channels >= 16 && padding < h && padding < w else { return nil }
        return WinogradConv3x3.tile(outputHeight: ho, outputWidth: wo, dilation: dilation)
    }

    /// `winograd`: the weights transformed (for 3x3 stride-1); `bf16Weight`: the weights
    /// rounded to bfloat16, for im2col products in bf16 (`precision: bf16`; Cin kH kW even).
    func apply(_ x: Tensor, weight: [Float], bias: [Float], threads: Int = 1, threading: Threading = .openblas,
               winograd: WinogradConv3x3.Weights? = nil, bf16Weight: [UInt16]? = nil) -> Tensor {
        if let u = winograd, let tile = winogradTile(channels: x.channels, x.height, x.width) {
            let padded = paddedCopy(of: x, threads: threads)
            return WinogradConv3x3(outChannels: outChannels, dilation: dilation, tile: tile)
                .apply(padded: padded, weights: u, bias: bias, threads: threads, threading: threading)
        }
        let (ho, wo) = outputSize(x.height, x.width)
        if outChannels == 3 && stride == 1 && dilation == 1 && padding < x.height && padding < x.width {
            return direct3(x, weight: weight, bias: bias, threads: threads)
        }
        let k = x.channels * kernel * kernel
        let rowsPerTile = max(1, min(ho, tileBytes / (k * wo * MemoryLayout<Float>.size)))
        // fp32 columns, or bf16 pairs packed in panels.
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: bf16Weight == nil ? k * rowsPerTile * wo : 0)
        let panels = UnsafeMutablePointer<UInt32>.allocate(
            capacity: bf16Weight == nil ? 0 : BF16.panelWords(k: k, n: rowsPerTile * wo))
        defer {
            columns.deallocate()
            panels.deallocate()
        }
        let reflect: Int32 = paddingMode == .reflect ? 1 : 0
        return Tensor(channels: outChannels, height: ho, width: wo) { out in
            x.data.withUnsafeBufferPointer { input in
                weight.withUnsafeBufferPointer { w in
                    var r0 = 0
                    while r0 < ho {
                        let rows = min(rowsPerTile, ho - r0), n = rows * wo
                        let base = input.baseAddress!
                        // columns[(c kH + i) kW + j][r Wo + ox] = input[c][oy s - p + i d][ox s - p + j d]
                        if let a = bf16Weight {
                            Parallel.forRanges(k / 2, threads: threads) { pairs in
                                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * wo + 16)
                                defer { scratch.deallocate() }
                                pirec_im2col_bf16(base, x.height, x.width, kernel, stride, padding, dilation, reflect, r0,
                                                  rows, wo, k, pairs.lowerBound, pairs.upperBound, scratch, panels)
                            }
                            a.withUnsafeBufferPointer { a in
                                BF16.product(m: outChannels, n: n, k: k, a: a.baseAddress!, panels: panels,
                                             c: out.baseAddress! + r0 * wo, ldc: ho * wo, threads: threads)
                            }
                        } else {
                            Parallel.forRanges(x.channels, threads: threads) { channels in
                                pirec_im2col(base, channels.lowerBound, channels.upperBound, x.height, x.width, kernel,
                                             stride, padding, dilation, reflect, r0, rows, wo, columns)
                            }
                            BLAS.product(m: outChannels, n: n, k: k, a: w.baseAddress!, lda: k, b: columns, ldb: n,
                                         c: out.baseAddress! + r0 * wo, ldc: ho * wo, threads: threads,
                                         threading: threading)
                        }
                        r0 += rows
                    }
                }
            }
            Activations.addBias(bias, to: out.baseAddress!, plane: ho * wo, threads: threads)
        }
    }

    /// x with this convolution's padding, for the paths that run on a padded copy.
    private func paddedCopy(of x: Tensor, threads: Int) -> Tensor {
        guard padding > 0 else { return x }
        return paddingMode == .reflect
            ? ReflectionPad.apply(x, padding: padding, threads: threads) : ZeroPad.apply(x, padding: padding, threads: threads)
    }

    /// Three output channels (the network's last layer): a direct convolution over a padded
    /// copy, rows split across threads.
    private func direct3(_ x: Tensor, weight: [Float], bias given: [Float], threads: Int) -> Tensor {
        let bias = given.isEmpty ? [0, 0, 0] : given
        let padded = paddedCopy(of: x, threads: threads)
        let (ho, wo) = outputSize(x.height, x.width)
        return Tensor(channels: 3, height: ho, width: wo) { out in
            padded.data.withUnsafeBufferPointer { input in
                weight.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        let source = input.baseAddress!, target = out.baseAddress!
                        Parallel.forRanges(ho, threads: threads) { rows in
                            pirec_conv_direct3(source, x.channels, padded.height, padded.width, w.baseAddress!, b.baseAddress!,
                                               kernel, target, ho, wo, rows.lowerBound, rows.upperBound)
                        }
                    }
                }
            }
        }
    }
}
