// Plane: one channel of float samples, row-major with no padding: what the edge
// algorithms work on between reading the host image and writing the `edge` slot.
import PirecPluginKit

struct Plane {
    let width: Int
    let height: Int
    var samples: [Float]

    init(width: Int, height: Int, value: Float = 0) {
        self.width = width
        self.height = height
        samples = [Float](repeating: value, count: width * height)
    }

    /// Luminance as scikit-image's rgb2gray (0.2125 R + 0.7154 G + 0.0721 B); gray copies.
    init(gray image: ImageView) {
        self.init(width: image.width, height: image.height)
        let w = width
        samples.withUnsafeMutableBufferPointer { out in
            for y in 0..<image.height {
                let src = image.row(y), dst = out.baseAddress! + y * w
                if image.channels == 1 {
                    for x in 0..<w { dst[x] = src[x] }
                } else {
                    for x in 0..<w { dst[x] = 0.2125 * src[3 * x] + 0.7154 * src[3 * x + 1] + 0.0721 * src[3 * x + 2] }
                }
            }
        }
    }

    /// Writes the plane into a 1-channel host image of the same size.
    func copy(into image: MutableImageView) {
        samples.withUnsafeBufferPointer { src in
            for y in 0..<height {
                let dst = image.row(y), row = src.baseAddress! + y * width
                for x in 0..<width { dst[x] = row[x] }
            }
        }
    }
}
