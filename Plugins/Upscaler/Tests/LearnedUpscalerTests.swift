// The upscaler's `method: learned`, loaded through the host as users load it: the fixture
// networks (training/make_network_fixtures.py) give PyTorch's pictures through the plugin,
// at any size and for grey pictures, and every wrong combination of parameters is refused
// with the key and the file named.
import Logging
import PirecCore
import PirecInference
import PirecTestKit
import Testing

@Suite struct LearnedUpscalerTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func instance(_ json: String) throws -> PluginInstance {
        try PluginInstance(library: try PluginLibrary.load(from: TestPaths.plugin("upscaler")), configJSON: json, logger: logger)
    }

    func config(_ model: String, scale: Int, threads: Int = 1) -> String {
        let path = TestPaths.fixture("network/\(model).safetensors")
        return #"{"method": "learned", "model": "\#(path)", "scale": \#(scale), "threads": \#(threads)}"#
    }

    func upscale(_ input: Image, with plugin: PluginInstance) throws -> Image {
        let frame = Frame()
        frame["image"] = input
        try plugin.process(frame)
        return try #require(frame["image"])
    }

    @Test(arguments: [("upscaler_x2", "real128", 2), ("upscaler_x4", "real48x40", 4)])
    func matchesPyTorchThroughThePlugin(model: String, input name: String, scale: Int) throws {
        let cases = try SafeTensorsFile(path: TestPaths.fixture("network/upscaler_cases.safetensors"))
        let input = try cases.tensor("\(model).\(name).input"), expected = try cases.tensor("\(model).\(name).output")
        let image = try Image(width: input.width, height: input.height, channels: 3)
        for y in 0..<input.height {
            for x in 0..<input.width { for c in 0..<3 { image[x, y, c] = input.data[(c * input.height + y) * input.width + x] } }
        }
        let output = try upscale(image, with: try instance(config(model, scale: scale, threads: 2)))
        #expect(output.width == expected.width && output.height == expected.height && output.channels == 3)
        var worst: Float = 0
        for y in 0..<output.height {
            for x in 0..<output.width {
                for c in 0..<3 { worst = max(worst, abs(output[x, y, c] - expected.data[(c * expected.height + y) * expected.width + x])) }
            }
        }
        #expect(worst <= 1e-4, "\(model) \(name): max |plugin - PyTorch| = \(worst)")
    }

    @Test func anySizeAndGreyPictures() throws {
        let plugin = try instance(config("upscaler_x4", scale: 4))
        for (w, h, channels) in [(1, 1, 3), (13, 7, 3), (5, 9, 1)] {
            let input = try Image(width: w, height: h, channels: channels)
            for y in 0..<h { for x in 0..<w { for c in 0..<channels { input[x, y, c] = Float((x * 3 + y * 5 + c) % 11) / 10 } } }
            let output = try upscale(input, with: plugin)
            #expect(output.width == 4 * w && output.height == 4 * h && output.channels == channels)
        }
        // A grey picture is the network's output on its RGB repeat, averaged back to one channel.
        let grey = try Image(width: 6, height: 4, channels: 1), rgb = try Image(width: 6, height: 4, channels: 3)
        for y in 0..<4 { for x in 0..<6 { grey[x, y, 0] = Float(x + y) / 9; for c in 0..<3 { rgb[x, y, c] = Float(x + y) / 9 } } }
        let a = try upscale(grey, with: plugin), b = try upscale(rgb, with: plugin)
        for y in 0..<a.height {
            for x in 0..<a.width { #expect(abs(a[x, y, 0] - (b[x, y, 0] + b[x, y, 1] + b[x, y, 2]) / 3) < 1e-6) }
        }
    }

    /// A picture larger than a tile (128 plus the halo) goes through the plugin tile by tile,
    /// each written straight into the picture: the same as the network in one pass, RGB and grey.
    @Test(arguments: [3, 1])
    func picturesLargerThanATileEqualOnePass(channels: Int) throws {
        let (w, h) = (301, 170)
        let input = try Image(width: w, height: h, channels: channels)
        for y in 0..<h { for x in 0..<w { for c in 0..<channels { input[x, y, c] = Float((x * 7 + y * 13 + c * 5) % 23) / 22 } } }
        let output = try upscale(input, with: try instance(config("upscaler_x2", scale: 2, threads: 2)))
        var rgb = [Float](repeating: 0, count: 3 * w * h)
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { rgb[(c * h + y) * w + x] = input[x, y, channels == 3 ? c : 0] } } }
        let model = try UpscalerModel(path: TestPaths.fixture("network/upscaler_x2.safetensors"))
        let whole = try #require(model.run(Tensor(channels: 3, height: h, width: w, data: rgb), tileSide: 1024))
        #expect(output.width == 2 * w && output.height == 2 * h && output.channels == channels)
        var worst: Float = 0
        let plane = whole.plane
        for y in 0..<output.height {
            for x in 0..<output.width {
                let at = y * whole.width + x
                if channels == 3 {
                    for c in 0..<3 { worst = max(worst, abs(output[x, y, c] - whole.data[c * plane + at])) }
                } else {
                    worst = max(worst, abs(output[x, y, 0] - (whole.data[at] + whole.data[plane + at] + whole.data[2 * plane + at]) / 3))
                }
            }
        }
        #expect(worst <= 1e-5, "max |tiled plugin - one pass| = \(worst)")
    }

    @Test func refusesWhatCannotWork() throws {
        func refusal(_ json: String, _ key: String, _ fragment: String) {
            #expect { _ = try instance(json) } throws: { error in
                guard let error = error as? PluginError else { return false }
                return error.parameter == key && error.message.contains(fragment)
            }
        }
        let x2 = TestPaths.fixture("network/upscaler_x2.safetensors")
        refusal(#"{"method": "learned"}"#, "model", "method learned needs a model file")
        refusal(#"{"model": "\#(x2)"}"#, "model", "a model is read only with method: learned")
        refusal(#"{"method": "learned", "model": "\#(x2)", "scale": 4}"#, "scale", "\(x2) enlarges x2, but scale is 4")
        let generator = TestPaths.fixture("network/small.safetensors")
        refusal(#"{"method": "learned", "model": "\#(generator)"}"#, "model",
                "\(generator): architecture \"pirec-generator\", expected \"pirec-upscaler\"")
        refusal(#"{"method": "learned", "model": "/nonexistent/x2.safetensors"}"#, "model", "no such model file")
        refusal(#"{"method": "sharpen"}"#, "method", "sharpen")
    }
}
