// EdgeExtractor: the plugin state. `canny` reads `source` (a photo); `normalize` reads
// `edge` (a user's sketch from a pair). Both write a 1-channel `edge`: 1 on lines, 0 elsewhere.
import CPirecImagingKernels
import PirecImaging
import PirecPluginKit

final class EdgeExtractor: PluginState {
    enum Method {
        case canny(Canny)
        case normalize(SketchNormalizer)
    }

    /// The `method` parameter's values.
    enum MethodName: String, CaseIterable { case canny, normalize }

    let method: Method
    let minLength: Int
    let thin: Bool

    init(parameters: PluginParameters) throws(PluginFailure) {
        let low = parameters.double("low"), high = parameters.double("high")
        switch parameters.choice("method", as: MethodName.self) {
        case .normalize:
            method = .normalize(SketchNormalizer(threshold: parameters.double("threshold"),
                                                 lines: parameters.choice("lines")))
        case .canny:
            guard low <= high else { throw PluginFailure("must not exceed high (\(high)), got \(low)", key: "low") }
            method = .canny(Canny(sigma: parameters.double("sigma"), low: low, high: high))
        }
        minLength = parameters.int("min_length")
        thin = parameters.bool("thin")
    }

    let workspace = Workspace()

    func process(_ frame: PluginFrame) throws(PluginFailure) {
        let input: ImageView
        switch method {
        case .canny: input = try frame.require("source")
        case .normalize: input = try frame.require("edge")
        }
        let w = input.width, h = input.height
        let mask = workspace.mask(width: w, height: h)
        switch method {
        case let .canny(canny):
            guard canny.detect(input, into: mask, stack: &workspace.stack, isCancelled: { frame.isCancelled }) else {
                throw PluginFailure.cancelled
            }
        case let .normalize(normalizer):
            let gray = workspace.planes(1, width: w, height: h)[0]
            gray.fill(gray: input)
            normalizer.normalize(gray)
            for i in 0..<gray.count { mask[i] = gray.samples[i] > 0.5 ? 1 : 0 }
        }
        if thin { EdgeCleanup.thin(mask, width: w, height: h) }
        EdgeCleanup.dropShortPieces(mask, width: w, height: h, minimum: minLength)
        let output = try frame.newImage(width: w, height: h, channels: 1)
        for y in 0..<h { pirec_mask_to_float(mask + y * w, w, output.row(y)) }
        try frame.set("edge", output)
    }
}
