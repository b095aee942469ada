// Upscaler: enlarges the `image` slot by 2 or 4, with Lanczos-3 or bicubic resampling (any
// channel count and any size, 1x1 included) or with pirec's learned upscaler (RGB, or grey
// run as RGB).
import PirecImaging
import PirecInference
import PirecPluginKit

final class Upscaler: PluginState {
    enum Method: String, CaseIterable {
        /// A resampling kernel, `filter`.
        case resample
        /// The network in `model` (training/upscaler_net.py).
        case learned
    }

    /// The kernels offered (the resampler's box filter is for shrinking).
    enum Filter: String, CaseIterable {
        case lanczos3, bicubic

        var resampling: ResamplingFilter { self == .lanczos3 ? .lanczos3 : .bicubic }
    }

    /// What `process` does, chosen at create.
    enum Work {
        case resample(ResamplingFilter)
        case learned(UpscalerModel, threads: Int)
    }

    let scale: Int
    let work: Work

    init(parameters: PluginParameters, host: PluginHost) throws(PluginFailure) {
        scale = parameters.int("scale")
        let name = parameters.string("model")
        switch parameters.choice("method", as: Method.self) {
        case .resample:
            guard name.isEmpty else {
                throw PluginFailure("a model is read only with method: learned (method is resample)", key: "model")
            }
            work = .resample(parameters.choice("filter", as: Filter.self).resampling)
        case .learned:
            guard !name.isEmpty else { throw PluginFailure("method learned needs a model file", key: "model") }
            // The host makes path parameters absolute; a caller that does not (a test calling
            // create directly) still gets model_dir.
            let path = name.hasPrefix("/") ? name : (host.modelDirectory.map { $0 + "/" } ?? "") + name
            let model: UpscalerModel
            do { model = try UpscalerModel(path: path) } catch { throw PluginFailure("\(error)", key: "model") }
            guard model.scale == scale else {
                throw PluginFailure("\(path) enlarges x\(model.scale), but scale is \(scale)", key: "scale")
            }
            work = .learned(model, threads: parameters.int("threads"))
            host.log(6, "loaded \(path): x\(model.scale), width \(model.width), \(model.blocks) blocks")
        }
    }

    func process(_ frame: PluginFrame) throws(PluginFailure) {
        let input = try frame.require("image")
        let output = try frame.newImage(width: input.width * scale, height: input.height * scale, channels: input.channels)
        switch work {
        case let .resample(filter):
            do { try Resampler.resample(input, into: output, filterX: filter, filterY: filter, isCancelled: { frame.isCancelled }) } catch {
                throw .cancelled
            }
        case let .learned(model, threads):
            try enlarge(input, into: output, with: model, threads: threads, isCancelled: { frame.isCancelled })
        }
        try frame.set("image", output)
    }

    /// The network on the image's RGB (a grey image's one channel three times; its output's
    /// mean), written into `output`.
    private func enlarge(_ input: ImageView, into output: MutableImageView, with model: UpscalerModel, threads: Int,
                         isCancelled: () -> Bool) throws(PluginFailure) {
        let w = input.width, h = input.height, plane = w * h, channels = input.channels
        guard channels == 3 || channels == 1 else {
            throw PluginFailure("method learned takes RGB or grey pictures; image has \(channels) channels")
        }
        var data = [Float](repeating: 0, count: 3 * plane)
        for y in 0..<h {
            let row = input.row(y)
            for x in 0..<w { for c in 0..<3 { data[c * plane + y * w + x] = row[channels * x + (channels == 3 ? c : 0)] } }
        }
        // Each tile's enlargement goes straight into the picture.
        let finished = model.enlarge(Tensor(channels: 3, height: h, width: w, data: data), threads: threads,
                                     isCancelled: isCancelled) { core, top, left in
            let cw = core.width, plane = core.plane
            for y in 0..<core.height {
                let row = output.row(top + y) + left * channels
                for x in 0..<cw {
                    if channels == 3 {
                        for c in 0..<3 { row[3 * x + c] = core.data[c * plane + y * cw + x] }
                    } else {
                        row[x] = (core.data[y * cw + x] + core.data[plane + y * cw + x] + core.data[2 * plane + y * cw + x]) / 3
                    }
                }
            }
        }
        guard finished else { throw .cancelled }
    }
}
