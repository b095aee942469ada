// EdgeExtractor: the plugin state. `canny` reads `source` (a photo); `normalize` reads
// `edge` (a user's sketch from a pair). Both write a 1-channel `edge`: 1 on lines, 0 elsewhere.
import PirecImaging
import PirecPluginKit

final class EdgeExtractor: PluginState {
    enum Method {
        case canny(Canny)
        case normalize(SketchNormalizer)
    }

    let method: Method
    let minLength: Int
    let thin: Bool

    init(parameters: PluginParameters) throws(PluginFailure) {
        let low = parameters.double("low"), high = parameters.double("high")
        switch parameters.string("method") {
        case "normalize":
            guard let lines = SketchNormalizer.Polarity(rawValue: parameters.string("lines")) else {
                throw PluginFailure("lines: expected auto, dark or light, got \"\(parameters.string("lines"))\"")
            }
            method = .normalize(SketchNormalizer(threshold: parameters.double("threshold"), lines: lines))
        default:
            guard low <= high else { throw PluginFailure("low: must not exceed high (\(high)), got \(low)") }
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
        let planes = workspace.planes(4, width: input.width, height: input.height)
        let gray = planes[0], edges = planes[1]
        gray.fill(gray: input)
        switch method {
        case let .canny(canny):
            guard canny.detect(gray, into: edges, scratch: planes[2], magnitude: planes[3], stack: &workspace.stack,
                               isCancelled: { frame.isCancelled }) else {
                throw PluginFailure.cancelled
            }
        case let .normalize(normalizer):
            normalizer.normalize(gray)
            for i in 0..<gray.count { edges.samples[i] = gray.samples[i] }
        }
        if thin { EdgeCleanup.thin(edges) }
        EdgeCleanup.dropShortPieces(edges, minimum: minLength)
        let output = try frame.newImage(width: edges.width, height: edges.height, channels: 1)
        edges.copy(into: output)
        try frame.set("edge", output)
    }
}
