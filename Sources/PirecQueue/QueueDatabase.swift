// QueueDatabase: the PostgreSQL connection pool (postgres-nio's PostgresClient) for code on
// plain threads, as the daemon's loop and its workers are: `blocking` runs one async
// operation and waits for it, at most `timeout` (the pool waits for a connection without
// end while the server is down; the queue must hear "unavailable" instead). The pool runs
// in its own task until `close`; an operation that does not answer in time leaves its pool
// behind for a fresh one (see `blocking`). Every task here runs on a thread of the
// database's own (ThreadExecutor), never on Swift's cooperative pool.
import Dispatch
import Glibc
import Logging
import PirecCore
import PostgresNIO
import Synchronization

public final class QueueDatabase: Sendable {
    let logger: Logger
    /// How long one operation may wait for the server.
    let timeout: Duration
    private let configuration: PostgresClient.Configuration
    private let executor = ThreadExecutor(name: "pirec-queue-db")
    /// The pool operations go to; replaced when one of them got no answer in time.
    private let pool: Mutex<Pool>

    /// One PostgresClient and the task that runs it.
    private struct Pool: Sendable {
        let client: PostgresClient
        let runner: Task<Void, Never>
        /// Set by `close`: no fresh pool replaces this one.
        var closed = false
    }

    public init(configuration: PostgresClient.Configuration, logger: Logger, timeout: Duration = .seconds(10)) {
        self.configuration = configuration
        self.logger = logger
        self.timeout = timeout
        pool = Mutex(Self.start(configuration, logger: logger, on: executor))
    }

    deinit { executor.stop() }

    private static func start(_ configuration: PostgresClient.Configuration, logger: Logger,
                              on executor: ThreadExecutor) -> Pool {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return Pool(client: client, runner: Task(executorPreference: executor) { await client.run() })
    }

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
        let runner = pool.withLock { state in
            state.closed = true
            return state.runner
        }
        runner.cancel()
        _ = try? blocking { _ in await runner.value }  // closed: a timeout here starts no pool
    }

    /// `timeout` from now.
    private var deadline: DispatchTime {
        let (seconds, attoseconds) = timeout.components
        return .now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }

    /// Runs `body` on the pool and waits for its result, throwing `QueueUnavailable` after
    /// `timeout`. Call it from a thread that is not the database's own (it blocks the
    /// calling thread).
    ///
    /// The wait is bounded here, on the calling thread, and not by a timer racing the
    /// operation in a task group: a group waits for all its children, and after a server
    /// restart under load postgres-nio's pool was seen to leave an operation suspended for
    /// good, deaf to cancellation, with the host's only dispatcher thread waiting on it.
    /// Such a pool gets no more work: the operation is cancelled and left behind with it,
    /// and a fresh pool takes over (during a real outage that is one new, empty pool per
    /// timeout: cheap).
    public func blocking<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) throws -> T {
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        let current = pool.withLock { $0 }
        let operation = Task(executorPreference: executor) {
            let result: Result<T, any Error>
            do { result = .success(try await body(current.client)) } catch { result = .failure(error) }
            outcome.result.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: deadline) == .success else {
            operation.cancel()
            let replaced = pool.withLock { state -> Pool? in
                guard state.client === current.client, !state.closed else { return nil }  // replaced already
                defer { state = Self.start(configuration, logger: logger, on: executor) }
                return state
            }
            replaced?.runner.cancel()
            throw QueueUnavailable(reason: "no answer from the database within \(timeout)")
        }
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
