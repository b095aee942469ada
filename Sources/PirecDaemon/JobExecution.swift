// JobExecution: one claimed job on a worker thread, from its store's decision to its end:
// run the chain, write the sidecar last (it proves the job done), make the outputs final
// through the store, archive the inputs; or move them to the failed folder with their
// report. Each job's end is logged once.
import Foundation
import Logging
import PirecCore

struct JobExecution: Sendable {
    let generation: Generation
    let store: any JobStore
    let counters: JobCounters
    let logger: Logger
    /// Set when the workers stop: a job waiting to retry gives up waiting (it stays claimed).
    var stopping = StopFlag()

    /// Runs `job` with this worker's `chains`; `isolation` runs a rerun after a crash alone.
    /// `worker` numbers the thread in the counters (which step each job is in).
    func execute(_ job: ClaimedJob, chains: [Int: ChainWorker], isolation: RerunAlone, worker: Int) {
        guard let inbox = generation.inbox(job.pipeline), let chain = chains[job.pipeline] else { return }
        var record = JobRecord(pipeline: inbox.pipeline.name, inputs: Self.inputs(job, inbox.inputFolder(job.relative)),
                               archived: [:], outputs: [], steps: generation.steps[job.pipeline] ?? [], timings: [],
                               started: Date().timeIntervalSince1970, finished: 0, error: nil, attempt: 1,
                               host: generation.hostName, jobID: store.jobID(job))
        let source = store.inputFolder(job, in: inbox)
        record.inputIDs = JobLedger.inputIDs(job, folder: source)
        record.dropped = job.files.values.compactMap { FileIO.modified(source + "/" + $0) }.min()
        let files = record.inputs.values.sorted().joined(separator: " + ")
        counters.begin(worker: worker, JobCounters.RunningJob(pipeline: inbox.pipeline.name, input: files,
                                                              started: record.started, steps: inbox.pipeline.chain.count))
        defer { counters.end(worker: worker) }
        switch store.decide(job, in: inbox) {
        case .finishedBeforeRestart:
            // Killed after writing the outputs but before archiving the inputs.
            do {
                record.archived = try inbox.finish(job, from: source).stringKeys
                record.outputs = [inbox.outputFolder(job.relative) + "/" + job.name + ".png"]
                finished(&record)
                logger.info("job done before a restart; archived its inputs", metadata: ["file": "\(files)"])
            } catch {
                logger.error("cannot archive", metadata: ["file": "\(error.path)", "error": "\(error.reason)"])
            }
        case let .giveUp(attempts, reason):
            let removed = store.removeInterrupted(job, in: inbox)
            record.error = JobError(input: files, message: reason
                + (removed.isEmpty ? "" : "; removed what its interrupted runs wrote: " + removed.joined(separator: ", ")))
            record.attempt = attempts
            persist(record) { fail(job, inbox: inbox, source: source, record: record) }
        case let .run(attempt, alone):
            record.attempt = attempt
            if alone {
                logger.notice("rerunning a job alone after a crash", metadata: ["file": "\(files)", "attempt": "\(attempt)"])
            }
            isolation.run(alone: alone) { run(job, inbox: inbox, source: source, chain: chain, record: record, worker: worker) }
        }
    }

    /// How one try of a job's end went.
    enum Outcome {
        case ended
        /// The results (or the failed input) could not be written into `folder`: not the
        /// input's fault; it stays claimed and the try is repeated.
        case blocked(folder: String, message: String)
    }

    private func run(_ job: ClaimedJob, inbox: Inbox, source: String, chain: ChainWorker, record: JobRecord, worker: Int) {
        guard store.begin(job, attempt: record.attempt, in: inbox) else {
            logger.warning("claim lost to another host before the job started",
                           metadata: ["file": "\(record.inputs.values.sorted().joined(separator: " + "))"])
            return
        }
        if !persist(record, { attempt(job, inbox: inbox, source: source, chain: chain, record: record, worker: worker) }) {
            store.interrupt(job, attempt: record.attempt, in: inbox)
        }
    }

    /// Repeats `body` while it is blocked by its folders, waiting 1, 2, 4 ... 60 s between
    /// tries; gives up only when the workers stop (false: the job then stays claimed for
    /// the next start). STATUS shows the condition meanwhile.
    @discardableResult
    private func persist(_ record: JobRecord, _ body: () -> Outcome) -> Bool {
        var wait = 1.0
        while case let .blocked(folder, message) = body() {
            counters.trouble = "cannot write \(folder): \(message); retrying"
            logger.error("cannot write into a folder; the input stays claimed and its job is retried",
                         metadata: ["file": "\(record.inputs.values.sorted().joined(separator: " + "))",
                                    "folder": "\(folder)", "error": "\(message)", "retry_in_s": "\(Int(wait))"])
            if stopping.wait(seconds: wait) { return false }
            wait = min(wait * 2, 60)
        }
        counters.trouble = nil
        return true
    }

