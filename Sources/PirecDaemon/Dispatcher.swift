// Dispatcher: the one owner of the daemon's mutable state, on one thread. It turns what
// happens (watch events, timer ticks, finished jobs, a reload, a stop) into actions: watches
// and scans the inboxes, offers files to the job queue, hands claimed jobs to the workers
// while they have room, swaps generations. Its lifecycle is the `Lifecycle` enum; the loop
// around it (Daemon) owns the file descriptors, signals and systemd.
import Glibc
import Logging
import PirecCore

final class Dispatcher {
    enum Lifecycle {
        /// Built; `start` not called yet.
        case idle
        case running(Running)
        /// The old generation's workers are finishing; the new one's are made and wait.
        case reloading
        case stopped
    }

    /// What runs one generation.
    struct Running {
        var generation: Generation
        var queue: any JobQueue
        var workers: any Workers
    }

    /// How a generation's queue and workers are made (threads in the daemon, inline in tests).
    struct Factory {
        var queue: (Generation) -> any JobQueue
        var workers: (Generation) throws(ConfigErrors) -> any Workers
    }

    private(set) var lifecycle: Lifecycle = .idle
    /// When the inboxes were last scanned whole (for queues that poll).
    private var lastScan = 0.0
    /// Pipelines whose inbox folder was deleted: watched again once it is back.
    private var missing: Set<Int> = []
    let watcher: any WatchSource
    private let factory: Factory
    private let logger: Logger

    init(watcher: any WatchSource, factory: Factory, logger: Logger) {
        self.watcher = watcher
        self.factory = factory
        self.logger = logger
    }

    var running: Running? {
        if case let .running(running) = lifecycle { return running }
        return nil
    }

    /// Jobs known and not finished: waiting in the queue, handed to the workers, running.
    var queued: Int { running.map { $0.queue.waiting + $0.workers.pending } ?? 0 }

    /// Jobs not started yet, by pipeline index: in the queue or waiting for a worker.
    var queuedByPipeline: [Int: Int] {
        guard let running else { return [:] }
        return running.queue.waitingByPipeline.merging(running.workers.waitingByPipeline, uniquingKeysWith: +)
    }

    // MARK: lifecycle

    /// Makes the workers (throws the configuration's errors when plugins do not start), then
    /// runs `generation`: folders made and watched, claimed jobs recovered, inboxes scanned.
    func start(_ generation: Generation) throws {
        guard case .idle = lifecycle else { preconditionFailure("Dispatcher.start called twice") }
        try run(generation, workers: factory.workers(generation))
    }

    /// Swaps in `next` when its workers start; otherwise throws and the running generation
    /// goes on untouched. `waiting` is called while the old workers finish their jobs.
    func reload(to next: Generation, waiting: () -> Void) throws {
        guard let old = running else { preconditionFailure("Dispatcher.reload while not running") }
        let workers = try factory.workers(next)
        lifecycle = .reloading
        _ = old.workers.stop(timeoutSeconds: .infinity, pollSeconds: 1, waiting: waiting)
        watcher.removeAll()
        missing = []
        try run(next, workers: workers)
    }

    /// Takes no new jobs; lets running ones finish within `timeoutSeconds`. False when some
    /// were still running (they stay claimed for the next start).
    func stop(timeoutSeconds: Double, waiting: () -> Void) -> Bool {
        guard let old = running else { return true }
        lifecycle = .stopped
        return old.workers.stop(timeoutSeconds: timeoutSeconds, pollSeconds: 1, waiting: waiting)
    }

    private func run(_ generation: Generation, workers: any Workers) throws(FileError) {
        let queue = factory.queue(generation)
        lifecycle = .running(Running(generation: generation, queue: queue, workers: workers))
        for inbox in generation.inboxes {
            for folder in [inbox.watch.folder, inbox.watch.output, inbox.watch.failed] { try FileIO.makeFolders(folder) }
            removeStaleTemporaries(inbox.watch.output)
            try watchTree(inbox, relative: "")
        }
        _ = queue.recover()
        rescan()
        dispatch()
    }

    // MARK: events

