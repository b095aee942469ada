// Graph: what a network computes, as a list of operations with the weights they name,
// built once from the architecture and separate from running it (Executor.swift).

public enum Op: Sendable {
    case conv(weights: String, outChannels: Int, kernel: Int, stride: Int, padding: Int, dilation: Int,
              reflect: Bool)
    case convTranspose(weights: String, outChannels: Int, kernel: Int, stride: Int, padding: Int)
    case instanceNorm(relu: Bool)
    case upsample2x
    /// Remember the current tensor for a later `addResidual`.
    case pushResidual
    case addResidual
    case tanhToUnit
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
}
