// JournalLogHandler: swift-log lines on stderr with sd-daemon priority prefixes ("<3>" error,
// "<4>" warning, "<5>" notice, "<6>" info, "<7>" debug), which journald turns into levels.
// The message stays fixed; the file, pipeline and so on follow as key=value metadata.
import Glibc
import Logging
import PirecCore
import PirecParameters

public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    public init(label: String) {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: return 2
        case .error: return 3
        case .warning: return 4
        case .notice: return 5
        case .info: return 6
        case .debug, .trace: return 7
        }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message, extra = event.metadata
        var all = metadata
        if let extra { all.merge(extra) { $1 } }
        var text = "<\(JournalLogHandler.priority(level))>\(message)"
        for key in all.keys.sorted() {
            let value = "\(all[key]!)"
            let quoted = value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || value.isEmpty
            text += " \(key)=" + (quoted ? JSONText.string(value) : value)
        }
        // One write per line, so lines from worker threads never interleave.
        let bytes = Array((text.replacingNewlines() + "\n").utf8)
        bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}

extension String {
    func replacingNewlines() -> String { split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " | ") }
}
