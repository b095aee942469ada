// The learned upscaler (training/upscaler_net.py) against PyTorch on random and real inputs,
// an x2 network (W=8, B=2, F32) and an x4 one (W=8, B=1, stored in F16): max |difference| at
// most 1e-4. Its tiles against the whole picture, and the files it refuses.
import Foundation
@testable import PirecInference
import PirecTestKit
import Testing

@Suite struct UpscalerNetworkTests {
    let cases: SafeTensorsFile

    init() throws { cases = try SafeTensorsFile(path: TestPaths.fixture("network/upscaler_cases.safetensors")) }

    @Test(arguments: [("upscaler_x2", "random13x10"), ("upscaler_x2", "real128"),
                      ("upscaler_x4", "random9x7"), ("upscaler_x4", "real48x40")])
    func matchesPyTorch(model name: String, input: String) throws {
        let model = try UpscalerModel(path: TestPaths.fixture("network/\(name).safetensors"))
        let output = try #require(model.run(try cases.tensor("\(name).\(input).input")))
        let expected = try cases.tensor("\(name).\(input).output")
        #expect(output.shapeDescription == expected.shapeDescription)
        guard output.data.count == expected.data.count else { return }
        let difference = maxDifference(output, expected)
        #expect(difference <= 1e-4, "\(name) \(input): max |ours - PyTorch| = \(difference)")
    }

    /// Tiles of 16 and 40 (uneven last tiles) give the whole picture's result: the halo covers
    /// everything an output pixel sees.
    @Test(arguments: [16, 40])
    func tilesMatchTheWholePicture(tileSide: Int) throws {
        let model = try UpscalerModel(path: TestPaths.fixture("network/upscaler_x2.safetensors"))
        let input = try cases.tensor("upscaler_x2.real128.input")
        let whole = try #require(model.run(input, threads: 2))
        let tiled = try #require(model.run(input, threads: 2, tileSide: tileSide))
        #expect(tiled.shapeDescription == whole.shapeDescription)
        #expect(maxDifference(tiled, whole) <= 1e-5)
        #expect(maxDifference(tiled, try cases.tensor("upscaler_x2.real128.output")) <= 1e-4)
    }

    @Test func anySizeIncludingOnePixel() throws {
        let model = try UpscalerModel(path: TestPaths.fixture("network/upscaler_x4.safetensors"))
        for (h, w) in [(1, 1), (1, 5), (7, 3)] {
            let input = Tensor(channels: 3, height: h, width: w, data: (0..<(3 * h * w)).map { Float($0 % 5) / 5 })
            let output = try #require(model.run(input))
            #expect(output.channels == 3 && output.height == 4 * h && output.width == 4 * w)
            #expect(output.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
    }

    @Test func cancellationStopsBetweenLayers() throws {
        let model = try UpscalerModel(path: TestPaths.fixture("network/upscaler_x2.safetensors"))
        #expect(model.run(try cases.tensor("upscaler_x2.real128.input"), tileSide: 32, isCancelled: { true }) == nil)
    }

    // MARK: files it refuses

    func expectRefusal(_ path: String, _ fragment: String) {
        expectModelRefusal(path, fragment) { try UpscalerModel(path: $0) }
    }

    @Test func refusesOtherNetworksAndWrongShapes() throws {
        let folder = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let weights = try SafeTensorsFile(path: TestPaths.fixture("network/upscaler_x2.safetensors"))
        let tensors = try weights.entries.keys.sorted().map { name in
            (name, "F32", weights.entries[name]!.shape,
             try weights.floats(name).flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } })
        }
        let good = ["arch": "pirec-upscaler", "scale": "2", "width": "8", "blocks": "2"]
        func file(_ name: String, _ metadata: [String: String], dropping: String? = nil) throws -> String {
            let path = folder + "/" + name
            try NetworkTests.write(path, metadata: metadata, tensors: tensors.filter { $0.0 != dropping })
            return path
        }
        _ = try UpscalerModel(path: try file("good.safetensors", good))
        expectRefusal(TestPaths.fixture("network/small.safetensors"), "architecture \"pirec-generator\", expected \"pirec-upscaler\"")
        expectRefusal(try file("noarch.safetensors", good.filter { $0.key != "arch" }), "no \"arch\" in the safetensors metadata")
        expectRefusal(try file("scale3.safetensors", good.merging(["scale": "3"]) { $1 }), "metadata \"scale\" is 3, expected 2 or 4")
        expectRefusal(try file("x4.safetensors", good.merging(["scale": "4"]) { $1 }),
                      "tensor tail.weight has shape [12, 8, 3, 3], expected [48, 8, 3, 3] for x4, width 8, 2 blocks")
        expectRefusal(try file("blocks.safetensors", good.merging(["blocks": "1"]) { $1 }), "unexpected tensor body.1.conv1.bias")
        expectRefusal(try file("missing.safetensors", good, dropping: "head.bias"), "missing tensor head.bias")
    }
}
