// QueueSettings: the `queue:` block of pirec.yaml, which makes several pirecd hosts share
// one job queue in PostgreSQL (docs/queue.md). Parsed and checked here with the rest of the
// configuration; the connection itself is PirecQueue's. The database address is a libpq-style
// URL or keyword list; a password in it is refused (it would sit in a world-readable file and
// in `ps`), so passwords come from PGPASSFILE / ~/.pgpass or a unix-socket peer login.

public struct QueueSettings: Sendable, Equatable {
    /// Where the server listens.
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket's folder, as libpq's `host=/run/postgresql` (the file is `.s.PGSQL.PORT`).
        case socket(folder: String, port: Int)
    }

    public var address: Address
    public var user: String
    public var database: String
    /// This host's name in claims, logs and sidecars.
    public var host: String
    /// Seconds a claim lasts without renewal.
    public var lease: Int = 60
    /// Seconds between scans of the inboxes (network filesystems raise no events for files
    /// other clients write).
    public var poll: Int = 2

    public init(address: Address, user: String, database: String, host: String, lease: Int = 60, poll: Int = 2) {
        self.address = address
        self.user = user
        self.database = database
        self.host = host
        self.lease = lease
        self.poll = poll
    }

    /// The socket file for `.socket` addresses.
    public var socketPath: String? {
        if case let .socket(folder, port) = address { return folder + "/.s.PGSQL.\(port)" }
        return nil
    }

    /// The address as people read it in logs (never with a password: there is none).
    public var description: String {
        switch address {
        case let .tcp(host, port): "postgresql://\(user)@\(host):\(port)/\(database)"
        case let .socket(folder, port): "host=\(folder) port=\(port) user=\(user) dbname=\(database)"
        }
    }

    static let keys = ["postgres", "host", "lease", "poll"]

    /// Parses `postgresql://[user@]host[:port][/database]` or `key=value ...` (host, port,
    /// user, dbname); a host starting with "/" is a socket folder. A message on failure.
    public static func parseAddress(_ text: String, defaultUser: String) -> Result<QueueSettings, QueueAddressError> {
        var fields: [String: String] = [:]
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            var rest = Substring(text.drop(while: { $0 != "/" }).dropFirst(2))
            if rest.contains("?") { return .failure(.init("query parameters (?...) are not supported")) }
            if let at = rest.lastIndex(of: "@") {
                let credentials = rest[..<at]
                if credentials.contains(":") { return .failure(.password) }
                fields["user"] = String(credentials)
                rest = rest[rest.index(after: at)...]
            }
            if let slash = rest.firstIndex(of: "/") {
                fields["dbname"] = String(rest[rest.index(after: slash)...])
                rest = rest[..<slash]
            }
            if let colon = rest.lastIndex(of: ":") {
                fields["port"] = String(rest[rest.index(after: colon)...])
                rest = rest[..<colon]
            }
            fields["host"] = String(rest)
        } else {
            for word in text.split(separator: " ", omittingEmptySubsequences: true) {
                guard let eq = word.firstIndex(of: "="), eq != word.startIndex else {
                    return .failure(.init("expected key=value, got \"\(word)\""))
                }
                let key = String(word[..<eq])
                guard ["host", "port", "user", "dbname", "password"].contains(key) else {
                    return .failure(.init("unknown key \"\(key)\" (expected host, port, user, dbname)"))
                }
                fields[key] = String(word[word.index(after: eq)...])
            }
            if fields["password"] != nil { return .failure(.password) }
        }
        let host = fields["host"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/postgresql"
        guard let port = Int(fields["port"].flatMap { $0.isEmpty ? nil : $0 } ?? "5432"), (1...65535).contains(port) else {
            return .failure(.init("port must be a number in 1...65535"))
        }
        let user = fields["user"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultUser
        let database = fields["dbname"].flatMap { $0.isEmpty ? nil : $0 } ?? user
        let address: Address = host.hasPrefix("/") ? .socket(folder: host, port: port) : .tcp(host: host, port: port)
        return .success(QueueSettings(address: address, user: user, database: database, host: ""))
    }
}

public struct QueueAddressError: Error, Equatable, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }

    static let password = QueueAddressError(
        "a password in the configuration is refused (anyone who can read the file or `ps` would see it): "
            + "put it in ~/.pgpass or the file PGPASSFILE names, or use a unix-socket peer login")
}
