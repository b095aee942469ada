// WinogradConv3x3: a 3x3 stride-1 convolution as Winograd's F(2x2, 3x3) (Lavin and Gray
// 2016): each 2x2 block of outputs comes from a 4x4 block of input with 16 multiplications
// per channel pair instead of 36, as 16 matrix products [Cout x Cin] x [Cin x tiles]. The
// residual blocks are 3x3 convolutions at 256 channels, three quarters of the network's
// arithmetic, so this is where the engine's time goes. Dilation d is handled by tiling:
// a tile covers outputs {y, y + d} x {x, x + d} and reads input rows y + d r, r = 0...3.
// Shapes: padded input [Cin, Ho + 2d, Wo + 2d] (valid convolution), weight [Cout, Cin, 3, 3],
// bias [Cout] -> [Cout, Ho, Wo]; needs Ho and Wo to be multiples of 2d.

struct WinogradConv3x3 {
    var outChannels: Int
    var dilation: Int

    /// Scratch per chunk of tiles (transformed input and products): 64 MB.
    static let chunkBytes = 64 << 20

    static func applies(outputHeight: Int, outputWidth: Int, dilation: Int) -> Bool {
        outputHeight % (2 * dilation) == 0 && outputWidth % (2 * dilation) == 0
    }

    /// U[e][co][ci] = (G g G^T)[e] for e = 4 i + j, G = [[1,0,0],[.5,.5,.5],[.5,-.5,.5],[0,0,1]].
    static func transformWeights(_ weight: [Float], outChannels: Int, inChannels: Int) -> [Float] {
        let pairs = outChannels * inChannels
        var u = [Float](repeating: 0, count: 16 * pairs)
        for p in 0..<pairs {
            let g = Array(weight[(p * 9)..<(p * 9 + 9)])
            var t = [Float](repeating: 0, count: 12)  // G g: 4 x 3
            for c in 0..<3 {
                let g0 = g[c], g1 = g[3 + c], g2 = g[6 + c]
                t[c] = g0
                t[3 + c] = (g0 + g1 + g2) / 2
                t[6 + c] = (g0 - g1 + g2) / 2
                t[9 + c] = g2
            }
            for r in 0..<4 {
                let a = t[3 * r], b = t[3 * r + 1], c = t[3 * r + 2]
                let row = [a, (a + b + c) / 2, (a - b + c) / 2, c]
                for j in 0..<4 { u[(4 * r + j) * pairs + p] = row[j] }
            }
        }
        return u
    }

    /// The input transform of eight horizontally adjacent tiles (dilation 1 or 2), lane k
    /// for tile k: their inputs are every other sample (d = 1) or every other pair (d = 2)
    /// of 16-sample loads. Writes o[e * step + k] for e = 0...15.
    @inline(__always)
    static func inputTransform8(_ p0: UnsafePointer<Float>, rowStride: Int, dilation d: Int,
                                into o: UnsafeMutablePointer<Float>, step: Int) {
        @inline(__always) func pick(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
            let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
            if d == 1 { return v.evenHalf }
            // Pairs (0,1), (4,5), (8,9), (12,13): the even 64-bit halves.
            return unsafeBitCast(unsafeBitCast(v, to: SIMD8<Double>.self).evenHalf, to: SIMD8<Float>.self)
        }
        let p1 = p0 + d * rowStride, p2 = p1 + d * rowStride, p3 = p2 + d * rowStride
        @inline(__always) func row(_ p: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
            (pick(p), pick(p + d), pick(p + 2 * d), pick(p + 3 * d))
        }
        let r0 = row(p0), r1 = row(p1), r2 = row(p2), r3 = row(p3)
        // B^T d down the rows.
        let a = (r0.0 - r2.0, r0.1 - r2.1, r0.2 - r2.2, r0.3 - r2.3)
        let b = (r1.0 + r2.0, r1.1 + r2.1, r1.2 + r2.2, r1.3 + r2.3)
        let c = (r2.0 - r1.0, r2.1 - r1.1, r2.2 - r1.2, r2.3 - r1.3)
        let e = (r1.0 - r3.0, r1.1 - r3.1, r1.2 - r3.2, r1.3 - r3.3)
        @inline(__always) func store(_ v: SIMD8<Float>, _ index: Int) {
            UnsafeMutableRawPointer(o + index * step).storeBytes(of: v, as: SIMD8<Float>.self)
        }
        // Then along the rows, as the scalar path.
        store(a.0 - a.2, 0); store(a.1 + a.2, 1); store(a.2 - a.1, 2); store(a.1 - a.3, 3)
        store(b.0 - b.2, 4); store(b.1 + b.2, 5); store(b.2 - b.1, 6); store(b.1 - b.3, 7)
        store(c.0 - c.2, 8); store(c.1 + c.2, 9); store(c.2 - c.1, 10); store(c.1 - c.3, 11)
        store(e.0 - e.2, 12); store(e.1 + e.2, 13); store(e.2 - e.1, 14); store(e.1 - e.3, 15)
    }

