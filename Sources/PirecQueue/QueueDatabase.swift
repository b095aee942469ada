// QueueDatabase: the PostgreSQL connection pool (postgres-nio's PostgresClient) for code on
// plain threads, as the daemon's loop and its workers are: `blocking` runs one async
// operation and waits for it. The pool runs in its own task from `init` to `close`.
import Dispatch
import Logging
import PostgresNIO
import Synchronization

public final class QueueDatabase: Sendable {
    public let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    public init(configuration: PostgresClient.Configuration, logger: Logger) {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// Closes every connection; calls after it fail.
    public func close() {
        runner.cancel()
        _ = try? blocking { _ in await self.runner.value }
    }

    /// Runs `body` on the pool and waits for its result. Call it from a thread that is not
    /// one of Swift concurrency's (it blocks the calling thread).
    public func blocking<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) throws -> T {
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        let client = client
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await body(client)) } catch { result = .failure(error) }
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
