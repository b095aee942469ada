// The edge-extractor plugin through the host: skimage's edges for a photo, the sketch
// normaliser's polarity, thinning, short-piece removal, and its errors.
import PirecCore
import PirecTestKit
import Testing

@Suite struct EdgeExtractorTests {
    func edges(_ json: String, _ slots: [Slot: Image]) throws -> Image {
        try #require(try PluginHarness.run("edge-extractor", json, slots)["edge"])
    }

    func ones(_ image: Image) -> Int {
        var n = 0
        for y in 0..<image.height { for x in 0..<image.width where image[x, y, 0] > 0.5 { n += 1 } }
        return n
    }

    @Test func cannyOfAPhotoIsScikitImagesEdgeMap() throws {
        let photo = try PNGCodec().read(path: TestPaths.fixture("classical/coffee.png"))
        let out = try edges(#"{"sigma": 2.5}"#, ["source": photo])
        let reference = try PNGCodec().read(path: TestPaths.fixture("classical/coffee.canny.s2.5.png"))
        #expect(out.channels == 1 && out.width == 97 && out.height == 61)
        var differing = 0
        for y in 0..<61 { for x in 0..<97 where (out[x, y, 0] > 0.5) != (reference[x, y, 0] > 0.5) { differing += 1 } }
        #expect(differing == 0)
        for y in 0..<61 { for x in 0..<97 { #expect(out[x, y, 0] == 0 || out[x, y, 0] == 1) } }
    }

    @Test func sketchesOfEitherPolarityGiveWhiteLinesOnBlack() throws {
        // A dark cross on light paper, and the same drawn light on dark.
        let dark = try PluginHarness.image(width: 21, height: 15, channels: 1) { x, y, _ in x == 10 || y == 7 ? 0.1 : 0.95 }
        let light = try PluginHarness.image(width: 21, height: 15, channels: 1) { x, y, _ in x == 10 || y == 7 ? 0.9 : 0.05 }
        for sketch in [dark, light] {
            let out = try edges(#"{"method": "normalize"}"#, ["edge": sketch])
            for y in 0..<15 { for x in 0..<21 { #expect(out[x, y, 0] == (x == 10 || y == 7 ? 1 : 0)) } }
        }
        // An RGB sketch works too (luminance first).
        let rgb = try PluginHarness.image(width: 9, height: 9, channels: 3) { x, _, _ in x == 4 ? 0 : 1 }
        #expect(ones(try edges(#"{"method": "normalize"}"#, ["edge": try rgb.converted(toChannels: 1)])) == 9)
    }

    @Test func thinningLeavesOnePixelWideLines() throws {
        let thick = try PluginHarness.image(width: 30, height: 15, channels: 1) { x, y, _ in (5...9).contains(y) && x > 2 && x < 27 ? 0 : 1 }
        let out = try edges(#"{"method": "normalize", "thin": true}"#, ["edge": thick])
        for x in 6..<24 {
            var column = 0
            for y in 0..<15 where out[x, y, 0] > 0.5 { column += 1 }
            #expect(column == 1, "column \(x) has \(column) line pixels")
        }
    }

    @Test func minLengthDropsShortPieces() throws {
        // A 20-pixel line and a 3-pixel dash.
        let sketch = try PluginHarness.image(width: 30, height: 9, channels: 1) { x, y, _ in
            (y == 2 && x >= 5 && x < 25) || (y == 6 && x >= 5 && x < 8) ? 0 : 1
        }
        #expect(ones(try edges(#"{"method": "normalize"}"#, ["edge": sketch])) == 23)
        #expect(ones(try edges(#"{"method": "normalize", "min_length": 10}"#, ["edge": sketch])) == 20)
    }

    @Test func tinyAndFlatImages() throws {
        let one = try PluginHarness.image(width: 1, height: 1, channels: 3) { _, _, _ in 0.5 }
        #expect(ones(try edges("{}", ["source": one])) == 0)
        let flat = try PluginHarness.image(width: 40, height: 30, channels: 1) { _, _, _ in 0.3 }
        #expect(ones(try edges(#"{"sigma": 1}"#, ["source": flat])) == 0)
    }

    @Test func errorsNameTheProblem() throws {
        #expect(throws: PluginError(path: "", pluginID: "edge-extractor", message: "input slot \"source\" is empty")) {
            _ = try PluginHarness.run("edge-extractor", "{}", [:])
        }
        #expect(throws: PluginError(path: "", pluginID: "edge-extractor", message: "must not exceed high (0.2), got 0.5", parameter: "low")) {
            _ = try PluginHarness.instance("edge-extractor", #"{"low": 0.5}"#)
        }
        #expect(throws: PluginError(path: "", pluginID: "edge-extractor", message: "expected a number in 0...20, got 30", parameter: "sigma")) {
            _ = try PluginHarness.instance("edge-extractor", #"{"sigma": 30}"#)
        }
        let image = try PluginHarness.image(width: 8, height: 8, channels: 1) { _, _, _ in 0 }
        #expect(throws: PluginError(path: "", pluginID: "edge-extractor", message: "cancelled")) {
            _ = try PluginHarness.run("edge-extractor", "{}", ["source": image], cancelled: true)
        }
    }
}
