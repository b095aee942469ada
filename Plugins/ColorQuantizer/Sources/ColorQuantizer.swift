// ColorQuantizer: PI-REC's colour domain. Per channel median blur (`median`), k-means in
// RGB to `colors` flat colours, then a small median (`final_median`) to clean the
// borders between them. Works on 8-bit values, as OpenCV does; writes 3-channel `color`.
import PirecImaging
import PirecPluginKit

final class ColorQuantizer: PluginState {
    let median: Int
    let finalMedian: Int
    let kmeans: KMeans

    init(parameters: PluginParameters) throws(PluginFailure) {
        median = parameters.int("median")
        finalMedian = parameters.int("final_median")
        for (key, value) in [("median", median), ("final_median", finalMedian)] where value % 2 == 0 {
            throw PluginFailure("\(key): expected an odd size in 1...255, got \(value)")
        }
        kmeans = KMeans(k: parameters.int("colors"), attempts: parameters.int("attempts"),
                        iterations: parameters.int("iterations"), epsilon: Float(parameters.double("epsilon")),
                        seed: UInt64(parameters.int("seed")))
    }

    func process(_ frame: PluginFrame) throws(PluginFailure) {
        let input = try frame.require("source")
        let w = input.width, h = input.height
        // 8-bit planes, gray replicated to RGB.
        var planes = [[UInt8]](repeating: [UInt8](repeating: 0, count: w * h), count: 3)
        for c in 0..<3 {
            let channel = input.channels == 1 ? 0 : c
            planes[c].withUnsafeMutableBufferPointer { plane in
                for y in 0..<h {
                    let src = input.row(y)
                    for x in 0..<w {
                        plane[y * w + x] = UInt8(min(max(src[x * input.channels + channel], 0), 1) * 255 + 0.5)
                    }
                }
            }
        }
        let blur = MedianFilter(radius: median / 2)
        for c in 0..<3 {
            if frame.isCancelled { throw PluginFailure.cancelled }
            blur.apply(&planes[c], width: w, height: h)
        }
        var packed = [UInt32](repeating: 0, count: w * h)
        for i in 0..<(w * h) { packed[i] = UInt32(planes[0][i]) << 16 | UInt32(planes[1][i]) << 8 | UInt32(planes[2][i]) }
        let table = ColorTable(packed: packed)
        guard let result = kmeans.cluster(table, isCancelled: { frame.isCancelled }) else {
            throw PluginFailure.cancelled
        }
        let palette = result.centers.map { SIMD3<UInt8>(($0.rounded(.toNearestOrAwayFromZero)).clamped(
            lowerBound: .zero, upperBound: SIMD3(repeating: 255))) }
        for i in 0..<(w * h) {
            let color = palette[Int(result.labels[Int(table.pixelColor[i])])]
            planes[0][i] = color.x
            planes[1][i] = color.y
            planes[2][i] = color.z
        }
        let clean = MedianFilter(radius: finalMedian / 2)
        for c in 0..<3 { clean.apply(&planes[c], width: w, height: h) }
        let output = try frame.newImage(width: w, height: h, channels: 3)
        for y in 0..<h {
            let dst = output.row(y)
            for x in 0..<w {
                for c in 0..<3 { dst[x * 3 + c] = Float(planes[c][y * w + x]) / 255 }
            }
        }
        try frame.set("color", output)
    }
}
