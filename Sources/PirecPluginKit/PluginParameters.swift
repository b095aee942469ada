// PluginParameters: the step's `with:` block (JSON text from the host), checked against the
// plugin's ParameterSpec list, with each spec's default filling what the user left out.
import Foundation

public struct PluginParameters: Sendable {
    private enum Value: Decodable, Sendable {
        case bool(Bool), int(Int), double(Double), string(String), other

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let i = try? c.decode(Int.self) { self = .int(i) }
            else if let d = try? c.decode(Double.self) { self = .double(d) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else { self = .other }
        }

        var text: String {
            switch self {
            case let .bool(b): return String(b)
            case let .int(i): return String(i)
            case let .double(d): return String(d)
            case let .string(s): return "\"\(s)\""
            case .other: return "a list or mapping"
            }
        }
    }

    private var values: [String: Value] = [:]
    private let specs: [ParameterSpec]

    /// Parses and checks `json`. The error lists every problem, each as `key: problem`.
    public init(json: String, specs: [ParameterSpec]) throws(PluginFailure) {
        self.specs = specs
        let decoded: [String: Value]
        do { decoded = try JSONDecoder().decode([String: Value].self, from: Data(json.utf8)) } catch {
            throw PluginFailure("parameters are not a JSON object: \(json.prefix(200))")
        }
        var problems: [String] = []
        for key in decoded.keys.sorted() {
            guard let spec = specs.first(where: { $0.name == key }) else {
                problems.append("\(key): unknown parameter (known: \(specs.map(\.name).joined(separator: ", ")))")
                continue
            }
            let value = decoded[key]!
            if let problem = PluginParameters.problem(value, spec) { problems.append("\(key): \(problem)") }
        }
        guard problems.isEmpty else { throw PluginFailure(problems.joined(separator: "; ")) }
        values = decoded
    }

    private static func problem(_ value: Value, _ spec: ParameterSpec) -> String? {
        let got = value.text
        func bounds(_ what: String) -> String {
            "expected \(what) in \(format(spec.range.lowerBound))...\(format(spec.range.upperBound)), got \(got)"
        }
        if !spec.choices.isEmpty {
            let text: String?
            switch (spec.kind, value) {
            case let (.string, .string(s)): text = s
            case let (.int, .int(i)): text = String(i)
            default: text = nil
            }
            guard let text, spec.choices.contains(text) else {
                return "expected \(spec.choices.joined(separator: " or ")), got \(got)"
            }
            return nil
        }
        switch (spec.kind, value) {
        case let (.int, .int(i)): return spec.range.contains(Double(i)) ? nil : bounds("an integer")
        case (.int, _): return bounds("an integer")
        case let (.float, .int(i)): return spec.range.contains(Double(i)) ? nil : bounds("a number")
        case let (.float, .double(d)): return spec.range.contains(d) ? nil : bounds("a number")
        case (.float, _): return bounds("a number")
        case (.bool, .bool): return nil
        case (.bool, _): return "expected true or false, got \(got)"
        case (.string, .string): return nil
        case (.string, _): return "expected a string, got \(got)"
        }
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private func spec(_ name: String) -> ParameterSpec {
        guard let spec = specs.first(where: { $0.name == name }) else {
            preconditionFailure("parameter \(name) is not declared in the plugin's spec")
        }
        return spec
    }

    public func int(_ name: String) -> Int {
        if case let .int(i)? = values[name] { return i }
        return Int(spec(name).defaultValue) ?? 0
    }

    public func double(_ name: String) -> Double {
        switch values[name] {
        case let .int(i)?: return Double(i)
        case let .double(d)?: return d
        default: return Double(spec(name).defaultValue) ?? 0
        }
    }

    public func bool(_ name: String) -> Bool {
        if case let .bool(b)? = values[name] { return b }
        return spec(name).defaultValue == "true"
    }

    public func string(_ name: String) -> String {
        if case let .string(s)? = values[name] { return s }
        return spec(name).defaultValue
    }
}

/// A plugin's failure message, returned to the host through the ABI's error buffer.
public struct PluginFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var status: Int32

    public init(_ message: String, status: Int32 = 1) {
        self.message = message
        self.status = status
    }

    public static let cancelled = PluginFailure("cancelled", status: 2)

    public var description: String { message }
}
