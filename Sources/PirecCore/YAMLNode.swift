// YAMLNode: a YAML document parsed by the system libyaml into a tree that keeps each
// node's line and column, so configuration errors can point at the exact place.
import CLibYAML
import Glibc
import PirecParameters

/// A place in a source file, 1-based.
public struct SourceMark: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

public indirect enum YAMLValue: Equatable, Sendable {
    /// `quoted` is true for '...', "..." and block scalars: never a number, bool or null.
    case scalar(String, quoted: Bool)
    case sequence([YAMLNode])
    case mapping([(key: YAMLNode, value: YAMLNode)])

    public static func == (a: YAMLValue, b: YAMLValue) -> Bool {
        switch (a, b) {
        case let (.scalar(x, qx), .scalar(y, qy)): return x == y && qx == qy
        case let (.sequence(x), .sequence(y)): return x == y
        case let (.mapping(x), .mapping(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

public struct YAMLNode: Equatable, Sendable {
    public var value: YAMLValue
    public var mark: SourceMark

    /// How messages show the node (RawParameter's rule: numbers, booleans and null as
    /// written, text in quotes).
    public var shortDescription: String { raw.shown }

    /// The node as the parameter checker takes it.
    var raw: RawParameter {
        switch value {
        case let .scalar(text, quoted): .scalar(text, plain: !quoted)
        case .sequence: .list
        case .mapping: .mapping
        }
    }

    public var scalarText: String? {
        if case let .scalar(text, _) = value { return text }
        return nil
    }
}

public enum YAMLParser {
    /// Parses one YAML document. An empty document gives an empty mapping.
    /// Throws one error with the file, line and column of the syntax problem.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> YAMLNode {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        let document = UnsafeMutablePointer<yaml_document_t>.allocate(capacity: 1)
        defer {
            parser.deallocate()
            document.deallocate()
        }
        guard yaml_parser_initialize(parser) == 1 else {
            throw ConfigError(mark: SourceMark(file: file, line: 1, column: 1), path: "", message: "out of memory")
        }
        defer { yaml_parser_delete(parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (buffer) throws(ConfigError) -> YAMLNode in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            guard yaml_parser_load(parser, document) == 1 else {
                let p = parser.pointee
                let problem = p.problem.map { String(cString: $0) } ?? "syntax error"
                let context = p.context.map { " " + String(cString: $0) } ?? ""
                let mark = p.problem_mark
                throw ConfigError(
                    mark: SourceMark(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1),
                    path: "", message: "YAML syntax error: \(problem)\(context)")
            }
            defer { yaml_document_delete(document) }
            guard let root = yaml_document_get_root_node(document) else {
                return YAMLNode(value: .mapping([]), mark: SourceMark(file: file, line: 1, column: 1))
            }
            var budget = maxNodes
            return try convert(root, document: document, file: file, depth: 0, budget: &budget)
        }
    }

    /// Nodes a document may expand to, its aliases followed: far beyond any configuration,
    /// far below what an alias bomb or an alias to its own ancestor makes (the configuration
    /// fuzzer's find: 2 aliases a level, 64 levels deep).
    static let maxNodes = 100_000

    private static func convert(_ node: UnsafeMutablePointer<yaml_node_t>, document: UnsafeMutablePointer<yaml_document_t>,
                                file: String, depth: Int, budget: inout Int) throws(ConfigError) -> YAMLNode {
        let n = node.pointee
        let mark = SourceMark(file: file, line: Int(n.start_mark.line) + 1, column: Int(n.start_mark.column) + 1)
        budget -= 1
        guard budget >= 0 else {
            throw ConfigError(mark: mark, path: "", message: "the document expands to more than \(maxNodes) nodes "
                + "through its aliases (an alias to its own ancestor, or aliases of aliases)")
        }
        // Aliases can make a document a cycle-free but deep graph; cap the depth.
        guard depth < 64 else { return YAMLNode(value: .scalar("", quoted: true), mark: mark) }
        switch n.type {
        case YAML_SCALAR_NODE:
            let text = String(decoding: UnsafeBufferPointer(start: n.data.scalar.value, count: n.data.scalar.length),
                              as: UTF8.self)
            let quoted = n.data.scalar.style != YAML_PLAIN_SCALAR_STYLE
            return YAMLNode(value: .scalar(text, quoted: quoted), mark: mark)
        case YAML_SEQUENCE_NODE:
            var items: [YAMLNode] = []
            var item = n.data.sequence.items.start
            while let current = item, current != n.data.sequence.items.top {
                if let child = yaml_document_get_node(document, current.pointee) {
                    items.append(try convert(child, document: document, file: file, depth: depth + 1, budget: &budget))
                }
                item = current + 1
            }
            return YAMLNode(value: .sequence(items), mark: mark)
        case YAML_MAPPING_NODE:
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            var pair = n.data.mapping.pairs.start
            while let current = pair, current != n.data.mapping.pairs.top {
                if let key = yaml_document_get_node(document, current.pointee.key),
                   let value = yaml_document_get_node(document, current.pointee.value) {
                    pairs.append((try convert(key, document: document, file: file, depth: depth + 1, budget: &budget),
                                  try convert(value, document: document, file: file, depth: depth + 1, budget: &budget)))
                }
                pair = current + 1
            }
            return YAMLNode(value: .mapping(pairs), mark: mark)
        default:
            return YAMLNode(value: .scalar("", quoted: false), mark: mark)
        }
    }
}
