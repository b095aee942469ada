// MedianFilter: the median of the (2r+1) x (2r+1) window around each pixel of an 8-bit
// plane, borders replicated, as OpenCV's medianBlur. Constant time per pixel whatever the
// radius (Perreault and Hebert 2007): one 256-bin histogram per column slides down the
// image, the window histogram slides along the row by adding one column and removing
// another. Histograms are split into 16 coarse bins of 16 fine ones; the window's fine
// bins are brought up to date lazily, only in the coarse bin that holds the median.

public struct MedianFilter {
    public let radius: Int

    public init(radius: Int) { self.radius = radius }

    /// Filters `plane` (width x height bytes, row-major) in place.
    public func apply(_ plane: inout [UInt8], width w: Int, height h: Int) {
        guard radius > 0, w > 0, h > 0 else { return }
        let r = radius, window = 2 * r + 1
        let rank = UInt16((window * window - 1) / 2)  // 0-based rank of the median
        let source = plane
        // Column histograms: fine[x * 16 + s] holds bins 16s..16s+15 of column x; coarse[x] the 16 sums.
        var fine = [SIMD16<UInt16>](repeating: .zero, count: w * 16)
        var coarse = [SIMD16<UInt16>](repeating: .zero, count: w)
        var kernelFine = [SIMD16<UInt16>](repeating: .zero, count: 16)
        var updatedAt = [Int](repeating: 0, count: 16)
        source.withUnsafeBufferPointer { src in
            plane.withUnsafeMutableBufferPointer { dst in
                fine.withUnsafeMutableBufferPointer { fine in
                    coarse.withUnsafeMutableBufferPointer { coarse in
                        kernelFine.withUnsafeMutableBufferPointer { kf in
                            @inline(__always) func addRow(_ y: Int, _ amount: UInt16, subtract: Bool) {
                                let row = src.baseAddress! + min(max(y, 0), h - 1) * w
                                for x in 0..<w {
                                    let v = Int(row[x]), s = v >> 4, b = v & 15
                                    if subtract {
                                        fine[x * 16 + s][b] &-= amount
                                        coarse[x][s] &-= amount
                                    } else {
                                        fine[x * 16 + s][b] &+= amount
                                        coarse[x][s] &+= amount
                                    }
                                }
                            }
                            @inline(__always) func column(_ x: Int) -> Int { min(max(x, 0), w - 1) }

                            addRow(0, UInt16(r + 1), subtract: false)
                            for i in 1...r { addRow(i, 1, subtract: false) }
                            for y in 0..<h {
                                if y > 0 {
                                    addRow(y - r - 1, 1, subtract: true)
                                    addRow(y + r, 1, subtract: false)
                                }
                                // The window at x = 0: columns -r...r, the left ones replicated.
                                var kc = coarse[0] &* UInt16(r + 1)
                                for j in 1...r { kc &+= coarse[column(j)] }
                                for s in 0..<16 { updatedAt[s] = Int.min }
                                let out = dst.baseAddress! + y * w
                                for x in 0..<w {
                                    if x > 0 { kc = kc &+ coarse[column(x + r)] &- coarse[column(x - r - 1)] }
                                    // Coarse bin holding the median.
                                    var below: UInt16 = 0, s = 0
                                    while s < 15 && below + kc[s] <= rank {
                                        below += kc[s]
                                        s += 1
                                    }
                                    // Bring that fine bin to column x: from scratch or step by step.
                                    let last = updatedAt[s]
                                    if last == Int.min || x - last > window {
                                        var sum = SIMD16<UInt16>.zero
                                        for j in (x - r)...(x + r) { sum &+= fine[column(j) * 16 + s] }
                                        kf[s] = sum
                                    } else {
                                        var sum = kf[s]
                                        for t in (last + 1)..<(x + 1) {
                                            sum = sum &+ fine[column(t + r) * 16 + s] &- fine[column(t - r - 1) * 16 + s]
                                        }
                                        kf[s] = sum
                                    }
                                    updatedAt[s] = x
                                    let bins = kf[s]
                                    var b = 0
                                    while b < 15 && below + bins[b] <= rank {
                                        below += bins[b]
                                        b += 1
                                    }
                                    out[x] = UInt8(s * 16 + b)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
