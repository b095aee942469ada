// The refiner plugin through the host: what it declares and reads (the generator's `image`
// and the `edge` map), what it writes, and its errors. Its numbers against PyTorch are in
// GeneratorTests, which runs both networks on the same fixture.
import Logging
import PirecCore
import PirecTestKit
import Testing

@Suite struct RefinerTests {
    let model = TestPaths.fixture("network/small.safetensors")

    @Test func readsTheImageAndTheEdgesAndWritesTheImage() throws {
        let library = try PluginLibrary.load(from: TestPaths.plugin("refiner"))
        #expect(library.reads == ["edge", "image", "color"] && library.writes == ["image"])
        #expect(library.parameters.specs.map(\.name) == ["model", "threads", "threading", "precision", "ensemble"])
        #expect(library.parameters.specs[0].kind == .path)
        let picture = try PluginHarness.image(width: 20, height: 12, channels: 3) { x, y, c in Float((x + 2 * y + c) % 7) / 7 }
        let edge = try PluginHarness.image(width: 20, height: 12, channels: 1) { x, _, _ in x % 5 == 0 ? 1 : 0 }
        let frame = try PluginHarness.run("refiner", #"{"model": "\#(model)"}"#, ["image": picture, "edge": edge])
        let refined = try #require(frame["image"])
        #expect(refined !== picture && refined.width == 20 && refined.height == 12 && refined.channels == 3)
    }

    @Test func errorsNameTheSlot() throws {
        let json = #"{"model": "\#(model)"}"#
        let edge = try PluginHarness.image(width: 8, height: 8, channels: 1) { _, _, _ in 0 }
        #expect(throws: PluginError(path: "", pluginID: "refiner", message: "input slot \"image\" is empty")) {
            _ = try PluginHarness.run("refiner", json, ["edge": edge])
        }
        let gray = try PluginHarness.image(width: 8, height: 8, channels: 1) { _, _, _ in 0.5 }
        #expect(throws: PluginError(path: "", pluginID: "refiner",
                                    message: "input slot \"image\" has 1 channel; the network needs RGB (3)")) {
            _ = try PluginHarness.run("refiner", json, ["image": gray, "edge": edge])
        }
    }
}