    private func attempt(_ job: ClaimedJob, inbox: Inbox, source: String, chain: ChainWorker, record: JobRecord,
                         worker: Int) -> Outcome {
        var record = record
        let runner = PipelineRunner(pipeline: inbox.pipeline, codec: generation.configuration.pngCodec)
        let staging = store.stagingFolder(job, in: inbox)
        let outbox = inbox.outputFolder(job.relative)
        let result: JobResult
        do {
            result = try runner.run(Job(name: job.name, inputs: job.files.mapValues { source + "/" + $0 }),
                                    worker: chain, outputFolder: staging) { step, plugin in
                counters.enter(worker: worker, step: step, plugin: plugin)
            }
        } catch {
            if case let .output(folder) = error.cause { return .blocked(folder: folder, message: error.message) }
            var e = error
            // Name the file where the user dropped it, not inside .processing.
            e.input = e.input.replacingOccurrences(of: source + "/", with: inbox.inputFolder(job.relative) + "/")
            record.error = e
            return fail(job, inbox: inbox, source: source, record: record)
        }
        // The sidecar names where the outputs end up, not where they were staged.
        let staged = result.outputs + [staging + "/" + job.name + ".json"]
        record.outputs = staged.map { outbox + "/" + FileIO.split($0).name }
        record.timings = result.timings
        record.finished = Date().timeIntervalSince1970
        do { try FileIO.writeAtomically(Array(record.sidecar().utf8), to: staged.last!) } catch {
            return .blocked(folder: staging, message: error.description)
        }
        guard store.publish(job, in: inbox, staged: staged, outputs: record.outputs) else {
            logger.warning("claim lost to another host while running; result discarded",
                           metadata: ["file": "\(record.inputs.values.sorted().joined(separator: " + "))",
                                      "job": "\(record.jobID.map(String.init) ?? "-")"])
            return .ended
        }
        do { record.archived = try inbox.finish(job, from: source).stringKeys } catch {
            return .blocked(folder: inbox.archiveFolder(job.relative), message: error.description)
        }
        finished(&record)
        logger.info("job done", metadata: ["file": "\(record.inputs.values.sorted().joined(separator: " + "))",
                                          "pipeline": "\(inbox.pipeline.name)", "output": "\(record.outputs[0])",
                                          "ms": "\(Int((record.finished - record.started) * 1000))"])
        return .ended
    }

    private func fail(_ job: ClaimedJob, inbox: Inbox, source: String, record: JobRecord) -> Outcome {
        var record = record
        record.finished = Date().timeIntervalSince1970
        guard store.recordFailure(job, in: inbox, message: record.error?.message ?? "?") else {
            logger.warning("claim lost to another host while running; failure discarded",
                           metadata: ["file": "\(record.inputs.values.sorted().joined(separator: " + "))"])
            return .ended
        }
        let (moved, problem) = inbox.fail(job, from: source, report: record.report())
        if let problem { return .blocked(folder: inbox.failedFolder(job.relative), message: problem) }
        record.archived = moved.stringKeys  // where the inputs went: the failed folder
        finished(&record)
        logger.error("job failed", metadata: ["file": "\(record.inputs.values.sorted().joined(separator: " + "))",
                                              "pipeline": "\(inbox.pipeline.name)",
                                              "step": "\(record.error?.step ?? "-")",
                                              "error": "\(record.error?.message ?? "?")",
                                              "moved_to": "\(moved.values.sorted().joined(separator: " + "))"])
        return .ended
    }

    /// Stamps the end, counts it and writes its job-log line.
    private func finished(_ record: inout JobRecord) {
        if record.finished == 0 { record.finished = Date().timeIntervalSince1970 }
        counters.count(record)
        generation.jobLog?.append(record.logLine())
    }

    /// Slot name to the path where the user dropped each file.
    static func inputs(_ job: ClaimedJob, _ folder: String) -> [String: String] {
        job.files.stringKeys.mapValues { folder + "/" + $0 }
    }
}

extension Dictionary where Key == Slot {
    /// Keyed by slot name, for JSON.
    var stringKeys: [String: Value] { Dictionary<String, Value>(uniqueKeysWithValues: map { ($0.key.rawValue, $0.value) }) }
}
