// Reading the classical fixtures (Tests/Fixtures/classical, made by
// Tests/Fixtures/make_image_fixtures.py with scikit-image and OpenCV) into the forms the
// algorithms take.
import Foundation
import PirecCore
import PirecImaging
import PirecPluginKit
import PirecTestKit

enum Classical {
    static let inputs = ["astronaut", "coffee", "chelsea", "camera", "text", "lineart", "clipart", "emoji_cat",
                         "emoji_apple", "one", "black", "ramp", "noise"]

    static func image(_ name: String) throws -> Image {
        try PNGCodec().read(path: TestPaths.fixture("classical/\(name).png"))
    }

    static func view(_ image: Image) -> ImageView {
        ImageView(width: image.width, height: image.height, channels: image.channels, rowStride: image.rowStride,
                  samples: UnsafePointer(image.samples))
    }

    /// 8-bit planes R, G, B (gray replicated), as OpenCV sees an image.
    static func bytePlanes(_ image: Image) -> [[UInt8]] {
        (0..<3).map { c in
            var plane = [UInt8](repeating: 0, count: image.width * image.height)
            for y in 0..<image.height {
                for x in 0..<image.width {
                    plane[y * image.width + x] = UInt8((image[x, y, image.channels == 1 ? 0 : c] * 255).rounded())
                }
            }
            return plane
        }
    }

    struct KMeansRecord: Decodable {
        var image: String
        var median: Int
        var k: Int
        var compactness: Double
        var distinct_colors: Int
        /// OpenCV's compactness for 8 seeds.
        var runs: [Double]
    }

    static func kmeansRecords() throws -> [KMeansRecord] {
        try JSONDecoder().decode([KMeansRecord].self,
                                 from: Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("classical/kmeans.json"))))
    }
}
