// ReflectionPad: mirror padding without repeating the edge (d c b | a b c d | c b a), as
// PyTorch's ReflectionPad2d. Shapes: [C, H, W] -> [C, H + 2p, W + 2p]; needs p < H and p < W.
import CPirecNetworkKernels

/// The source index for padded index `i` of a side of length `n` padded by reflection.
@inline(__always)
func reflectIndex(_ i: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    var j = i
    let period = 2 * (n - 1)
    j = ((j % period) + period) % period
    return j < n ? j : period - j
}

enum ReflectionPad {
    static func apply(_ x: Tensor, padding p: Int, threads: Int = 1) -> Tensor {
        Padding.apply(x, padding: p, reflect: true, threads: threads)
    }
}

/// Zero padding, for Conv2d's own padding where a convolution runs on a padded copy.
enum ZeroPad {
    static func apply(_ x: Tensor, padding p: Int, threads: Int = 1) -> Tensor {
        Padding.apply(x, padding: p, reflect: false, threads: threads)
    }
}

/// Both, a plane at a time in C (pirec_pad), the channels split across threads.
private enum Padding {
    static func apply(_ x: Tensor, padding p: Int, reflect: Bool, threads: Int) -> Tensor {
        let h = x.height, w = x.width, ph = h + 2 * p, pw = w + 2 * p
        return Tensor(channels: x.channels, height: ph, width: pw) { out in
            x.data.withUnsafeBufferPointer { src in
                let source = src.baseAddress!, target = out.baseAddress!
                Parallel.forRanges(x.channels, threads: threads) { channels in
                    for c in channels {
                        pirec_pad(source + c * h * w, h, w, p, reflect ? 1 : 0, target + c * ph * pw)
                    }
                }
            }
        }
    }
}
