// The whole network against PyTorch (training/pirec_net.py) on random and real inputs, a
// small one (W=8, B=2), a full-width one (W=64, B=1, stored in F16) and a small refiner
// with 7 inputs (picture, edge, colour domain): max |difference|
// at most 1e-4 on the output. And every way a model file can be wrong.
import Foundation
@testable import PirecInference
import PirecTestKit
import Testing

/// Expects `load` to refuse the file at `path` with a message that starts with the path and
/// contains `fragment`.
func expectModelRefusal<Model>(_ path: String, _ fragment: String, _ load: (String) throws -> Model) {
    #expect { _ = try load(path) } throws: { error in
        let text = "\(error)"
        return text.hasPrefix(path + ": ") && text.contains(fragment)
    }
}

@Suite struct NetworkTests {
    let cases: SafeTensorsFile

    init() throws { cases = try SafeTensorsFile(path: TestPaths.fixture("network/cases.safetensors")) }

    @Test(arguments: ["small", "wide", "refiner7"], ["random32", "random36x44", "real128"])
    func matchesPyTorch(model name: String, input: String) throws {
        let model = try GeneratorModel(path: TestPaths.fixture("network/\(name).safetensors"))
        let output = try #require(model.run(try cases.tensor("\(name).\(input).input")))
        let expected = try cases.tensor("\(name).\(input).output")
        #expect(output.shapeDescription == expected.shapeDescription)
        let difference = maxDifference(output, expected)
        #expect(difference <= 1e-4, "\(name) \(input): max |ours - PyTorch| = \(difference)")
    }

    /// The shipped generator (trained weights at full depth; at 128x128 every 3x3 layer runs
    /// as Winograd F(4x4, 3x3)) against PyTorch on the real input. make_network_fixtures.py
    /// reruns when the shipped model changes.
    @Test func theShippedGeneratorMatchesPyTorch() throws {
        let model = try GeneratorModel(path: TestPaths.repository + "/models/emoji/generator.safetensors")
        let output = try #require(model.run(try cases.tensor("small.real128.input")))
        let difference = maxDifference(output, try cases.tensor("shipped.real128.output"))
        #expect(difference <= 1e-4, "shipped real128: max |ours - PyTorch| = \(difference)")
    }

    @Test func readsF16AndBF16Weights() throws {
        let f32 = try SafeTensorsFile(path: TestPaths.fixture("network/small.safetensors"))
        for (file, tolerance) in [("small_f16", Float(1e-3)), ("small_bf16", Float(1e-2))] {
            let other = try SafeTensorsFile(path: TestPaths.fixture("network/\(file).safetensors"))
            for name in f32.entries.keys {
                let a = try f32.floats(name), b = try other.floats(name)
                let worst = zip(a, b).reduce(Float(0)) { max($0, abs($1.0 - $1.1) / max(abs($1.0), 1e-2)) }
                #expect(worst <= tolerance, "\(file) \(name): relative difference \(worst)")
            }
            _ = try GeneratorModel(path: TestPaths.fixture("network/\(file).safetensors"))
        }
    }

    /// ensemble: flip is the mean of the network's picture and the mirror image of its
    /// picture of the mirrored input.
    @Test func theFlipEnsembleAveragesThePictureAndTheMirroredPass() throws {
        let model = try GeneratorModel(path: TestPaths.fixture("network/small.safetensors"))
        let input = try cases.tensor("small.random36x44.input")
        #expect(input.mirrored().mirrored().data == input.data)
        #expect(input.mirrored().data[0] == input.data[input.width - 1])
        let plain = try #require(model.run(input)), mirrored = try #require(model.run(input.mirrored())).mirrored()
        let both = try #require(model.run(input, ensemble: .flip, threads: 2))
        #expect(try #require(model.run(input, ensemble: .none)).data == plain.data)
        let worst = zip(both.data, zip(plain.data, mirrored.data)).reduce(Float(0)) { max($0, abs($1.0 - ($1.1.0 + $1.1.1) / 2)) }
        #expect(worst <= 1e-6)
        #expect(maxDifference(both, plain) > 1e-3, "a random network is not mirror-symmetric")
    }

