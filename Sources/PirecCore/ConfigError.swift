// ConfigError: one configuration problem at a file:line:column and key path. Readers
// collect every problem in a run and throw them together as `ConfigErrors`.
import PirecParameters

public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var mark: SourceMark
    /// Key path such as `pipelines[0].chain[2].with.scale`; empty for file-level problems.
    public var path: String
    public var message: String

    public init(mark: SourceMark, path: String, message: String) {
        self.mark = mark
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? "\(mark): \(message)" : "\(mark): \(path): \(message)" }
}

public struct ConfigErrors: Error, Equatable, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]

    /// Keeps the errors in file order (line, then column), whatever order they were found in.
    public init(_ errors: [ConfigError]) {
        self.errors = errors.enumerated().sorted {
            ($0.element.mark.line, $0.element.mark.column, $0.offset) < ($1.element.mark.line, $1.element.mark.column, $1.offset)
        }.map(\.element)
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Reads typed values out of YAML nodes, recording a `ConfigError` for each problem and
/// returning nil, so that validation goes on and one run reports everything.
struct ConfigReader {
    var errors: [ConfigError] = []

    mutating func fail(_ node: YAMLNode, _ path: String, _ message: String) {
        errors.append(ConfigError(mark: node.mark, path: path, message: message))
    }

    /// The mapping's entries by key; reports a non-mapping, unknown keys and duplicates.
    mutating func mapping(_ node: YAMLNode, _ path: String, known: [String]) -> [String: YAMLNode]? {
        guard case let .mapping(pairs) = node.value else {
            fail(node, path, "expected a mapping, got \(node.shortDescription)")
            return nil
        }
        var entries: [String: YAMLNode] = [:]
        for (key, value) in pairs {
            let name = key.scalarText ?? ""
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            guard key.scalarText != nil else {
                fail(key, path, "keys must be plain words, got \(key.shortDescription)")
                continue
            }
            if entries[name] != nil {
                fail(key, keyPath, "duplicate key")
            } else if !known.contains(name) {
                fail(key, keyPath, "unknown key (known keys: \(known.joined(separator: ", ")))")
            } else {
                entries[name] = value
            }
        }
        return entries
    }

    mutating func list(_ node: YAMLNode, _ path: String) -> [YAMLNode]? {
        guard case let .sequence(items) = node.value else {
            fail(node, path, "expected a list, got \(node.shortDescription)")
            return nil
        }
        return items
    }

    mutating func string(_ node: YAMLNode, _ path: String) -> String? {
        guard case let .scalar(text, quoted) = node.value, quoted || !RawParameter.isNull(text) else {
            fail(node, path, "expected a string, got \(node.shortDescription)")
            return nil
        }
        return text
    }

    mutating func int(_ node: YAMLNode, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard case let .scalar(text, false) = node.value, let value = Int(text) else {
            fail(node, path, "expected an integer in \(range.lowerBound)...\(range.upperBound), got \(node.shortDescription)")
            return nil
        }
        guard range.contains(value) else {
            fail(node, path, "expected an integer in \(range.lowerBound)...\(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    mutating func bool(_ node: YAMLNode, _ path: String) -> Bool? {
        guard case let .scalar(text, false) = node.value, let value = RawParameter.boolValue(text) else {
            fail(node, path, "expected true or false, got \(node.shortDescription)")
            return nil
        }
        return value
    }

    mutating func choice(_ node: YAMLNode, _ path: String, _ choices: [String]) -> String? {
        guard case let .scalar(text, _) = node.value, choices.contains(text) else {
            fail(node, path, "expected \(ParameterTable.alternatives(choices)), got \(node.shortDescription)")
            return nil
        }
        return text
    }
}
