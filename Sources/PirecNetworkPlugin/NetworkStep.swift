// NetworkStep: the plugin state shared by the generator and the refiner. It loads the model
// once, at create, and on each image feeds the network RGB (the colour domain, or the
// previous stage's output) plus the edge map, writing the result to `image`. A 7-input
// refiner reads the colour domain after them.
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
        .choice("precision", Precision.self, default: .fp32,
                "fp32, or bf16 products where they stay accurate (CPUs with AVX512_BF16; 6-22 % faster on the shipped models, BENCHMARKS.md), or auto: bf16 where the CPU has it"),
        .choice("ensemble", Ensemble.self, default: .none,
                "none, or flip: also run on the mirror image and average the two (better pictures, twice the time)"),
    ]

    let model: GeneratorModel
    let rgbSlot: String
    let threads: Int
    let threading: Threading
    let ensemble: Ensemble

    /// `rgbSlot` is the slot the network's first three input channels come from.
    public init(parameters: PluginParameters, host: PluginHost, rgbSlot: String) throws(PluginFailure) {
        let name = parameters.string("model")
        guard !name.isEmpty else { throw PluginFailure("no model file given", key: "model") }
        // The host makes path parameters absolute; a caller that does not (a test calling
        // create directly) still gets model_dir.
        let path = name.hasPrefix("/") ? name : (host.modelDirectory.map { $0 + "/" } ?? "") + name
        let precision: Precision = parameters.choice("precision")
        do { model = try GeneratorModel(path: path, precision: precision) } catch {
            throw PluginFailure("\(error)", key: precision == .bf16 && !Precision.bf16Available ? "precision" : "model")
        }
        guard model.inputChannels == 4 || rgbSlot != "color" else {
            throw PluginFailure("\(path) takes \(model.inputChannels) input channels: it is a refiner that reads "
                + "a picture and the colour domain, not a generator", key: "model")
        }
        self.rgbSlot = rgbSlot
        threads = parameters.int("threads")
        threading = parameters.choice("threading")
        ensemble = parameters.choice("ensemble")
        host.log(6, "loaded \(path): width \(model.width), \(model.blocks) blocks, \(model.precision.rawValue) products")
    }

    public func process(_ frame: PluginFrame) throws(PluginFailure) {
        // The network's inputs in order: RGB, edge, and for a 7-input refiner the colour domain.
        var slots = [(rgbSlot, 3), ("edge", 1)]
        if model.inputChannels == 7 { slots.append(("color", 3)) }
        let inputs = try slots.map { (slot, channels) throws(PluginFailure) in
            let image = try frame.require(slot)
            guard image.channels == channels else {
                throw PluginFailure("input slot \"\(slot)\" has \(image.channels) channel\(image.channels == 1 ? "" : "s"); "
                    + "the network needs \(channels == 3 ? "RGB (3)" : "1")")
            }
            return image
        }
        let w = inputs[0].width, h = inputs[0].height, plane = w * h
        if let i = inputs.firstIndex(where: { $0.width != w || $0.height != h }) {
            throw PluginFailure("input slots \"\(rgbSlot)\" (\(w)x\(h)) and \"\(slots[i].0)\" "
                + "(\(inputs[i].width)x\(inputs[i].height)) differ in size")
        }
        var data = [Float](repeating: 0, count: model.inputChannels * plane)
        data.withUnsafeMutableBufferPointer { d in
            var first = 0
            for (image, (_, channels)) in zip(inputs, slots) {
                for y in 0..<h {
                    let src = image.row(y)
                    for x in 0..<w {
                        for c in 0..<channels { d[(first + c) * plane + y * w + x] = src[channels * x + c] }
                    }
                }
                first += channels
            }
        }
        guard let out = model.run(Tensor(channels: model.inputChannels, height: h, width: w, data: data),
                                  ensemble: ensemble, threads: threads, threading: threading,
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
