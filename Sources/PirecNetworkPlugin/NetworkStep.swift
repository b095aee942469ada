// NetworkStep: the plugin state shared by the generator and the refiner. It loads the model
// once, at create, and on each image feeds the network RGB (the colour domain, or the
// previous stage's output) plus the edge map, writing the result to `image`.
import PirecInference
import PirecPluginKit

public final class NetworkStep: PluginState {
    /// The parameters both plugins take.
    public static let parameters = [
        ParameterSpec("model", .path, default: "",
                      "the network's safetensors file; relative paths are taken against model_dir"),
        ParameterSpec("threads", .int, range: 1...64, default: "1", "threads for this network (per worker)"),
        .choice("threading", Threading.self, default: .engine,
                      "who splits matrix products across threads (BENCHMARKS.md: engine is faster here)"),
    ]

    let model: GeneratorModel
    let rgbSlot: String
    let threads: Int
    let threading: Threading

    /// `rgbSlot` is the slot the network's first three input channels come from.
    public init(parameters: PluginParameters, host: PluginHost, rgbSlot: String) throws(PluginFailure) {
        let name = parameters.string("model")
        guard !name.isEmpty else { throw PluginFailure("no model file given", key: "model") }
        // The host makes path parameters absolute; a caller that does not (a test calling
        // create directly) still gets model_dir.
        let path = name.hasPrefix("/") ? name : (host.modelDirectory.map { $0 + "/" } ?? "") + name
        do { model = try GeneratorModel(path: path) } catch { throw PluginFailure("\(error)", key: "model") }
        self.rgbSlot = rgbSlot
        threads = parameters.int("threads")
        threading = parameters.choice("threading")
        host.log(6, "loaded \(path): width \(model.width), \(model.blocks) blocks")
    }

    public func process(_ frame: PluginFrame) throws(PluginFailure) {
        let rgb = try frame.require(rgbSlot), edge = try frame.require("edge")
        guard rgb.channels == 3 else {
            throw PluginFailure("input slot \"\(rgbSlot)\" has \(rgb.channels) channel; the network needs RGB (3)")
        }
        guard edge.channels == 1 else {
            throw PluginFailure("input slot \"edge\" has \(edge.channels) channels; the network needs 1")
        }
        guard rgb.width == edge.width && rgb.height == edge.height else {
            throw PluginFailure("input slots \"\(rgbSlot)\" (\(rgb.width)x\(rgb.height)) and \"edge\" "
                + "(\(edge.width)x\(edge.height)) differ in size")
        }
        let w = rgb.width, h = rgb.height, plane = w * h
        var data = [Float](repeating: 0, count: 4 * plane)
        data.withUnsafeMutableBufferPointer { d in
            for y in 0..<h {
                let src = rgb.row(y), e = edge.row(y)
                for x in 0..<w {
                    for c in 0..<3 { d[c * plane + y * w + x] = src[3 * x + c] }
                    d[3 * plane + y * w + x] = e[x]
                }
            }
        }
        guard let out = model.run(Tensor(channels: 4, height: h, width: w, data: data), threads: threads, threading: threading,
                                  isCancelled: { frame.isCancelled })
        else { throw PluginFailure.cancelled }
        let image = try frame.newImage(width: w, height: h, channels: 3)
        out.data.withUnsafeBufferPointer { o in
            for y in 0..<h {
                let dst = image.row(y)
                for x in 0..<w { for c in 0..<3 { dst[3 * x + c] = o[c * plane + y * w + x] } }
            }
        }
        try frame.set("image", image)
        // The generator's picture stays in `stage1` when the refiner replaces `image`, so
        // `keep_intermediates` shows both stages (NAME.stage1.png).
        if rgbSlot == "color" { try frame.set("stage1", image) }
    }
}
