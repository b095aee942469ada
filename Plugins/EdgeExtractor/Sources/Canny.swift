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
import Glibc

struct Canny {
    var sigma: Float
    var low: Float
    var high: Float

    /// Edges of `gray` (1 on edges, 0 elsewhere) into `edges`; `gray`, `scratch` and
    /// `magnitude` (all of one size) are overwritten. Returns false when cancelled.
    func detect(_ gray: Plane, into edges: Plane, scratch: Plane, magnitude: Plane, stack: inout [Int32],
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

    /// Gaussian smoothing of `plane` in place (horizontal pass into `scratch`, vertical back).
    func smooth(_ plane: Plane, scratch: Plane) {
        let radius = Int(4 * Double(sigma) + 0.5)
        let weights = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / Double(sigma * sigma)) }
        let total = weights.reduce(0, +)
        let kernel = weights.map { Float($0 / total) }
        let w = plane.width, h = plane.height
        kernel.withUnsafeBufferPointer { k in
            for y in 0..<h { Canny.smoothRow(plane.row(y), into: scratch.row(y), count: w, kernel: k) }
            for y in 0..<h {
                let row = plane.row(y)
                if y >= radius && y + radius < h {
                    // All taps inside: symmetric pairs of rows, 8 columns at a time in registers.
                    let k0 = k[radius], centre = scratch.row(y)
                    var x = 0
                    while x + 8 <= w {
                        var sum = Float8(repeating: k0) * load8(centre + x)
                        for t in stride(from: 1, through: radius, by: 1) {
                            sum += Float8(repeating: k[radius + t]) * (load8(centre - t * w + x) + load8(centre + t * w + x))
                        }
                        store8(sum, row + x)
                        x += 8
                    }
                    while x < w {
                        var sum = k0 * centre[x]
                        for t in stride(from: 1, through: radius, by: 1) { sum += k[radius + t] * (centre[x - t * w] + centre[x + t * w]) }
                        row[x] = sum
                        x += 1
                    }
                } else {
                    // Near the top or bottom: the taps inside, renormalised.
                    let lo = max(0, y - radius), hi = min(h - 1, y + radius)
                    var inside: Float = 0
                    for j in lo...hi { inside += k[j - y + radius] }
                    for x in 0..<w { row[x] = 0 }
                    for j in lo...hi {
                        let kj = k[j - y + radius] / inside, a = scratch.row(j)
                        for x in 0..<w { row[x] += kj * a[x] }
                    }
                }
            }
        }
    }

    /// One row convolved with the symmetric kernel; near the ends only the taps inside the
    /// row count, renormalised.
    private static func smoothRow(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int,
                                  kernel k: UnsafeBufferPointer<Float>) {
        let radius = k.count / 2
        for x in 0..<count where x < radius || x + radius >= count {
            let lo = max(0, x - radius), hi = min(count - 1, x + radius)
            var sum: Float = 0, inside: Float = 0
            for j in lo...hi {
                sum += k[j - x + radius] * src[j]
                inside += k[j - x + radius]
            }
            dst[x] = sum / inside
        }
        guard count > 2 * radius else { return }
        let k0 = k[radius]
        var x = radius
        while x + 8 <= count - radius {
            var sum = Float8(repeating: k0) * load8(src + x)
            for t in stride(from: 1, through: radius, by: 1) {
                sum += Float8(repeating: k[radius + t]) * (load8(src + x - t) + load8(src + x + t))
            }
            store8(sum, dst + x)
            x += 8
        }
        while x < count - radius {
            var sum = k0 * src[x]
            for t in stride(from: 1, through: radius, by: 1) { sum += k[radius + t] * (src[x - t] + src[x + t]) }
            dst[x] = sum
            x += 1
        }
    }

    // MARK: 2. gradients

    /// Sobel of row `y` along rows (dy, skimage's `isobel`) and columns (dx, `jsobel`),
    /// borders mirrored; calls `body` with both rows.
    @inline(__always)
    private func sobelRow(_ p: Plane, _ y: Int, dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let w = p.width, h = p.height
        let up = p.row(max(y - 1, 0)), mid = p.row(y), down = p.row(min(y + 1, h - 1))
        for x in [0, w - 1] {
            let l = max(x - 1, 0), r = min(x + 1, w - 1)
            dy[x] = (down[l] + 2 * down[x] + down[r]) - (up[l] + 2 * up[x] + up[r])
            dx[x] = (up[r] + 2 * mid[r] + down[r]) - (up[l] + 2 * mid[l] + down[l])
        }
        guard w > 2 else { return }
        var x = 1
        while x + 8 <= w - 1 {
            let ul = load8(up + x - 1), uc = load8(up + x), ur = load8(up + x + 1)
            let dl = load8(down + x - 1), dc = load8(down + x), dr = load8(down + x + 1)
            store8((dl + 2 * dc + dr) - (ul + 2 * uc + ur), dy + x)
            store8((ur + 2 * load8(mid + x + 1) + dr) - (ul + 2 * load8(mid + x - 1) + dl), dx + x)
            x += 8
        }
        while x < w - 1 {
            dy[x] = (down[x - 1] + 2 * down[x] + down[x + 1]) - (up[x - 1] + 2 * up[x] + up[x + 1])
            dx[x] = (up[x + 1] + 2 * mid[x + 1] + down[x + 1]) - (up[x - 1] + 2 * mid[x - 1] + down[x - 1])
            x += 1
        }
    }

    /// Gradient magnitude of every pixel.
    func sobelMagnitude(_ p: Plane, into magnitude: Plane) {
        let w = p.width
        let dy = UnsafeMutablePointer<Float>.allocate(capacity: 2 * w)
        defer { dy.deallocate() }
        let dx = dy + w
        for y in 0..<p.height {
            sobelRow(p, y, dy: dy, dx: dx)
            let m = magnitude.row(y)
            var x = 0
            while x + 8 <= w {
                let a = load8(dy + x), b = load8(dx + x)
                store8((a * a + b * b).squareRoot(), m + x)
                x += 8
            }
            while x < w {
                m[x] = (dy[x] * dy[x] + dx[x] * dx[x]).squareRoot()
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
        let threshold = max(low, 1e-14)
        let dyRow = UnsafeMutablePointer<Float>.allocate(capacity: 2 * w)
        defer { dyRow.deallocate() }
        let dxRow = dyRow + w
        let mag = magnitude.samples
        for y in 1..<(h - 1) {
            sobelRow(smoothed, y, dy: dyRow, dx: dxRow)
            let outRow = out.row(y)
            for x in 1..<(w - 1) {
                let i = y * w + x
                let m = mag[i]
                guard m >= threshold else { continue }
                let gy = dyRow[x], gx = dxRow[x]
                // As skimage: "down" is gy <= 0 and "left" gx <= 0, so exactly one case applies.
                let isDown = gy <= 0, isLeft = gx <= 0
                let ay = abs(gy), ax = abs(gx)
                let n1a: Float, n1b: Float, n2a: Float, n2b: Float, weight: Float
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
