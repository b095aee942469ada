// Canny: scikit-image's `feature.canny`, step by step, so our edge maps are the ones
// PI-REC's networks were trained on:
//   1. Gaussian smoothing, kernel radius int(4 sigma + 0.5), zero outside the image but
//      renormalised by the weight that fell inside (skimage's "bleed-over" division).
//   2. Sobel gradients as scipy.ndimage.sobel: [-1 0 1] x [1 2 1], mirrored borders
//      (d c b a | a b c d).
//   3. Non-maximum suppression with bilinear interpolation between the two neighbours
//      along the gradient; the outermost pixel ring is never an edge.
//   4. Hysteresis: keep 8-connected runs of maxima above `low` that touch one at or above `high`.
import Glibc

struct Canny {
    var sigma: Float
    var low: Float
    var high: Float

    func detect(_ gray: Plane, isCancelled: () -> Bool) -> Plane? {
        let smoothed = sigma > 0 ? gaussian(gray) : gray
        if isCancelled() { return nil }
        let (dy, dx, magnitude) = sobel(smoothed)
        if isCancelled() { return nil }
        let maxima = suppress(dy, dx, magnitude, width: gray.width, height: gray.height)
        return hysteresis(maxima, width: gray.width, height: gray.height)
    }

    // MARK: 1. smoothing

