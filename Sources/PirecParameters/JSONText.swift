// JSONText: JSON written by hand where the order and spacing of the text matter (sidecars,
// job-log lines, the parameters handed to plugins): string escaping and objects with sorted
// keys.

public enum JSONText {
    /// `text` as a JSON string literal.
    public static func string(_ text: String) -> String {
        var out = "\""
        for unit in text.unicodeScalars {
            switch unit {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if unit.value < 0x20 {
                    let hex = String(unit.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(unit)
                }
            }
        }
        return out + "\""
    }

    /// An object of already-encoded values, keys sorted, written `{"a":1,"b":"x"}` (compact)
    /// or `{"a": 1, "b": "x"}` (spaced).
    public static func object(_ fields: [String: String], spaced: Bool = false) -> String {
        let (colon, comma) = spaced ? (": ", ", ") : (":", ",")
        return "{" + fields.keys.sorted().map { string($0) + colon + fields[$0]! }.joined(separator: comma) + "}"
    }
}
