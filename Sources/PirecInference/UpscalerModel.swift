// UpscalerModel: pirec's learned upscaler (training/upscaler_net.py) loaded from safetensors
// and checked against its architecture, run on pictures of any size in overlapping tiles so
// memory stays bounded whatever the picture's size.
//
// Tiling is exact: every output pixel depends only on the input within
// Graph.upscalerReceptiveRadius of it, so a tile extended by that halo on each side
// (clipped at the picture's edges, where the reflection padding is the whole picture's
// own) computes its core as the whole picture would, up to float rounding.

public final class UpscalerModel: @unchecked Sendable {  // lets only; the executor's weights are read-only after loading
    public static let architecture = "pirec-upscaler"
    /// Low-resolution tile side, before the halo: 128 keeps a width-32 network's largest
    /// tensor at 48 x 148 x 148 floats (4 MB) and each 3x3 layer large enough for Winograd.
    public static let tileSide = 128

    public let path: String
    public let scale: Int
    public let width: Int
    public let blocks: Int
    public let metadata: [String: String]
    let executor: Executor

    public convenience init(path: String) throws(ModelError) {
        try self.init(file: try SafeTensorsFile(path: path))
    }

    public init(file: SafeTensorsFile) throws(ModelError) {
        try file.requireArchitecture(UpscalerModel.architecture,
                                     hint: "train and export one with training/train_upscaler.py")
        scale = try file.positiveInteger("scale")
        guard scale == 2 || scale == 4 else {
            throw ModelError(path: file.path, message: "metadata \"scale\" is \(scale), expected 2 or 4")
        }
        width = try file.positiveInteger("width")
        blocks = try file.positiveInteger("blocks")
        let graph = Graph.upscaler(scale: scale, width: width, blocks: blocks)
        let weights = try file.weights(for: graph, shape: "x\(scale), width \(width), \(blocks) blocks")
        path = file.path
        metadata = file.metadata
        executor = Executor(graph: graph, weights: weights)
    }

    /// Enlarges an RGB [3, H, W] tensor in [0, 1] to [3, H * scale, W * scale], in tiles of
    /// `tileSide` plus the halo; nil if cancelled (polled between layers).
    public func run(_ input: Tensor, threads: Int = 1, tileSide: Int = UpscalerModel.tileSide,
                    isCancelled: () -> Bool = { false }) -> Tensor? {
        precondition(input.channels == 3 && tileSide > 0, "the upscaler takes RGB")
        let h = input.height, w = input.width, s = scale, ow = w * s
        let halo = Graph.upscalerReceptiveRadius(blocks: blocks)
        if h <= tileSide + 2 * halo && w <= tileSide + 2 * halo {
            return executor.run(input, threads: threads, isCancelled: isCancelled)
        }
        var output = Tensor(channels: 3, height: h * s, width: ow)
        for top in stride(from: 0, to: h, by: tileSide) {
            for left in stride(from: 0, to: w, by: tileSide) {
                let rows = top..<min(top + tileSide, h), columns = left..<min(left + tileSide, w)
                let y0 = max(0, top - halo), y1 = min(h, rows.upperBound + halo)
                let x0 = max(0, left - halo), x1 = min(w, columns.upperBound + halo)
                let tile = Tensor(channels: 3, height: y1 - y0, width: x1 - x0) { out in
                    for c in 0..<3 {
                        for y in y0..<y1 {
                            let source = (c * h + y) * w + x0, target = (c * (y1 - y0) + y - y0) * (x1 - x0)
                            for x in 0..<(x1 - x0) { out[target + x] = input.data[source + x] }
                        }
                    }
                }
                guard let result = executor.run(tile, threads: threads, isCancelled: isCancelled) else { return nil }
                // The core's rows and columns of the tile's enlargement.
                let tw = result.width
                output.data.withUnsafeMutableBufferPointer { out in
                    for c in 0..<3 {
                        for y in (rows.lowerBound * s)..<(rows.upperBound * s) {
                            let source = (c * result.height + y - y0 * s) * tw - x0 * s
                            let target = (c * h * s + y) * ow
                            for x in (columns.lowerBound * s)..<(columns.upperBound * s) { out[target + x] = result.data[source + x] }
                        }
                    }
                }
            }
        }
        return output
    }
}
