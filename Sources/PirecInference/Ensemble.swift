// Ensemble: test-time augmentation for the PI-REC networks (waifu2x's "TTA"). The networks
// were trained on pictures and their mirror images, so the picture they make of the
// mirrored input, mirrored back, is as good a guess as the first; their mean is better
// than either (models/emoji/MODEL_CARD.md has the figures) at twice the time.

public enum Ensemble: String, Sendable, CaseIterable {
    /// One pass.
    case none
    /// The mean of the pass on the input and the pass on its left-right mirror image.
    case flip
}

extension Tensor {
    /// The left-right mirror image: column x becomes column W - 1 - x.
    func mirrored() -> Tensor {
        Tensor(channels: channels, height: height, width: width) { out in
            data.withUnsafeBufferPointer { input in
                for row in 0..<(channels * height) {
                    let base = row * width
                    for x in 0..<width { out[base + x] = input[base + width - 1 - x] }
                }
            }
        }
    }
}

extension GeneratorModel {
    /// `run` with test-time augmentation; nil if cancelled.
    public func run(_ input: Tensor, ensemble: Ensemble, threads: Int = 1, threading: Threading = .engine,
                    isCancelled: () -> Bool = { false }) -> Tensor? {
        guard var out = run(input, threads: threads, threading: threading, isCancelled: isCancelled) else { return nil }
        switch ensemble {
        case .none:
            return out
        case .flip:
            guard let other = run(input.mirrored(), threads: threads, threading: threading, isCancelled: isCancelled)
            else { return nil }
            let back = other.mirrored()
            back.data.withUnsafeBufferPointer { b in
                out.data.withUnsafeMutableBufferPointer { o in for i in 0..<o.count { o[i] = (o[i] + b[i]) / 2 } }
            }
            return out
        }
    }
}
