// WinogradConv3x3: a 3x3 stride-1 convolution as Winograd's minimal filtering (Lavin and
// Gray 2016). F(2x2, 3x3) gives each 2x2 block of outputs from a 4x4 block of input with 16
// multiplications per channel pair instead of 36; F(4x4, 3x3) each 4x4 block from 6x6 with
// 36 instead of 144 (2.25 per output against 4), as 36 matrix products
// [Cout x Cin] x [Cin x tiles]. The residual blocks are 3x3 convolutions at 4W channels,
// three quarters of the network's arithmetic, so this is where the engine's time goes.
// Dilation d is handled by tiling: a tile covers outputs {y, y + d, ...} x {x, x + d, ...}
// and reads input rows y + d r, which is the same as running the 3x3 convolution on each of
// the d x d polyphase sub-images.
// Shapes: padded input [Cin, Ho + 2d, Wo + 2d] (valid convolution), weight [Cout, Cin, 3, 3],
// bias [Cout] -> [Cout, Ho, Wo]; needs Ho and Wo to be multiples of (tile size) x d.
import CPirecNetworkKernels

struct WinogradConv3x3 {
    /// The block of outputs one tile gives.
    enum Tile: Int, CaseIterable, Sendable {
        case two = 2, four = 4

        /// Input samples along each side of a tile.
        var inputs: Int { rawValue + 2 }
        /// Multiplications per channel pair and tile: the number of matrix products.
        var points: Int { inputs * inputs }
    }

    /// A convolution's weights in both transforms (Tile.two's U and Tile.four's), made once
    /// at load: which one runs depends on the size of each input. With bf16 products, U is
    /// Tile.two's only, rounded to bfloat16 (the products need an even input channel count):
    /// F(4x4)'s larger transform constants turn bf16's rounding into errors of several
    /// percent of the output (OpsTests.winograd), F(2x2)'s stay near 0.4 %.
    struct Weights: Sendable {
        enum Transformed: Sendable {
            case fp32(two: [Float], four: [Float])
            case bf16(two: [UInt16])
        }

        let transformed: Transformed

        init(_ weight: [Float], outChannels: Int, inChannels: Int, precision: Precision = .fp32) {
            let two = WinogradConv3x3.transformWeights(weight, outChannels: outChannels, inChannels: inChannels, tile: .two)
            if precision == .bf16 && inChannels % 2 == 0 {
                transformed = .bf16(two: WinogradConv3x3.bf16(two))
            } else {
                let four = WinogradConv3x3.transformWeights(weight, outChannels: outChannels, inChannels: inChannels, tile: .four)
                transformed = .fp32(two: two, four: four)
            }
        }

        /// The tiles these weights run, larger first.
        var tiles: [Tile] {
            if case .bf16 = transformed { return [.two] }
            return [.four, .two]
        }
    }

