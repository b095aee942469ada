// PostgresQueue: the job queue several pirecd hosts share (docs/queue.md). Every host scans
// the shared inboxes (events where it sees them, a whole scan every `poll` seconds since a
// network filesystem raises none for other clients' files) and records each complete input
// or pair in the job table, where a unique key makes the many hosts' inserts one job; jobs
// are claimed from the table (FOR UPDATE SKIP LOCKED, leases). The inputs stay in the shared
// inbox until their row is final; SharedStore is the workers' side. Used by the dispatcher's
// thread only.
import Foundation
import Logging
import PirecCore
import PirecQueue
import Synchronization

/// One host's link to the shared queue, made once at start and kept across reloads.
final class QueueConnection: Sendable {
    let settings: QueueSettings
    let database: QueueDatabase
    let table: JobTable
    let health: QueueHealth
    let leases: LeaseKeeper

    init(settings: QueueSettings, environment: [String: String], logger: Logger) {
        self.settings = settings
        database = QueueDatabase(settings: settings, environment: environment, logger: logger)
        table = JobTable(database: database, host: settings.host, leaseSeconds: settings.lease)
        health = QueueHealth(logger: logger)
        leases = LeaseKeeper(table: table, every: max(1, Double(settings.lease) / 3), health: health, logger: logger)
    }
}

/// Whether the database answers, logged once per outage (not once per failed query).
final class QueueHealth: Sendable {
    private let down = Mutex(false)
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    var isDown: Bool { down.withLock { $0 } }

    func failed(_ error: any Error) {
        if down.withLock({ state in defer { state = true }; return !state }) {
            logger.error("job queue unavailable; retrying (running jobs go on)", metadata: ["error": "\(error)"])
        }
    }

    func answered() {
        if down.withLock({ state in defer { state = false }; return state }) { logger.notice("job queue reachable again") }
    }
}

final class PostgresQueue: JobQueue {
    private let generation: Generation
    private let connection: QueueConnection
    private let counters: JobCounters
    private let logger: Logger
    private var intake: InboxIntake
    /// Key (the job's first input, relative to its inbox) to the identity a scan saw, waiting
    /// for a second scan to find it unchanged.
    private var sightings: [String: String] = [:]
    /// Key to the identity recorded in the table, so later scans skip it (for a minute).
    private var recorded: [String: String] = [:]
    private var schemaReady = false
    /// No query before this time (seconds since 1970) after a failure; doubles up to 16 s.
    private var retryAt = 0.0
    private var backoff = 1.0
    private var lastPrune = 0.0

    init(generation: Generation, connection: QueueConnection, counters: JobCounters, logger: Logger) {
        self.generation = generation
        self.connection = connection
        self.counters = counters
        self.logger = logger
        intake = InboxIntake(generation: generation, counters: counters, logger: logger)
    }

    var waiting: Int { sightings.count }
    var waitingByPipeline: [Int: Int] { [:] }
    var pollSeconds: Double? { Double(connection.settings.poll) }
    var trouble: String? { connection.health.isDown ? "queue unavailable" : nil }

    func recover() -> Int {
        guard let released = attempt({ try connection.table.releaseOwn() }) else { return 0 }
        if released > 0 { logger.notice("resuming this host's claimed jobs", metadata: ["count": "\(released)"]) }
        return released
    }

    func offer(_ file: InboxFile, complete: Bool) {
        guard !InboxNames.isIgnored(file.name), let inbox = generation.inbox(file.pipeline),
              case let .job(job) = intake.candidate(file, in: inbox) else { return }
        let folder = inbox.inputFolder(job.relative)
        let key = Self.relative(job.relative, job.primary)
        let identity = job.files.sorted { $0.key < $1.key }
            .map { "\($0.key.rawValue)=\(FileIO.sharedIdentity(folder + "/" + $0.value))" }.joined(separator: ";")
        guard recorded[key] != identity else { return }
        // A scan may catch a file half written (no event says it was closed): it is recorded
        // once two scans found it the same.
        guard complete || sightings[key] == identity else {
            sightings[key] = identity
            return
        }
        let inputs = job.files.stringKeys.mapValues { Self.relative(job.relative, $0) }
        guard let found = attempt({
            try connection.table.ingest(pipeline: inbox.pipeline.name, key: key, identity: identity, inputs: inputs)
        }) else {
            sightings[key] = identity  // the next scan tries again
            return
        }
        sightings[key] = nil
        recorded[key] = identity
        if case let .known(id, state, ended?, error) = found, state == "done" || state == "failed",
           ended > Double(connection.settings.lease) {
            settle(job, id: id, in: inbox, done: state == "done", error: error)
        }
    }

