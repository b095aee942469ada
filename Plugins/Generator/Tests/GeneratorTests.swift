// The generator and refiner plugins through the host: PyTorch's numbers on a real input,
// model paths relative to model_dir, and clear errors for bad models and bad slots.
import Logging
import PirecCore
import PirecInference
import PirecTestKit
import Testing

@Suite struct GeneratorTests {
    let model = TestPaths.fixture("network/small.safetensors")

    /// The fixture's [1, 4, H, W] input as the frame's `color` (RGB) and `edge` images.
    func slots(_ rgbSlot: Slot) throws -> ([Slot: Image], Tensor) {
        let cases = try SafeTensorsFile(path: TestPaths.fixture("network/cases.safetensors"))
        let input = try cases.tensor("small.real128.input")
        let h = input.height, w = input.width, plane = h * w
        let rgb = try PluginHarness.image(width: w, height: h, channels: 3) { x, y, c in input.data[c * plane + y * w + x] }
        let edge = try PluginHarness.image(width: w, height: h, channels: 1) { x, y, _ in input.data[3 * plane + y * w + x] }
        return ([rgbSlot: rgb, "edge": edge], try cases.tensor("small.real128.output"))
    }

    @Test(arguments: [("generator", "color"), ("refiner", "image")])
    func matchesPyTorchThroughTheHost(plugin: String, rgbSlot: String) throws {
        let (inputs, expected) = try slots(Slot(rgbSlot))
        let frame = try PluginHarness.run(plugin, #"{"model": "\#(model)"}"#, inputs)
        let image = try #require(frame["image"])
        #expect(image.width == 128 && image.height == 128 && image.channels == 3)
        var worst: Float = 0
        for y in 0..<128 {
            for x in 0..<128 {
                for c in 0..<3 { worst = max(worst, abs(image[x, y, c] - expected.data[c * 128 * 128 + y * 128 + x])) }
            }
        }
        #expect(worst <= 1e-4)
    }

    @Test func relativeModelPathsUseModelDir() throws {
        let library = try PluginLibrary.load(from: TestPaths.plugin("generator"))
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        _ = try PluginInstance(library: library, configJSON: #"{"model": "small.safetensors"}"#,
                               modelDirectory: TestPaths.fixture("network"), logger: logger)
        #expect { _ = try PluginInstance(library: library, configJSON: #"{"model": "small.safetensors"}"#,
                                         modelDirectory: "/nonexistent", logger: logger) } throws: {
            "\($0)" == "plugin generator: model: /nonexistent/small.safetensors: no such model file"
        }
    }

    @Test func errorsNameTheModelOrTheSlot() throws {
        #expect(throws: PluginError(path: "", pluginID: "generator", message: "no model file given", parameter: "model")) {
            _ = try PluginHarness.instance("generator", "{}")
        }
        let junk = TestPaths.temporaryFolder() + "/junk.safetensors"
        try TestPaths.write("junk", to: junk)
        #expect { _ = try PluginHarness.instance("refiner", #"{"model": "\#(junk)"}"#) } throws: {
            "\($0)".contains("model: \(junk): not a safetensors file")
        }
        let (inputs, _) = try slots("color")
        let json = #"{"model": "\#(model)"}"#
        #expect(throws: PluginError(path: "", pluginID: "generator", message: "input slot \"edge\" is empty")) {
            _ = try PluginHarness.run("generator", json, ["color": inputs["color"]!])
        }
        let gray = try PluginHarness.image(width: 128, height: 128, channels: 1) { _, _, _ in 0.5 }
        #expect(throws: PluginError(path: "", pluginID: "generator",
                                    message: "input slot \"color\" has 1 channel; the network needs RGB (3)")) {
            _ = try PluginHarness.run("generator", json, ["color": gray, "edge": inputs["edge"]!])
        }
        let small = try PluginHarness.image(width: 64, height: 128, channels: 1) { _, _, _ in 0 }
        #expect { _ = try PluginHarness.run("generator", json, ["color": inputs["color"]!, "edge": small]) } throws: {
            "\($0)".contains("differ in size")
        }
        let refiner7 = TestPaths.fixture("network/refiner7.safetensors")
        #expect { _ = try PluginHarness.instance("generator", #"{"model": "\#(refiner7)"}"#) } throws: {
            "\($0)".contains("takes 7 input channels: it is a refiner")
        }
    }

    /// A 7-input refiner reads the generator's picture, the edge map and the colour domain,
    /// and matches PyTorch on them.
    @Test func aSevenInputRefinerReadsTheColourDomainToo() throws {
        let cases = try SafeTensorsFile(path: TestPaths.fixture("network/cases.safetensors"))
        let input = try cases.tensor("refiner7.real128.input"), expected = try cases.tensor("refiner7.real128.output")
        let w = input.width, plane = input.height * w
        func image(_ first: Int, _ channels: Int) throws -> Image {
            try PluginHarness.image(width: w, height: input.height, channels: channels) { x, y, c in
                input.data[(first + c) * plane + y * w + x]
            }
        }
        let json = #"{"model": "\#(TestPaths.fixture("network/refiner7.safetensors"))"}"#
        let slots: [Slot: Image] = ["image": try image(0, 3), "edge": try image(3, 1), "color": try image(4, 3)]
        let frame = try PluginHarness.run("refiner", json, slots)
        let out = try #require(frame["image"])
        var worst: Float = 0
        for y in 0..<input.height {
            for x in 0..<w { for c in 0..<3 { worst = max(worst, abs(out[x, y, c] - expected.data[c * plane + y * w + x])) } }
        }
        #expect(worst <= 1e-4)
        #expect(throws: PluginError(path: "", pluginID: "refiner", message: "input slot \"color\" is empty")) {
            _ = try PluginHarness.run("refiner", json, slots.filter { $0.key != "color" })
        }
    }
}
