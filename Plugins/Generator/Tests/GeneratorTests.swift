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
    }
}
