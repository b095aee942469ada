// Executor: runs a Graph on one input with a set of weights, one operation after the
// other, keeping only the tensors still needed (the current one and pending residuals).

public struct Executor {
    public let graph: Graph
    /// Weights by name (Float32, PyTorch layouts).
    let weights: [String: [Float]]
    /// Winograd-transformed weights of the 3x3 stride-1 convolutions, by conv name, made once.
    let winogradWeights: [String: WinogradConv3x3.Weights]
    /// With bf16 products: the weights of the products that run as im2col (convolutions) or
    /// columns (transposed convolutions) rounded to bfloat16, by name, where their inner
    /// dimension is even (as the kernel pairs it).
    let bf16Weights: [String: [UInt16]]
    /// The (transposed) convolutions whose output goes straight into an instance norm: their
    /// bias is not added, since the norm subtracts each channel's mean, bias and all.
    let normalized: Set<String>

    /// `precision` fp32 or bf16 (resolved): what the matrix products compute in (bf16: the
    /// im2col products and the F(2x2) Winograd products; F(4x4)'s stay fp32, see
    /// WinogradConv3x3.Weights).
    public init(graph: Graph, weights: [String: [Float]], precision: Precision = .fp32) {
        self.graph = graph
        self.weights = weights
        var transformed: [String: WinogradConv3x3.Weights] = [:], rounded: [String: [UInt16]] = [:]
        for op in graph.ops {
            switch op {
            case let .conv(name, outChannels, kernel, stride, _, _, _):
                guard let w = weights[name + ".weight"] else { continue }
                if kernel == 3 && stride == 1 {
                    transformed[name] = WinogradConv3x3.Weights(w, outChannels: outChannels,
                                                                inChannels: w.count / (9 * outChannels), precision: precision)
                }
                if precision == .bf16 && (w.count / outChannels) % 2 == 0 {
                    rounded[name] = BF16.round(w)  // [Cout][Cin kH kW]: the product's A as it is
                }
            case let .convTranspose(name, outChannels, kernel, _, _):
                guard precision == .bf16, let w = weights[name + ".weight"] else { continue }
                let m = outChannels * kernel * kernel, inChannels = w.count / m
                guard inChannels % 2 == 0 else { continue }
                // [Cin][Cout k k] -> its transpose [Cout k k][Cin], the product's A.
                rounded[name] = BF16.round((0..<(m * inChannels)).map { w[($0 % inChannels) * m + $0 / inChannels] })
            default:
                continue
            }
        }
        winogradWeights = transformed
        bf16Weights = rounded
        normalized = Set(zip(graph.ops, graph.ops.dropFirst()).compactMap { op, next in
            guard case .instanceNorm = next else { return nil }
            switch op {
            case let .conv(name, _, _, _, _, _, _), let .convTranspose(name, _, _, _, _): return name
            default: return nil
            }
        })
    }

    /// A convolution's bias, or none where an instance norm cancels it.
    private func bias(_ name: String) -> [Float] { normalized.contains(name) ? [] : weights[name + ".bias"]! }

    /// Runs the graph on `threads` threads: the engine's own loops, and the matrix products
    /// split by the engine or by OpenBLAS (`threading`; OpenBLAS's setting is process-wide).
    /// `isCancelled` is polled between operations; nil means cancelled.
    public func run(_ input: Tensor, threads: Int = 1, threading: Threading = .engine,
                    isCancelled: () -> Bool = { false }) -> Tensor? {
        BLAS.setThreads(threading == .engine ? 1 : threads)
        var x = input
        var residuals: [Tensor] = []
        for op in graph.ops {
            if isCancelled() { return nil }
            switch op {
            case let .conv(name, outChannels, kernel, stride, padding, dilation, reflect):
                let conv = Conv2D(outChannels: outChannels, kernel: kernel, stride: stride, padding: padding,
                                  dilation: dilation, paddingMode: reflect ? .reflect : .zeros)
                x = conv.apply(x, weight: weights[name + ".weight"]!, bias: bias(name), threads: threads,
                               threading: threading, winograd: winogradWeights[name], bf16Weight: bf16Weights[name])
            case let .convTranspose(name, outChannels, kernel, stride, padding):
                let conv = ConvTranspose2D(outChannels: outChannels, kernel: kernel, stride: stride, padding: padding)
                x = conv.apply(x, weight: weights[name + ".weight"]!, bias: bias(name), threads: threads,
                               threading: threading, bf16Weight: bf16Weights[name])
            case let .instanceNorm(relu):
                InstanceNorm.apply(&x, relu: relu, threads: threads)
            case .relu:
                Activations.relu(&x)
            case .upsample2x:
                x = UpsampleBilinear.apply(x, threads: threads)
            case .pushResidual:
                residuals.append(x)
            case .addResidual:
                Activations.add(&x, residuals.removeLast())
            case let .addResidualRepeated(times):
                Activations.addRepeated(&x, residuals.removeLast(), times: times)
            case let .depthToSpace(scale):
                x = DepthToSpace.apply(x, scale: scale, threads: threads)
            case .tanhToUnit:
                Activations.tanhToUnit(&x)
            case .clampUnit:
                Activations.clampUnit(&x)
            }
        }
        return x
    }
}
