// The shipped emoji models (models/emoji), run through the host and the Swift engine on 8
// held-out pictures (training never saw them): the refined pictures must be closer to the
// ground truth than the colour domain they started from (mean PSNR over the 8, and on
// most of them one by one), the figure the model card reports for all 320 held-out ones.
import Glibc
import PirecCore
import PirecTestKit
import Testing

@Suite struct ShippedModelTests {
    /// Evenly spread over training/heldout.txt (examples/make_examples.py writes them).
    static let names = ["1f199", "1f450", "1f469_1f3fd_200d_1f9b1", "1f644", "1f918", "1f9b8_1f3fc_200d_2640", "1faad", "39"]

    func psnr(_ a: Image, _ b: Image) -> Double {
        var squared = 0.0
        for y in 0..<a.height {
            for x in 0..<a.width {
                for c in 0..<3 {
                    let d = (Double(a[x, y, c]) * 255).rounded() - (Double(b[x, y, c]) * 255).rounded()
                    squared += d * d
                }
            }
        }
        let mse = squared / Double(a.width * a.height * 3)
        return 10 * log10(255 * 255 / max(mse, 1e-10))
    }

    @Test func refinedOutputsBeatTheirColourDomain() throws {
        let models = TestPaths.repository + "/models/emoji/"
        let codec = PNGCodec()
        let generator = try PluginHarness.instance("generator", #"{"model": "\#(models)generator.safetensors"}"#)
        let refiner = try PluginHarness.instance("refiner", #"{"model": "\#(models)refiner.safetensors"}"#)
        var baseline = 0.0, refined = 0.0, better = 0
        for name in ShippedModelTests.names {
            let fixture = TestPaths.fixture("emoji/\(name)")
            let truth = try codec.read(path: fixture + ".png")
            let color = try codec.read(path: fixture + "_c.png")
            let frame = Frame()
            frame["edge"] = try codec.read(path: fixture + "_e.png").converted(toChannels: 1)
            frame["color"] = color
            try generator.process(frame)
            try refiner.process(frame)
            let output = try #require(frame["image"])
            #expect(output.width == truth.width && output.height == truth.height && output.channels == 3)
            let (b, r) = (psnr(color, truth), psnr(output, truth))
            baseline += b
            refined += r
            if r > b { better += 1 }
        }
        let n = Double(ShippedModelTests.names.count)
        print("shipped models on 8 held-out emoji: colour domain \(baseline / n) dB, refined \(refined / n) dB, "
            + "better on \(better) of 8")
        #expect(refined / n > baseline / n, "refined \(refined / n) dB, colour domain \(baseline / n) dB")
        #expect(better >= 6, "refined beats its colour domain on \(better) of 8")
    }
}
