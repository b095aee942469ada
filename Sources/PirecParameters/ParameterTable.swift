// ParameterTable: the one checker of `with:` values against a plugin's declarations. The
// host runs it on the YAML (so errors carry file:line:column) and hands the plugin the
// complete, normalised values as JSON; the plugin kit runs the same checks on that JSON,
// which then cannot fail, and reads typed values from it.
import Foundation

public struct ParameterTable: Sendable {
    public let specs: [ParameterSpec]

    public init(_ specs: [ParameterSpec]) { self.specs = specs }

    /// One thing wrong with the values, at the entry it concerns.
    public struct Problem: Sendable, Equatable {
        public enum Subject: Sendable, Equatable {
            /// The key itself: unknown, or given twice.
            case key
            case value
        }

        /// Index of the entry in what was checked.
        public var index: Int
        public var key: String
        public var subject: Subject
        public var message: String
    }

    /// Checks `entries` (key and value as written, in order); `owner` names the plugin in
    /// messages. The values come back for the keys given and valid.
    public func check(_ entries: [(key: String, value: RawParameter)], owner: String)
        -> (values: [String: ParameterValue], problems: [Problem])
    {
        var values: [String: ParameterValue] = [:]
        var problems: [Problem] = []
        var seen: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let fail = { (subject: Problem.Subject, message: String) in
                problems.append(Problem(index: index, key: entry.key, subject: subject, message: message))
            }
            guard let spec = specs.first(where: { $0.name == entry.key }) else {
                let known = specs.isEmpty ? "it takes none" : "known: " + specs.map(\.name).joined(separator: ", ")
                fail(.key, "unknown parameter for plugin \(owner) (\(known))")
                continue
            }
            guard seen.insert(entry.key).inserted else {
                fail(.key, "duplicate key")
                continue
            }
            switch ParameterTable.value(entry.value, spec) {
            case let .success(value): values[entry.key] = value
            case let .failure(problem): fail(.value, problem.message)
            }
        }
        return (values, problems)
    }

    /// Every declared parameter: `given` over the defaults.
    public func complete(_ given: [String: ParameterValue]) -> [String: ParameterValue] {
        var all = given
        for spec in specs where all[spec.name] == nil {
            if case let .success(value) = ParameterTable.value(.scalar(spec.defaultValue, plain: spec.kind != .string
                && spec.kind != .path), spec) {
                all[spec.name] = value
            } else {
                all[spec.name] = .string(spec.defaultValue)
            }
        }
        return all
    }

    /// `values` as the JSON object handed to `create`: keys sorted, no spaces.
    public static func json(_ values: [String: ParameterValue]) -> String {
        JSONText.object(values.mapValues(\.json))
    }

    /// The entries of a JSON object, as `check` takes them; nil when `json` is not an object.
    public static func entries(json: String) -> [(key: String, value: RawParameter)]? {
        guard let decoded = try? JSONDecoder().decode([String: JSONValue].self, from: Data(json.utf8)) else { return nil }
        return decoded.keys.sorted().map { ($0, decoded[$0]!.raw) }
    }

    private struct Refusal: Error { var message: String }

    private static func value(_ raw: RawParameter, _ spec: ParameterSpec) -> Result<ParameterValue, Refusal> {
        let got = raw.shown
        let refuse = { (message: String) in Result<ParameterValue, Refusal>.failure(Refusal(message: message)) }
        guard case let .scalar(text, plain) = raw else {
            switch spec.kind {
            case .int: return refuse("expected an integer in \(bounds(spec)), got \(got)")
            case .float: return refuse("expected a number in \(bounds(spec)), got \(got)")
            case .bool: return refuse("expected true or false, got \(got)")
            case .string, .path:
                return refuse(spec.choices.isEmpty ? "expected a string, got \(got)" : "expected \(alternatives(spec.choices)), got \(got)")
            }
        }
        if !spec.choices.isEmpty {
            let numeric = spec.kind == .int || spec.kind == .float
            guard spec.choices.contains(text), !numeric || plain else {
                return refuse("expected \(alternatives(spec.choices)), got \(got)")
            }
        }
        switch spec.kind {
        case .int:
            guard plain, let value = Int(text) else { return refuse("expected an integer in \(bounds(spec)), got \(got)") }
            guard spec.range.contains(Double(value)) else { return refuse("expected an integer in \(bounds(spec)), got \(value)") }
            return .success(.int(value))
        case .float:
            guard plain, let value = Double(text), value.isFinite else {
                return refuse("expected a number in \(bounds(spec)), got \(got)")
            }
            guard spec.range.contains(value) else { return refuse("expected a number in \(bounds(spec)), got \(text)") }
            return .success(.float(value))
        case .bool:
            guard plain, let value = RawParameter.boolValue(text) else { return refuse("expected true or false, got \(got)") }
            return .success(.bool(value))
        case .string, .path:
            guard !plain || !RawParameter.isNull(text) else { return refuse("expected a string, got \(got)") }
            return .success(.string(text))
        }
    }

    private static func bounds(_ spec: ParameterSpec) -> String { "\(format(spec.range.lowerBound))...\(format(spec.range.upperBound))" }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// "a", "a or b", "a, b or c".
    public static func alternatives(_ choices: [String]) -> String {
        guard choices.count > 1 else { return choices.first ?? "nothing" }
        return choices.dropLast().joined(separator: ", ") + " or " + choices.last!
    }
}

/// A JSON value as a plugin receives it.
private enum JSONValue: Decodable {
    case scalar(String, plain: Bool), list, mapping

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .scalar("null", plain: true) }
        else if let b = try? c.decode(Bool.self) { self = .scalar(b ? "true" : "false", plain: true) }
        else if let i = try? c.decode(Int.self) { self = .scalar(String(i), plain: true) }
        else if let d = try? c.decode(Double.self) { self = .scalar(String(d), plain: true) }
        else if let s = try? c.decode(String.self) { self = .scalar(s, plain: false) }
        else if (try? c.decode([JSONValue].self)) != nil { self = .list }
        else { self = .mapping }
    }

    var raw: RawParameter {
        switch self {
        case let .scalar(text, plain): .scalar(text, plain: plain)
        case .list: .list
        case .mapping: .mapping
        }
    }
}
