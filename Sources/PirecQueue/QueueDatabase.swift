// QueueDatabase: the PostgreSQL connection pool (postgres-nio's PostgresClient) for code on
// plain threads, as the daemon's loop and its workers are: `blocking` runs one async
// operation and waits for it, at most `timeout` (the pool waits for a connection without
// end while the server is down; the queue must hear "unavailable" instead). The pool runs
// in its own task from `init` to `close`. Every task here runs on a thread of the
// database's own (ThreadExecutor), never on Swift's cooperative pool.
import Dispatch
import Glibc
import Logging
import PirecCore
import PostgresNIO
import Synchronization

public final class QueueDatabase: Sendable {
    public let client: PostgresClient
    let logger: Logger
    /// How long one operation may wait for the server.
    let timeout: Duration
    private let runner: Task<Void, Never>
    private let executor = ThreadExecutor(name: "pirec-queue-db")

    public init(configuration: PostgresClient.Configuration, logger: Logger, timeout: Duration = .seconds(10)) {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.timeout = timeout
        runner = Task(executorPreference: executor) { await client.run() }
    }

    deinit { executor.stop() }

    /// The pool for a `queue:` block; the password, if the server asks for one, comes from
    /// PGPASSFILE or ~/.pgpass (`environment` is the process's).
    public convenience init(settings: QueueSettings, environment: [String: String], logger: Logger,
                            timeout: Duration = .seconds(10)) {
        let password = PGPass.password(for: settings, environment: environment)
        var configuration: PostgresClient.Configuration
        switch settings.address {
        case let .tcp(host, port):
            configuration = .init(host: host, port: port, username: settings.user, password: password,
                                  database: settings.database, tls: .disable)
        case .socket:
            configuration = .init(unixSocketPath: settings.socketPath!, username: settings.user, password: password,
                                  database: settings.database)
        }
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 8
        self.init(configuration: configuration, logger: logger, timeout: timeout)
    }

    /// Closes every connection; calls after it fail.
    public func close() {
        runner.cancel()
        _ = try? blocking { _ in await self.runner.value }
    }

    /// Runs `body` on the pool and waits for its result, throwing `QueueUnavailable` after
    /// `timeout`. Call it from a thread that is not the database's own (it blocks the
    /// calling thread).
    public func blocking<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) throws -> T {
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        let (client, timeout) = (client, timeout)
        Task(executorPreference: executor) {
            let result: Result<T, any Error>
            do {
                result = .success(try await withThrowingTaskGroup(of: T.self) { group in
                    group.addTask { try await body(client) }
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        throw QueueUnavailable(reason: "no answer from the database within \(timeout)")
                    }
                    defer { group.cancelAll() }
                    return try await group.next()!
                })
            } catch {
                result = .failure(error)
            }
            outcome.result.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.result.withLock { $0! }.get()
    }

    private final class Outcome<T: Sendable>: Sendable {
        let result = Mutex<Result<T, any Error>?>(nil)
    }
}

/// The database did not answer in time (down, unreachable, or every connection busy).
public struct QueueUnavailable: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// libpq's password file: `host:port:database:user:password` lines, `*` matching anything,
/// `\` escaping `:` and `\`; ignored unless only its owner may read it (as libpq does).
enum PGPass {
    static func password(for settings: QueueSettings, environment: [String: String]) -> String? {
        let path = environment["PGPASSFILE"] ?? environment["HOME"].map { $0 + "/.pgpass" }
        guard let path, let bytes = try? FileIO.readAll(path: path, maxBytes: 1 << 20) else { return nil }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o077 == 0 else { return nil }
        let (host, port): (String, Int) = switch settings.address {
        case let .tcp(host, port): (host, port)
        case let .socket(_, port): ("localhost", port)
        }
        let wanted = [host, "\(port)", settings.database, settings.user]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = split(line)
            guard fields.count == 5 else { continue }
            if zip(fields, wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    private static func split(_ line: Substring) -> [String] {
        var fields = [""]
        var escaped = false
        for c in line {
            if escaped {
                fields[fields.count - 1].append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == ":" {
                fields.append("")
            } else {
                fields[fields.count - 1].append(c)
            }
        }
        return fields
    }
}
