// Upscaler: enlarges the `image` slot by 2 or 4 with Lanczos-3 or bicubic. Any channel
// count and any size, 1x1 included.
import PirecImaging
import PirecPluginKit

final class Upscaler: PluginState {
    let scale: Int
    let filter: ResamplingFilter

    init(parameters: PluginParameters) throws(PluginFailure) {
        scale = parameters.int("scale")
        guard let filter = ResamplingFilter(rawValue: parameters.string("filter")), filter != .box else {
            throw PluginFailure("filter: expected lanczos3 or bicubic, got \"\(parameters.string("filter"))\"")
        }
        self.filter = filter
    }

    func process(_ frame: PluginFrame) throws(PluginFailure) {
        let input = try frame.require("image")
        let output = try frame.newImage(width: input.width * scale, height: input.height * scale, channels: input.channels)
        try Resampler.resample(input, into: output, filterX: filter, filterY: filter, isCancelled: { frame.isCancelled })
        try frame.set("image", output)
    }
}
