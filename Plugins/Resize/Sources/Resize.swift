// Resize: brings `source` to the size the networks work at. The longer side becomes `fit`
// (the shorter keeps the aspect ratio, rounded, at least 1); with `cover` the centred
// square crop is scaled instead. Shrinking averages areas (box kernel widened by the
// factor), enlarging uses Lanczos-3. Padding repeats the last row and column.
import PirecImaging
import PirecPluginKit

final class Resize: PluginState {
    let fit: Int
    let cover: Bool
    let enlarge: Bool
    let padMultiple: Int

    init(parameters: PluginParameters) {
        fit = parameters.int("fit")
        cover = parameters.bool("cover")
        enlarge = parameters.bool("enlarge")
        padMultiple = parameters.int("pad_multiple")
    }

    /// The source rectangle and the scaled size for an input of `width` x `height`.
    func plan(width: Int, height: Int) -> (source: PixelRect, width: Int, height: Int) {
        var rect = PixelRect(x: 0, y: 0, width: width, height: height)
        if cover {
            let side = min(width, height)
            rect = PixelRect(x: (width - side) / 2, y: (height - side) / 2, width: side, height: side)
        }
        let longer = max(rect.width, rect.height)
        guard longer != fit, enlarge || longer > fit else { return (rect, rect.width, rect.height) }
        let scale = Double(fit) / Double(longer)
        let w = max(1, Int((Double(rect.width) * scale).rounded()))
        let h = max(1, Int((Double(rect.height) * scale).rounded()))
        return (rect, rect.width >= rect.height ? fit : w, rect.height >= rect.width ? fit : h)
    }

    func process(_ frame: PluginFrame) throws(PluginFailure) {
        let input = try frame.require("source")
        let (rect, width, height) = plan(width: input.width, height: input.height)
        let paddedWidth = (width + padMultiple - 1) / padMultiple * padMultiple
        let paddedHeight = (height + padMultiple - 1) / padMultiple * padMultiple
        let output = try frame.newImage(width: paddedWidth, height: paddedHeight, channels: input.channels)
        let channels = input.channels
        if rect.width == width && rect.height == height {
            for y in 0..<height {
                let src = input.row(rect.y + y) + rect.x * channels, dst = output.row(y)
                for i in 0..<width * channels { dst[i] = src[i] }
            }
        } else {
            // Resample into the unpadded top-left part of the output.
            let scaled = try frame.newImage(width: width, height: height, channels: channels)
            do {
                try Resampler.resample(
                    input, rect, into: scaled,
                    filterX: width < rect.width ? .box : .lanczos3, filterY: height < rect.height ? .box : .lanczos3,
                    isCancelled: { frame.isCancelled })
            } catch {
                throw .cancelled
            }
            for y in 0..<height {
                let src = scaled.row(y), dst = output.row(y)
                for i in 0..<width * channels { dst[i] = src[i] }
            }
        }
        // Padding: repeat the last column, then the last row.
        for y in 0..<height where paddedWidth > width {
            let row = output.row(y), last = (width - 1) * channels
            for x in width..<paddedWidth { for c in 0..<channels { row[x * channels + c] = row[last + c] } }
        }
        for y in height..<paddedHeight {
            let src = output.row(height - 1), dst = output.row(y)
            for i in 0..<paddedWidth * channels { dst[i] = src[i] }
        }
        try frame.set("source", output)
        try frame.set("image", output)
    }
}
