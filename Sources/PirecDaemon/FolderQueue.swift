// FolderQueue: the single-host job queue on the inboxes themselves (Inbox.swift states the
// on-disk protocol). Files offered wait in a backlog, in order, until the workers have room;
// a pair half waits for its partner up to `pair_timeout`; what cannot be a job is refused
// into the failed folder with its reason. Used by the dispatcher's thread only.
import Foundation
import Logging
import PirecCore

final class FolderQueue: JobQueue {
    private let generation: Generation
    private let counters: JobCounters
    private let logger: Logger
    private var recovered: [ClaimedJob] = []
    /// `backlog[backlogHead...]` waits, oldest first (a moving head takes from the front in
    /// O(1)); `known` is the same set, to ignore repeats.
    private var backlog: [InboxFile] = []
    private var backlogHead = 0
    private var known: Set<InboxFile> = []
    /// Half pairs waiting for their other half, by path.
    private var halves: [String: InboxFile] = [:]

    init(generation: Generation, counters: JobCounters, logger: Logger) {
        self.generation = generation
        self.counters = counters
        self.logger = logger
    }

    var waiting: Int { backlog.count - backlogHead + recovered.count }

    func recover() -> Int {
        recovered = []
        for inbox in generation.inboxes { collectClaimed(inbox, relative: "") }
        if !recovered.isEmpty { logger.notice("resuming claimed jobs", metadata: ["count": "\(recovered.count)"]) }
        return recovered.count
    }

    func offer(_ file: InboxFile) {
        guard !Inbox.isIgnored(file.name), known.insert(file).inserted else { return }
        backlog.append(file)
    }

    func claimNext() -> ClaimedJob? {
        if !recovered.isEmpty { return recovered.removeFirst() }
        while backlogHead < backlog.count {
            let file = backlog[backlogHead]
            backlogHead += 1
            if backlogHead == backlog.count || backlogHead > 4096 {
                backlog.removeFirst(backlogHead)
                backlogHead = 0
            }
            known.remove(file)
            if let inbox = generation.inbox(file.pipeline), let job = take(file, in: inbox) { return job }
        }
        return nil
    }

    func expire(now: Double) {
        for (path, file) in halves {
            guard let inbox = generation.inbox(file.pipeline), FileIO.kind(path) == S_IFREG else {
                halves[path] = nil
                continue
            }
            let timeout = inbox.watch.pairTimeout
            guard let modified = FileIO.modified(path), now - modified >= Double(timeout) else { continue }
            halves[path] = nil
            guard case let .pair(naming) = inbox.pipeline.inputs, let half = naming.half(file.name) else { continue }
            reject(file, in: inbox, "half a pair: \(half.partner) did not arrive within \(timeout) s (pair_timeout)")
        }
    }

    // MARK: claiming

    /// The job `file` makes, claimed; nil when it makes none now (gone, refused, a half).
    private func take(_ file: InboxFile, in inbox: Inbox) -> ClaimedJob? {
        let path = inbox.path(of: file)
        guard let kind = FileIO.kind(path), kind != S_IFDIR else { return nil }  // claimed already, gone, a folder
        if kind != S_IFREG {
            let what = kind == S_IFLNK ? "a symbolic link (to \(FileIO.linkTarget(path)))" : "not a regular file"
            reject(file, in: inbox, "refused: \(what); pirecd takes only regular files dropped into the folder")
            return nil
        }
        // A second name of a file that lives elsewhere (perhaps one the dropper may not read
        // through pirecd): take copies only.
        let links = FileIO.linkCount(path)
        if links > 1 {
            reject(file, in: inbox, "refused: a hard link (the file has \(links) names); drop a copy instead")
            return nil
        }
        switch inbox.pipeline.inputs {
        case .single:
            return claim(ClaimedJob(pipeline: inbox.index, relative: file.relative, name: FileIO.baseName(file.name),
                                    files: [.source: file.name]), in: inbox)
        case let .pair(naming):
            guard let half = naming.half(file.name) else {
                reject(file, in: inbox, naming.notAPair)
                return nil
            }
            let partnerPath = inbox.inputFolder(file.relative) + "/" + half.partner
            guard FileIO.kind(partnerPath) == S_IFREG else {
                halves[path] = file
                return nil
            }
            halves[path] = nil
            halves[partnerPath] = nil
            let partnerSlot: Slot = half.slot == .edge ? .color : .edge
            return claim(ClaimedJob(pipeline: inbox.index, relative: file.relative, name: half.stem,
                                    files: [half.slot: file.name, partnerSlot: half.partner]), in: inbox)
        }
    }

    private func claim(_ job: ClaimedJob, in inbox: Inbox) -> ClaimedJob? {
        var claimed = 0
        for file in job.files.values {
            do {
                if try inbox.claim(file, relative: job.relative) { claimed += 1 }
            } catch {
                logger.error("cannot claim file", metadata: ["file": "\(error.path)", "error": "\(error.reason)"])
            }
        }
        guard claimed == job.files.count else {
            // A pair half vanished between looking and claiming: the claimed half waits in
            // .processing and runs with its partner at the next start; say so.
            if claimed > 0 { logger.warning("half of a pair claimed alone", metadata: ["job": "\(job.name)"]) }
            return nil
        }
        return job
    }

    private func reject(_ file: InboxFile, in inbox: Inbox, _ reason: String) {
        let path = inbox.path(of: file)
        let now = Date().timeIntervalSince1970
        let record = JobRecord(pipeline: inbox.pipeline.name, inputs: ["file": path], archived: [:], outputs: [],
                               steps: [], timings: [], started: now, finished: now,
                               error: JobError(input: path, message: reason), attempt: 0)
        let moved = inbox.reject(file.name, relative: file.relative, report: record.report())
        counters.add(.failed)
        generation.jobLog?.append(record.logLine())
        logger.warning("input refused", metadata: ["file": "\(path)", "pipeline": "\(inbox.pipeline.name)",
                                                   "reason": "\(reason)", "moved_to": "\(moved ?? "-")"])
    }

    // MARK: recovery

    /// Jobs left in `.processing/` (and its subfolders) by an earlier run, as they are.
    private func collectClaimed(_ inbox: Inbox, relative: String) {
        let folder = inbox.claimedFolder(relative)
        var singles: [String] = []
        for name in (try? FileIO.list(folder)) ?? [] {
            let path = folder + "/" + name
            if FileIO.kind(path) == S_IFDIR {
                collectClaimed(inbox, relative: relative.isEmpty ? name : relative + "/" + name)
            } else if name.hasSuffix(".attempts") {
                // A marker whose file is gone: the daemon died between archiving and cleaning up.
                if !FileIO.lexists(String(path.dropLast(".attempts".count))) { unlink(path) }
            } else if !Inbox.isIgnored(name) {
                singles.append(name)
            } else if name.hasPrefix(".") && name.hasSuffix(".tmp") {
                unlink(path)
            }
        }
        switch inbox.pipeline.inputs {
        case .single:
            for name in singles {
                recovered.append(ClaimedJob(pipeline: inbox.index, relative: relative, name: FileIO.baseName(name),
                                            files: [.source: name]))
            }
        case let .pair(naming):
            var byStem: [String: [Slot: String]] = [:]
            for name in singles {
                guard let half = naming.half(name) else { continue }
                byStem[half.stem, default: [:]][half.slot] = name
            }
            for (stem, files) in byStem.sorted(by: { $0.key < $1.key }) {
                recovered.append(ClaimedJob(pipeline: inbox.index, relative: relative, name: stem, files: files))
            }
        }
    }
}
