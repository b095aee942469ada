// SafeTensors: reads the safetensors format (an 8-byte little-endian header length, a JSON
// header naming each tensor's dtype, shape and byte range, then the raw data). F32, F16 and
// BF16 tensors are read into Float32; anything else is refused by name.
import Foundation

/// A problem with a model file; the message names the file.
public struct ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

public struct SafeTensorsFile: Sendable {
    public struct Entry: Sendable {
        public var dtype: String
        public var shape: [Int]
        var range: Range<Int>
    }

    public let path: String
    public let metadata: [String: String]
    public let entries: [String: Entry]
    private let data: Data

    public static let supportedTypes = ["F32": 4, "F16": 2, "BF16": 2]

    public init(path: String) throws(ModelError) {
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw ModelError(path: path, message: FileManager.default.fileExists(atPath: path)
                ? "cannot read the model file" : "no such model file")
        }
        try self.init(bytes: bytes, path: path)
    }

    /// Parses a file's bytes; `path` only names it in errors.
    public init(bytes: Data, path: String) throws(ModelError) {
        self.path = path
        let fail = { (message: String) in ModelError(path: path, message: message) }
        guard bytes.count >= 8 else { throw fail("not a safetensors file (\(bytes.count) bytes, too short for a header)") }
        let headerLength = bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength > 1, headerLength <= 100_000_000, 8 + Int(headerLength) <= bytes.count else {
            throw fail("not a safetensors file (header length \(headerLength) does not fit the file's \(bytes.count) bytes)")
        }
        let header = bytes.subdata(in: 8..<(8 + Int(headerLength)))
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw fail("not a safetensors file (its header is not a JSON object)")
        }
        let dataStart = 8 + Int(headerLength), dataLength = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in json {
            if name == "__metadata__" {
                for (k, v) in (value as? [String: Any]) ?? [:] { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = SafeTensorsFile.integers(info["shape"]),
                  let offsets = SafeTensorsFile.integers(info["data_offsets"]),
                  offsets.count == 2 else {
                throw fail("tensor \(name): malformed header entry")
            }
            guard let size = SafeTensorsFile.supportedTypes[dtype] else {
                throw fail("tensor \(name) has dtype \(dtype); supported: F32, F16, BF16")
            }
            // Checked arithmetic: a header may claim any shape.
            let count = shape.reduce(Int?(1)) { product, dim in
                guard let product, dim >= 0 else { return nil }
                let (next, overflow) = product.multipliedReportingOverflow(by: dim)
                return overflow || next > dataLength ? nil : next
            }
            guard let count else {
                throw fail("tensor \(name): shape \(shape) is not a list of sizes whose elements fit the \(dataLength) data bytes")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength,
                  offsets[1] - offsets[0] == count * size else {
                throw fail("tensor \(name): bytes \(offsets[0])..<\(offsets[1]) do not hold \(shape) \(dtype) within "
                    + "the \(dataLength) data bytes (truncated file?)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: (dataStart + offsets[0])..<(dataStart + offsets[1]))
        }
        self.metadata = metadata
        self.entries = entries
        data = bytes
    }

    /// A JSON array of whole numbers, or nil (a string, a fraction or 1e30 among them).
    static func integers(_ value: Any?) -> [Int]? {
        guard let list = value as? [Any] else { return nil }
        var result: [Int] = []
        for element in list {
            guard let number = element as? NSNumber,
                  let exact = Int(exactly: number.doubleValue), Double(exact) == number.doubleValue,
                  abs(exact) < 1 << 52 else { return nil }
            result.append(exact)
        }
        return result
    }

    /// The tensor's values as Float32.
    public func floats(_ name: String) throws(ModelError) -> [Float] {
        guard let entry = entries[name] else { throw ModelError(path: path, message: "no tensor \(name)") }
        let count = entry.shape.reduce(1, *)
        return data[entry.range].withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: count) { out, filled in
                switch entry.dtype {
                case "F32":
                    for i in 0..<count { out[i] = raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
                case "F16":
                    for i in 0..<count { out[i] = Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                default:  // BF16: the high half of a Float32
                    for i in 0..<count { out[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
                }
                filled = count
            }
        }
    }

    /// A [1, C, H, W] (or [C, H, W]) tensor.
    public func tensor(_ name: String) throws(ModelError) -> Tensor {
        guard let shape = entries[name]?.shape else { throw ModelError(path: path, message: "no tensor \(name)") }
        let dims = shape.count == 4 ? Array(shape.dropFirst()) : shape
        guard dims.count == 3, shape.count == 3 || shape[0] == 1 else {
            throw ModelError(path: path, message: "tensor \(name) has shape \(shape), expected [1, C, H, W]")
        }
        return Tensor(channels: dims[0], height: dims[1], width: dims[2], data: try floats(name))
    }
}
