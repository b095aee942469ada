// ModelChecks: what every model loader asks of a safetensors file, once: the architecture
// named in its metadata, positive integer shape keys, and weights that are exactly the
// graph's (every tensor present with its shape, nothing else). Each refusal names the file.

extension SafeTensorsFile {
    /// Refuses a file whose metadata "arch" is missing or another network's; `hint` says how
    /// to make a right one.
    func requireArchitecture(_ expected: String, hint: String) throws(ModelError) {
        guard let arch = metadata["arch"] else {
            throw ModelError(path: path, message: "no \"arch\" in the safetensors metadata; expected \"\(expected)\" (\(hint))")
        }
        guard arch == expected else {
            throw ModelError(path: path, message: "architecture \"\(arch)\", expected \"\(expected)\"")
        }
    }

    /// The metadata value `key` as an integer in 1...4096.
    func positiveInteger(_ key: String) throws(ModelError) -> Int {
        guard let text = metadata[key], let value = Int(text), value > 0, value <= 4096 else {
            throw ModelError(path: path, message: "metadata \"\(key)\" is \(metadata[key].map { "\"\($0)\"" } ?? "missing"), "
                + "expected a positive integer")
        }
        return value
    }

    /// The graph's weights as Float32, by name; `shape` describes the network in messages
    /// ("width 8, 2 blocks").
    func weights(for graph: Graph, shape description: String) throws(ModelError) -> [String: [Float]] {
        var weights: [String: [Float]] = [:]
        for (name, shape) in graph.parameters {
            guard let entry = entries[name] else {
                throw ModelError(path: path, message: "missing tensor \(name) (expected shape \(shape) for \(description))")
            }
            guard entry.shape == shape else {
                throw ModelError(path: path, message: "tensor \(name) has shape \(entry.shape), expected \(shape) for \(description)")
            }
            weights[name] = try floats(name)
        }
        let expected = Set(graph.parameters.map(\.name))
        if let extra = entries.keys.sorted().first(where: { !expected.contains($0) }) {
            throw ModelError(path: path, message: "unexpected tensor \(extra) with shape \(entries[extra]!.shape) "
                + "(\(description) names \(expected.count) tensors)")
        }
        return weights
    }
}
