// ImageView and MutableImageView: the ABI's image layout as the imaging algorithms see it
// (rows of interleaved float samples, a row stride in floats), over memory someone else
// owns. A leaf, so the algorithms need neither the plugin kit nor the host.

/// Read access to an image.
public struct ImageView {
    public let width: Int
    public let height: Int
    public let channels: Int
    /// Floats from one row to the next.
    public let rowStride: Int
    public let samples: UnsafePointer<Float>

    /// A view of memory laid out as the ABI's images.
    public init(width: Int, height: Int, channels: Int, rowStride: Int, samples: UnsafePointer<Float>) {
        self.width = width
        self.height = height
        self.channels = channels
        self.rowStride = rowStride
        self.samples = samples
    }

    @inline(__always)
    public func row(_ y: Int) -> UnsafePointer<Float> { samples + y * rowStride }
}

/// Write access to an image.
public struct MutableImageView {
    public let width: Int
    public let height: Int
    public let channels: Int
    public let rowStride: Int
    public let samples: UnsafeMutablePointer<Float>
    /// What the plugin kit needs to hand the image back to the host (its `pirec_image`).
    package let handle: UnsafeMutableRawPointer?

    /// A view of memory laid out as the ABI's images.
    public init(width: Int, height: Int, channels: Int, rowStride: Int, samples: UnsafeMutablePointer<Float>) {
        self.init(width: width, height: height, channels: channels, rowStride: rowStride, samples: samples, handle: nil)
    }

    package init(width: Int, height: Int, channels: Int, rowStride: Int, samples: UnsafeMutablePointer<Float>,
                 handle: UnsafeMutableRawPointer?) {
        self.width = width
        self.height = height
        self.channels = channels
        self.rowStride = rowStride
        self.samples = samples
        self.handle = handle
    }

    @inline(__always)
    public func row(_ y: Int) -> UnsafeMutablePointer<Float> { samples + y * rowStride }
}
