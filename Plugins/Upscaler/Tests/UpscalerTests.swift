// The upscaler plugin, loaded through the host as users load it, against Pillow's
// Image.resize (references written by Tests/Fixtures/make_image_fixtures.py).
import Logging
import PirecCore
import PirecTestKit
import Testing

@Suite struct UpscalerTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    let codec = PNGCodec()

    func upscale(_ input: Image, _ json: String, cancel: Bool = false) throws -> Image {
        let library = try PluginLibrary.load(from: TestPaths.plugin("upscaler"))
        let instance = try PluginInstance(library: library, configJSON: json, logger: logger)
        let frame = Frame()
        if cancel { frame.cancellation.cancel() }
        frame["image"] = input
        try instance.process(frame)
        return try #require(frame["image"])
    }

    @Test(arguments: ["photo", "gray", "one"], [("lanczos3", "lanczos"), ("bicubic", "bicubic")])
    func matchesPillow(name: String, filter: (ours: String, pillow: String)) throws {
        let input = try codec.read(path: TestPaths.fixture("upscale/\(name).png"))
        for scale in [2, 4] {
            let output = try upscale(input, #"{"scale": \#(scale), "filter": "\#(filter.ours)"}"#)
            let reference = try codec.read(path: TestPaths.fixture("upscale/\(name).\(filter.pillow).x\(scale).png"))
            #expect(output.width == input.width * scale && output.height == input.height * scale)
            #expect(output.channels == input.channels)
            #expect(reference.width == output.width && reference.height == output.height)
            var total = 0.0
            for y in 0..<output.height {
                for x in 0..<output.width {
                    for c in 0..<output.channels { total += Double(abs(output[x, y, c] - reference[x, y, c])) }
                }
            }
            let mean = total / Double(output.width * output.height * output.channels) * 255
            #expect(mean < 2, "\(name) \(filter.ours) x\(scale): mean absolute error \(mean)/255")
        }
    }

    @Test func defaultsToLanczosTimesTwo() throws {
        let input = try codec.read(path: TestPaths.fixture("upscale/photo.png"))
        let output = try upscale(input, "{}")
        #expect(output.width == 122 && output.height == 86)
    }

    @Test func keepsFlatImagesFlat() throws {
        let input = try Image(width: 7, height: 5, channels: 1)
        for y in 0..<5 { for x in 0..<7 { input[x, y, 0] = 0.25 } }
        let output = try upscale(input, #"{"scale": 4}"#)
        for y in 0..<output.height { for x in 0..<output.width { #expect(abs(output[x, y, 0] - 0.25) < 1e-6) } }
    }

    @Test func refusesBadParametersAndStopsWhenCancelled() throws {
        let library = try PluginLibrary.load(from: TestPaths.plugin("upscaler"))
        #expect(throws: PluginError(path: "", pluginID: "upscaler", message: "expected 2 or 4, got 3", parameter: "scale")) {
            _ = try PluginInstance(library: library, configJSON: #"{"scale": 3}"#, logger: logger)
        }
        #expect { _ = try PluginInstance(library: library, configJSON: #"{"scal": 2}"#, logger: logger) } throws: {
            "\($0)".contains("scal: unknown parameter")
        }
        let input = try Image(width: 3, height: 3, channels: 3)
        #expect(throws: PluginError(path: "", pluginID: "upscaler", message: "cancelled")) {
            _ = try upscale(input, "{}", cancel: true)
        }
    }
}
