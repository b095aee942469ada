// The color-quantizer plugin through the host: K flat colours, the same output for the same
// seed, gray and tiny inputs, and its errors.
import PirecCore
import PirecTestKit
import Testing

@Suite struct ColorQuantizerTests {
    func colors(_ image: Image) -> Set<[UInt8]> {
        var set: Set<[UInt8]> = []
        for y in 0..<image.height {
            for x in 0..<image.width { set.insert((0..<3).map { UInt8((image[x, y, $0] * 255).rounded()) }) }
        }
        return set
    }

    func quantize(_ json: String, _ image: Image) throws -> Image {
        try #require(try PluginHarness.run("color-quantizer", json, ["source": image])["color"])
    }

    @Test(arguments: [1, 3, 8])
    func givesExactlyKColoursBeforeTheFinalMedian(k: Int) throws {
        let photo = try PNGCodec().read(path: TestPaths.fixture("classical/chelsea.png"))
        let out = try quantize(#"{"colors": \#(k), "final_median": 1, "median": 7}"#, photo)
        #expect(out.channels == 3 && out.width == photo.width && out.height == photo.height)
        #expect(colors(out).count == k)
    }

    @Test func theSameInputGivesTheSameOutput() throws {
        let photo = try PNGCodec().read(path: TestPaths.fixture("classical/astronaut.png"))
        let a = try quantize("{}", photo), b = try quantize("{}", photo)
        for y in 0..<a.height { for x in 0..<a.width { for c in 0..<3 { #expect(a[x, y, c] == b[x, y, c]) } } }
        #expect(colors(a).count <= 3)
    }

    @Test func grayAndTinyInputs() throws {
        let gray = try PNGCodec().read(path: TestPaths.fixture("classical/camera.png"))
        let out = try quantize(#"{"colors": 4, "final_median": 1}"#, gray)
        #expect(out.channels == 3 && colors(out).count == 4)
        #expect(colors(out).allSatisfy { $0[0] == $0[1] && $0[1] == $0[2] })
        let one = try PluginHarness.image(width: 1, height: 1, channels: 3) { _, _, c in Float(c) / 4 }
        let single = try quantize(#"{"colors": 5}"#, one)
        #expect(colors(single) == [[0, 64, 128]])
    }

    @Test func errorsNameTheProblem() throws {
        #expect(throws: PluginError(path: "", pluginID: "color-quantizer", message: "input slot \"source\" is empty")) {
            _ = try PluginHarness.run("color-quantizer", "{}", [:])
        }
        #expect(throws: PluginError(path: "", pluginID: "color-quantizer", message: "expected an odd size in 1...255, got 24", parameter: "median")) {
            _ = try PluginHarness.instance("color-quantizer", #"{"median": 24}"#)
        }
        #expect(throws: PluginError(path: "", pluginID: "color-quantizer", message: "expected an integer in 1...64, got 65", parameter: "colors")) {
            _ = try PluginHarness.instance("color-quantizer", #"{"colors": 65}"#)
        }
        #expect(throws: PluginError(path: "", pluginID: "color-quantizer", message: "expected an integer in 1...64, got \"many\"", parameter: "colors")) {
            _ = try PluginHarness.instance("color-quantizer", #"{"colors": "many"}"#)
        }
    }
}
