// ParameterSpec: one parameter a plugin takes in its step's `with:` block, declared once by
// the plugin. The same declaration builds the ABI's parameter table, checks the YAML in the
// host (ParameterTable) and gives the plugin its typed values (ParameterValues).

public struct ParameterSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case int, float, bool, string
        /// A file the plugin reads (a model): the host resolves it against `model_dir` (else
        /// the configuration's folder), hands the plugin the absolute path and records the
        /// file's SHA-256 in each job's sidecar.
        case path
    }

    public var name: String
    public var kind: Kind
    /// Numbers: the inclusive bounds.
    public var range: ClosedRange<Double>
    /// When not empty, the only values allowed, as written.
    public var choices: [String]
    /// As text, e.g. "lanczos3" or "2.5".
    public var defaultValue: String
    /// One line, for `pirec plugins` and the READMEs.
    public var description: String

    public init(_ name: String, _ kind: Kind, range: ClosedRange<Double> = 0...0, choices: [String] = [],
                default defaultValue: String, _ description: String) {
        self.name = name
        self.kind = kind
        self.range = range
        self.choices = choices
        self.defaultValue = defaultValue
        self.description = description
    }

    /// A string parameter whose values are the cases of `Choice`, in declaration order.
    public static func choice<Choice: CaseIterable & RawRepresentable>(
        _ name: String, _ type: Choice.Type, default defaultValue: Choice, _ description: String
    ) -> ParameterSpec where Choice.RawValue == String {
        ParameterSpec(name, .string, choices: Choice.allCases.map(\.rawValue), default: defaultValue.rawValue, description)
    }
}
