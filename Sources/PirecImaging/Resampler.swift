// Resampler: separable convolution resampling with Pillow's conventions (ImagingResample):
// pixel centres at +0.5, the kernel widened by the shrink factor (so the box kernel
// averages areas exactly when shrinking), taps outside the source dropped and the rest
// renormalised. Horizontal pass, then vertical, in float32; output clamped to [0, 1].
import Glibc
import PirecImageView

public enum ResamplingFilter: String, Sendable {
    case box
    case bicubic
    case lanczos3

    /// Kernel half-width in source pixels at scale 1.
    var support: Double {
        switch self {
        case .box: return 0.5
        case .bicubic: return 2
        case .lanczos3: return 3
        }
    }

    func weight(_ x: Double) -> Double {
        switch self {
        case .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .lanczos3:
            guard x > -3, x < 3 else { return 0 }
            return sinc(x) * sinc(x / 3)
        case .bicubic:
            let a = -0.5, t = abs(x)
            if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
            if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
            return 0
        }
    }

    private func sinc(_ x: Double) -> Double {
        x == 0 ? 1 : sin(Double.pi * x) / (Double.pi * x)
    }
}

/// For each output index: the first source index and the normalised weights.
struct ResamplingTaps {
    var first: [Int] = []
    var count: [Int] = []
    var weights: [Float]  // `width` entries per output index
    var width: Int

    /// Taps mapping source indices `offset..<offset+inputSize` onto `outputSize` samples.
    init(inputSize: Int, outputSize: Int, offset: Int, filter: ResamplingFilter) {
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        width = Int(support.rounded(.up)) * 2 + 1
        weights = [Float](repeating: 0, count: width * outputSize)
        for out in 0..<outputSize {
            let center = (Double(out) + 0.5) * scale
            let low = max(Int(center - support + 0.5), 0)  // Int() truncates toward zero, as C does
            let high = min(Int(center + support + 0.5), inputSize)
            var taps: [Double] = []
            for x in low..<max(high, low) { taps.append(filter.weight((Double(x) - center + 0.5) / filterScale)) }
            let total = taps.reduce(0, +)
            for (i, w) in taps.prefix(width).enumerated() { weights[out * width + i] = Float(total != 0 ? w / total : w) }
            first.append(low + offset)
            count.append(min(taps.count, width))
        }
    }
}

/// A rectangle of source pixels.
public struct PixelRect: Sendable, Equatable {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

public enum Resampler {
    /// `isCancelled` said stop.
    public struct Cancelled: Error {}

    /// Resamples `source` (the whole of `input`, or a rectangle of it) onto all of `output`,
    /// which must have as many channels. `filterX`/`filterY` choose the kernel per axis.
    public static func resample(_ input: ImageView, _ source: PixelRect? = nil, into output: MutableImageView,
                                filterX: ResamplingFilter, filterY: ResamplingFilter,
                                isCancelled: () -> Bool = { false }) throws(Cancelled) {
        let rect = source ?? PixelRect(x: 0, y: 0, width: input.width, height: input.height)
        let channels = input.channels
        precondition(output.channels == channels, "channel counts differ")
        let width = output.width, height = output.height
        let across = ResamplingTaps(inputSize: rect.width, outputSize: width, offset: rect.x, filter: filterX)
        let down = ResamplingTaps(inputSize: rect.height, outputSize: height, offset: rect.y, filter: filterY)

        // Horizontal pass over the source rows the vertical pass needs.
        let rowLength = width * channels
        var wide = [Float](repeating: 0, count: rect.height * rowLength)
        wide.withUnsafeMutableBufferPointer { buffer in
            across.weights.withUnsafeBufferPointer { weights in
                for y in 0..<rect.height {
                    let src = input.row(rect.y + y), dst = buffer.baseAddress! + y * rowLength
                    for x in 0..<width {
                        let first = across.first[x], taps = across.count[x], base = x * across.width
                        for c in 0..<channels {
                            var sum: Float = 0
                            for k in 0..<taps { sum += weights[base + k] * src[(first + k) * channels + c] }
                            dst[x * channels + c] = sum
                        }
                    }
                }
            }
        }
        // Vertical pass, row by row so cancellation is prompt.
        try wide.withUnsafeBufferPointer { (buffer) throws(Cancelled) in
            for y in 0..<height {
                if y % 64 == 0, isCancelled() { throw Cancelled() }
                let first = down.first[y] - rect.y, taps = down.count[y], base = y * down.width
                let dst = output.row(y)
                for i in 0..<rowLength { dst[i] = 0 }
                for k in 0..<taps {
                    let w = down.weights[base + k]
                    let src = buffer.baseAddress! + (first + k) * rowLength
                    for i in 0..<rowLength { dst[i] += w * src[i] }
                }
                for i in 0..<rowLength { dst[i] = min(max(dst[i], 0), 1) }
            }
        }
    }
}
