// Graph: what a network computes, as a list of operations with the weights they name,
// built once from the architecture and separate from running it (Executor.swift).

public enum Op: Sendable {
    case conv(weights: String, outChannels: Int, kernel: Int, stride: Int, padding: Int, dilation: Int,
              reflect: Bool)
    case convTranspose(weights: String, outChannels: Int, kernel: Int, stride: Int, padding: Int)
    case instanceNorm(relu: Bool)
    case relu
    case upsample2x
    /// Remember the current tensor for a later `addResidual` or `addResidualRepeated`.
    case pushResidual
    case addResidual
    /// Adds the remembered [C, H, W] tensor to each of `times` consecutive channels of the
    /// current [C * times, H, W] one (Activations.addRepeated).
    case addResidualRepeated(times: Int)
    case depthToSpace(scale: Int)
    case tanhToUnit
    case clampUnit
}

public struct Graph: Sendable {
    public var ops: [Op]
    /// Every weight the graph names, with its shape: "encoder.1.weight" -> [W, 4, 7, 7].
    public var parameters: [(name: String, shape: [Int])]

    /// PI-REC's generator (and refiner): width W, B residual blocks. Tensor names are those
    /// of PI-REC's G_Generator state_dict. Reflection pads are folded into the convolutions
    /// that follow them.
    public static func generator(width w: Int, blocks: Int, inputChannels: Int = 4) -> Graph {
        var ops: [Op] = []
        var parameters: [(String, [Int])] = []
        func conv(_ name: String, _ cin: Int, _ cout: Int, _ k: Int, stride: Int = 1, padding: Int = 0,
                  dilation: Int = 1, reflect: Bool) {
            ops.append(.conv(weights: name, outChannels: cout, kernel: k, stride: stride, padding: padding,
                             dilation: dilation, reflect: reflect))
            parameters += [("\(name).weight", [cout, cin, k, k]), ("\(name).bias", [cout])]
        }
        // encoder: pad 3, conv 7x7; conv 4x4 s2 p1; conv 4x4 s2 p1; each with IN + ReLU.
        conv("encoder.1", inputChannels, w, 7, padding: 3, reflect: true)
        ops.append(.instanceNorm(relu: true))
        conv("encoder.4", w, 2 * w, 4, stride: 2, padding: 1, reflect: false)
        ops.append(.instanceNorm(relu: true))
        conv("encoder.7", 2 * w, 4 * w, 4, stride: 2, padding: 1, reflect: false)
        ops.append(.instanceNorm(relu: true))
        // middle: x + [pad 2, conv 3x3 dilation 2, IN, ReLU, pad 1, conv 3x3, IN].
        for i in 0..<blocks {
            ops.append(.pushResidual)
            conv("middle.\(i).conv_block.1", 4 * w, 4 * w, 3, padding: 2, dilation: 2, reflect: true)
            ops.append(.instanceNorm(relu: true))
            conv("middle.\(i).conv_block.5", 4 * w, 4 * w, 3, padding: 1, reflect: true)
            ops.append(.instanceNorm(relu: false))
            ops.append(.addResidual)
        }
        // decoder: upsample x2, pad 1, conv 3x3, IN, ReLU; convT 4x4 s2 p1, IN, ReLU; pad 3, conv 7x7.
        ops.append(.upsample2x)
        conv("decoder.2", 4 * w, 2 * w, 3, padding: 1, reflect: true)
        ops.append(.instanceNorm(relu: true))
        ops.append(.convTranspose(weights: "decoder.5", outChannels: w, kernel: 4, stride: 2, padding: 1))
        parameters += [("decoder.5.weight", [2 * w, w, 4, 4]), ("decoder.5.bias", [w])]
        ops.append(.instanceNorm(relu: true))
        conv("decoder.9", w, 3, 7, padding: 3, reflect: true)
        ops.append(.tanhToUnit)
        return Graph(ops: ops, parameters: parameters)
    }

    /// pirec's learned upscaler (training/upscaler_net.py): width W, B residual blocks, scale
    /// S. Every layer is a 3x3 convolution with reflection padding 1, so each output pixel
    /// sees `upscalerReceptiveRadius(blocks:)` low-resolution pixels around it.
    public static func upscaler(scale: Int, width w: Int, blocks: Int) -> Graph {
        var ops: [Op] = []
        var parameters: [(String, [Int])] = []
        func conv(_ name: String, _ cin: Int, _ cout: Int) {
            ops.append(.conv(weights: name, outChannels: cout, kernel: 3, stride: 1, padding: 1, dilation: 1,
                             reflect: true))
            parameters += [("\(name).weight", [cout, cin, 3, 3]), ("\(name).bias", [cout])]
        }
        ops.append(.pushResidual)  // the input, enlarged by nearest neighbour at the end
        conv("head", 3, w)
        ops.append(.pushResidual)  // the head's features, added back after the body
        for i in 0..<blocks {
            ops.append(.pushResidual)
            conv("body.\(i).conv1", w, w)
            ops.append(.relu)
            conv("body.\(i).conv2", w, w)
            ops.append(.addResidual)
        }
        ops.append(.addResidual)
        conv("tail", w, 3 * scale * scale)
        ops += [.addResidualRepeated(times: scale * scale), .depthToSpace(scale: scale), .clampUnit]
        return Graph(ops: ops, parameters: parameters)
    }

    /// How far (in input pixels) an upscaler's output depends on its input: one pixel per
    /// 3x3 layer (head, two per block, tail).
    public static func upscalerReceptiveRadius(blocks: Int) -> Int { 2 * blocks + 2 }
}