    func gaussian(_ input: Plane) -> Plane {
        let radius = Int(4 * Double(sigma) + 0.5)
        var kernel = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / Double(sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        let k = kernel.map(Float.init)
        let w = input.width, h = input.height
        var across = Plane(width: w, height: h)
        var out = Plane(width: w, height: h)
        k.withUnsafeBufferPointer { k in
            input.samples.withUnsafeBufferPointer { src in
                across.samples.withUnsafeMutableBufferPointer { dst in
                    for y in 0..<h {
                        Canny.convolve(src.baseAddress! + y * w, stride: 1, count: w,
                                       into: dst.baseAddress! + y * w, kernel: k, radius: radius)
                    }
                }
            }
            across.samples.withUnsafeBufferPointer { src in
                out.samples.withUnsafeMutableBufferPointer { dst in
                    // Vertical pass row by row: each output row is a weighted sum of input rows.
                    for y in 0..<h {
                        let lo = max(0, y - radius), hi = min(h - 1, y + radius)
                        var inside: Float = 0
                        for j in lo...hi { inside += k[j - y + radius] }
                        let row = dst.baseAddress! + y * w
                        for x in 0..<w { row[x] = 0 }
                        for j in lo...hi {
                            let weight = k[j - y + radius] / inside
                            let s = src.baseAddress! + j * w
                            for x in 0..<w { row[x] += weight * s[x] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// One row (or column, with `stride`) convolved with a symmetric kernel; near the ends
    /// only the taps inside count, renormalised.
    private static func convolve(_ src: UnsafePointer<Float>, stride: Int, count: Int, into dst: UnsafeMutablePointer<Float>,
                                 kernel k: UnsafeBufferPointer<Float>, radius: Int) {
        for x in 0..<count where x < radius || x + radius >= count {
            let lo = max(0, x - radius), hi = min(count - 1, x + radius)
            var sum: Float = 0, inside: Float = 0
            for j in lo...hi {
                sum += k[j - x + radius] * src[j * stride]
                inside += k[j - x + radius]
            }
            dst[x * stride] = sum / inside
        }
        guard count > 2 * radius else { return }
        for x in radius..<(count - radius) { dst[x * stride] = 0 }
        for t in 0...(2 * radius) {
            let weight = k[t]
            let offset = t - radius
            for x in radius..<(count - radius) { dst[x * stride] += weight * src[(x + offset) * stride] }
        }
    }

    // MARK: 2. gradients

    /// Sobel along rows (dy, skimage's `isobel`) and columns (dx, `jsobel`), and the magnitude.
    func sobel(_ p: Plane) -> ([Float], [Float], [Float]) {
        let w = p.width, h = p.height
        var dy = [Float](repeating: 0, count: w * h)
        var dx = dy, magnitude = dy
        p.samples.withUnsafeBufferPointer { s in
            for y in 0..<h {
                let up = s.baseAddress! + max(y - 1, 0) * w
                let mid = s.baseAddress! + y * w
                let down = s.baseAddress! + min(y + 1, h - 1) * w
                for x in 0..<w {
                    let l = max(x - 1, 0), r = min(x + 1, w - 1)
                    let gy = (down[l] + 2 * down[x] + down[r]) - (up[l] + 2 * up[x] + up[r])
                    let gx = (up[r] + 2 * mid[r] + down[r]) - (up[l] + 2 * mid[l] + down[l])
                    dy[y * w + x] = gy
                    dx[y * w + x] = gx
                    magnitude[y * w + x] = (gy * gy + gx * gx).squareRoot()
                }
            }
        }
        return (dy, dx, magnitude)
    }

    // MARK: 3. non-maximum suppression

    /// The magnitude where it is a local maximum along the gradient and at least `low`; 0 elsewhere.
    func suppress(_ dy: [Float], _ dx: [Float], _ magnitude: [Float], width w: Int, height h: Int) -> [Float] {
        var out = [Float](repeating: 0, count: w * h)
        guard w >= 3, h >= 3 else { return out }
        magnitude.withUnsafeBufferPointer { mag in
            for y in 1..<(h - 1) {
                for x in 1..<(w - 1) {
                    let i = y * w + x
                    let m = mag[i]
                    guard m >= low else { continue }
                    let gy = dy[i], gx = dx[i]
                    let isUp = gy >= 0, isDown = gy <= 0, isRight = gx >= 0, isLeft = gx <= 0
                    let ay = abs(gy), ax = abs(gx)
                    // Gradient in the 1st/3rd quadrant (rows down, columns right both the same sign).
                    if (isUp && isRight) || (isDown && isLeft) {
                        let n1a: Float, n1b: Float, n2a: Float, n2b: Float, weight: Float
                        if ay > ax {
                            weight = ax / ay
                            n1a = mag[i + w]; n1b = mag[i + w + 1]; n2a = mag[i - w]; n2b = mag[i - w - 1]
                        } else {
                            weight = ay / ax
                            n1a = mag[i + 1]; n1b = mag[i + w + 1]; n2a = mag[i - 1]; n2b = mag[i - w - 1]
                        }
                        if n1b * weight + n1a * (1 - weight) <= m && n2b * weight + n2a * (1 - weight) <= m {
                            out[i] = m
                            continue
                        }
                    }
                    if (isDown && isRight) || (isUp && isLeft) {
                        let n1a: Float, n1b: Float, n2a: Float, n2b: Float, weight: Float
                        if ay < ax {
                            weight = ay / ax
                            n1a = mag[i + 1]; n1b = mag[i - w + 1]; n2a = mag[i - 1]; n2b = mag[i + w - 1]
                        } else {
                            weight = ax / ay
                            n1a = mag[i - w]; n1b = mag[i - w + 1]; n2a = mag[i + w]; n2b = mag[i + w - 1]
                        }
                        if n1b * weight + n1a * (1 - weight) <= m && n2b * weight + n2a * (1 - weight) <= m {
                            out[i] = m
                        }
                    }
                }
            }
        }
        return out
    }

    // MARK: 4. hysteresis

    func hysteresis(_ maxima: [Float], width w: Int, height h: Int) -> Plane {
        var edges = Plane(width: w, height: h)
        var stack: [Int] = []
        edges.samples.withUnsafeMutableBufferPointer { out in
            maxima.withUnsafeBufferPointer { m in
                for seed in 0..<(w * h) where m[seed] >= high && m[seed] > low && out[seed] == 0 {
                    out[seed] = 1
                    stack.append(seed)
                    while let i = stack.popLast() {
                        let y = i / w, x = i - y * w
                        for ny in max(y - 1, 0)...min(y + 1, h - 1) {
                            for nx in max(x - 1, 0)...min(x + 1, w - 1) {
                                let j = ny * w + nx
                                if out[j] == 0 && m[j] > low {
                                    out[j] = 1
                                    stack.append(j)
                                }
                            }
                        }
                    }
                }
            }
        }
        return edges
    }
}
