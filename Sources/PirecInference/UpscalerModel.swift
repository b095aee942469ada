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
        if let whole = wholeIfOneTile(input, tileSide: tileSide) {
            return executor.run(whole, threads: threads, isCancelled: isCancelled)
        }
        let ow = input.width * scale
        var output = Tensor(channels: 3, height: input.height * scale, width: ow)
        let finished = enlarge(input, threads: threads, tileSide: tileSide, isCancelled: isCancelled) { core, top, left in
            output.data.withUnsafeMutableBufferPointer { out in
                for c in 0..<3 {
                    for y in 0..<core.height {
                        let source = (c * core.height + y) * core.width, target = (c * output.height + top + y) * ow + left
                        for x in 0..<core.width { out[target + x] = core.data[source + x] }
                    }
                }
            }
        }
        return finished ? output : nil
    }

    /// Enlarges an RGB [3, H, W] tensor in [0, 1] tile by tile, handing each tile's enlarged
    /// core ([3, rows * scale, columns * scale]) to `write` with the output row and column
    /// where it starts, so a caller can put it straight into its own picture and never holds
    /// the whole enlargement twice. False if cancelled (polled between layers).
    public func enlarge(_ input: Tensor, threads: Int = 1, tileSide: Int = UpscalerModel.tileSide,
                        isCancelled: () -> Bool = { false },
                        write: (_ core: Tensor, _ top: Int, _ left: Int) -> Void) -> Bool {
        precondition(input.channels == 3 && tileSide > 0, "the upscaler takes RGB")
        if let whole = wholeIfOneTile(input, tileSide: tileSide) {
            guard let result = executor.run(whole, threads: threads, isCancelled: isCancelled) else { return false }
            write(result, 0, 0)
            return true
        }
        let h = input.height, w = input.width, s = scale
        let halo = Graph.upscalerReceptiveRadius(blocks: blocks)
        for top in stride(from: 0, to: h, by: tileSide) {
            for left in stride(from: 0, to: w, by: tileSide) {
                let rows = top..<min(top + tileSide, h), columns = left..<min(left + tileSide, w)
                let y0 = max(0, top - halo), y1 = min(h, rows.upperBound + halo)
                let x0 = max(0, left - halo), x1 = min(w, columns.upperBound + halo)
                guard let result = executor.run(input.crop(rows: y0..<y1, columns: x0..<x1), threads: threads,
                                                isCancelled: isCancelled)
                else { return false }
                // The core's rows and columns of the tile's enlargement.
                write(result.crop(rows: (top - y0) * s..<(rows.upperBound - y0) * s,
                                  columns: (left - x0) * s..<(columns.upperBound - x0) * s), top * s, left * s)
            }
        }
        return true
    }

    /// The input itself when it fits one tile with its halo (no tiling needed).
    private func wholeIfOneTile(_ input: Tensor, tileSide: Int) -> Tensor? {
        let limit = tileSide + 2 * Graph.upscalerReceptiveRadius(blocks: blocks)
        return input.height <= limit && input.width <= limit ? input : nil
    }
}
