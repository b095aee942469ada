// FolderQueue: the single-host job queue on the inboxes themselves (Inbox.swift states the
// on-disk protocol). Files offered wait in a backlog, in order, until the workers have room,
// then go through InboxIntake (pairs, refusals) and are claimed by rename. Used by the
// dispatcher's thread only.
import Foundation
import Logging
import PirecCore

final class FolderQueue: JobQueue {
    private let generation: Generation
    private let logger: Logger
    private var recovered: [ClaimedJob] = []
    /// `backlog[backlogHead...]` waits, oldest first (a moving head takes from the front in
    /// O(1)); `known` is the same set, to ignore repeats.
    private var backlog: [InboxFile] = []
    private var backlogHead = 0
    private var known: Set<InboxFile> = []
    private var intake: InboxIntake

    init(generation: Generation, counters: JobCounters, logger: Logger) {
        self.generation = generation
        self.logger = logger
        intake = InboxIntake(generation: generation, counters: counters, logger: logger)
    }

    var waiting: Int { backlog.count - backlogHead + recovered.count }
    var waitingByPipeline: [Int: Int] {
        var counts: [Int: Int] = [:]
        for file in backlog[backlogHead...] { counts[file.pipeline, default: 0] += 1 }
        for job in recovered { counts[job.pipeline, default: 0] += 1 }
        return counts
    }
    var pollSeconds: Double? { nil }
    var trouble: String? { nil }

    func recover() -> Int {
        recovered = []
        for inbox in generation.inboxes { collectClaimed(inbox, relative: "") }
        if !recovered.isEmpty { logger.notice("resuming claimed jobs", metadata: ["count": "\(recovered.count)"]) }
        return recovered.count
    }

    func offer(_ file: InboxFile, complete: Bool) {
        guard !InboxNames.isIgnored(file.name), known.insert(file).inserted else { return }
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

    func expire(now: Double) { intake.expire(now: now) }

    // MARK: claiming

    /// The job `file` makes, claimed; nil when it makes none now (gone, refused, a half).
    private func take(_ file: InboxFile, in inbox: Inbox) -> ClaimedJob? {
        guard case let .job(job) = intake.candidate(file, in: inbox) else { return nil }
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
            } else if !InboxNames.isIgnored(name) {
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
