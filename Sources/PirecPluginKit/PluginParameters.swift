// PluginParameters: a Swift plugin's `with:` values, typed. The host hands `create` the
// complete, checked values as JSON; they are read back through the same checker the host
// ran (ParameterTable), so what the declarations enforce is never checked again here.
@_exported import PirecParameters

public struct PluginParameters: Sendable {
    private let values: [String: ParameterValue]

    /// Parses `json` against `table`; a problem (only possible from a host that did not
    /// check) names its key.
    public init(json: String, table: ParameterTable, owner: String) throws(PluginFailure) {
        guard let entries = ParameterTable.entries(json: json) else {
            throw PluginFailure("parameters are not a JSON object: \(json.prefix(200))")
        }
        let (given, problems) = table.check(entries, owner: owner)
        if let problem = problems.first { throw PluginFailure(problem.message, key: problem.key) }
        values = table.complete(given)
    }

    private func value(_ name: String) -> ParameterValue {
        guard let value = values[name] else { preconditionFailure("parameter \(name) is not declared in the plugin's spec") }
        return value
    }

    public func int(_ name: String) -> Int {
        guard case let .int(i) = value(name) else { preconditionFailure("parameter \(name) is not an int") }
        return i
    }

    public func double(_ name: String) -> Double {
        switch value(name) {
        case let .float(d): return d
        case let .int(i): return Double(i)
        default: preconditionFailure("parameter \(name) is not a number")
        }
    }

    public func bool(_ name: String) -> Bool {
        guard case let .bool(b) = value(name) else { preconditionFailure("parameter \(name) is not a bool") }
        return b
    }

    /// Strings and paths (a path comes absolute from the host).
    public func string(_ name: String) -> String {
        guard case let .string(s) = value(name) else { preconditionFailure("parameter \(name) is not a string") }
        return s
    }

    /// A choice declared with `ParameterSpec.choice(name, Choice.self, ...)`.
    public func choice<Choice: RawRepresentable>(_ name: String, as type: Choice.Type = Choice.self) -> Choice
        where Choice.RawValue == String
    {
        guard let choice = Choice(rawValue: string(name)) else { preconditionFailure("parameter \(name): not a \(Choice.self)") }
        return choice
    }
}

/// A plugin's failure message, returned to the host through the ABI's error buffer; `key`
/// names the `with:` parameter it is about (the host gets it through refuse_parameter).
public struct PluginFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var key: String?
    public var status: Int32

    public init(_ message: String, key: String? = nil, status: Int32 = 1) {
        self.message = message
        self.key = key
        self.status = status
    }

    public static let cancelled = PluginFailure("cancelled", status: 2)

    public var description: String { key.map { "\($0): \(message)" } ?? message }
}
