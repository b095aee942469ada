// GeneratorModel: a PI-REC generator or refiner loaded from safetensors and checked against
// its architecture (every tensor present, no extra ones, each of the right shape), ready to
// run on pictures of any size.
import Foundation

public final class GeneratorModel: @unchecked Sendable {  // lets only; the executor's weights are read-only after loading
    public let path: String
    public let width: Int
    public let blocks: Int
    public let inputChannels: Int
    public let metadata: [String: String]
    public let executor: Executor
    /// metadata output="residual": the network predicts a correction to its RGB input,
    /// out = clamp(rgb + (u * 2 - 1), 0, 1) with u = (tanh(x) + 1) / 2 (training/pirec_net.py).
    public let residual: Bool

    public static let architecture = "pirec-generator"

    /// What the matrix products compute in (fp32 or bf16, `Precision.resolved`).
    public let precision: Precision

    public convenience init(path: String, precision: Precision = .fp32) throws(ModelError) {
        try self.init(file: try SafeTensorsFile(path: path), precision: precision)
    }

    public init(file: SafeTensorsFile, precision: Precision = .fp32) throws(ModelError) {
        let path = file.path
        let fail = { (message: String) in ModelError(path: path, message: message) }
        guard let precision = precision.resolved else {
            throw fail("precision bf16 needs a CPU with AVX512_BF16, which this one lacks (precision: auto "
                + "takes bf16 only where there is)")
        }
        try file.requireArchitecture(GeneratorModel.architecture,
                                     hint: "convert PI-REC checkpoints with training/convert_pth.py")
        width = try file.positiveInteger("width")
        blocks = try file.positiveInteger("blocks")
        inputChannels = try file.positiveInteger("input_channels")
        guard inputChannels == 4 || inputChannels == 7 else {
            throw fail("input_channels is \(inputChannels); PI-REC networks take 4 (RGB, edge), "
                + "a refiner that also reads the colour domain 7 (picture, edge, colour)")
        }
        switch file.metadata["output"] {
        case nil, "unit": residual = false
        case "residual": residual = true
        case let other?: throw fail("metadata \"output\" is \"\(other)\", expected \"unit\" or \"residual\"")
        }
        let graph = Graph.generator(width: width, blocks: blocks, inputChannels: inputChannels)
        let weights = try file.weights(for: graph, shape: "width \(width), \(blocks) blocks")
        self.path = path
        metadata = file.metadata
        self.precision = precision
        executor = Executor(graph: graph, weights: weights, precision: precision)
    }

    /// Runs the network on an [inputChannels, H, W] input of any size: reflection-padded on the right and
    /// bottom to a multiple of 4, then cropped back. Returns [3, H, W] in [0, 1], or nil if
    /// cancelled.
    public func run(_ input: Tensor, threads: Int = 1, threading: Threading = .engine,
                    isCancelled: () -> Bool = { false }) -> Tensor? {
        let h = input.height, w = input.width
        let ph = (h + 3) / 4 * 4, pw = (w + 3) / 4 * 4
        var x = input
        if ph != h || pw != w {
            x = Tensor(channels: input.channels, height: ph, width: pw) { out in
                for c in 0..<input.channels {
                    for y in 0..<ph {
                        let sy = reflectIndex(y, h)
                        for xx in 0..<pw { out[(c * ph + y) * pw + xx] = input.data[(c * h + sy) * w + reflectIndex(xx, w)] }
                    }
                }
            }
        }
        guard var y = executor.run(x, threads: threads, threading: threading, isCancelled: isCancelled) else { return nil }
        if residual {
            let count = ph * pw
            x.data.withUnsafeBufferPointer { input in
                y.data.withUnsafeMutableBufferPointer { out in
                    for i in 0..<(3 * count) { out[i] = min(max(input[i] + (out[i] * 2 - 1), 0), 1) }
                }
            }
        }
        if ph == h && pw == w { return y }
        return Tensor(channels: y.channels, height: h, width: w) { out in
            for c in 0..<y.channels {
                for row in 0..<h {
                    for col in 0..<w { out[(c * h + row) * w + col] = y.data[(c * ph + row) * pw + col] }
                }
            }
        }
    }
}
