// Canny: scikit-image's `feature.canny`, step by step, so our edge maps are the ones
// PI-REC's networks were trained on:
//   1. Gaussian smoothing, kernel radius int(4 sigma + 0.5), zero outside the image but
//      renormalised by the weight that fell inside (skimage's "bleed-over" division).
//   2. Sobel gradients as scipy.ndimage.sobel: [-1 0 1] x [1 2 1], mirrored borders
//      (d c b a | a b c d).
//   3. Non-maximum suppression with bilinear interpolation between the two neighbours
//      along the gradient (a port of skimage's `_nonmaximum_suppression_bilinear`); the
//      outermost pixel ring is never an edge.
//   4. Hysteresis: keep 8-connected runs of maxima (all at or above `low`) that hold one at
//      or above `high`.
import CPirecKernels
import Glibc

public struct Canny {
    public var sigma: Double
    public var low: Double
    public var high: Double

    public init(sigma: Double, low: Double, high: Double) {
        self.sigma = sigma
        self.low = low
        self.high = high
    }

    /// Edges of `gray` (1 on edges, 0 elsewhere) into `edges`; `gray`, `scratch` and
    /// `magnitude` (all of one size) are overwritten. Returns false when cancelled.
    public func detect(_ gray: Plane, into edges: Plane, scratch: Plane, magnitude: Plane, stack: inout [Int32],
                isCancelled: () -> Bool) -> Bool {
        if sigma > 0 { smooth(gray, scratch: scratch) }
        if isCancelled() { return false }
        sobelMagnitude(gray, into: magnitude)
        suppress(gray, magnitude, into: scratch)
        if isCancelled() { return false }
        hysteresis(scratch, into: edges, stack: &stack)
        return true
    }

    // MARK: 1. smoothing

    /// The Gaussian weights of scipy's `_gaussian_kernel1d`, centre first: w[0] ... w[radius].
    func kernel() -> [Sample] {
        let radius = Int(4 * sigma + 0.5)
        let scale = -0.5 / (sigma * sigma)
        let phi = (-radius...radius).map { exp(scale * Sample($0 * $0)) }
        let total = phi.reduce(0, +)
        return phi[radius...].map { $0 / total }
    }

    /// Gaussian smoothing of `plane` in place, as scipy's gaussian_filter (rows first, then
    /// columns; zeros outside; each output the centre tap plus symmetric pairs, outermost
    /// first), then divided by the same filter applied to ones plus epsilon, as skimage does.
    /// Keeping scipy's order of operations keeps its exact ties, and flat art is full of them.
    func smooth(_ plane: Plane, scratch: Plane) {
        let k = kernel(), radius = k.count - 1
        let w = plane.width, h = plane.height
        let zeros = [Sample](repeating: 0, count: w)
        zeros.withUnsafeBufferPointer { zero in
            // Along columns (axis 0) into scratch: rows outside the image are zeros.
            var above = [UnsafePointer<Sample>?](repeating: nil, count: radius + 1)
            var below = above
            for y in 0..<h {
                for t in stride(from: 1, through: radius, by: 1) {
                    above[t] = y - t >= 0 ? UnsafePointer(plane.row(y - t)) : zero.baseAddress!
                    below[t] = y + t < h ? UnsafePointer(plane.row(y + t)) : zero.baseAddress!
                }
                pirec_symmetric_rows(plane.row(y), above, below, scratch.row(y), w, k, radius)
            }
        }
        // Along rows (axis 1) back into plane, through a zero-padded copy of each row.
        let padded = UnsafeMutablePointer<Sample>.allocate(capacity: w + 2 * radius)
        defer { padded.deallocate() }
        padded.initialize(repeating: 0, count: w + 2 * radius)
        let weightInside = columnWeights(k, height: h)
        // The bleed-over: the same filter on ones, which is the column weight inside the image
        // carried along the row. It depends on the row only through that weight (a few values,
        // near the top and bottom), and is the same for every column far from the edges.
        let ones = min(w, 2 * radius + 2)
        let onesRow = UnsafeMutablePointer<Sample>.allocate(capacity: ones + 2 * radius)
        let bleed = UnsafeMutablePointer<Sample>.allocate(capacity: ones)
        defer {
            onesRow.deallocate()
            bleed.deallocate()
        }
        onesRow.initialize(repeating: 0, count: ones + 2 * radius)
        var bleedWeight = Sample.nan
        for y in 0..<h {
            (padded + radius).update(from: scratch.row(y), count: w)
            Canny.correlateRow(padded + radius, into: plane.row(y), count: w, kernel: k)
            if weightInside[y] != bleedWeight {
                bleedWeight = weightInside[y]
                (onesRow + radius).update(repeating: bleedWeight, count: ones)
                Canny.correlateRow(onesRow + radius, into: bleed, count: ones, kernel: k)
            }
            let row = plane.row(y), eps = Sample.ulpOfOne
            if w <= 2 * radius + 2 {
                for x in 0..<w { row[x] /= bleed[x] + eps }
            } else {
                // bleed[0...radius] are the left columns, bleed[radius + 1] the interior; the right
                // columns mirror the left ones.
                for x in 0..<w {
                    let fromEdge = min(x, w - 1 - x)
                    row[x] /= bleed[min(fromEdge, radius + 1)] + eps
                }
            }
        }
    }