    static func bf16(_ values: [Float]) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: values.count) { buffer, count in
            pirec_bf16_round(values, values.count, buffer.baseAddress!)
            count = values.count
        }
    }

    var outChannels: Int
    var dilation: Int
    var tile: Tile

    /// Scratch per chunk of tiles (transformed input and products): 64 MB.
    static let chunkBytes = 64 << 20

    /// The first of `tiles` that divides the output, if any.
    static func tile(outputHeight: Int, outputWidth: Int, dilation: Int, tiles: [Tile] = [.four, .two]) -> Tile? {
        tiles.first { outputHeight % ($0.rawValue * dilation) == 0 && outputWidth % ($0.rawValue * dilation) == 0 }
    }

    /// U[e][co][ci] = (G g G^T)[e], e = row * inputs + column. Tile.two:
    /// G = [[1,0,0],[.5,.5,.5],[.5,-.5,.5],[0,0,1]]; Tile.four (points 0, 1, -1, 2, -2, inf):
    /// G = [[1/4,0,0],[-1/6,-1/6,-1/6],[-1/6,1/6,-1/6],[1/24,1/12,1/6],[1/24,-1/12,1/6],[0,0,1]].
    static func transformWeights(_ weight: [Float], outChannels: Int, inChannels: Int, tile: Tile) -> [Float] {
        let half = 0.5, quarter = 0.25, sixth = 1.0 / 6, twelfth = 1.0 / 12, twentyFourth = 1.0 / 24
        let g: [[Double]] = tile == .two
            ? [[1, 0, 0], [half, half, half], [half, -half, half], [0, 0, 1]]
            : [[quarter, 0, 0], [-sixth, -sixth, -sixth], [-sixth, sixth, -sixth],
               [twentyFourth, twelfth, sixth], [twentyFourth, -twelfth, sixth], [0, 0, 1]]
        let n = tile.inputs, pairs = outChannels * inChannels
        var u = [Float](repeating: 0, count: tile.points * pairs)
        var t = [Double](repeating: 0, count: 3 * n)  // G w: n x 3
        for p in 0..<pairs {
            @inline(__always) func w(_ k: Int) -> Double { Double(weight[p * 9 + k]) }
            for r in 0..<n {
                for c in 0..<3 { t[3 * r + c] = g[r][0] * w(c) + g[r][1] * w(3 + c) + g[r][2] * w(6 + c) }
            }
            for r in 0..<n {
                for j in 0..<n {
                    let v = t[3 * r] * g[j][0] + t[3 * r + 1] * g[j][1] + t[3 * r + 2] * g[j][2]
                    u[(n * r + j) * pairs + p] = Float(v)
                }
            }
        }
        return u
    }

    // MARK: F(2x2, 3x3) transforms

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

    /// One tile's input transform, V = B^T d B, o[e * step] for e = 0...15.
    @inline(__always)
    static func inputTransform2(_ p0: UnsafePointer<Float>, rowStride: Int, dilation d: Int,
                                into o: UnsafeMutablePointer<Float>, step: Int) {
        let p1 = p0 + d * rowStride, p2 = p1 + d * rowStride, p3 = p2 + d * rowStride
        // Rows of B^T d: k0 = d0 - d2, k1 = d1 + d2, k2 = d2 - d1, k3 = d1 - d3.
        let a0 = p0[0] - p2[0], a1 = p0[d] - p2[d], a2 = p0[2 * d] - p2[2 * d], a3 = p0[3 * d] - p2[3 * d]
        let b0 = p1[0] + p2[0], b1 = p1[d] + p2[d], b2 = p1[2 * d] + p2[2 * d], b3 = p1[3 * d] + p2[3 * d]
        let c0 = p2[0] - p1[0], c1 = p2[d] - p1[d], c2 = p2[2 * d] - p1[2 * d], c3 = p2[3 * d] - p1[3 * d]
        let e0 = p1[0] - p3[0], e1 = p1[d] - p3[d], e2 = p1[2 * d] - p3[2 * d], e3 = p1[3 * d] - p3[3 * d]
        // Then the same along each row.
        o[0] = a0 - a2; o[step] = a1 + a2; o[2 * step] = a2 - a1; o[3 * step] = a1 - a3
        o[4 * step] = b0 - b2; o[5 * step] = b1 + b2; o[6 * step] = b2 - b1; o[7 * step] = b1 - b3
        o[8 * step] = c0 - c2; o[9 * step] = c1 + c2; o[10 * step] = c2 - c1; o[11 * step] = c1 - c3
        o[12 * step] = e0 - e2; o[13 * step] = e1 + e2; o[14 * step] = e2 - e1; o[15 * step] = e1 - e3
    }

    /// One tile's output transform, Y = A^T m A + bias, A^T = [[1,1,1,0],[0,1,-1,-1]]; m[e * step].
    @inline(__always)
    static func outputTransform2(_ g: UnsafePointer<Float>, step: Int, bias: Float,
                                 into row0: UnsafeMutablePointer<Float>, rowStride: Int, dilation d: Int) {
        let row1 = row0 + d * rowStride
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

    // MARK: F(4x4, 3x3) transforms

    /// B^T applied to six values (a column or a row of a 6 x 6 tile):
    /// B^T = [[4,0,-5,0,1,0],[0,-4,-4,1,1,0],[0,4,-4,-1,1,0],[0,-2,-1,2,1,0],[0,2,-1,-2,1,0],[0,4,0,-5,0,1]].
    @inline(__always)
    static func inputRows4<T: WinogradLanes>(_ d0: T, _ d1: T, _ d2: T, _ d3: T, _ d4: T, _ d5: T)
        -> (T, T, T, T, T, T) {
        let p = d4 - 4 * d2, q = d3 - 4 * d1, r = d4 - d2, s = 2 * (d3 - d1)
        return (4 * d0 - 5 * d2 + d4, p + q, p - q, r + s, r - s, 4 * d1 - 5 * d3 + d5)
    }

    /// The input transform of eight horizontally adjacent tiles of a tile row (dilation 1 or
    /// 2), lane k for tile k. Tiles start every 4 samples (d = 1) or at pairs 0, 1, 8, 9, ...
    /// (d = 2): two 16-sample loads per input column, narrowed, reading no further than the
    /// last sample used (`reach4x8` past the column's first). Writes o[e * step + k].
    @inline(__always)
    static func inputTransform4x8(_ p0: UnsafePointer<Float>, rowStride: Int, dilation d: Int,
                                  into o: UnsafeMutablePointer<Float>, step: Int) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
        }
        @inline(__always) func pick(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
            if d == 1 {
                // Samples 0, 4, 8, 12 of one load, 16, 20, 24, 28 as 3, 7, 11, 15 of one at 13.
                return SIMD8(lowHalf: load(p).evenHalf.evenHalf, highHalf: load(p + 13).oddHalf.oddHalf)
            }
            // Pairs (0,1), (8,9) of one load; (16,17), (24,25) as pairs 3 and 7 of one at 10.
            let low = unsafeBitCast(load(p), to: SIMD8<Double>.self).evenHalf.evenHalf
            let high = unsafeBitCast(load(p + 10), to: SIMD8<Double>.self).oddHalf.oddHalf
            return unsafeBitCast(SIMD4<Double>(lowHalf: low, highHalf: high), to: SIMD8<Float>.self)
        }
        typealias Six = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
        @inline(__always) func row(_ r: Int) -> Six {
            let p = p0 + r * d * rowStride
            return inputRows4(pick(p), pick(p + d), pick(p + 2 * d), pick(p + 3 * d), pick(p + 4 * d), pick(p + 5 * d))
        }
        // Along each input row first (B^T on the row's samples), then down the columns.
        let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
        @inline(__always) func column(_ j: Int, _ c: Six) {
            let v = inputRows4(c.0, c.1, c.2, c.3, c.4, c.5)
            @inline(__always) func store(_ x: SIMD8<Float>, _ i: Int) {
                UnsafeMutableRawPointer(o + (6 * i + j) * step).storeBytes(of: x, as: SIMD8<Float>.self)
            }
            store(v.0, 0); store(v.1, 1); store(v.2, 2); store(v.3, 3); store(v.4, 4); store(v.5, 5)
        }
        column(0, (r0.0, r1.0, r2.0, r3.0, r4.0, r5.0))
        column(1, (r0.1, r1.1, r2.1, r3.1, r4.1, r5.1))
        column(2, (r0.2, r1.2, r2.2, r3.2, r4.2, r5.2))
        column(3, (r0.3, r1.3, r2.3, r3.3, r4.3, r5.3))
        column(4, (r0.4, r1.4, r2.4, r3.4, r4.4, r5.4))
        column(5, (r0.5, r1.5, r2.5, r3.5, r4.5, r5.5))
    }

    /// One tile's input transform, V = B^T d B, o[e * step] for e = 0...35.
    @inline(__always)
    static func inputTransform4(_ p0: UnsafePointer<Float>, rowStride: Int, dilation d: Int,
                                into o: UnsafeMutablePointer<Float>, step: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 36) { rows in
            for r in 0..<6 {
                let p = p0 + r * d * rowStride
                let t = inputRows4(p[0], p[d], p[2 * d], p[3 * d], p[4 * d], p[5 * d])
                rows[6 * r] = t.0; rows[6 * r + 1] = t.1; rows[6 * r + 2] = t.2
                rows[6 * r + 3] = t.3; rows[6 * r + 4] = t.4; rows[6 * r + 5] = t.5
            }
            for j in 0..<6 {
                let v = inputRows4(rows[j], rows[6 + j], rows[12 + j], rows[18 + j], rows[24 + j], rows[30 + j])
                o[j * step] = v.0; o[(6 + j) * step] = v.1; o[(12 + j) * step] = v.2
                o[(18 + j) * step] = v.3; o[(24 + j) * step] = v.4; o[(30 + j) * step] = v.5
            }
        }
    }

    /// A^T applied to six values: A^T = [[1,1,1,1,1,0],[0,1,-1,2,-2,0],[0,1,1,4,4,0],[0,1,-1,8,-8,1]].
    @inline(__always)
    static func outputRows4(_ m0: Float, _ m1: Float, _ m2: Float, _ m3: Float, _ m4: Float, _ m5: Float)
        -> (Float, Float, Float, Float) {
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, e = m3 - m4
        return (m0 + a + c, b + 2 * e, a + 4 * c, b + 8 * e + m5)
    }

    /// One tile's output transform, Y = A^T m A + bias, m[e * step] for e = 0...35, into a
    /// 4 x 4 block of outputs d apart.
    @inline(__always)
    static func outputTransform4(_ g: UnsafePointer<Float>, step: Int, bias: Float,
                                 into row0: UnsafeMutablePointer<Float>, rowStride: Int, dilation d: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 24) { columns in
            // Down each column of m: 4 rows of 6.
            for j in 0..<6 {
                let s = outputRows4(g[j * step], g[(6 + j) * step], g[(12 + j) * step], g[(18 + j) * step],
                                    g[(24 + j) * step], g[(30 + j) * step])
                columns[j] = s.0; columns[6 + j] = s.1; columns[12 + j] = s.2; columns[18 + j] = s.3
            }
            for i in 0..<4 {
                let c = columns.baseAddress! + 6 * i
                let y = outputRows4(c[0], c[1], c[2], c[3], c[4], c[5])
                let out = row0 + i * d * rowStride
                out[0] = y.0 + bias; out[d] = y.1 + bias; out[2 * d] = y.2 + bias; out[3 * d] = y.3 + bias
            }
        }
    }

    /// How far past the first sample of an input column eight F(4x4) tiles read (d = 1, 2).
    static func reach4x8(dilation d: Int) -> Int { d == 1 ? 29 : 26 }

    // MARK: The convolution

    func apply(padded x: Tensor, weights: Weights, bias: [Float], threads: Int, threading: Threading) -> Tensor {
        switch weights.transformed {
        case let .fp32(two, four):
            return apply(padded: x, transformedWeight: tile == .two ? two : four, bias: bias, threads: threads,
                         threading: threading)
        case let .bf16(two):
            precondition(tile == .two, "bf16 weights are F(2x2, 3x3)'s")
            return apply(padded: x, bf16Weight: two, bias: bias, threads: threads)
        }
    }

    func apply(padded x: Tensor, transformedWeight u: [Float], bias: [Float], threads: Int,
               threading: Threading) -> Tensor {
        transform(padded: x, bias: bias, threads: threads) { v, m, count in
            u.withUnsafeBufferPointer { u in
                // M[e] = U[e] (Cout x Cin) . V[e] (Cin x count), one product per point.
                let products = { (e: Int) in
                    BLAS.gemm(m: outChannels, n: count, k: x.channels, a: u.baseAddress! + e * outChannels * x.channels,
                              lda: x.channels, b: v + e * x.channels * count, ldb: count,
                              c: m + e * outChannels * count, ldc: count)
                }
                if threading == .engine && threads > 1 {
                    Parallel.forRanges(tile.points, threads: threads) { range in for e in range { products(e) } }
                } else {
                    for e in 0..<tile.points { products(e) }
                }
            }
        }
    }

    /// The same with the products in bf16 (U rounded at load, V packed per point).
    func apply(padded x: Tensor, bf16Weight u: [UInt16], bias: [Float], threads: Int) -> Tensor {
        let cin = x.channels, cout = outChannels
        return transform(padded: x, bias: bias, threads: threads) { v, m, count in
            let panelWords = (count + 31) / 32 * 16 * cin
            let panels = UnsafeMutablePointer<UInt32>.allocate(capacity: tile.points * panelWords)
            defer { panels.deallocate() }
            u.withUnsafeBufferPointer { u in
                Parallel.forRanges(tile.points, threads: threads) { range in
                    for e in range {
                        let panel = panels + e * panelWords
                        pirec_bf16_pack(v + e * cin * count, cin, count, count, panel)
                        pirec_bf16_gemm(u.baseAddress! + e * cout * cin, cout, cin, panel, count,
                                        m + e * cout * count, count)
                    }
                }
            }
        }
    }

    /// The transforms around the products: V = B^T d B of each chunk of tiles into v
    /// [points][Cin][count], `products` fills m [points][Cout][count], then Y = A^T m A + bias.
    private func transform(padded x: Tensor, bias: [Float], threads: Int,
                           products: (_ v: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ count: Int) -> Void)
        -> Tensor {
        let d = dilation, cin = x.channels, cout = outChannels
        let size = tile.rawValue, points = tile.points
        let ho = x.height - 2 * d, wo = x.width - 2 * d
        let tilesY = ho / size, tilesX = wo / size, tiles = tilesY * tilesX
        let perTile = points * (cin + cout) * MemoryLayout<Float>.size
        let chunk = max(tilesX, min(tiles, WinogradConv3x3.chunkBytes / perTile) / tilesX * tilesX)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: points * cin * chunk)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: points * cout * chunk)
        defer {
            v.deallocate()
            m.deallocate()
        }
        // Tile q of a row or column starts at this sample: the d interleaved tile grids.
        @inline(__always) func origin(_ q: Int) -> Int { (q / d) * size * d + q % d }
        // Eight tiles at once read this far past their first input column, inside the padded row.
        let reach = tile == .two ? 3 * d + 16 : 5 * d + WinogradConv3x3.reach4x8(dilation: d)
        return Tensor(channels: cout, height: ho, width: wo) { out in
            x.data.withUnsafeBufferPointer { input in
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
                                    && (inputOffset[t] % x.width) + reach <= x.width {
                                    if tile == .two {
                                        WinogradConv3x3.inputTransform8(plane + inputOffset[t], rowStride: x.width,
                                                                        dilation: d, into: out + t, step: step)
                                    } else {
                                        WinogradConv3x3.inputTransform4x8(plane + inputOffset[t], rowStride: x.width,
                                                                          dilation: d, into: out + t, step: step)
                                    }
                                    t += 8
                                    continue
                                }
                                if tile == .two {
                                    WinogradConv3x3.inputTransform2(plane + inputOffset[t], rowStride: x.width,
                                                                    dilation: d, into: out + t, step: step)
                                } else {
                                    WinogradConv3x3.inputTransform4(plane + inputOffset[t], rowStride: x.width,
                                                                    dilation: d, into: out + t, step: step)
                                }
                                t += 1
                            }
                        }
                    }
                    products(v, m, count)
                    // Output transform: Y = A^T m A + bias.
                    Parallel.forRanges(cout, threads: threads) { channels in
                        for co in channels {
                            let plane = dst + co * ho * wo, bias = bias[co]
                            let base = m + co * count, step = cout * count
                            for t in 0..<count {
                                if tile == .two {
                                    WinogradConv3x3.outputTransform2(base + t, step: step, bias: bias,
                                                                     into: plane + outputOffset[t], rowStride: wo, dilation: d)
                                } else {
                                    WinogradConv3x3.outputTransform4(base + t, step: step, bias: bias,
                                                                     into: plane + outputOffset[t], rowStride: wo, dilation: d)
                                }
                            }
                        }
                    }
                    first += count
                }
            }
        }
    }
}

/// What the F(4x4, 3x3) input transform computes on: one sample, or eight tiles' lanes.
protocol WinogradLanes {
    static func + (lhs: Self, rhs: Self) -> Self
    static func - (lhs: Self, rhs: Self) -> Self
    static func * (scale: Float, lanes: Self) -> Self
}

extension Float: WinogradLanes {}
extension SIMD8: WinogradLanes where Scalar == Float {}
