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

    /// Edges of `gray` into `edges` (w * h bytes: 1 on edges, 0 elsewhere); `gray` and
    /// `scratch` (of one size) are overwritten. Returns false when cancelled.
    public func detect(_ gray: Plane, into edges: UnsafeMutablePointer<UInt8>, scratch: Plane,
                       stack: inout [Int32], isCancelled: () -> Bool) -> Bool {
        var smoothed = gray
        if sigma > 0 {
            smooth(gray, into: scratch)
            smoothed = scratch
        }
        if isCancelled() { return false }
        // skimage passes the low threshold as a C float: compare with that rounding.
        let threshold = max(Sample(Float(low)), 1e-14)
        guard pirec_canny_maxima(smoothed.samples, gray.width, gray.height, threshold, high, edges) == 0 else {
            fatalError("out of memory for Canny's gradient rows (\(gray.width) wide)")
        }
        if isCancelled() { return false }
        if stack.count < gray.count { stack = [Int32](repeating: 0, count: gray.count) }
        stack.withUnsafeMutableBufferPointer { pirec_canny_hysteresis(edges, gray.width, gray.height, $0.baseAddress!) }
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

    /// Gaussian smoothing of `plane` into `smoothed`, as scipy's gaussian_filter (columns,
    /// then rows; zeros outside; each output the centre tap plus symmetric pairs, outermost
    /// first), then divided by the same filter applied to ones plus epsilon, as skimage does.
    /// Keeping scipy's order of operations keeps its exact ties, and flat art is full of them.
    func smooth(_ plane: Plane, into smoothed: Plane) {
        let k = kernel()
        let weights = columnWeights(k, height: plane.height)
        guard pirec_gaussian_blur(plane.samples, smoothed.samples, plane.width, plane.height, k, k.count - 1,
                                  weights) == 0 else {
            fatalError("out of memory for Gaussian rows (\(plane.width) wide)")
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
}
