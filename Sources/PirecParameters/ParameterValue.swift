// ParameterValue: a checked parameter value, typed; RawParameter: a value as written, before
// checking (a YAML node in the host, a JSON value in a plugin), so one checker reads both.

public enum ParameterValue: Sendable, Equatable {
    case int(Int)
    case float(Double)
    case bool(Bool)
    /// Strings, choices and paths.
    case string(String)

    /// The value as JSON.
    public var json: String {
        switch self {
        case let .int(i): String(i)
        case let .float(d): String(d)
        case let .bool(b): b ? "true" : "false"
        case let .string(s): JSONText.string(s)
        }
    }
}

public enum RawParameter: Sendable, Equatable {
    /// Scalar text; `plain` when written unquoted (YAML) or not as a JSON string.
    case scalar(String, plain: Bool)
    /// A list or a mapping, never a valid parameter value.
    case list
    case mapping

    /// How a message shows it: numbers, booleans and null as written, text in quotes.
    public var shown: String {
        switch self {
        case let .scalar(text, plain):
            if plain, RawParameter.isNull(text) { return "null" }
            if plain, Double(text) != nil || RawParameter.boolValue(text) != nil { return text }
            return "\"" + text + "\""
        case .list: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// YAML's null spellings.
    public static func isNull(_ text: String) -> Bool { ["", "~", "null", "Null", "NULL"].contains(text) }

    /// YAML 1.1's boolean spellings.
    public static func boolValue(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": false
        default: nil
        }
    }
}
