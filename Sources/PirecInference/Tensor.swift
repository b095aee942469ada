// Tensor: a batch-1 NCHW float32 array, the only value that flows between operations.
// Shape legend used across the engine: C channels, H rows, W columns (N is always 1).

public struct Tensor: Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var data: [Float]

    public init(channels: Int, height: Int, width: Int, data: [Float]) {
        precondition(data.count == channels * height * width, "tensor data does not match its shape")
        self.channels = channels
        self.height = height
        self.width = width
        self.data = data
    }

    /// A tensor of zeros.
    public init(channels: Int, height: Int, width: Int) {
        self.init(channels: channels, height: height, width: width,
                  data: [Float](repeating: 0, count: channels * height * width))
    }

    /// A tensor whose samples the caller fills completely (no zeroing).
    init(channels: Int, height: Int, width: Int, filling: (UnsafeMutableBufferPointer<Float>) -> Void) {
        self.channels = channels
        self.height = height
        self.width = width
        data = [Float](unsafeUninitializedCapacity: channels * height * width) { buffer, count in
            filling(buffer)
            count = buffer.count
        }
    }

    public var plane: Int { height * width }

    public var shapeDescription: String { "[1, \(channels), \(height), \(width)]" }
}

extension Tensor {
    /// The rows and columns given, every channel.
    func crop(rows: Range<Int>, columns: Range<Int>) -> Tensor {
        Tensor(channels: channels, height: rows.count, width: columns.count) { out in
            data.withUnsafeBufferPointer { input in
                var target = 0
                for c in 0..<channels {
                    for y in rows {
                        let source = (c * height + y) * width + columns.lowerBound
                        for x in 0..<columns.count { out[target + x] = input[source + x] }
                        target += columns.count
                    }
                }
            }
        }
    }
}
