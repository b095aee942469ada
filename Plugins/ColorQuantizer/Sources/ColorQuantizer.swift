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
            throw PluginFailure("expected an odd size in 1...255, got \(value)", key: key)
        }
        kmeans = KMeans(k: parameters.int("colors"), attempts: parameters.int("attempts"),
                        iterations: parameters.int("iterations"), epsilon: Float(parameters.double("epsilon")),
                        seed: UInt64(parameters.int("seed")))
    }

    func process(_ frame: PluginFrame) throws(PluginFailure) {
        let input = try frame.require("source")
        let w = input.width, h = input.height, n = w * h
        // 8-bit planes R, G, B (gray repeated), as OpenCV works.
        var planes = [[UInt8]](repeating: [UInt8](repeating: 0, count: n), count: 3)
        for c in 0..<3 {
            let channel = input.channels == 1 ? 0 : c, stride = input.channels
            planes[c].withUnsafeMutableBufferPointer { plane in
                for y in 0..<h {
                    let src = input.row(y) + channel, dst = plane.baseAddress! + y * w
                    for x in 0..<w { dst[x] = UInt8(min(max(src[x * stride], 0), 1) * 255 + 0.5) }
                }
            }
        }
        let blur = MedianFilter(radius: median / 2)
        for c in 0..<3 {
            if frame.isCancelled { throw PluginFailure.cancelled }
            blur.apply(&planes[c], width: w, height: h)
        }
        let packed = [UInt32](unsafeUninitializedCapacity: n) { buffer, count in
            planes[0].withUnsafeBufferPointer { r in
                planes[1].withUnsafeBufferPointer { g in
                    planes[2].withUnsafeBufferPointer { b in
                        for i in 0..<n { buffer[i] = UInt32(r[i]) << 16 | UInt32(g[i]) << 8 | UInt32(b[i]) }
                    }
                }
            }
            count = n
        }
        let table = ColorTable(packed: packed)
        guard let result = kmeans.cluster(table, isCancelled: { frame.isCancelled }) else {
            throw PluginFailure.cancelled
        }
        let palette = result.centers.map {
            SIMD3<UInt8>($0.rounded(.toNearestOrAwayFromZero).clamped(lowerBound: .zero, upperBound: SIMD3(repeating: 255)))
        }
        // Each pixel's colour: its distinct colour's cluster's centre.
        let colorOf = table.pixelColor, labels = result.labels
        for c in 0..<3 {
            planes[c].withUnsafeMutableBufferPointer { plane in
                for i in 0..<n { plane[i] = palette[Int(labels[Int(colorOf[i])])][c] }
            }
        }
        let clean = MedianFilter(radius: finalMedian / 2)
        for c in 0..<3 { clean.apply(&planes[c], width: w, height: h) }
        let output = try frame.newImage(width: w, height: h, channels: 3)
        let scale = 1 / Float(255)
        for c in 0..<3 {
            planes[c].withUnsafeBufferPointer { plane in
                for y in 0..<h {
                    let dst = output.row(y) + c, src = plane.baseAddress! + y * w
                    for x in 0..<w { dst[x * 3] = Float(src[x]) * scale }
                }
            }
        }
        try frame.set("color", output)
    }
}
