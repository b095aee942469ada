// Upscaler: enlarges the `image` slot by 2 or 4 with Lanczos-3 or bicubic. Any channel
// count and any size, 1x1 included.
import PirecImaging
import PirecPluginKit

final class Upscaler: PluginState {
    /// The kernels offered (the resampler's box filter is for shrinking).
    enum Filter: String, CaseIterable {
        case lanczos3, bicubic

        var resampling: ResamplingFilter { self == .lanczos3 ? .lanczos3 : .bicubic }
    }

    let scale: Int
    let filter: ResamplingFilter

    init(parameters: PluginParameters) {
        scale = parameters.int("scale")
        filter = parameters.choice("filter", as: Filter.self).resampling
    }

    func process(_ frame: PluginFrame) throws(PluginFailure) {
        let input = try frame.require("image")
        let output = try frame.newImage(width: input.width * scale, height: input.height * scale, channels: input.channels)
        do { try Resampler.resample(input, into: output, filterX: filter, filterY: filter, isCancelled: { frame.isCancelled }) } catch {
            throw .cancelled
        }
        try frame.set("image", output)
    }
}