    @Test func anyInputSizeIsPaddedAndCroppedBack() throws {
        let model = try GeneratorModel(path: TestPaths.fixture("network/small.safetensors"))
        for (h, w) in [(1, 1), (5, 7), (33, 18)] {
            let input = Tensor(channels: 4, height: h, width: w, data: (0..<(4 * h * w)).map { Float($0 % 7) / 7 })
            let output = try #require(model.run(input))
            #expect(output.channels == 3 && output.height == h && output.width == w)
            #expect(output.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
    }

    // MARK: bad model files

    /// Writes a safetensors file: tensors as (name, dtype, shape, raw bytes), plus metadata.
    static func write(_ path: String, metadata: [String: String], tensors: [(String, String, [Int], [UInt8])]) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var data: [UInt8] = []
        for (name, dtype, shape, bytes) in tensors {
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [data.count, data.count + bytes.count]]
            data += bytes
        }
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var file = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        file += json
        file += data
        try Data(file).write(to: URL(fileURLWithPath: path))
    }

    static let metadata = ["arch": "pirec-generator", "width": "8", "blocks": "2", "input_channels": "4", "trained_size": "128"]

    func expectRefusal(_ path: String, _ fragment: String) {
        expectModelRefusal(path, fragment) { try GeneratorModel(path: $0) }
    }

    @Test func refusesBrokenModelFiles() throws {
        let folder = TestPaths.temporaryFolder()
        let small = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("network/small.safetensors")))

        try TestPaths.write("not a model\n", to: folder + "/text.safetensors")
        expectRefusal(folder + "/text.safetensors", "not a safetensors file")

        try small.prefix(small.count / 2).write(to: URL(fileURLWithPath: folder + "/truncated.safetensors"))
        expectRefusal(folder + "/truncated.safetensors", "truncated")

        expectRefusal(folder + "/missing.safetensors", "no such model file")

        var wrongArch = NetworkTests.metadata
        wrongArch["arch"] = "stable-diffusion"
        try NetworkTests.write(folder + "/arch.safetensors", metadata: wrongArch, tensors: [])
        expectRefusal(folder + "/arch.safetensors", "architecture \"stable-diffusion\", expected \"pirec-generator\"")

        try NetworkTests.write(folder + "/f64.safetensors", metadata: NetworkTests.metadata,
                               tensors: [("encoder.1.bias", "F64", [8], [UInt8](repeating: 0, count: 64))])
        expectRefusal(folder + "/f64.safetensors", "tensor encoder.1.bias has dtype F64; supported: F32, F16, BF16")

        try NetworkTests.write(folder + "/missing-tensor.safetensors", metadata: NetworkTests.metadata,
                               tensors: [("encoder.1.bias", "F32", [8], [UInt8](repeating: 0, count: 32))])
        expectRefusal(folder + "/missing-tensor.safetensors", "missing tensor encoder.1.weight (expected shape [8, 4, 7, 7]")

        // Seen while writing the safetensors fuzz target: a shape whose element count overflows (or a negative size) is
        // refused, not multiplied around to a small number.
        for shape in [[1 << 40, 1 << 40], [-2, -2]] {
            try NetworkTests.write(folder + "/shape.safetensors", metadata: NetworkTests.metadata,
                                   tensors: [("encoder.1.bias", "F32", shape, [])])
            expectRefusal(folder + "/shape.safetensors", "tensor encoder.1.bias: shape \(shape) is not a list of sizes")
        }

        var five = NetworkTests.metadata
        five["input_channels"] = "5"
        try NetworkTests.write(folder + "/five.safetensors", metadata: five, tensors: [])
        expectRefusal(folder + "/five.safetensors", "input_channels is 5; PI-REC networks take 4 (RGB, edge)")
    }

    @Test func refusesMisshapedAndExtraTensors() throws {
        let folder = TestPaths.temporaryFolder()
        let source = try SafeTensorsFile(path: TestPaths.fixture("network/small.safetensors"))
        func tensors(replacing name: String? = nil, with shape: [Int] = [], extra: Bool = false) throws -> [(String, String, [Int], [UInt8])] {
            var out: [(String, String, [Int], [UInt8])] = []
            for key in source.entries.keys.sorted() {
                var values = try source.floats(key), dims = source.entries[key]!.shape
                if key == name {
                    dims = shape
                    values = [Float](repeating: 0, count: shape.reduce(1, *))
                }
                out.append((key, "F32", dims, values.withUnsafeBytes { Array($0) }))
            }
            if extra { out.append(("decoder.10.weight", "F32", [1], [0, 0, 0, 0])) }
            return out
        }
        try NetworkTests.write(folder + "/shape2.safetensors", metadata: source.metadata,
                               tensors: try tensors(replacing: "encoder.4.weight", with: [16, 8, 3, 3]))
        expectRefusal(folder + "/shape2.safetensors", "tensor encoder.4.weight has shape [16, 8, 3, 3], expected [16, 8, 4, 4]")
        try NetworkTests.write(folder + "/extra.safetensors", metadata: source.metadata, tensors: try tensors(extra: true))
        expectRefusal(folder + "/extra.safetensors", "unexpected tensor decoder.10.weight with shape [1]")
    }
    // MARK: residual output

    /// small.safetensors rewritten with `output: residual` (and, when asked, its last layer zeroed).
    static func residualSmall(_ folder: String, zeroLast: Bool = false, output: String = "residual") throws -> String {
        let source = try SafeTensorsFile(path: TestPaths.fixture("network/small.safetensors"))
        var tensors: [(String, String, [Int], [UInt8])] = []
        for key in source.entries.keys.sorted() {
            var values = try source.floats(key)
            if zeroLast && key.hasPrefix("decoder.9.") { values = [Float](repeating: 0, count: values.count) }
            tensors.append((key, "F32", source.entries[key]!.shape, values.withUnsafeBytes { Array($0) }))
        }
        var metadata = source.metadata
        metadata["output"] = output
        let path = folder + "/residual-\(zeroLast)-\(output).safetensors"
        try NetworkTests.write(path, metadata: metadata, tensors: tensors)
        return path
    }

    @Test(arguments: ["random32", "random36x44", "real128"])
    func residualOutputIsTheInputPlusTheCorrection(input: String) throws {
        // clamp(rgb + (u * 2 - 1), 0, 1), with u PyTorch's output of the same weights.
        let model = try GeneratorModel(path: try NetworkTests.residualSmall(TestPaths.temporaryFolder()))
        #expect(model.residual)
        let x = try cases.tensor("small.\(input).input"), u = try cases.tensor("small.\(input).output")
        let output = try #require(model.run(x))
        var expected = u
        for i in 0..<u.data.count { expected.data[i] = min(max(x.data[i] + (u.data[i] * 2 - 1), 0), 1) }
        let difference = maxDifference(output, expected)
        #expect(difference <= 2e-4, "\(input): max |ours - expected| = \(difference)")
    }

    /// The biases an instance norm cancels are not added: every convolution of the generator
    /// but its last (the parity tests above show the pictures stay PyTorch's); the upscaler
    /// has no norms, so all of its biases are added.
    @Test func biasesBeforeAnInstanceNormAreLeftOut() {
        func executor(_ graph: Graph) -> Executor {
            Executor(graph: graph, weights: Dictionary(uniqueKeysWithValues: graph.parameters.map {
                ($0.name, [Float](repeating: 0.1, count: $0.shape.reduce(1, *)))
            }))
        }
        let generator = Graph.generator(width: 8, blocks: 2)
        let convolutions = generator.parameters.compactMap { $0.name.hasSuffix(".weight") ? String($0.name.dropLast(7)) : nil }
        #expect(executor(generator).normalized == Set(convolutions).subtracting(["decoder.9"]))
        #expect(executor(Graph.upscaler(scale: 2, width: 8, blocks: 1)).normalized.isEmpty)
    }

    @Test func aResidualNetworkWithAZeroLastLayerPassesItsInputThrough() throws {
        let model = try GeneratorModel(path: try NetworkTests.residualSmall(TestPaths.temporaryFolder(), zeroLast: true))
        let x = try cases.tensor("small.random36x44.input")
        let output = try #require(model.run(x))
        let rgb = Array(x.data[0..<(3 * x.height * x.width)]).map { min(max($0, 0), 1) }
        #expect(output.data == rgb)
    }

    @Test func refusesAnUnknownOutputKind() throws {
        let path = try NetworkTests.residualSmall(TestPaths.temporaryFolder(), output: "sigmoid")
        expectRefusal(path, "metadata \"output\" is \"sigmoid\", expected \"unit\" or \"residual\"")
    }
}
