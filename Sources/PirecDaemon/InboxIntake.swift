// InboxIntake: what every job queue does with a file offered from an inbox before it queues
// it: decide what the file makes (a job, half of a pair, a refusal), keep half pairs until
// their partner comes or `pair_timeout` passes, and refuse what cannot be a job into the
// failed folder with its reason. FolderQueue then claims the job by rename; PostgresQueue
// records it in the shared job table. Used by the dispatcher's thread only.
import Foundation
import Logging
import PirecCore

/// What an offered file makes now.
enum Candidate: Equatable {
    /// Nothing: gone, claimed already, a folder.
    case none
    /// Cannot be a job; the reason goes into its error report.
    case refused(String)
    /// Half of a pair whose other half is not there yet.
    case half
    /// A whole job, its files named as they are in the input folder.
    case job(ClaimedJob)
}

struct InboxIntake {
    let generation: Generation
    let counters: JobCounters
    let logger: Logger
    /// Half pairs waiting for their other half, by path.
    private var halves: [String: InboxFile] = [:]

    init(generation: Generation, counters: JobCounters, logger: Logger) {
        self.generation = generation
        self.counters = counters
        self.logger = logger
    }

    /// What `file` makes in `inbox`; a half is remembered for `expire`, a refusal is moved
    /// to the failed folder (and answered as `.none`).
    mutating func candidate(_ file: InboxFile, in inbox: Inbox) -> Candidate {
        let path = inbox.path(of: file)
        guard let kind = FileIO.kind(path), kind != S_IFDIR else { return .none }
        if kind != S_IFREG {
            let what = kind == S_IFLNK ? "a symbolic link (to \(FileIO.linkTarget(path)))" : "not a regular file"
            return refuse(file, in: inbox, "refused: \(what); pirecd takes only regular files dropped into the folder")
        }
        // A second name of a file that lives elsewhere (perhaps one the dropper may not read
        // through pirecd): take copies only.
        let links = FileIO.linkCount(path)
        if links > 1 { return refuse(file, in: inbox, "refused: a hard link (the file has \(links) names); drop a copy instead") }
        switch inbox.pipeline.inputs {
        case .single:
            return .job(ClaimedJob(pipeline: inbox.index, relative: file.relative, name: FileIO.baseName(file.name),
                                   files: [.source: file.name]))
        case let .pair(naming):
            guard let half = naming.half(file.name) else { return refuse(file, in: inbox, naming.notAPair) }
            let partnerPath = inbox.inputFolder(file.relative) + "/" + half.partner
            guard FileIO.kind(partnerPath) == S_IFREG else {
                halves[path] = file
                return .half
            }
            halves[path] = nil
            halves[partnerPath] = nil
            let partnerSlot: Slot = half.slot == .edge ? .color : .edge
            return .job(ClaimedJob(pipeline: inbox.index, relative: file.relative, name: half.stem,
                                   files: [half.slot: file.name, partnerSlot: half.partner]))
        }
    }

    /// Refuses half pairs whose partner did not come within `pair_timeout` by `now`.
    mutating func expire(now: Double) {
        for (path, file) in halves {
            guard let inbox = generation.inbox(file.pipeline), FileIO.kind(path) == S_IFREG else {
                halves[path] = nil
                continue
            }
            let timeout = inbox.watch.pairTimeout
            guard let modified = FileIO.modified(path), now - modified >= Double(timeout) else { continue }
            halves[path] = nil
            guard case let .pair(naming) = inbox.pipeline.inputs, let half = naming.half(file.name) else { continue }
            _ = refuse(file, in: inbox, "half a pair: \(half.partner) did not arrive within \(timeout) s (pair_timeout)")
        }
    }

    private func refuse(_ file: InboxFile, in inbox: Inbox, _ reason: String) -> Candidate {
        let path = inbox.path(of: file)
        let now = Date().timeIntervalSince1970
        var record = JobRecord(pipeline: inbox.pipeline.name, inputs: ["file": path], archived: [:], outputs: [],
                               steps: [], timings: [], started: now, finished: now,
                               error: JobError(input: path, message: reason), attempt: 0, host: generation.hostName)
        let moved = inbox.reject(file.name, relative: file.relative, report: record.report())
        // Another host of a shared queue may have moved it first: count and log it once.
        guard let moved else { return .none }
        record.archived = ["file": moved]
        record.refused = true
        counters.count(record)
        generation.jobLog?.append(record.logLine())
        logger.warning("input refused", metadata: ["file": "\(path)", "pipeline": "\(inbox.pipeline.name)",
                                                   "reason": "\(reason)", "moved_to": "\(moved)"])
        return .none
    }
}