    func claimNext() -> ClaimedJob? {
        let pipelines = generation.inboxes.map(\.pipeline.name)
        let maxAttempts = generation.configuration.maxAttempts
        guard let claimed = attempt({ try connection.table.claim(pipelines: pipelines, maxAttempts: maxAttempts) }),
              let claimed else { return nil }
        switch claimed {
        case let .run(claim):
            guard let job = job(claim, givenUp: nil) else {
                _ = try? connection.table.unclaim(claim)
                return nil
            }
            connection.leases.hold(claim)
            return job
        case let .givenUp(claim, error): return job(claim, givenUp: error)
        }
    }

    func expire(now: Double) {
        intake.expire(now: now)
        guard now - lastPrune >= 60 else { return }
        lastPrune = now
        // Once a minute every file still in an inbox is looked up again: one whose job ended
        // long ago lost its host between the end and the move, and is settled here.
        recorded = [:]
        for (key, _) in sightings where !generation.inboxes.contains(where: { FileIO.lexists($0.watch.folder + "/" + key) }) {
            sightings[key] = nil
        }
    }

    // MARK: helpers

    /// Runs `body` against the database unless a recent failure says wait; nil on failure.
    private func attempt<T>(_ body: () throws -> T) -> T? {
        let now = Date().timeIntervalSince1970
        guard now >= retryAt else { return nil }
        do {
            if !schemaReady {
                let found = try QueueSchema.migrate(connection.database)
                if found < QueueSchema.current {
                    logger.notice("job table migrated", metadata: ["from": "\(found)", "to": "\(QueueSchema.current)"])
                }
                schemaReady = true
            }
            let value = try body()
            connection.health.answered()
            backoff = 1
            return value
        } catch let error as SchemaError {
            logger.critical("cannot use the job table", metadata: ["error": "\(error)"])
            retryAt = now + 60
        } catch {
            connection.health.failed(error)
            retryAt = now + backoff
            backoff = min(backoff * 2, 16)
        }
        return nil
    }

    /// The claimed row as the job it is in this host's inboxes.
    private func job(_ claim: Claim, givenUp: String?) -> ClaimedJob? {
        guard let inbox = generation.inboxes.first(where: { $0.pipeline.name == claim.pipeline }),
              let first = claim.inputs.values.sorted().first else { return nil }
        let relative = FileIO.split(first).folder == "." ? "" : FileIO.split(first).folder
        var files: [Slot: String] = [:]
        for (slot, path) in claim.inputs { files[Slot(slot)] = FileIO.split(path).name }
        var name = FileIO.baseName(files[.source] ?? "")
        if case let .pair(naming) = inbox.pipeline.inputs, let edge = files[.edge], let half = naming.half(edge) {
            name = half.stem
        }
        return ClaimedJob(pipeline: inbox.index, relative: relative, name: name, files: files,
                          ticket: Ticket(claim: claim, givenUp: givenUp))
    }

    /// A job ended long ago whose inputs are still in the inbox (its host died between
    /// marking it and moving them): move them now, clear its staging folder and write the
    /// job-log line, as that host would have.
    private func settle(_ job: ClaimedJob, id: Int64, in inbox: Inbox, done: Bool, error: String?) {
        let folder = inbox.inputFolder(job.relative)
        let now = Date().timeIntervalSince1970
        let inputs = JobExecution.inputs(job, folder)
        var record = JobRecord(pipeline: inbox.pipeline.name, inputs: inputs, archived: [:], outputs: [], steps: [],
                               timings: [], started: now, finished: now, error: nil, attempt: 0, host: generation.hostName,
                               jobID: id)
        let outbox = inbox.outputFolder(job.relative)
        for name in (try? FileIO.list(outbox)) ?? [] where name.hasPrefix(".job-\(id).") { rmdir(outbox + "/" + name) }
        if done {
            guard let archived = try? inbox.finish(job, from: folder) else { return }
            record.archived = archived.stringKeys
            record.outputs = [outbox + "/" + job.name + ".png"]
        } else {
            record.error = JobError(input: inputs.values.sorted().joined(separator: " + "), message: error ?? "failed")
            let (moved, problem) = inbox.fail(job, from: folder, report: record.report())
            guard problem == nil else { return }
            record.archived = moved.stringKeys
        }
        counters.count(record)
        generation.jobLog?.append(record.logLine())
        logger.notice("moved the inputs of a job that ended as its host died",
                      metadata: ["job": "\(id)", "file": "\(inputs.values.sorted().joined(separator: " + "))",
                                 "state": "\(done ? "done" : "failed")"])
    }

    static func relative(_ folder: String, _ name: String) -> String { folder.isEmpty ? name : folder + "/" + name }
}
