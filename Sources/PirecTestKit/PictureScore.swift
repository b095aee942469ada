// PictureScore: PSNR and SSIM of two pictures on their 8-bit values, as scikit-image computes
// them, for the tests that hold shipped models to their figures (the model cards report
// the same measures over the whole held-out sets).
import Foundation
import PirecCore

/// Picture scores on 8-bit values, as scikit-image computes them.
public enum PictureScore {
    public static func bytes(_ image: Image) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(image.width * image.height * 3)
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<3 { out.append((Double(image[x, y, c]) * 255).rounded()) }
            }
        }
        return out
    }

    /// PSNR in dB, the mean squared error floored at one sample off by one level (an exact
    /// picture gets a finite figure; training/upscaler_net.py's psnr does the same).
    public static func psnr(_ a: Image, _ b: Image) -> Double {
        let (x, y) = (bytes(a), bytes(b))
        let squared = zip(x, y).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let mse = squared / Double(x.count)
        return 10 * log10(255 * 255 / max(mse, 1 / Double(x.count)))
    }

    /// `skimage.metrics.structural_similarity(a, b, data_range=255, channel_axis=-1)`: 7x7
    /// uniform windows, sample covariances, K1 0.01, K2 0.03, the mean over the pixels at
    /// least 3 from the border (where the window needs no padding) and over the channels.
    public static func ssim(_ a: Image, _ b: Image) -> Double {
        let (x, y) = (bytes(a), bytes(b))
        let w = a.width, h = a.height, r = 3
        let n = Double((2 * r + 1) * (2 * r + 1))
        let (c1, c2) = ((0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255))
        var total = 0.0
        for c in 0..<3 {
            for py in r..<(h - r) {
                for px in r..<(w - r) {
                    var (sx, sy, sxx, syy, sxy) = (0.0, 0.0, 0.0, 0.0, 0.0)
                    for qy in (py - r)...(py + r) {
                        for qx in (px - r)...(px + r) {
                            let (u, v) = (x[(qy * w + qx) * 3 + c], y[(qy * w + qx) * 3 + c])
                            sx += u; sy += v; sxx += u * u; syy += v * v; sxy += u * v
                        }
                    }
                    let (mx, my) = (sx / n, sy / n)
                    let norm = n / (n - 1)
                    let vx = norm * (sxx / n - mx * mx), vy = norm * (syy / n - my * my)
                    let vxy = norm * (sxy / n - mx * my)
                    total += (2 * mx * my + c1) * (2 * vxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))
                }
            }
        }
        return total / Double(3 * (w - 2 * r) * (h - 2 * r))
    }
}
