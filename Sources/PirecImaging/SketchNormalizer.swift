// SketchNormalizer: a user's drawing as PI-REC's networks expect edges: white lines (1) on
// black (0). Paper is the majority of a sketch, so when the median sample is light the
// lines are dark and the drawing is inverted first; then it is binarised at `threshold`.

public struct SketchNormalizer {
    public enum Polarity: String, Sendable, CaseIterable { case auto, dark, light }

    public var threshold: Sample
    /// The colour of the lines: `dark` (on light paper), `light` (on dark), or `auto`.
    public var lines: Polarity

    public init(threshold: Sample, lines: Polarity) {
        self.threshold = threshold
        self.lines = lines
    }

    /// Normalises `sketch` in place.
    public func normalize(_ sketch: Plane) {
        let invert: Bool
        switch lines {
        case .dark: invert = true
        case .light: invert = false
        case .auto: invert = SketchNormalizer.median(sketch) > 0.5
        }
        for i in 0..<sketch.count {
            let v = invert ? 1 - sketch.samples[i] : sketch.samples[i]
            sketch.samples[i] = v > threshold ? 1 : 0
        }
    }

    /// The median of samples in [0, 1], from a 256-bin histogram.
    static func median(_ plane: Plane) -> Sample {
        var counts = [Int](repeating: 0, count: 256)
        for i in 0..<plane.count { counts[Int((min(max(plane.samples[i], 0), 1) * 255).rounded())] += 1 }
        var seen = 0
        for (bin, n) in counts.enumerated() {
            seen += n
            if seen * 2 > plane.count { return Sample(bin) / 255 }
        }
        return 1
    }
}
