// The shared queue's SQL on a real PostgreSQL (a throw-away server from Debian's package):
// migrations run by several hosts at once and from an old schema, every job claimed exactly
// once by many concurrent claimers, a lapsed lease taken over (and the old holder's result
// refused), a job given up after max_attempts, calls that answer while every thread of
// Swift's cooperative pool is blocked, and a call that never answers given up in time.
import Foundation
import Logging
import PirecQueue
import PirecTestKit
import PostgresNIO
import Synchronization
import Testing

@Suite(.serialized) struct JobTableTests {
    let server: PostgresTestServer
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    init() throws { server = try PostgresTestServer() }

    /// A pool on the test's server; a minute per query, since `make test` runs suites side
    /// by side on two cores (pirecd's 10 s are for a database that should answer at once).
    func database() -> QueueDatabase {
        QueueDatabase(configuration: .init(unixSocketPath: server.socketPath, username: server.user, password: nil,
                                           database: server.database), logger: logger, timeout: .seconds(60))
    }

    /// Runs `body` on `count` threads at once; returns what each returned.
    func together<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let results = Mutex<[Int: Result<T, any Error>]>([:])
        let start = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        for i in 0..<count {
            Thread {
                start.wait()
                let r = Result { try body(i) }
                results.withLock { $0[i] = r }
                done.signal()
            }.start()
        }
        for _ in 0..<count { start.signal() }
        for _ in 0..<count { done.wait() }
        return try results.withLock { r in try (0..<count).map { try r[$0]!.get() } }
    }

    /// Runs `body` on a plain thread, as the daemon calls the queue.
    func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Makes a lapsed lease, as a host that died holding it leaves (no waiting).
    func lapse(_ db: QueueDatabase, _ id: Int64) throws {
        _ = try db.blocking { client in
            try await client.query("UPDATE pirec_jobs SET lease_until = now() - interval '1 second' WHERE id = \(id)")
        }
    }

    @Test func threeHostsMigrateAtTheSameInstant() async throws {
        try await onThread { [self] in
            let dbs = (0..<3).map { _ in database() }
            defer { dbs.forEach { $0.close() } }
            let found = try together(3) { try QueueSchema.migrate(dbs[$0]) }
            #expect(found.sorted() == [0, QueueSchema.current, QueueSchema.current], "one migrated, the others waited")
            #expect(try QueueSchema.version(dbs[0]) == QueueSchema.current)
        }
    }

    /// Every thread of Swift's cooperative pool blocked (as synchronous plugins or tests can
    /// block them): the queue's calls still answer, since they run on the database's own thread.
    @Test func databaseCallsNeedNoThreadOfTheCooperativePool() throws {
        let db = database()
        defer { db.close() }
        let release = DispatchSemaphore(value: 0), count = ProcessInfo.processInfo.activeProcessorCount
        // At most 10 s, so tests running beside this one are held up no longer than that.
        for _ in 0..<count { Task.detached { _ = release.wait(timeout: .now() + 10) } }
        defer { for _ in 0..<count { release.signal() } }
        let started = ContinuousClock.now
        #expect(try QueueSchema.migrate(db) == 0)
        #expect(try QueueSchema.version(db) == QueueSchema.current)
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    /// An operation that never answers and does not heed cancellation (postgres-nio's pool
    /// left one so after a server restart under load, and the host's dispatcher waited on it
    /// for good) holds its caller for the timeout only; the next operation is answered.
    @Test func anOperationThatNeverAnswersHoldsItsCallerForTheTimeoutOnly() throws {
        let db = QueueDatabase(configuration: .init(unixSocketPath: server.socketPath, username: server.user,
                                                    password: nil, database: server.database),
                               logger: logger, timeout: .seconds(2))
        defer { db.close() }
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let released = DispatchSemaphore(value: 0)
        Thread {
            let result = Result { try db.blocking { _ in await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in } } }
            outcome.withLock { $0 = result }
            released.signal()
        }.start()
        // 2 s is the timeout; 30 s only so that a loaded machine does not fail it.
        try #require(released.wait(timeout: .now() + 30) == .success, "the caller is still held")
        #expect(throws: QueueUnavailable.self) { try outcome.withLock { $0! }.get() }
        #expect(try QueueSchema.migrate(db) == 0)
        #expect(try QueueSchema.version(db) == QueueSchema.current)
    }

    @Test func anOldSchemaIsMigrated() async throws {
        try await onThread { [self] in
            let db = database()
            defer { db.close() }
            #expect(try QueueSchema.version(db) == 0)
            try QueueSchema.migrate(db, to: 1)
            let table = JobTable(database: db, host: "a", leaseSeconds: 60)
            try table.ingest(pipeline: "p", key: "old.png", identity: "1", inputs: ["source": "old.png"])
            #expect(try QueueSchema.migrate(db) == 1)
            #expect(try QueueSchema.version(db) == QueueSchema.current)
            // The job from before the migration is still there and claimable.
            #expect(try table.claim(pipelines: ["p"], maxAttempts: 2) != nil)
        }
    }

    @Test func everyJobIsClaimedExactlyOnceByConcurrentClaimers() async throws {
        try await onThread { [self] in
            let db = database()
            defer { db.close() }
            try QueueSchema.migrate(db)
            let hosts = (0..<3).map { JobTable(database: db, host: "host-\($0)", leaseSeconds: 60) }
            for i in 0..<300 {
                #expect(try hosts[i % 3].ingest(pipeline: "p", key: "f\(i).png", identity: "42:\(i)", inputs: ["source": "f\(i).png"]) == .added)
            }
            // The same files seen again by another host (or the next scan): nothing new.
            #expect(try hosts[1].ingest(pipeline: "p", key: "f7.png", identity: "42:7", inputs: ["source": "f7.png"]) != .added)
            let claimed = try together(9) { worker -> [Int64] in
                var ids: [Int64] = []
                let table = hosts[worker % 3]
                while case let .run(claim)? = try table.claim(pipelines: ["p"], maxAttempts: 2) {
                    #expect(try table.finish(claim, outputs: ["out/\(claim.id).png"], publish: {}))
                    ids.append(claim.id)
                }
                return ids
            }
            let all = claimed.flatMap { $0 }
            #expect(all.count == 300 && Set(all).count == 300)
            #expect(try hosts[0].counts() == ["p": ["done": 300]])
        }
    }

    @Test func aLapsedLeaseIsTakenOverAndTheOldResultRefused() async throws {
        try await onThread { [self] in
            let db = database()
            defer { db.close() }
            try QueueSchema.migrate(db)
            let a = JobTable(database: db, host: "a", leaseSeconds: 60), b = JobTable(database: db, host: "b", leaseSeconds: 60)
            try a.ingest(pipeline: "p", key: "x.png", identity: "1", inputs: ["source": "x.png"])
            guard case let .run(first)? = try a.claim(pipelines: ["p"], maxAttempts: 3) else { Issue.record("no claim"); return }
            #expect(try b.claim(pipelines: ["p"], maxAttempts: 3) == nil, "held by a")
            #expect(try a.renew(first))
            try lapse(db, first.id)
            guard case let .run(second)? = try b.claim(pipelines: ["p"], maxAttempts: 3) else { Issue.record("no takeover"); return }
            #expect(second.id == first.id && second.token == 2 && second.starts == 0 && second.inputs == ["source": "x.png"])
            #expect(try !a.renew(first) && !a.start(first) && !a.finish(first, outputs: ["x.png"], publish: {}), "a's claim is gone")
            // Handed back before it started (b stops): claimable again at once, no start counted.
            #expect(try b.unclaim(second))
            guard case let .run(third)? = try a.claim(pipelines: ["p"], maxAttempts: 3) else { Issue.record("not handed back"); return }
            #expect(third.starts == 0 && third.token == 3)
            #expect(try a.unclaim(third))
            guard case let .run(second)? = try b.claim(pipelines: ["p"], maxAttempts: 3) else { Issue.record("no claim"); return }
            #expect(try b.finish(second, outputs: ["x.png"], publish: {}))
            #expect(try a.counts() == ["p": ["done": 1]])
        }
    }

    @Test func aJobThatKeepsCrashingIsGivenUpAfterMaxAttempts() async throws {
        try await onThread { [self] in
            let db = database()
            defer { db.close() }
            try QueueSchema.migrate(db)
            let table = JobTable(database: db, host: "a", leaseSeconds: 60)
            try table.ingest(pipeline: "p", key: "poison.png", identity: "1", inputs: ["source": "poison.png"])
            // Claimed and lost before it started (its host died running another job): not counted.
            guard case let .run(waited)? = try table.claim(pipelines: ["p"], maxAttempts: 2) else { Issue.record("no claim"); return }
            try lapse(db, waited.id)
            for attempt in 1...2 {
                guard case let .run(claim)? = try table.claim(pipelines: ["p"], maxAttempts: 2) else { Issue.record("no claim"); return }
                #expect(claim.starts == attempt - 1 && claim.token == attempt + 1)
                #expect(try table.start(claim))
                try lapse(db, claim.id)  // the host died running it
            }
            guard case let .givenUp(claim, error)? = try table.claim(pipelines: ["p"], maxAttempts: 2) else {
                Issue.record("not given up")
                return
            }
            #expect(claim.inputs == ["source": "poison.png"] && error == "crashed or timed out 2 times (max_attempts 2)")
            #expect(try table.claim(pipelines: ["p"], maxAttempts: 2) == nil)
            #expect(try table.counts() == ["p": ["failed": 1]])
        }
    }
}
