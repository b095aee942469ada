// Plane and Workspace: one channel of float samples, row-major with no padding, living in
// a workspace that the plugin state keeps between images. A worker sees images of the
// same size again and again; reusing the buffers spares the allocation and the page
// faults of fresh memory, which cost as much as the arithmetic here.
import PirecPluginKit

struct Plane {
    let width: Int
    let height: Int
    let samples: UnsafeMutablePointer<Float>

    var count: Int { width * height }

    @inline(__always)
    func row(_ y: Int) -> UnsafeMutablePointer<Float> { samples + y * width }

    /// Luminance as scikit-image's rgb2gray (0.2125 R + 0.7154 G + 0.0721 B); gray copies.
    func fill(gray image: ImageView) {
        for y in 0..<height {
            let src = image.row(y), dst = row(y)
            if image.channels == 1 {
                for x in 0..<width { dst[x] = src[x] }
            } else {
                for x in 0..<width { dst[x] = 0.2125 * src[3 * x] + 0.7154 * src[3 * x + 1] + 0.0721 * src[3 * x + 2] }
            }
        }
    }

    /// Writes the plane into a 1-channel host image of the same size.
    func copy(into image: MutableImageView) {
        for y in 0..<height {
            let dst = image.row(y), src = row(y)
            for x in 0..<width { dst[x] = src[x] }
        }
    }
}

/// Scratch planes, grown on demand and reused for every image a worker processes.
final class Workspace {
    private var storage: [UnsafeMutablePointer<Float>] = []
    private var capacity = 0
    /// Index stack for flood fills.
    var stack: [Int32] = []

    deinit { for p in storage { p.deallocate() } }

    /// `count` planes of `width` x `height` (contents undefined).
    func planes(_ count: Int, width: Int, height: Int) -> [Plane] {
        let needed = width * height
        if needed > capacity || storage.count < count {
            for p in storage { p.deallocate() }
            capacity = max(needed, capacity)
            storage = (0..<max(count, storage.count)).map { _ in .allocate(capacity: capacity) }
        }
        return (0..<count).map { Plane(width: width, height: height, samples: storage[$0]) }
    }
}
