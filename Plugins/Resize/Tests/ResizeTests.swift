// The resize plugin through the host: sizes for fit and cover, area averages when
// shrinking, Pillow's Lanczos when enlarging, padding by repetition.
import PirecCore
import PirecTestKit
import Testing

@Suite struct ResizeTests {
    @Test(arguments: [
        // (input w, h, parameters, expected w, h)
        ((97, 61), #"{"fit": 128}"#, (128, 80)),
        ((61, 97), #"{"fit": 128}"#, (80, 128)),
        ((97, 61), #"{"fit": 128, "cover": true}"#, (128, 128)),
        ((300, 200), #"{"fit": 64, "cover": true}"#, (64, 64)),
        ((97, 61), #"{"fit": 128, "enlarge": false}"#, (97, 61)),
        ((97, 61), #"{"fit": 50, "pad_multiple": 4}"#, (52, 32)),
        ((1, 1), #"{"fit": 5}"#, (5, 5)),
        ((1, 1), "{}", (128, 128)),
    ] as [((Int, Int), String, (Int, Int))])
    func sizes(input: (Int, Int), parameters: String, expected: (Int, Int)) throws {
        let image = try PluginHarness.image(width: input.0, height: input.1, channels: 3) { x, y, c in
            Float((x * 3 + y * 5 + c) % 17) / 16
        }
        let frame = try PluginHarness.run("resize", parameters, ["source": image])
        let out = try #require(frame["source"])
        #expect(out.width == expected.0 && out.height == expected.1)
        #expect(frame["image"] === out)
    }

    @Test func shrinkingAveragesAreas() throws {
        // 8x4 to 4x2: each output pixel is the mean of a 2x2 block.
        let image = try PluginHarness.image(width: 8, height: 4, channels: 1) { x, y, _ in Float(x * 4 + y) / 40 }
        let out = try #require(try PluginHarness.run("resize", #"{"fit": 4}"#, ["source": image])["source"])
        for y in 0..<2 {
            for x in 0..<4 {
                let mean = (image[2 * x, 2 * y, 0] + image[2 * x + 1, 2 * y, 0] + image[2 * x, 2 * y + 1, 0]
                    + image[2 * x + 1, 2 * y + 1, 0]) / 4
                #expect(abs(out[x, y, 0] - mean) < 1e-6)
            }
        }
    }

    @Test func enlargingMatchesPillowLanczos() throws {
        let input = try PNGCodec().read(path: TestPaths.fixture("upscale/photo.png"))  // 61x43
        let out = try #require(try PluginHarness.run("resize", #"{"fit": 122}"#, ["source": input])["source"])
        let reference = try PNGCodec().read(path: TestPaths.fixture("upscale/photo.lanczos.x2.png"))
        var total = 0.0
        for y in 0..<out.height { for x in 0..<out.width { for c in 0..<3 { total += Double(abs(out[x, y, c] - reference[x, y, c])) } } }
        #expect(total / Double(out.width * out.height * 3) * 255 < 2)
    }

    @Test func paddingRepeatsTheLastRowAndColumn() throws {
        let image = try PluginHarness.image(width: 5, height: 3, channels: 1) { x, y, _ in Float(x + 10 * y) / 40 }
        let out = try #require(try PluginHarness.run("resize", #"{"fit": 5, "pad_multiple": 4}"#, ["source": image])["source"])
        #expect(out.width == 8 && out.height == 4)
        for x in 5..<8 { #expect(out[x, 1, 0] == image[4, 1, 0]) }
        for x in 0..<8 { #expect(out[x, 3, 0] == out[x, 2, 0]) }
    }

    @Test func refusesAMissingSource() throws {
        #expect(throws: PluginError(path: "", pluginID: "resize", message: "input slot \"source\" is empty")) {
            _ = try PluginHarness.run("resize", "{}", [:])
        }
    }
}
