// PNG reading against values computed independently by Tests/Fixtures/make_image_fixtures.py,
// for every bit depth and colour type; bad files; writing and reading back.
import Foundation
import PirecCore
import PirecTestKit
import Testing

private struct Expected: Decodable {
    var width: Int
    var height: Int
    var channels: Int
    var samples: [Double]
}

@Suite struct PNGCodecTests {
    let codec = PNGCodec()

    @Test(arguments: ["gray8", "gray16", "graya8", "graya16", "rgb8", "rgb16", "rgba8", "rgba16",
                      "palette", "palette4", "gray1"])
    func decodesEveryFormat(name: String) throws {
        let expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("png/\(name).expected.json"))))
        let image = try codec.read(path: TestPaths.fixture("png/\(name).png"))
        #expect(image.width == expected.width)
        #expect(image.height == expected.height)
        #expect(image.channels == expected.channels)
        var worst = 0.0
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<image.channels {
                    let want = expected.samples[(y * image.width + x) * image.channels + c]
                    worst = max(worst, abs(Double(image[x, y, c]) - want))
                }
            }
        }
        #expect(worst < 1e-5, "largest difference \(worst) in \(name)")
    }

    @Test(arguments: [
        ("empty.png", "empty file (0 bytes)"),
        ("not_png.png", "not a PNG file"),
        ("truncated.png", "truncated"),
        ("huge_header.png", "100000x100000"),
        ("bad_crc.png", "cannot read PNG"),
    ])
    func refusesBadFiles(name: String, reason: String) {
        let path = TestPaths.fixture("bad/" + name)
        #expect {
            _ = try codec.read(path: path)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(path + ": ") && text.contains(reason)
        }
    }

    @Test func refusesMissingUnreadableAndFolders() throws {
        let folder = TestPaths.temporaryFolder()
        #expect(throws: FileError(path: folder + "/nope.png", reason: "no such file")) {
            _ = try codec.read(path: folder + "/nope.png")
        }
        #expect(throws: FileError(path: folder, reason: "is a directory")) { _ = try codec.read(path: folder) }
        // Unreadable files: CLITests.unreadableInputIsNamed (root reads anything, so it drops privileges).
    }

    @Test func checksThePixelLimitBeforeDecoding() throws {
        let small = PNGCodec(maxPixels: 13 * 7 - 1)
        #expect { _ = try small.read(path: TestPaths.fixture("png/rgb8.png")) } throws: {
            "\($0)".contains("over the limit of 90 pixels")
        }
        let tiny = PNGCodec(maxFileBytes: 10)
        #expect { _ = try tiny.read(path: TestPaths.fixture("png/rgb8.png")) } throws: {
            "\($0)".contains("over the limit of 10 bytes")
        }
    }

    @Test(arguments: [(1, 8), (3, 8), (1, 16), (3, 16)])
    func writesAndReadsBack(channels: Int, bitDepth: Int) throws {
        let image = try Image(width: 5, height: 3, channels: channels)
        for y in 0..<3 { for x in 0..<5 { for c in 0..<channels { image[x, y, c] = Float(x * 7 + y * 3 + c) / 40 } } }
        let path = TestPaths.temporaryFolder() + "/out.png"
        try codec.write(image, to: path, bitDepth: bitDepth)
        let back = try codec.read(path: path)
        #expect(back.width == 5 && back.height == 3 && back.channels == channels)
        let step: Float = (bitDepth == 8 ? 0.5 / 255 : 0.5 / 65535) * 1.001
        for y in 0..<3 { for x in 0..<5 { for c in 0..<channels { #expect(abs(back[x, y, c] - image[x, y, c]) <= step) } } }
        // The atomic write leaves no temporary file behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: FileIO.split(path).folder) == ["out.png"])
    }

    @Test func rejectsImpossibleSizes() {
        #expect(throws: ImageError.self) { _ = try Image(width: 0, height: 3, channels: 3) }
        #expect(throws: ImageError.self) { _ = try Image(width: 3, height: 3, channels: 2) }
    }
}
