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
// Steps 1-3 run as one C pass (CPirecImagingKernels: pirec_canny_classes) that streams rows
// through small rings of float64 rows, so no whole float64 plane is ever written.
import CPirecImagingKernels
import Glibc
import PirecImageView

public struct Canny {
    public var sigma: Double
    public var low: Double
    public var high: Double

    public init(sigma: Double, low: Double, high: Double) {
        self.sigma = sigma
        self.low = low
        self.high = high
    }

    /// Edges of `image` (1 or 3 channels) into `edges` (w * h bytes: 1 on edges, 0 elsewhere).
    /// Returns false when cancelled.
    public func detect(_ image: ImageView, into edges: UnsafeMutablePointer<UInt8>, stack: inout [Int32],
                       isCancelled: () -> Bool) -> Bool {
        let w = image.width, h = image.height
        let k = sigma > 0 ? kernel() : []
        let weights = sigma > 0 ? columnWeights(k, height: h) : []
        // skimage passes the low threshold as a C float: compare with that rounding.
        let threshold = max(Sample(Float(low)), 1e-14)
        let status = k.withUnsafeBufferPointer { kp in
            pirec_canny_classes(image.samples, image.channels, image.rowStride, w, h, sigma > 0 ? kp.baseAddress : nil,
                                max(k.count - 1, 0), weights, threshold, high, edges)
        }
        guard status == 0 else { fatalError("out of memory for Canny's rows (\(w) wide)") }
        if isCancelled() { return false }
        if stack.count < w * h { stack = [Int32](repeating: 0, count: w * h) }
        stack.withUnsafeMutableBufferPointer { pirec_canny_hysteresis(edges, w, h, $0.baseAddress!) }
        return true
    }

    /// The Gaussian weights of scipy's `_gaussian_kernel1d`, centre first: w[0] ... w[radius].
    func kernel() -> [Sample] {
        let radius = Int(4 * sigma + 0.5)
        let scale = -0.5 / (sigma * sigma)
        let phi = (-radius...radius).map { exp(scale * Sample($0 * $0)) }
        let total = phi.reduce(0, +)
        return phi[radius...].map { $0 / total }
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
}
