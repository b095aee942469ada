// Image: the host's pixel buffer, laid out exactly as the plugin ABI's `pirec_image`
// (float32 in [0, 1], interleaved, origin top-left, rows `strideBytes` apart), so a plugin
// reads it in place. Rows are padded to 64 bytes: plugins must honour the stride.
import CPirecPlugin
import Glibc

public final class Image: @unchecked Sendable {  // its samples are written by the one job that holds the image
    public let width: Int
    public let height: Int
    public let channels: Int
    /// Floats from one row to the next (>= width * channels).
    public let rowStride: Int
    /// The first sample of row 0; the image owns it.
    public let samples: UnsafeMutablePointer<Float>
    /// The C view handed to plugins; points into `samples`.
    let header: UnsafeMutablePointer<pirec_image>

    /// The largest side accepted anywhere, so that sizes stay within the ABI's uint32 fields.
    public static let maxSide = 1 << 20

    /// Allocates an image, every sample 0 unless `zeroed` is false (for outputs a plugin
    /// writes whole). Throws on an impossible size.
    public init(width: Int, height: Int, channels: Int, zeroed: Bool = true) throws(ImageError) {
        guard width >= 1, height >= 1, width <= Image.maxSide, height <= Image.maxSide else {
            throw ImageError.invalidSize(width: width, height: height, channels: channels)
        }
        guard channels == 1 || channels == 3 else {
            throw ImageError.invalidSize(width: width, height: height, channels: channels)
        }
        self.width = width
        self.height = height
        self.channels = channels
        let alignFloats = 16  // 64 bytes
        self.rowStride = (width * channels + alignFloats - 1) / alignFloats * alignFloats
        let count = rowStride * height
        guard let raw = malloc(count * MemoryLayout<Float>.stride) else {
            throw ImageError.outOfMemory(width: width, height: height, channels: channels)
        }
        samples = raw.bindMemory(to: Float.self, capacity: count)
        if zeroed { samples.initialize(repeating: 0, count: count) }
        header = .allocate(capacity: 1)
        header.initialize(to: pirec_image(
            width: UInt32(width), height: UInt32(height), channels: UInt32(channels),
            stride_bytes: UInt32(rowStride * MemoryLayout<Float>.stride), data: samples))
    }

    deinit {
        free(samples)
        header.deinitialize(count: 1)
        header.deallocate()
    }

    /// The first sample of row `y`.
    @inline(__always)
    public func row(_ y: Int) -> UnsafeMutablePointer<Float> { samples + y * rowStride }

    @inline(__always)
    public subscript(x: Int, y: Int, channel: Int) -> Float {
        get { samples[y * rowStride + x * channels + channel] }
        set { samples[y * rowStride + x * channels + channel] = newValue }
    }

    /// A copy with `channels` channels: gray to RGB repeats the value, RGB to gray uses
    /// luminance weights (0.2125, 0.7154, 0.0721, as scikit-image's rgb2gray).
    public func converted(toChannels target: Int) throws(ImageError) -> Image {
        if target == channels { return self }
        let out = try Image(width: width, height: height, channels: target)
        for y in 0..<height {
            let src = row(y), dst = out.row(y)
            for x in 0..<width {
                if target == 3 {
                    let v = src[x]
                    dst[3 * x] = v; dst[3 * x + 1] = v; dst[3 * x + 2] = v
                } else {
                    dst[x] = 0.2125 * src[3 * x] + 0.7154 * src[3 * x + 1] + 0.0721 * src[3 * x + 2]
                }
            }
        }
        return out
    }
}

public enum ImageError: Error, Equatable, CustomStringConvertible {
    case invalidSize(width: Int, height: Int, channels: Int)
    case outOfMemory(width: Int, height: Int, channels: Int)

    public var description: String {
        switch self {
        case let .invalidSize(w, h, c):
            return "invalid image size \(w)x\(h) with \(c) channels (sides 1...\(Image.maxSide), channels 1 or 3)"
        case let .outOfMemory(w, h, c):
            return "out of memory for a \(w)x\(h) image with \(c) channels"
        }
    }
}
