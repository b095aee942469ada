// JobExecution: one claimed job on a worker thread, from the ledger's decision to its end:
// run the chain, write the sidecar last (it proves the job done), archive the inputs; or
// move them to the failed folder with their report. Each job's end is logged once.
import Foundation
import Logging
import PirecCore

struct JobExecution: Sendable {
    let generation: Generation
    let counters: JobCounters
    let logger: Logger

    var ledger: JobLedger { JobLedger(maxAttempts: generation.configuration.maxAttempts) }

    /// Runs `job` with this worker's `chains`; `isolation` runs a rerun after a crash alone.
    func execute(_ job: ClaimedJob, chains: [Int: ChainWorker], isolation: RerunAlone) {
        guard let inbox = generation.inbox(job.pipeline), let chain = chains[job.pipeline] else { return }
        var record = JobRecord(pipeline: inbox.pipeline.name, inputs: Self.inputs(job, inbox.inputFolder(job.relative)),
                               archived: [:], outputs: [], steps: generation.steps[job.pipeline] ?? [], timings: [],
                               started: Date().timeIntervalSince1970, finished: 0, error: nil, attempt: 1)
        record.inputIDs = JobLedger.inputIDs(job, in: inbox)
        let files = record.inputs.values.sorted().joined(separator: " + ")
        switch ledger.decide(job, in: inbox) {
        case .finishedBeforeRestart:
            // Killed after writing the outputs but before archiving the inputs.
            do {
                record.archived = try inbox.finish(job).stringKeys
                record.outputs = [inbox.outputFolder(job.relative) + "/" + job.name + ".png"]
                finished(&record)
                logger.info("job done before a restart; archived its inputs", metadata: ["file": "\(files)"])
            } catch {
                logger.error("cannot archive", metadata: ["file": "\(error.path)", "error": "\(error.reason)"])
            }
        case let .giveUp(attempts):
            let removed = inbox.removeInterruptedOutputs(job)
            record.error = JobError(input: files, message: "crashed the daemon \(attempts) times (max_attempts "
                + "\(generation.configuration.maxAttempts))"
                + (removed.isEmpty ? "" : "; removed what its interrupted runs wrote: " + removed.joined(separator: ", ")))
            record.attempt = attempts
            fail(job, inbox: inbox, record: record)
        case let .run(attempt, alone):
            record.attempt = attempt
            if alone {
                logger.notice("rerunning a job alone after a crash", metadata: ["file": "\(files)", "attempt": "\(attempt)"])
            }
            isolation.run(alone: alone) { run(job, inbox: inbox, chain: chain, record: record) }
        }
    }

    private func run(_ job: ClaimedJob, inbox: Inbox, chain: ChainWorker, record: JobRecord) {
        var record = record
        let claimedFolder = inbox.claimedFolder(job.relative)
        inbox.recordAttempt(job, count: record.attempt)
        let runner = PipelineRunner(pipeline: inbox.pipeline, codec: generation.configuration.pngCodec)
        do {
            let result = try runner.run(Job(name: job.name, inputs: job.files.mapValues { claimedFolder + "/" + $0 }),
                                        worker: chain, outputFolder: inbox.outputFolder(job.relative))
            record.outputs = result.outputs
            record.timings = result.timings
            record.finished = Date().timeIntervalSince1970
            let sidecar = inbox.outputFolder(job.relative) + "/" + job.name + ".json"
            try FileIO.writeAtomically(Array(record.sidecar().utf8), to: sidecar)
            record.outputs.append(sidecar)
            record.archived = try inbox.finish(job).stringKeys
            finished(&record)
            logger.info("job done", metadata: ["file": "\(record.inputs.values.sorted().joined(separator: " + "))",
                                              "pipeline": "\(inbox.pipeline.name)", "output": "\(record.outputs[0])",
                                              "ms": "\(Int((record.finished - record.started) * 1000))"])
        } catch let error as JobError {
            var e = error
            // Name the file where the user dropped it, not inside .processing.
            e.input = e.input.replacingOccurrences(of: claimedFolder + "/", with: inbox.inputFolder(job.relative) + "/")
            record.error = e
            fail(job, inbox: inbox, record: record)
        } catch {
            record.error = JobError(input: record.inputs.values.sorted().joined(separator: " + "), message: "\(error)")
            fail(job, inbox: inbox, record: record)
        }
    }

    private func fail(_ job: ClaimedJob, inbox: Inbox, record: JobRecord) {
        var record = record
        record.finished = Date().timeIntervalSince1970
        let moved = inbox.fail(job, report: record.report())
        finished(&record)
        logger.error("job failed", metadata: ["file": "\(record.inputs.values.sorted().joined(separator: " + "))",
                                              "pipeline": "\(inbox.pipeline.name)",
                                              "step": "\(record.error?.step ?? "-")",
                                              "error": "\(record.error?.message ?? "?")",
                                              "moved_to": "\(moved.joined(separator: " + "))"])
    }

    /// Stamps the end, counts it and writes its job-log line.
    private func finished(_ record: inout JobRecord) {
        if record.finished == 0 { record.finished = Date().timeIntervalSince1970 }
        counters.add(record.error == nil ? .done : .failed)
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