    func apply(padded x: Tensor, transformedWeight u: [Float], bias: [Float], threads: Int,
               threading: Threading) -> Tensor {
        let d = dilation, cin = x.channels, cout = outChannels
        let ho = x.height - 2 * d, wo = x.width - 2 * d
        let tilesY = ho / 2, tilesX = wo / 2, tiles = tilesY * tilesX
        let perTile = 16 * (cin + cout) * MemoryLayout<Float>.size
        let chunk = max(tilesX, min(tiles, WinogradConv3x3.chunkBytes / perTile) / tilesX * tilesX)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * cin * chunk)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * cout * chunk)
        defer {
            v.deallocate()
            m.deallocate()
        }
        @inline(__always) func origin(_ q: Int) -> Int { (q / d) * 2 * d + q % d }
        return Tensor(channels: cout, height: ho, width: wo) { out in
            x.data.withUnsafeBufferPointer { input in
                u.withUnsafeBufferPointer { u in
                    let src = input.baseAddress!, dst = out.baseAddress!
                    var first = 0
                    var inputOffset = [Int](repeating: 0, count: chunk), outputOffset = inputOffset
                    while first < tiles {
                        let count = min(chunk, tiles - first)
                        // Where each tile starts in the padded input and in the output (no division per channel).
                        for t in 0..<count {
                            let y0 = origin((first + t) / tilesX), x0 = origin((first + t) % tilesX)
                            inputOffset[t] = y0 * x.width + x0
                            outputOffset[t] = y0 * wo + x0
                        }
                        // Input transform: V[e][ci][t] = (B^T d B)[e], tile by tile, in registers.
                        Parallel.forRanges(cin, threads: threads) { channels in
                            for c in channels {
                                let plane = src + c * x.height * x.width
                                let out = v + c * count, step = cin * count
                                var t = 0
                                while t < count {
                                    // Eight tiles of one tile row at once where their inputs lie inside the row.
                                    if (d == 1 || d == 2) && (first + t) % tilesX % 8 == 0 && t + 8 <= count
                                        && (first + t) % tilesX + 8 <= tilesX
                                        && (inputOffset[t] % x.width) + 3 * d + 16 <= x.width {
                                        WinogradConv3x3.inputTransform8(plane + inputOffset[t], rowStride: x.width, dilation: d,
                                                                        into: out + t, step: step)
                                        t += 8
                                        continue
                                    }
                                    let p0 = plane + inputOffset[t]
                                    let p1 = p0 + d * x.width, p2 = p1 + d * x.width, p3 = p2 + d * x.width
                                    // Rows of B^T d: k0 = d0 - d2, k1 = d1 + d2, k2 = d2 - d1, k3 = d1 - d3.
                                    let a0 = p0[0] - p2[0], a1 = p0[d] - p2[d], a2 = p0[2 * d] - p2[2 * d], a3 = p0[3 * d] - p2[3 * d]
                                    let b0 = p1[0] + p2[0], b1 = p1[d] + p2[d], b2 = p1[2 * d] + p2[2 * d], b3 = p1[3 * d] + p2[3 * d]
                                    let c0 = p2[0] - p1[0], c1 = p2[d] - p1[d], c2 = p2[2 * d] - p1[2 * d], c3 = p2[3 * d] - p1[3 * d]
                                    let e0 = p1[0] - p3[0], e1 = p1[d] - p3[d], e2 = p1[2 * d] - p3[2 * d], e3 = p1[3 * d] - p3[3 * d]
                                    // Then the same along each row.
                                    let o = out + t
                                    o[0] = a0 - a2; o[step] = a1 + a2; o[2 * step] = a2 - a1; o[3 * step] = a1 - a3
                                    o[4 * step] = b0 - b2; o[5 * step] = b1 + b2; o[6 * step] = b2 - b1; o[7 * step] = b1 - b3
                                    o[8 * step] = c0 - c2; o[9 * step] = c1 + c2; o[10 * step] = c2 - c1; o[11 * step] = c1 - c3
                                    o[12 * step] = e0 - e2; o[13 * step] = e1 + e2; o[14 * step] = e2 - e1; o[15 * step] = e1 - e3
                                    t += 1
                                }
                            }
                        }
                        // M[e] = U[e] (Cout x Cin) . V[e] (Cin x count), 16 products.
                        let products = { (e: Int) in
                            BLAS.gemm(m: cout, n: count, k: cin, a: u.baseAddress! + e * cout * cin, lda: cin,
                                      b: v + e * cin * count, ldb: count, c: m + e * cout * count, ldc: count)
                        }
                        if threading == .engine && threads > 1 {
                            Parallel.forRanges(16, threads: threads) { range in for e in range { products(e) } }
                        } else {
                            for e in 0..<16 { products(e) }
                        }
                        // Output transform: Y = A^T m A + bias, A^T = [[1,1,1,0],[0,1,-1,-1]].
                        Parallel.forRanges(cout, threads: threads) { channels in
                            for co in channels {
                                let plane = dst + co * ho * wo, bias = bias[co]
                                let base = m + co * count, step = cout * count
                                for t in 0..<count {
                                    let row0 = plane + outputOffset[t], row1 = row0 + d * wo
                                    let g = base + t
                                    // Columns of A^T m: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 (rows of m).
                                    let s00 = g[0] + g[4 * step] + g[8 * step], s10 = g[4 * step] - g[8 * step] - g[12 * step]
                                    let s01 = g[step] + g[5 * step] + g[9 * step], s11 = g[5 * step] - g[9 * step] - g[13 * step]
                                    let s02 = g[2 * step] + g[6 * step] + g[10 * step], s12 = g[6 * step] - g[10 * step] - g[14 * step]
                                    let s03 = g[3 * step] + g[7 * step] + g[11 * step], s13 = g[7 * step] - g[11 * step] - g[15 * step]
                                    row0[0] = s00 + s01 + s02 + bias
                                    row0[d] = s01 - s02 - s03 + bias
                                    row1[0] = s10 + s11 + s12 + bias
                                    row1[d] = s11 - s12 - s13 + bias
                                }
                            }
                        }
                        first += count
                    }
                }
            }
        }
    }
}