    /// The column pass applied to an image of ones, per row.
    private func columnWeights(_ k: [Sample], height h: Int) -> [Sample] {
        let radius = k.count - 1
        return (0..<h).map { y in
            var sum = k[0]
            for t in stride(from: radius, through: 1, by: -1) {
                sum += ((y - t >= 0 ? 1 : 0) + (y + t < h ? 1 : 0)) * k[t]
            }
            return sum
        }
    }

    /// One row correlated with the symmetric kernel as scipy's correlate1d does; `src` must
    /// hold `radius` readable zeros (or neighbours) on each side.
    private static func correlateRow(_ src: UnsafePointer<Sample>, into dst: UnsafeMutablePointer<Sample>, count: Int,
                                     kernel k: [Sample]) {
        pirec_symmetric_row(src, dst, count, k, k.count - 1)
    }

    // MARK: 2. gradients

    /// Sobel of row `y` as scipy.ndimage.sobel with mirrored borders: along rows (dy,
    /// skimage's `isobel`): the difference of the rows below and above, then [1 2 1] along
    /// the row; along columns (dx, `jsobel`): the difference of right and left neighbours,
    /// then [1 2 1] across the rows above and below. Same order of operations as scipy.
    @inline(__always)
    private func sobelRow(_ p: Plane, _ y: Int, dy: UnsafeMutablePointer<Sample>, dx: UnsafeMutablePointer<Sample>,
                          work: UnsafeMutablePointer<Sample>) {
        let w = p.width, h = p.height
        let up = p.row(max(y - 1, 0)), mid = p.row(y), down = p.row(min(y + 1, h - 1))
        // work[0...w+1]: vertical differences, mirrored one column each side.
        let d = work + 1
        var x = 0
        while x + 8 <= w {
            store8(load8(down + x) - load8(up + x), d + x)
            x += 8
        }
        while x < w {
            d[x] = down[x] - up[x]
            x += 1
        }
        d[-1] = d[0]
        d[w] = d[w - 1]
        x = 0
        while x + 8 <= w {
            store8(load8(d + x) * 2 + (load8(d + x - 1) + load8(d + x + 1)), dy + x)
            x += 8
        }
        while x < w {
            dy[x] = d[x] * 2 + (d[x - 1] + d[x + 1])
            x += 1
        }
        // Horizontal differences of the three rows (right minus left), mirrored at the ends.
        @inline(__always) func diff(_ row: UnsafeMutablePointer<Sample>, _ x: Int) -> Sample {
            row[min(x + 1, w - 1)] - row[max(x - 1, 0)]
        }
        for x in [0, w - 1] { dx[x] = diff(mid, x) * 2 + (diff(up, x) + diff(down, x)) }
        x = 1
        while x + 8 <= w - 1 {
            let m = load8(mid + x + 1) - load8(mid + x - 1)
            let u = load8(up + x + 1) - load8(up + x - 1)
            let b = load8(down + x + 1) - load8(down + x - 1)
            store8(m * 2 + (u + b), dx + x)
            x += 8
        }
        while x < w - 1 {
            dx[x] = diff(mid, x) * 2 + (diff(up, x) + diff(down, x))
            x += 1
        }
    }

