// Upscaler: enlarges the `image` slot by 2 or 4 with Lanczos-3 or bicubic. Any channel
// count and any size, 1x1 included. Output samples are clamped to [0, 1], since both
// kernels overshoot at hard edges.
import PirecPluginKit

final class Upscaler: PluginState {
    let scale: Int
    let filter: ResamplingFilter

    init(parameters: PluginParameters) throws(PluginFailure) {
        scale = parameters.int("scale")
        guard let filter = ResamplingFilter(rawValue: parameters.string("filter")) else {
            throw PluginFailure("filter: unknown filter \(parameters.string("filter"))")
        }
        self.filter = filter
    }

    func process(_ frame: PluginFrame) throws(PluginFailure) {
        let input = try frame.require("image")
        let width = input.width * scale, height = input.height * scale
        let output = try frame.newImage(width: width, height: height, channels: input.channels)
        let channels = input.channels
        let across = ResamplingTaps(inputSize: input.width, outputSize: width, filter: filter)
        let down = ResamplingTaps(inputSize: input.height, outputSize: height, filter: filter)

        // Horizontal pass: input.height rows of `width` pixels.
        let rowLength = width * channels
        var wide = [Float](repeating: 0, count: input.height * rowLength)
        wide.withUnsafeMutableBufferPointer { buffer in
            for y in 0..<input.height {
                let src = input.row(y), dst = buffer.baseAddress! + y * rowLength
                for x in 0..<width {
                    let first = across.first[x], taps = across.count[x], base = x * across.width
                    for c in 0..<channels {
                        var sum: Float = 0
                        for k in 0..<taps { sum += across.weights[base + k] * src[(first + k) * channels + c] }
                        dst[x * channels + c] = sum
                    }
                }
            }
        }
        // Vertical pass into the output, row by row so cancellation is prompt.
        try wide.withUnsafeBufferPointer { (buffer) throws(PluginFailure) in
            for y in 0..<height {
                if y % 64 == 0, frame.isCancelled { throw PluginFailure.cancelled }
                let first = down.first[y], taps = down.count[y], base = y * down.width
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
        try frame.set("image", output)
    }
}
