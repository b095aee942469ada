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
// bias [Cout] or none (empty) -> [Cout, Ho, Wo]; needs Ho and Wo to be multiples of (tile size) x d.
// The input and output transforms (B^T d B, A^T m A) are C (pirec_winograd.c), compiled per
// instruction set; the weights' (G g G^T) is here, once at load.
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
    /// at load: which one runs depends on the size of each input. fp32 products run on our
    /// AVX-512 kernel with U packed here (PackedGEMM), else OpenBLAS's sgemm. With bf16
    /// products, Tile.two's U is rounded to bfloat16 (the products need an even input
    /// channel count) and Tile.four's stays fp32: F(4x4)'s larger transform constants turn
    /// bf16's rounding into 5-9 times the error of a direct bf16 convolution
    /// (bench/winograd_bf16.py; several percent of the output in OpsTests.winograd), F(2x2)'s
    /// into 1.5 times.
    struct Weights: Sendable {
        /// One tile's U [points][Cout][Cin], in the form its products take.
        enum Transformed: Sendable {
            case openblas([Float])
            /// Each point's [Cout x Cin] packed by PackedGEMM.pack, one after another.
            case packed([Float])
            case bf16([UInt16])
        }

        let two: Transformed, four: Transformed

        /// `packed`: fp32 products on PackedGEMM (only where it is available) or OpenBLAS.
        init(_ weight: [Float], outChannels: Int, inChannels: Int, precision: Precision = .fp32,
             packed: Bool = PackedGEMM.available) {
            func fp32(_ u: [Float]) -> Transformed {
                guard packed else { return .openblas(u) }
                let pairs = outChannels * inChannels
                return .packed(u.withUnsafeBufferPointer { u in
                    (0..<(u.count / pairs)).flatMap { e in
                        PackedGEMM.pack(u.baseAddress! + e * pairs, m: outChannels, k: inChannels)
                    }
                })
            }
            let two = WinogradConv3x3.transformWeights(weight, outChannels: outChannels, inChannels: inChannels, tile: .two)
            let four = WinogradConv3x3.transformWeights(weight, outChannels: outChannels, inChannels: inChannels, tile: .four)
            self.two = precision == .bf16 && inChannels % 2 == 0 ? .bf16(BF16.round(two)) : fp32(two)
            self.four = fp32(four)
        }
    }

    var outChannels: Int
    var dilation: Int
    var tile: Tile

    /// Scratch per chunk of tiles (transformed input and products): 64 MB.
    static let chunkBytes = 64 << 20

    /// The larger tile that divides the output, if any.
    static func tile(outputHeight: Int, outputWidth: Int, dilation: Int) -> Tile? {
        [Tile.four, .two].first { outputHeight % ($0.rawValue * dilation) == 0 && outputWidth % ($0.rawValue * dilation) == 0 }
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

    /// How far past the first sample of an input column eight tiles read (pirec_winograd.c's
    /// picks: 16-sample loads for F(2x2), two of them narrowed for F(4x4)); d = 1, 2.
    static func reach(_ tile: Tile, dilation d: Int) -> Int {
        tile == .two ? 3 * d + 16 : 5 * d + (d == 1 ? 29 : 26)
    }

    // MARK: The convolution

    func apply(padded x: Tensor, weights: Weights, bias: [Float], threads: Int, threading: Threading) -> Tensor {
        switch tile == .two ? weights.two : weights.four {
        case let .openblas(u):
            return apply(padded: x, transformedWeight: u, bias: bias, threads: threads, threading: threading)
        case let .packed(u):
            return apply(padded: x, packedWeight: u, bias: bias, threads: threads)
        case let .bf16(u):
            return apply(padded: x, bf16Weight: u, bias: bias, threads: threads)
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

    /// The same on PackedGEMM (U packed at load, V written in its panels by the input
    /// transform), the points split across threads.
    func apply(padded x: Tensor, packedWeight u: [Float], bias: [Float], threads: Int) -> Tensor {
        let cin = x.channels, cout = outChannels, perPoint = u.count / tile.points
        return transform(padded: x, bias: bias, threads: threads, layout: .panels) { v, m, count in
            let step = Layout.panels.pointStride(channels: cin, count: count)
            u.withUnsafeBufferPointer { u in
                Parallel.forRanges(tile.points, threads: threads) { range in
                    for e in range {
                        pirec_gemm(u.baseAddress! + e * perPoint, cout, cin, v + e * step, count,
                                   m + e * cout * count, count)
                    }
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

    /// How the input transform lays out V, a chunk of `count` tiles.
    enum Layout {
        /// [points][Cin][count]: a row of tiles a channel (OpenBLAS's B, pirec_bf16_pack's).
        case rows
        /// [points][ceil(count / 32)][Cin][32]: PackedGEMM's panels of 32 tiles, zero past count.
        case panels

        /// The floats between two points' V.
        func pointStride(channels: Int, count: Int) -> Int {
            channels * (self == .rows ? count : (count + 31) / 32 * 32)
        }
    }

    /// The transforms around the products: V = B^T d B of each chunk of tiles into v (laid
    /// out as `layout`), `products` fills m [points][Cout][count], then Y = A^T m A + bias.
    private func transform(padded x: Tensor, bias: [Float], threads: Int, layout: Layout = .rows,
                           products: (_ v: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ count: Int) -> Void)
        -> Tensor {
        let d = dilation, cin = x.channels, cout = outChannels
        let size = tile.rawValue, points = tile.points
        let ho = x.height - 2 * d, wo = x.width - 2 * d
        let tilesY = ho / size, tilesX = wo / size, tiles = tilesY * tilesX
        let perTile = points * (cin + cout) * MemoryLayout<Float>.size
        let chunk = max(tilesX, min(tiles, WinogradConv3x3.chunkBytes / perTile) / tilesX * tilesX)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: points * layout.pointStride(channels: cin, count: chunk))
        let m = UnsafeMutablePointer<Float>.allocate(capacity: points * cout * chunk)
        defer {
            v.deallocate()
            m.deallocate()
        }
        // Tile q of a row or column starts at this sample: the d interleaved tile grids.
        @inline(__always) func origin(_ q: Int) -> Int { (q / d) * size * d + q % d }
        let reach = WinogradConv3x3.reach(tile, dilation: d)
        return Tensor(channels: cout, height: ho, width: wo) { out in
            x.data.withUnsafeBufferPointer { input in
                let src = input.baseAddress!, dst = out.baseAddress!
                var first = 0
                var inputOffset = [Int](repeating: 0, count: chunk), outputOffset = inputOffset
                var eight = [UInt8](repeating: 0, count: chunk)
                while first < tiles {
                    let count = min(chunk, tiles - first)
                    // Where each tile starts in the padded input and in the output (no division per channel).
                    for t in 0..<count {
                        let y0 = origin((first + t) / tilesX), x0 = origin((first + t) % tilesX)
                        inputOffset[t] = y0 * x.width + x0
                        outputOffset[t] = y0 * wo + x0
                    }
                    // Eight tiles of one tile row go together where their inputs lie inside the row
                    // (and their V in one panel).
                    var t = 0
                    while t < count {
                        let q = (first + t) % tilesX
                        let together = (d == 1 || d == 2) && q % 8 == 0 && t + 8 <= count && q + 8 <= tilesX
                            && inputOffset[t] % x.width + reach <= x.width && t % 32 <= 24
                        eight[t] = together ? 1 : 0
                        t += together ? 8 : 1
                    }
                    // Input transform: V[e][ci][t] = (B^T d B)[e], in rows or in panels.
                    let step = layout.pointStride(channels: cin, count: count)
                    let (row, panel) = layout == .rows ? (count, 32) : (32, cin * 32)
                    Parallel.forRanges(cin, threads: threads) { channels in
                        for c in channels {
                            pirec_winograd_input(size, src + c * x.height * x.width, x.width, d, inputOffset, eight,
                                                 count, v + c * row, step, panel)
                            // The last panel's columns past count (read by the products, not stored).
                            if layout == .panels && count % 32 != 0 {
                                for e in 0..<points {
                                    (v + e * step + count / 32 * panel + c * 32 + count % 32)
                                        .initialize(repeating: 0, count: 32 - count % 32)
                                }
                            }
                        }
                    }
                    products(v, m, count)
                    // Output transform: Y = A^T m A + bias.
                    Parallel.forRanges(cout, threads: threads) { channels in
                        for co in channels {
                            pirec_winograd_output(size, m + co * count, cout * count, count, bias.isEmpty ? 0 : bias[co],
                                                  dst + co * ho * wo, wo, d, outputOffset)
                        }
                    }
                    first += count
                }
            }
        }
    }
}
