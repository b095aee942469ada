// Plane and Workspace: one channel of float samples, row-major with no padding, living in
// a workspace that the plugin state keeps between images. A worker sees images of the
// same size again and again; reusing the buffers spares the allocation and the page
// faults of fresh memory, which cost as much as the arithmetic here.
import CPirecImagingKernels
import PirecImageView

public struct Plane {
    public let width: Int
    public let height: Int
    public let samples: UnsafeMutablePointer<Sample>

    public init(width: Int, height: Int, samples: UnsafeMutablePointer<Sample>) {
        self.width = width
        self.height = height
        self.samples = samples
    }

    public var count: Int { width * height }

    @inline(__always)
    public func row(_ y: Int) -> UnsafeMutablePointer<Sample> { samples + y * width }

    /// Luminance as scikit-image's rgb2gray (0.2125 R + 0.7154 G + 0.0721 B); gray copies.
    /// Samples that are exact 8-bit levels (as the host decodes an 8-bit PNG: level * (1/255)
    /// in float32) are taken as skimage takes a uint8 image, level * (1/255) in float64, so
    /// 8-bit inputs give its values to the last bit.
    public func fill(gray image: ImageView) {
        for y in 0..<height { pirec_luminance(image.row(y), image.channels, row(y), width) }
    }

    /// Writes the plane into a 1-channel host image of the same size.
    public func copy(into image: MutableImageView) {
        for y in 0..<height {
            let dst = image.row(y), src = row(y)
            for x in 0..<width { dst[x] = Float(src[x]) }
        }
    }
}

/// Scratch planes, grown on demand and reused for every image a worker processes.
public final class Workspace {
    private var storage: [UnsafeMutablePointer<Sample>] = []
    private var capacity = 0
    private var maskStorage: UnsafeMutablePointer<UInt8>?
    private var maskCapacity = 0
    /// Index stack for flood fills.
    public var stack: [Int32] = []

    public init() {}

    deinit {
        for p in storage { p.deallocate() }
        maskStorage?.deallocate()
    }

    /// A byte per pixel of `width` x `height` (contents undefined).
    public func mask(width: Int, height: Int) -> UnsafeMutablePointer<UInt8> {
        if let mask = maskStorage, maskCapacity >= width * height { return mask }
        maskStorage?.deallocate()
        maskCapacity = width * height
        maskStorage = .allocate(capacity: maskCapacity)
        return maskStorage!
    }

    /// `count` planes of `width` x `height` (contents undefined).
    public func planes(_ count: Int, width: Int, height: Int) -> [Plane] {
        let needed = width * height
        if needed > capacity || storage.count < count {
            for p in storage { p.deallocate() }
            capacity = max(needed, capacity)
            storage = (0..<max(count, storage.count)).map { _ in .allocate(capacity: capacity) }
        }
        return (0..<count).map { Plane(width: width, height: height, samples: storage[$0]) }
    }
}
