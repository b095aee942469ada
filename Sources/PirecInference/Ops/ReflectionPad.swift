// ReflectionPad: mirror padding without repeating the edge (d c b | a b c d | c b a), as
// PyTorch's ReflectionPad2d. Shapes: [C, H, W] -> [C, H + 2p, W + 2p]; needs p < H and p < W.

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
    static func apply(_ x: Tensor, padding p: Int) -> Tensor {
        let h = x.height, w = x.width, ph = h + 2 * p, pw = w + 2 * p
        return Tensor(channels: x.channels, height: ph, width: pw) { out in
            x.data.withUnsafeBufferPointer { src in
                for c in 0..<x.channels {
                    let s = src.baseAddress! + c * h * w, d = out.baseAddress! + c * ph * pw
                    for y in 0..<ph {
                        let row = s + reflectIndex(y - p, h) * w, dst = d + y * pw
                        for i in 0..<p { dst[i] = row[reflectIndex(i - p, w)] }
                        for i in 0..<w { dst[p + i] = row[i] }
                        for i in 0..<p { dst[p + w + i] = row[reflectIndex(w + i, w)] }
                    }
                }
            }
        }
    }
}

/// Zero padding, for Conv2d's own padding where a convolution runs on a padded copy.
enum ZeroPad {
    static func apply(_ x: Tensor, padding p: Int) -> Tensor {
        let h = x.height, w = x.width, pw = w + 2 * p
        var out = Tensor(channels: x.channels, height: h + 2 * p, width: pw)
        out.data.withUnsafeMutableBufferPointer { d in
            x.data.withUnsafeBufferPointer { s in
                for c in 0..<x.channels {
                    for y in 0..<h {
                        (d.baseAddress! + (c * (h + 2 * p) + y + p) * pw + p).update(from: s.baseAddress! + (c * h + y) * w, count: w)
                    }
                }
            }
        }
        return out
    }
}
