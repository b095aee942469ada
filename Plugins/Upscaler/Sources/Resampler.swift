// Resampler: separable convolution resampling with Pillow's conventions (ImagingResample):
// pixel centres at +0.5, the kernel widened by the shrink factor, taps outside the image
// dropped and the rest renormalised. Horizontal pass, then vertical, in float32.
import Glibc

public enum ResamplingFilter: String, Sendable {
    case lanczos3
    case bicubic

    /// Kernel half-width in source pixels at scale 1.
    var support: Double { self == .lanczos3 ? 3 : 2 }

    func weight(_ x: Double) -> Double {
        switch self {
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
    var first: [Int]
    var count: [Int]
    var weights: [Float]  // `width` entries per output index
    var width: Int

    init(inputSize: Int, outputSize: Int, filter: ResamplingFilter) {
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        width = Int(support.rounded(.up)) * 2 + 1
        first = []
        count = []
        weights = [Float](repeating: 0, count: width * outputSize)
        for out in 0..<outputSize {
            let center = (Double(out) + 0.5) * scale
            let low = max(Int(center - support + 0.5), 0)  // Int() truncates toward zero, as C does
            let high = min(Int(center + support + 0.5), inputSize)
            var taps: [Double] = []
            for x in low..<max(high, low) { taps.append(filter.weight((Double(x) - center + 0.5) / filterScale)) }
            let total = taps.reduce(0, +)
            for (i, w) in taps.prefix(width).enumerated() { weights[out * width + i] = Float(total != 0 ? w / total : w) }
            first.append(low)
            count.append(min(taps.count, width))
        }
    }
}