    /// Gradient magnitude of every pixel.
    func sobelMagnitude(_ p: Plane, into magnitude: Plane) {
        let w = p.width
        let buffer = UnsafeMutablePointer<Sample>.allocate(capacity: 3 * w + 2)
        defer { buffer.deallocate() }
        let dy = buffer, dx = buffer + w, work = buffer + 2 * w
        for y in 0..<p.height {
            sobelRow(p, y, dy: dy, dx: dx, work: work)
            let m = magnitude.row(y)
            var x = 0
            while x + 8 <= w {
                let a = load8(dy + x), b = load8(dx + x)
                store8((a * a + b * b).squareRoot(), m + x)
                x += 8
            }
            while x < w {
                var sum = dy[x] * dy[x]
                sum += dx[x] * dx[x]
                m[x] = sum.squareRoot()
                x += 1
            }
        }
    }

    // MARK: 3. non-maximum suppression

    /// The magnitude where it is a local maximum along the gradient and at least `low`; 0
    /// elsewhere, the outer ring included. Gradients are recomputed per row from `smoothed`.
    func suppress(_ smoothed: Plane, _ magnitude: Plane, into out: Plane) {
        let w = smoothed.width, h = smoothed.height
        for i in 0..<out.count { out.samples[i] = 0 }
        guard w >= 3, h >= 3 else { return }
        // skimage passes the low threshold as a C float: compare with that rounding.
        let threshold = max(Sample(Float(low)), 1e-14)
        let dyRow = UnsafeMutablePointer<Sample>.allocate(capacity: 3 * w + 2)
        defer { dyRow.deallocate() }
        let dxRow = dyRow + w, work = dyRow + 2 * w
        let mag = magnitude.samples
        for y in 1..<(h - 1) {
            sobelRow(smoothed, y, dy: dyRow, dx: dxRow, work: work)
            let outRow = out.row(y)
            for x in 1..<(w - 1) {
                let i = y * w + x
                let m = mag[i]
                guard m >= threshold else { continue }
                let gy = dyRow[x], gx = dxRow[x]
                // As skimage: "down" is gy <= 0 and "left" gx <= 0, so exactly one case applies.
                let isDown = gy <= 0, isLeft = gx <= 0
                let ay = abs(gy), ax = abs(gx)
                let n1a: Sample, n1b: Sample, n2a: Sample, n2b: Sample, weight: Sample
                if isDown == isLeft {
                    // Both components of one sign: interpolate towards (+1, +1) and (-1, -1).
                    if ay > ax {
                        weight = ax / ay
                        n1a = mag[i + w]; n1b = mag[i + w + 1]; n2a = mag[i - w]; n2b = mag[i - w - 1]
                    } else {
                        weight = ay / ax
                        n1a = mag[i + 1]; n1b = mag[i + w + 1]; n2a = mag[i - 1]; n2b = mag[i - w - 1]
                    }
                } else if ay < ax {
                    weight = ay / ax
                    n1a = mag[i + 1]; n1b = mag[i - w + 1]; n2a = mag[i - 1]; n2b = mag[i + w - 1]
                } else {
                    weight = ax / ay
                    n1a = mag[i - w]; n1b = mag[i - w + 1]; n2a = mag[i + w]; n2b = mag[i + w - 1]
                }
                if n1b * weight + n1a * (1 - weight) <= m && n2b * weight + n2a * (1 - weight) <= m {
                    outRow[x] = m
                }
            }
        }
    }

    // MARK: 4. hysteresis

    func hysteresis(_ maxima: Plane, into edges: Plane, stack: inout [Int32]) {
        let w = maxima.width, h = maxima.height
        let m = maxima.samples, out = edges.samples
        for i in 0..<edges.count { out[i] = 0 }
        stack.removeAll(keepingCapacity: true)
        for seed in 0..<(w * h) where m[seed] >= high && m[seed] > 0 && out[seed] == 0 {
            out[seed] = 1
            stack.append(Int32(seed))
            while let top = stack.popLast() {
                let i = Int(top), y = i / w, x = i - y * w
                for ny in max(y - 1, 0)...min(y + 1, h - 1) {
                    for nx in max(x - 1, 0)...min(x + 1, w - 1) {
                        let j = ny * w + nx
                        if out[j] == 0 && m[j] > 0 {
                            out[j] = 1
                            stack.append(Int32(j))
                        }
                    }
                }
            }
        }
    }
}
