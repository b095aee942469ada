// PNGCodec: PNG files to and from `Image` through the system libpng (see CPirecPNG).
// Every bit depth and colour type is read; alpha is composited on white, since the
// networks see opaque pictures. The pixel limit is checked before any allocation.
import CPirecPNG
import Glibc

public struct PNGCodec: Sendable {
    /// Default pixel-count limit: 64 megapixels.
    public static let defaultMaxPixels = 64 * 1024 * 1024
    /// Default file-size limit: 256 MiB.
    public static let defaultMaxFileBytes = 256 * 1024 * 1024

    public var maxPixels: Int
    public var maxFileBytes: Int

    public init(maxPixels: Int = PNGCodec.defaultMaxPixels, maxFileBytes: Int = PNGCodec.defaultMaxFileBytes) {
        self.maxPixels = maxPixels
        self.maxFileBytes = maxFileBytes
    }

    /// Reads a PNG file: gray and gray+alpha give 1 channel, everything else 3.
    public func read(path: String) throws(FileError) -> Image {
        let bytes = try FileIO.readAll(path: path, maxBytes: maxFileBytes)
        return try decode(bytes, path: path)
    }

    /// Decodes PNG bytes; `path` only names the source in errors.
    public func decode(_ bytes: [UInt8], path: String) throws(FileError) -> Image {
        var pixels = pirec_png_pixels()
        var message = [CChar](repeating: 0, count: 512)
        let status = bytes.withUnsafeBufferPointer { buffer in
            pirec_png_decode(buffer.baseAddress, buffer.count, UInt64(maxPixels), &pixels, &message, message.count)
        }
        guard status == 0, let data = pixels.data else {
            throw FileError(path: path, reason: "cannot read PNG: " + String(cBuffer: message))
        }
        defer { free(data) }
        let width = Int(pixels.width), height = Int(pixels.height)
        let sourceChannels = Int(pixels.channels)
        let hasAlpha = sourceChannels == 2 || sourceChannels == 4
        let colorChannels = hasAlpha ? sourceChannels - 1 : sourceChannels
        let image: Image
        do { image = try Image(width: width, height: height, channels: colorChannels) } catch {
            throw FileError(path: path, reason: "cannot read PNG: \(error)")
        }
        func fill<Sample: BinaryInteger>(_ type: Sample.Type, maxValue: Float) {
            let source = data.assumingMemoryBound(to: Sample.self)
            let scale = 1 / maxValue
            for y in 0..<height {
                let src = source + y * width * sourceChannels
                let dst = image.row(y)
                for x in 0..<width {
                    let pixel = src + x * sourceChannels
                    if hasAlpha {
                        let alpha = Float(pixel[colorChannels]) * scale
                        for c in 0..<colorChannels {
                            dst[x * colorChannels + c] = Float(pixel[c]) * scale * alpha + (1 - alpha)
                        }
                    } else {
                        for c in 0..<colorChannels { dst[x * colorChannels + c] = Float(pixel[c]) * scale }
                    }
                }
            }
        }
        if pixels.bit_depth == 16 { fill(UInt16.self, maxValue: 65535) } else { fill(UInt8.self, maxValue: 255) }
        return image
    }

    /// Encodes an image as an 8-bit (default) or 16-bit PNG; samples are clamped to [0, 1].
    public func encode(_ image: Image, bitDepth: Int = 8) throws(FileError) -> [UInt8] {
        let count = image.width * image.height * image.channels
        let rowCount = image.width * image.channels
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 512)
        func quantize<Sample: FixedWidthInteger & UnsignedInteger>(_ type: Sample.Type) -> Int32 {
            var packed = [Sample](repeating: 0, count: count)
            let maxValue = Float(Sample.max)
            for y in 0..<image.height {
                let src = image.row(y)
                for i in 0..<rowCount {
                    let v = min(max(src[i], 0), 1)
                    packed[y * rowCount + i] = Sample((v * maxValue).rounded())
                }
            }
            return pirec_png_encode(packed, UInt32(image.width), UInt32(image.height), UInt32(image.channels),
                                    UInt32(bitDepth), &out, &length, &message, message.count)
        }
        let status = bitDepth == 16 ? quantize(UInt16.self) : quantize(UInt8.self)
        guard status == 0, let out else {
            throw FileError(path: "", reason: "cannot encode PNG: " + String(cBuffer: message))
        }
        defer { free(out) }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }

    /// Encodes and writes atomically (see `FileIO.writeAtomically`).
    public func write(_ image: Image, to path: String, bitDepth: Int = 8) throws(FileError) {
        let bytes: [UInt8]
        do { bytes = try encode(image, bitDepth: bitDepth) } catch {
            throw FileError(path: path, reason: error.reason)
        }
        try FileIO.writeAtomically(bytes, to: path)
    }
}