    func handle(_ events: [WatchEvent]) {
        guard let generation = running?.generation else { return }
        for event in events {
            switch event {
            case .overflow:
                logger.warning("inotify queue overflowed; rescanning the input folders")
                rescan()
            case let .gone(folder):
                guard let inbox = generation.inbox(folder.pipeline) else { continue }
                if folder.relative.isEmpty {
                    missing.insert(inbox.index)
                    logger.error("inbox folder gone; watching for it to come back",
                                 metadata: ["folder": "\(inbox.watch.folder)", "pipeline": "\(inbox.pipeline.name)"])
                } else {
                    logger.info("watched folder gone", metadata: ["folder": "\(inbox.inputFolder(folder.relative))",
                                                                  "pipeline": "\(inbox.pipeline.name)"])
                }
            case let .folder(folder, name):
                guard let inbox = generation.inbox(folder.pipeline), inbox.watch.recursive, !InboxNames.isIgnored(name) else { continue }
                let sub = folder.relative.isEmpty ? name : folder.relative + "/" + name
                do { try watchTree(inbox, relative: sub) } catch {
                    logger.error("cannot watch folder", metadata: ["folder": "\(inbox.inputFolder(sub))", "error": "\(error)"])
                }
                scan(inbox, relative: sub)
            case let .file(folder, name):
                offer(InboxFile(pipeline: folder.pipeline, relative: folder.relative, name: name), complete: true)
            case let .created(folder, name):
                guard let inbox = generation.inbox(folder.pipeline) else { continue }
                let kind = FileIO.kind(inbox.inputFolder(folder.relative) + "/" + name)
                if kind != nil && kind != S_IFREG && kind != S_IFDIR {
                    offer(InboxFile(pipeline: folder.pipeline, relative: folder.relative, name: name), complete: true)
                }
            }
        }
        dispatch()
    }

    /// A turn of the loop at `now` (seconds since 1970; a test's clock): half pairs past their
    /// timeout are refused, the inboxes rescanned when the queue polls, and claimed jobs go
    /// to workers with room.
    func tick(now: Double) {
        guard let queue = running?.queue, let generation = running?.generation else { return }
        for index in missing {
            guard let inbox = generation.inbox(index), FileIO.kind(inbox.watch.folder) == S_IFDIR else { continue }
            do { try watchTree(inbox, relative: "") } catch { continue }
            missing.remove(index)
            logger.notice("inbox folder back; watching it again", metadata: ["folder": "\(inbox.watch.folder)"])
            scan(inbox, relative: "")
        }
        queue.expire(now: now)
        if let every = queue.pollSeconds, now - lastScan >= every {
            lastScan = now
            rescan()
        }
        dispatch()
    }

    /// Claims jobs while the workers have room.
    func dispatch() {
        guard let running else { return }
        while running.workers.hasRoom, let job = running.queue.claimNext() { running.workers.submit(job) }
    }

    // MARK: inboxes

    private func offer(_ file: InboxFile, complete: Bool) { running?.queue.offer(file, complete: complete) }

    private func watchTree(_ inbox: Inbox, relative: String) throws(FileError) {
        try watcher.add(inbox.inputFolder(relative), as: WatchedFolder(pipeline: inbox.index, relative: relative))
        guard inbox.watch.recursive else { return }
        for name in (try? FileIO.list(inbox.inputFolder(relative))) ?? [] where !InboxNames.isIgnored(name) {
            let sub = relative.isEmpty ? name : relative + "/" + name
            if FileIO.kind(inbox.inputFolder(sub)) == S_IFDIR { try watchTree(inbox, relative: sub) }
        }
    }

    /// Every file in every inbox (and subfolder, when recursive), offered.
    private func rescan() {
        for inbox in running?.generation.inboxes ?? [] { scan(inbox, relative: "") }
    }

    private func scan(_ inbox: Inbox, relative: String) {
        for name in (try? FileIO.list(inbox.inputFolder(relative))) ?? [] where !InboxNames.isIgnored(name) {
            let sub = relative.isEmpty ? name : relative + "/" + name
            if FileIO.kind(inbox.inputFolder(sub)) == S_IFDIR {
                if inbox.watch.recursive { scan(inbox, relative: sub) }
            } else {
                offer(InboxFile(pipeline: inbox.index, relative: relative, name: name), complete: false)
            }
        }
    }

    /// A crash leaves `.NAME.XXXXXX.tmp` files of unfinished atomic writes: remove them.
    private func removeStaleTemporaries(_ folder: String) {
        for name in (try? FileIO.list(folder)) ?? [] {
            let path = folder + "/" + name
            if name.hasPrefix(".") && name.hasSuffix(".tmp") && FileIO.kind(path) == S_IFREG {
                unlink(path)
            } else if !name.hasPrefix(".") && FileIO.kind(path) == S_IFDIR {
                removeStaleTemporaries(path)
            }
        }
    }
}
