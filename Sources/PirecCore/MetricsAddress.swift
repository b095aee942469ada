// MetricsAddress: where pirecd serves its Prometheus metrics (`metrics:` in pirec.yaml):
// "HOST:PORT" (an IPv4 or IPv6 literal, [::1]:9464, or a name) or an absolute path for a
// unix socket. Under systemd the unit keeps its network sandbox and the socket comes from
// pirecd-metrics.socket instead (LISTEN_FDS); the key still switches the metrics on.

public enum MetricsAddress: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// The address in `text`, or why it is none.
    public static func parse(_ text: String) -> Result<MetricsAddress, ConfigMessage> {
        if text.hasPrefix("/") { return .success(.unix(path: text)) }
        guard let colon = text.lastIndex(of: ":") else {
            return .failure(ConfigMessage("expected HOST:PORT (e.g. 127.0.0.1:9464) or an absolute socket path, got \"\(text)\""))
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            return .failure(ConfigMessage("expected HOST:PORT with a port in 1...65535 (e.g. 127.0.0.1:9464), got \"\(text)\""))
        }
        return .success(.tcp(host: host, port: port))
    }

    public var description: String {
        switch self {
        case let .tcp(host, port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case let .unix(path): path
        }
    }
}

/// A problem with a value, for the configuration reader to place at its key.
public struct ConfigMessage: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
