// Each operation against PyTorch, on the tensors training/make_network_fixtures.py saved in
// Tests/Fixtures/network/ops.safetensors (inputs, parameters and PyTorch's outputs).
import CPirecNetworkKernels
@testable import PirecInference
import PirecTestKit
import Testing

func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.data.count == b.data.count)
    return zip(a.data, b.data).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite struct OpsTests {
    let file: SafeTensorsFile

    init() throws { file = try SafeTensorsFile(path: TestPaths.fixture("network/ops.safetensors")) }

    func check(_ name: String, tolerance: Float = 1e-5, _ body: (Tensor) throws -> Tensor) throws {
        let output = try body(try file.tensor(name + ".input"))
        let expected = try file.tensor(name + ".output")
        #expect(output.shapeDescription == expected.shapeDescription, "\(name)")
        guard output.data.count == expected.data.count else { return }
        let difference = maxDifference(output, expected)
        #expect(difference <= tolerance, "\(name): max |ours - PyTorch| = \(difference)")
    }

    @Test(arguments: [("reflect_pad3", 3), ("reflect_pad1", 1), ("reflect_pad2", 2)])
    func reflectionPad(name: String, padding: Int) throws {
        for threads in [1, 3] { try check(name, tolerance: 0) { ReflectionPad.apply($0, padding: padding, threads: threads) } }
    }

    @Test(arguments: [
        ("conv7", 7, 1, 0, 1), ("conv4s2", 4, 2, 1, 1), ("conv4s2wide", 4, 2, 1, 1), ("conv3d2", 3, 1, 0, 2),
        ("conv3", 3, 1, 0, 1),
    ])
    func convolution(name: String, kernel: Int, stride: Int, padding: Int, dilation: Int) throws {
        let weight = try file.floats(name + ".weight"), bias = try file.floats(name + ".bias")
        let conv = Conv2D(outChannels: bias.count, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        try check(name) { conv.apply($0, weight: weight, bias: bias) }
    }

    /// Both Winograd tiles against PyTorch's convolution, dilation 1 and 2, on outputs up to
    /// 22 in size: F(2x2, 3x3) within 2e-5 (measured 9e-6), F(4x4, 3x3), whose transform
    /// constants (1/6, 1/24, 5, 8) round more, within 2e-4 (measured 1.2e-4), i.e. 1e-5 of
    /// the outputs' range. The whole network stays within NetworkTests' 1e-4.
    @Test(arguments: [("wino3", 1), ("wino3d2", 2)], WinogradConv3x3.Tile.allCases)
    func winograd(conv: (name: String, dilation: Int), tile: WinogradConv3x3.Tile) throws {
        let (name, dilation) = conv
        let weight = try file.floats(name + ".weight"), bias = try file.floats(name + ".bias")
        let x = try file.tensor(name + ".input")
        // The fp32 products on OpenBLAS and, where the CPU has AVX-512, on PackedGEMM.
        for packed in PackedGEMM.available ? [false, true] : [false] {
            let weights = WinogradConv3x3.Weights(weight, outChannels: bias.count, inChannels: x.channels, packed: packed)
            for threads in [1, 2] {
                try check(name, tolerance: tile == .two ? 2e-5 : 2e-4) { x in
                    WinogradConv3x3(outChannels: bias.count, dilation: dilation, tile: tile)
                        .apply(padded: x, weights: weights, bias: bias, threads: threads, threading: .engine)
                }
            }
        }
        // With bf16 weights (where the CPU has the products), F(2x2) runs its products in
        // bf16: operands rounded to 8 mantissa bits, within 0.2 on outputs up to 22 (measured
        // 0.084; F(4x4) in bf16 was 1.5), and F(4x4) stays fp32, as exact as above.
        if Precision.bf16Available {
            let weights = WinogradConv3x3.Weights(weight, outChannels: bias.count, inChannels: x.channels, precision: .bf16)
            try check(name, tolerance: tile == .two ? 0.2 : 2e-4) { x in
                WinogradConv3x3(outChannels: bias.count, dilation: dilation, tile: tile)
                    .apply(padded: x, weights: weights, bias: bias, threads: 2, threading: .engine)
            }
        }
        // And the tile Conv2D picks for this size is the larger one.
        let conv = Conv2D(outChannels: bias.count, kernel: 3, dilation: dilation)
        #expect(conv.winogradTile(channels: x.channels, x.height, x.width) == .four)
    }

    /// The im2col products in bf16 (`precision: bf16`, where the CPU has it): the 7x7 and the
    /// stride-2 convolutions and the transposed one against PyTorch's fp32, on 1 and 2
    /// threads, within bf16's rounding of both operands (PyTorch itself, given the operands
    /// rounded to bf16, is off by 0.035 on conv7's outputs up to 12.6, 0.013 on conv4s2's up
    /// to 5.6, 0.012 on convT4s2's up to 4.8).
    @Test(.enabled(if: Precision.bf16Available, "this CPU has no AVX512_BF16"),
          arguments: [("conv7", 7, 1, 0, Float(0.05)), ("conv4s2", 4, 2, 1, Float(0.02)), ("conv4s2wide", 4, 2, 1, Float(0.02))])
    func convolutionInBF16(name: String, kernel: Int, stride: Int, padding: Int, tolerance: Float) throws {
        let weight = try file.floats(name + ".weight"), bias = try file.floats(name + ".bias")
        let conv = Conv2D(outChannels: bias.count, kernel: kernel, stride: stride, padding: padding)
        for threads in [1, 2] {
            try check(name, tolerance: tolerance) {
                conv.apply($0, weight: weight, bias: bias, threads: threads, bf16Weight: BF16.round(weight))
            }
        }
    }

    @Test(.enabled(if: Precision.bf16Available, "this CPU has no AVX512_BF16"))
    func transposedConvolutionInBF16() throws {
        let weight = try file.floats("convT4s2.weight"), bias = try file.floats("convT4s2.bias")
        let op = Op.convTranspose(weights: "convT4s2", outChannels: 3, kernel: 4, stride: 2, padding: 1)
        let executor = Executor(graph: Graph(ops: [op], parameters: []),
                                weights: ["convT4s2.weight": weight, "convT4s2.bias": bias], precision: .bf16)
        #expect(executor.bf16Weights["convT4s2"] != nil)
        try check("convT4s2", tolerance: 0.02) { executor.run($0, threads: 2)! }
    }

    @Test(arguments: [("depth_to_space2", 2), ("depth_to_space4", 4)])
    func depthToSpace(name: String, scale: Int) throws {
        for threads in [1, 2] {
            try check(name, tolerance: 0) { DepthToSpace.apply($0, scale: scale, threads: threads) }
        }
    }

    @Test func reflectionPaddingFoldsIntoTheConvolution() throws {
        // pad 3 then conv 7x7 == conv 7x7 with reflect padding 3 (what the graph runs).
        let weight = try file.floats("conv7.weight"), bias = try file.floats("conv7.bias")
        let x = try file.tensor("conv7.input")
        let separate = Conv2D(outChannels: 5, kernel: 7).apply(ReflectionPad.apply(x, padding: 3), weight: weight, bias: bias)
        let folded = Conv2D(outChannels: 5, kernel: 7, padding: 3, paddingMode: .reflect).apply(x, weight: weight, bias: bias)
        #expect(maxDifference(separate, folded) == 0)
    }

    /// bf16 im2col (pirec_im2col_bf16: the matrix gathered and packed in one pass) gives the
    /// operands the two-pass way gives (fp32 im2col, then pirec_bf16_pack), so the same output
    /// to the bit: reflected and zero borders, stride 1 and 2, an odd size (columns past the
    /// last full panel), pairs of rows across channels (49 taps), tiles of a few rows.
    @Test(.enabled(if: Precision.bf16Available, "this CPU has no AVX512_BF16"),
          arguments: [(7, 1, 3, Conv2D.Padding.reflect), (7, 2, 3, .zeros), (4, 2, 1, .zeros), (4, 2, 1, .reflect)])
    func im2colInBF16PacksTheSameOperands(kernel: Int, stride: Int, padding: Int, mode: Conv2D.Padding) {
        var seed: UInt32 = 7
        func random() -> Float {
            seed = seed &* 1_664_525 &+ 1_013_904_223
            return Float(seed >> 8) / Float(1 << 24) - 0.5
        }
        let cin = 4, cout = 6, k = cin * kernel * kernel
        let x = Tensor(channels: cin, height: 13, width: 70, data: (0..<(cin * 13 * 70)).map { _ in random() })
        let weight = (0..<(cout * k)).map { _ in random() }, bias = [Float](repeating: 0, count: cout)
        let conv = Conv2D(outChannels: cout, kernel: kernel, stride: stride, padding: padding, paddingMode: mode,
                          tileBytes: 4 * k * 16)
        let (ho, wo) = conv.outputSize(x.height, x.width)
        let rounded = BF16.round(weight)
        var columns = [Float](repeating: 0, count: k * ho * wo), expected = [Float](repeating: 0, count: cout * ho * wo)
        x.data.withUnsafeBufferPointer { input in
            pirec_im2col(input.baseAddress!, 0, cin, 13, 70, kernel, stride, padding, 1, mode == .reflect ? 1 : 0, 0,
                         ho, wo, &columns)
        }
        BF16.product(m: cout, n: ho * wo, k: k, a: rounded, b: columns, ldb: ho * wo, c: &expected, ldc: ho * wo,
                     threads: 1)
        for threads in [1, 2] {
            let output = conv.apply(x, weight: weight, bias: bias, threads: threads, bf16Weight: rounded)
            let wrong = expected.indices.filter { output.data[$0] != expected[$0] }
            #expect(wrong.isEmpty, "kernel \(kernel), stride \(stride), \(mode), \(threads) threads: \(wrong.count) outputs differ, the first at \(wrong.first ?? -1)")
        }
    }

    @Test func transposedConvolution() throws {
        let weight = try file.floats("convT4s2.weight"), bias = try file.floats("convT4s2.bias")
        let conv = ConvTranspose2D(outChannels: bias.count, kernel: 4, stride: 2, padding: 1)
        try check("convT4s2") { conv.apply($0, weight: weight, bias: bias) }
    }

    @Test func instanceNorm() throws {
        // PyTorch sums in float32; ours in float64.
        try check("inorm", tolerance: 5e-5) { x in
            var y = x
            InstanceNorm.apply(&y, relu: false)
            return y
        }
    }

    @Test(arguments: ["upsample", "upsample1x1"])
    func upsample(name: String) throws { try check(name) { UpsampleBilinear.apply($0) } }

    @Test func activations() throws {
        try check("relu", tolerance: 0) { x in
            var y = x
            Activations.relu(&y)
            return y
        }
        try check("tanh_out", tolerance: 1e-6) { x in
            var y = x
            Activations.tanhToUnit(&y)
            return y
        }
    }

    @Test func tilesGiveTheSameResultAsOnePass() throws {
        // A tile budget far below one row forces one output row per sgemm; OpenBLAS blocks
        // differently for other matrix widths, so only rounding may differ.
        let weight = try file.floats("conv3.weight"), bias = try file.floats("conv3.bias")
        let x = try file.tensor("conv3.input")
        let whole = Conv2D(outChannels: 7, kernel: 3).apply(x, weight: weight, bias: bias)
        let tiled = Conv2D(outChannels: 7, kernel: 3, tileBytes: 64).apply(x, weight: weight, bias: bias)
        #expect(maxDifference(whole, tiled) <= 1e-5)
    }
}
