// Daemon: pirecd's main loop. One thread polls inotify and a wake-up pipe (signals from the
// signal thread, "a job finished" from the workers), claims ready files, keeps systemd told
// (READY, STATUS, WATCHDOG, RELOADING, STOPPING) and swaps configurations on SIGHUP; worker
// threads run the chains, each with its own plugin states, loaded once per configuration.
import Foundation
import Glibc
import Logging
import PirecCore
import Synchronization

/// One configuration in force, with everything made from it.
final class Generation: @unchecked Sendable {
    let configuration: Configuration
    let inboxes: [Inbox]
    /// Per worker thread: pipeline index to its chain.
    let workers: [[Int: ChainWorker]]
    let steps: [Int: [StepRecord]]
    let jobLog: JobLog?

    init(configuration: Configuration, catalog: PluginCatalog, logger: Logger) throws(ConfigErrors) {
        self.configuration = configuration
        inboxes = configuration.pipelines.enumerated().compactMap { i, p in p.watch == nil ? nil : Inbox(pipeline: p, index: i) }
        var problems = catalog.validate(configuration)
        guard problems.isEmpty else { throw ConfigErrors(problems) }
        var steps: [Int: [StepRecord]] = [:]
        for inbox in inboxes {
            steps[inbox.index] = inbox.pipeline.chain.map { step in
                let library = try? catalog.library(for: step.plugin)
                var model: (String, String)?
                if case let .mapping(pairs) = step.parameters.value,
                   let value = pairs.first(where: { $0.key.scalarText == "model" })?.value.scalarText {
                    let path = value.hasPrefix("/") ? value : (configuration.modelDirectory ?? ".") + "/" + value
                    model = (path, (try? SHA256.file(path)) ?? "unreadable")
                }
                return StepRecord(plugin: library?.id ?? step.plugin, version: library?.version ?? "?",
                                  parametersJSON: step.parameters.jsonText, model: model)
            }
        }
        self.steps = steps
        var workers: [[Int: ChainWorker]] = []
        for _ in 0..<configuration.workers {
            var set: [Int: ChainWorker] = [:]
            for inbox in inboxes {
                do {
                    set[inbox.index] = try ChainWorker(pipeline: inbox.pipeline, catalog: catalog,
                                                       modelDirectory: configuration.modelDirectory, logger: logger)
                } catch {
                    problems.append(ConfigError(mark: inbox.pipeline.mark, path: "pipelines[\(inbox.index)]",
                                                message: error.message))
                }
            }
            workers.append(set)
            if !problems.isEmpty { throw ConfigErrors(problems) }
        }
        self.workers = workers
        do { jobLog = try configuration.jobLog.map { path throws(FileError) in try JobLog(path: path) } } catch {
            throw ConfigErrors([ConfigError(mark: SourceMark(file: configuration.file, line: 1, column: 1),
                                            path: "job_log", message: error.description)])
        }
    }
}

/// Jobs waiting for a worker: a bounded FIFO (the main loop claims no more than fit).
final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [ClaimedJob] = []
    private var closed = false
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { condition.withLock { jobs.count } }
    var hasRoom: Bool { condition.withLock { jobs.count < capacity } }

    func push(_ job: ClaimedJob) {
        condition.withLock {
            jobs.append(job)
            condition.signal()
        }
    }

    /// The next job, or nil once closed (jobs still queued stay claimed on disk).
    func pop() -> ClaimedJob? {
        condition.withLock {
            while jobs.isEmpty && !closed { condition.wait() }
            return closed ? nil : jobs.removeFirst()
        }
    }

    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }
}

public struct DaemonOptions: Sendable {
    public var configPath: String
    public var control: ControlFiles
    public var pluginDirectories: [String]?
    public var defaultPluginDirectories: [String]
    public var environment: [String: String]

    public init(configPath: String, control: ControlFiles, pluginDirectories: [String]?,
                defaultPluginDirectories: [String], environment: [String: String]) {
        self.configPath = configPath
        self.control = control
        self.pluginDirectories = pluginDirectories
        self.defaultPluginDirectories = defaultPluginDirectories
        self.environment = environment
    }
}

public final class Daemon: @unchecked Sendable {
    let options: DaemonOptions
    let logger: Logger
    let notifier: SystemdNotifier
    let watcher: FolderWatcher
    let wake: (read: Int32, write: Int32)
    var generation: Generation
    var generationNumber = 0
    var queue: JobQueue
    var threads: [Thread] = []
    let running = Atomic<Int>(0)
    /// Normal jobs share it; a job rerun after a crash holds it alone.
    let gate = Gate()
    let done = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    /// Files reported ready but not yet claimed (claimed when the queue has room), in order:
    /// `backlog[backlogHead...]` (a moving head keeps taking from the front O(1)).
    var backlog: [(inbox: Int, relative: String, name: String)] = []
    var backlogHead = 0
    var backlogSet: Set<String> = []
    /// Half pairs waiting for their other half: path to (inbox, relative, name).
    var halves: [String: (inbox: Int, relative: String, name: String)] = [:]
    var lastPing = 0.0
    var lastStatus = ""

    /// Loads the configuration and every plugin; throws the configuration's errors.
    public init(options: DaemonOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        notifier = SystemdNotifier(environment: options.environment)
        watcher = try FolderWatcher()
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw FileError(path: "pipe", reason: FileIO.describe(errno)) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        wake = (fds[0], fds[1])
        generation = try Daemon.load(options, logger: logger)
        queue = JobQueue(capacity: max(2, generation.configuration.workers * 2))
    }

    static func load(_ options: DaemonOptions, logger: Logger) throws(ConfigErrors) -> Generation {
        let configuration = try Configuration.load(path: options.configPath)
        let directories = options.pluginDirectories ?? configuration.pluginDirectory.map { [$0] }
            ?? options.defaultPluginDirectories
        let generation = try Generation(configuration: configuration, catalog: PluginCatalog(directories: directories),
                                        logger: logger)
        if generation.inboxes.isEmpty {
            throw ConfigErrors([ConfigError(mark: SourceMark(file: options.configPath, line: 1, column: 1), path: "pipelines",
                                            message: "no pipeline has a `watch` folder: pirecd has nothing to do")])
        }
        return generation
    }

    // MARK: running

    /// The signals the daemon takes through `sigwait` (SIGHUP, SIGTERM, SIGINT).
    static var controlSignals: sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGHUP, SIGTERM, SIGINT] { sigaddset(&signals, s) }
        return signals
    }

    /// Call first thing, before any thread exists: every thread made later inherits this mask.
    /// Whatever the launcher blocked is unblocked (a launcher's blocked mask would stop the
    /// Swift runtime's crash handler from pausing threads, hanging a crashing daemon instead
    /// of letting it die and be restarted); the control signals are blocked for `sigwait`.
    public static func prepareSignals() {
        var signals = controlSignals
        pthread_sigmask(SIG_SETMASK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Runs until SIGTERM or SIGINT; returns the exit status.
    public func run() -> Int32 {
        let waitFor = Daemon.controlSignals
        let signalThread = Thread { [wake] in
            var set = waitFor
            while true {
                var caught: Int32 = 0
                guard sigwait(&set, &caught) == 0 else { continue }
                var byte: UInt8 = caught == SIGHUP ? UInt8(ascii: "H") : UInt8(ascii: "T")
                _ = write(wake.write, &byte, 1)
            }
        }
        signalThread.start()
        try? options.control.writePID()
        options.control.write(ReloadStatus(generation: generationNumber, ok: true, errors: []))
        do { try start() } catch {
            logger.error("cannot start", metadata: ["error": "\(error)"])
            return 1
        }
        notifier.send("READY=1", "STATUS=" + statusText(), "MAINPID=\(getpid())")
        logger.info("ready", metadata: ["folders": "\(watcher.count)", "workers": "\(threads.count)",
                                        "config": "\(options.configPath)"])
        var fds = [pollfd(fd: watcher.fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
        while true {
            let timeout = Int32(min(notifier.watchdogInterval ?? 1, 1) * 1000)
            _ = poll(&fds, 2, timeout)
            if fds[0].revents != 0 { handle(watcher.read()) }
            var stop = false, reload = false
            if fds[1].revents != 0 {
                var bytes = [UInt8](repeating: 0, count: 256)
                while true {
                    let n = bytes.withUnsafeMutableBytes { read(wake.read, $0.baseAddress!, $0.count) }
                    if n <= 0 { break }
                    for b in bytes[0..<n] {
                        if b == UInt8(ascii: "H") { reload = true }
                        if b == UInt8(ascii: "T") { stop = true }
                    }
                }
            }
            if stop { return shutDown() }
            if reload { self.reload() }
            sweepHalves()
            fillQueue()
            tick()
        }
    }

    /// Sets up watches, recovers claimed jobs, scans for files dropped while down, starts workers.
    func start() throws(FileError) {
        for inbox in generation.inboxes {
            for folder in [inbox.watch, inbox.pipeline.output!, inbox.pipeline.failed!] { try FileIO.makeFolders(folder) }
            removeStaleTemporaries(inbox.pipeline.output!)
            try watchTree(inbox, relative: "")
        }
        recover()
        rescan()
        queue = JobQueue(capacity: max(2, generation.configuration.workers * 2))
        startWorkers()
        fillQueue()
    }

    func watchTree(_ inbox: Inbox, relative: String) throws(FileError) {
        try watcher.add(inbox.inputFolder(relative), as: WatchedFolder(pipeline: inbox.index, relative: relative))
        guard inbox.pipeline.recursive else { return }
        for name in (try? FileIO.list(inbox.inputFolder(relative))) ?? [] where !Inbox.isIgnored(name) {
            let sub = relative.isEmpty ? name : relative + "/" + name
            if FileIO.kind(inbox.inputFolder(sub)) == S_IFDIR { try watchTree(inbox, relative: sub) }
        }
    }

    /// A crash leaves `.NAME.XXXXXX.tmp` files of unfinished atomic writes: remove them.
    func removeStaleTemporaries(_ folder: String) {
        for name in (try? FileIO.list(folder)) ?? [] {
            let path = folder + "/" + name
            if name.hasPrefix(".") && name.hasSuffix(".tmp") && FileIO.kind(path) == S_IFREG {
                unlink(path)
            } else if !name.hasPrefix(".") && FileIO.kind(path) == S_IFDIR {
                removeStaleTemporaries(path)
            }
        }
    }

    func inbox(_ index: Int) -> Inbox? { generation.inboxes.first { $0.index == index } }

    // MARK: finding files

    func handle(_ events: [WatchEvent]) {
        for event in events {
            switch event {
            case .overflow:
                logger.warning("inotify queue overflowed; rescanning the input folders")
                rescan()
            case let .gone(folder):
                guard let inbox = inbox(folder.pipeline) else { continue }
                let level: Logger.Level = folder.relative.isEmpty ? .error : .info
                logger.log(level: level, "watched folder gone; recreate it and reload to watch it again",
                           metadata: ["folder": "\(inbox.inputFolder(folder.relative))", "pipeline": "\(inbox.pipeline.name)"])
            case let .folder(folder, name):
                guard let inbox = inbox(folder.pipeline), inbox.pipeline.recursive, !Inbox.isIgnored(name) else { continue }
                let sub = folder.relative.isEmpty ? name : folder.relative + "/" + name
                do { try watchTree(inbox, relative: sub) } catch {
                    logger.error("cannot watch folder", metadata: ["folder": "\(inbox.inputFolder(sub))", "error": "\(error)"])
                }
                scan(inbox, relative: sub)
            case let .file(folder, name):
                offer(folder.pipeline, folder.relative, name)
            case let .created(folder, name):
                guard let inbox = inbox(folder.pipeline) else { continue }
                let kind = FileIO.kind(inbox.inputFolder(folder.relative) + "/" + name)
                if kind != nil && kind != S_IFREG && kind != S_IFDIR { offer(folder.pipeline, folder.relative, name) }
            }
        }
    }

    func offer(_ inbox: Int, _ relative: String, _ name: String) {
        guard !Inbox.isIgnored(name) else { return }
        let key = "\(inbox)/\(relative)/\(name)"
        guard !backlogSet.contains(key) else { return }
        backlogSet.insert(key)
        backlog.append((inbox, relative, name))
    }

    /// Every file in every input folder (and subfolder, when recursive) into the backlog.
    func rescan() {
        for inbox in generation.inboxes { scan(inbox, relative: "") }
    }

    func scan(_ inbox: Inbox, relative: String) {
        for name in (try? FileIO.list(inbox.inputFolder(relative))) ?? [] where !Inbox.isIgnored(name) {
            let sub = relative.isEmpty ? name : relative + "/" + name
            if FileIO.kind(inbox.inputFolder(sub)) == S_IFDIR {
                if inbox.pipeline.recursive { scan(inbox, relative: sub) }
            } else {
                offer(inbox.index, relative, name)
            }
        }
    }

    /// Jobs claimed by an earlier run (it crashed or stopped): queue them again, as they are.
    func recover() {
        var recovered: [ClaimedJob] = []
        for inbox in generation.inboxes { collectClaimed(inbox, relative: "", into: &recovered) }
        if !recovered.isEmpty { logger.notice("resuming claimed jobs", metadata: ["count": "\(recovered.count)"]) }
        pendingRecovered = recovered
    }

    var pendingRecovered: [ClaimedJob] = []

    func collectClaimed(_ inbox: Inbox, relative: String, into jobs: inout [ClaimedJob]) {
        let folder = inbox.claimedFolder(relative)
        var singles: [String] = []
        for name in (try? FileIO.list(folder)) ?? [] {
            let path = folder + "/" + name
            if FileIO.kind(path) == S_IFDIR {
                collectClaimed(inbox, relative: relative.isEmpty ? name : relative + "/" + name, into: &jobs)
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
                jobs.append(ClaimedJob(pipeline: inbox.index, relative: relative, name: PipelineRunner.baseName(name),
                                       files: ["source": name]))
            }
        case let .pair(edgeSuffix, colorSuffix):
            var byName: [String: [String: String]] = [:]
            for name in singles {
                guard let half = PairHalf(name, edgeSuffix: edgeSuffix, colorSuffix: colorSuffix) else { continue }
                byName[half.stem, default: [:]][half.slot] = name
            }
            for (name, files) in byName.sorted(by: { $0.key < $1.key }) {
                jobs.append(ClaimedJob(pipeline: inbox.index, relative: relative, name: name, files: files))
            }
        }
    }

    /// Claims backlog files while the queue has room.
    func fillQueue() {
        while queue.hasRoom && !pendingRecovered.isEmpty { queue.push(pendingRecovered.removeFirst()) }
        while queue.hasRoom && backlogHead < backlog.count {
            let (index, relative, name) = backlog[backlogHead]
            backlogHead += 1
            if backlogHead == backlog.count || backlogHead > 4096 {
                backlog.removeFirst(backlogHead)
                backlogHead = 0
            }
            backlogSet.remove("\(index)/\(relative)/\(name)")
            guard let inbox = inbox(index) else { continue }
            take(inbox, relative, name)
        }
    }

    func take(_ inbox: Inbox, _ relative: String, _ name: String) {
        let path = inbox.inputFolder(relative) + "/" + name
        guard let kind = FileIO.kind(path) else { return }  // claimed already, or gone
        if kind == S_IFDIR { return }
        if kind != S_IFREG {
            let what = kind == S_IFLNK ? "a symbolic link (to \(linkTarget(path)))" : "not a regular file"
            reject(inbox, relative, name, "refused: \(what); pirecd takes only regular files dropped into the folder")
            return
        }
        switch inbox.pipeline.inputs {
        case .single:
            claim(inbox, ClaimedJob(pipeline: inbox.index, relative: relative, name: PipelineRunner.baseName(name),
                                    files: ["source": name]))
        case let .pair(edgeSuffix, colorSuffix):
            guard let half = PairHalf(name, edgeSuffix: edgeSuffix, colorSuffix: colorSuffix) else {
                reject(inbox, relative, name, "not part of a pair: expected NAME\(edgeSuffix).png (the sketch) and "
                    + "NAME\(colorSuffix).png (the colour domain)")
                return
            }
            let partnerPath = inbox.inputFolder(relative) + "/" + half.partner
            if FileIO.kind(partnerPath) == S_IFREG {
                halves[path] = nil
                halves[partnerPath] = nil
                let files = half.isEdge ? ["edge": name, "color": half.partner] : ["edge": half.partner, "color": name]
                claim(inbox, ClaimedJob(pipeline: inbox.index, relative: relative, name: half.stem, files: files))
            } else {
                halves[path] = (inbox.index, relative, name)
            }
        }
    }

    func claim(_ inbox: Inbox, _ job: ClaimedJob) {
        var claimed: [String: String] = [:]
        for (slot, file) in job.files {
            do {
                if try inbox.claim(file, relative: job.relative) { claimed[slot] = file }
            } catch {
                logger.error("cannot claim file", metadata: ["file": "\(error.path)", "error": "\(error.reason)"])
            }
        }
        guard claimed.count == job.files.count else {
            // A pair half vanished between looking and claiming: the claimed half waits in
            // .processing and runs with its partner at the next start; say so.
            if !claimed.isEmpty { logger.warning("half of a pair claimed alone", metadata: ["job": "\(job.name)"]) }
            return
        }
        queue.push(job)
    }

    func reject(_ inbox: Inbox, _ relative: String, _ name: String, _ reason: String) {
        let path = inbox.inputFolder(relative) + "/" + name
        let record = JobRecord(pipeline: inbox.pipeline.name, inputs: ["file": path], archived: [:], outputs: [],
                               steps: [], timings: [], started: Date().timeIntervalSince1970,
                               finished: Date().timeIntervalSince1970,
                               error: JobError(input: path, message: reason), attempt: 0)
        let moved = inbox.reject(name, relative: relative, report: record.report())
        failed.add(1, ordering: .relaxed)
        generation.jobLog?.append(record.logLine())
        logger.warning("input refused", metadata: ["file": "\(path)", "pipeline": "\(inbox.pipeline.name)",
                                                   "reason": "\(reason)", "moved_to": "\(moved ?? "-")"])
    }

    func linkTarget(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        return n > 0 ? String(cBuffer: Array(buffer[0..<n])) : "?"
    }

    /// Half pairs whose other half has not come within `pair_timeout` go to the failed folder.
    func sweepHalves() {
        guard !halves.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        for (path, half) in halves {
            guard let inbox = inbox(half.inbox), FileIO.kind(path) == S_IFREG else {
                halves[path] = nil
                continue
            }
            guard let modified = FileIO.modified(path), now - modified >= Double(inbox.pipeline.pairTimeout) else { continue }
            halves[path] = nil
            guard case let .pair(e, c) = inbox.pipeline.inputs,
                  let pair = PairHalf(half.name, edgeSuffix: e, colorSuffix: c) else { continue }
            reject(inbox, half.relative, half.name,
                   "half a pair: \(pair.partner) did not arrive within \(inbox.pipeline.pairTimeout) s (pair_timeout)")
        }
    }

    // MARK: workers

    func startWorkers() {
        threads = generation.workers.enumerated().map { number, chains in
            let owned = Chains(chains)
            let thread = Thread { [self, queue, generation] in
                while let job = queue.pop() {
                    running.add(1, ordering: .relaxed)
                    self.execute(job, chains: owned.value, generation: generation)
                    running.subtract(1, ordering: .relaxed)
                    var byte = UInt8(ascii: "J")
                    _ = write(wake.write, &byte, 1)
                }
            }
            thread.name = "pirecd-worker-\(number + 1)"
            thread.stackSize = 8 << 20
            thread.start()
            return thread
        }
    }

    /// Stops the workers after their current jobs; waits up to `timeout` seconds. Jobs still
    /// queued stay claimed on disk. Returns false when some job was still running.
    func stopWorkers(timeout: Double) -> Bool {
        queue.close()
        let deadline = Date().timeIntervalSince1970 + timeout
        while threads.contains(where: { !$0.isFinished }) {
            if Date().timeIntervalSince1970 > deadline { return false }
            ping()
            usleep(20_000)
        }
        threads = []
        return true
    }

    /// Runs one claimed job on a worker thread.
    func execute(_ job: ClaimedJob, chains: [Int: ChainWorker], generation: Generation) {
        guard let inbox = generation.inboxes.first(where: { $0.index == job.pipeline }), let chain = chains[job.pipeline] else { return }
        let started = Date().timeIntervalSince1970
        let inputs = job.files.mapValues { inbox.inputFolder(job.relative) + "/" + $0 }
        var record = JobRecord(pipeline: inbox.pipeline.name, inputs: inputs, archived: [:], outputs: [],
                               steps: generation.steps[job.pipeline] ?? [], timings: [], started: started,
                               finished: started, error: nil, attempt: 1)
        record.inputIDs = job.files.mapValues { Daemon.identity(inbox.claimedFolder(job.relative) + "/" + $0) }
        let attempts = inbox.attempts(job)
        record.attempt = attempts + 1
        // Killed after writing the outputs but before archiving the inputs: the sidecar (written
        // last) names these very files, so the job is done; only the archiving is left.
        if attempts > 0, Daemon.sidecarInputIDs(inbox.outputFolder(job.relative) + "/" + job.name + ".json") == record.inputIDs {
            do {
                record.archived = try inbox.finish(job)
                record.outputs = [inbox.outputFolder(job.relative) + "/" + job.name + ".png"]
                record.finished = Date().timeIntervalSince1970
                done.add(1, ordering: .relaxed)
                generation.jobLog?.append(record.logLine())
                logger.info("job done before a restart; archived its inputs", metadata: ["file": "\(inputs.values.sorted().joined(separator: " + "))"])
            } catch {
                logger.error("cannot archive", metadata: ["file": "\(error.path)", "error": "\(error.reason)"])
            }
            return
        }
        if attempts >= generation.configuration.maxAttempts {
            let removed = inbox.removeInterruptedOutputs(job)
            record.error = JobError(input: inputs.values.sorted().joined(separator: " + "),
                                    message: "crashed the daemon \(attempts) times (max_attempts \(generation.configuration.maxAttempts))"
                                        + (removed.isEmpty ? "" : "; removed what its interrupted runs wrote: " + removed.joined(separator: ", ")))
            record.attempt = attempts
            return failJob(job, inbox: inbox, record: record, generation: generation)
        }
        // A job that was running when the daemon died runs alone: if the daemon dies again,
        // the blame is certain, and the jobs that happened to run beside it go free.
        if attempts > 0 {
            logger.notice("rerunning a job alone after a crash", metadata: ["file": "\(inputs.values.sorted().joined(separator: " + "))",
                                                                           "attempt": "\(attempts + 1)"])
            gate.exclusive { self.run(job, inbox: inbox, chain: chain, generation: generation, record: record, count: attempts + 1) }
        } else {
            gate.shared { self.run(job, inbox: inbox, chain: chain, generation: generation, record: record, count: attempts + 1) }
        }
    }

    func run(_ job: ClaimedJob, inbox: Inbox, chain: ChainWorker, generation: Generation, record: JobRecord, count: Int) {
        var record = record
        let started = record.started
        let claimedFolder = inbox.claimedFolder(job.relative)
        let inputs = record.inputs
        inbox.recordAttempt(job, count: count)
        let runner = PipelineRunner(pipeline: inbox.pipeline, codec: generation.configuration.pngCodec)
        let runJob = Job(name: job.name, inputs: job.files.mapValues { claimedFolder + "/" + $0 })
        do {
            let result = try runner.run(runJob, worker: chain, outputFolder: inbox.outputFolder(job.relative))
            record.outputs = result.outputs
            record.timings = result.timings
            record.finished = Date().timeIntervalSince1970
            let sidecar = inbox.outputFolder(job.relative) + "/" + job.name + ".json"
            try FileIO.writeAtomically(Array(record.sidecar().utf8), to: sidecar)
            record.outputs.append(sidecar)
            record.archived = try inbox.finish(job)
            done.add(1, ordering: .relaxed)
            generation.jobLog?.append(record.logLine())
            logger.info("job done", metadata: ["file": "\(record.inputs.values.sorted().joined(separator: " + "))",
                                              "pipeline": "\(inbox.pipeline.name)", "output": "\(record.outputs[0])",
                                              "ms": "\(Int((record.finished - started) * 1000))"])
        } catch let error as JobError {
            var e = error
            e.input = e.input.replacingOccurrences(of: claimedFolder + "/", with: inbox.inputFolder(job.relative) + "/")
            record.error = e
            failJob(job, inbox: inbox, record: record, generation: generation)
        } catch {
            record.error = JobError(input: inputs.values.sorted().joined(separator: " + "), message: "\(error)")
            failJob(job, inbox: inbox, record: record, generation: generation)
        }
    }

    /// "device:inode:mtime" of a file: the same across renames on one filesystem.
    static func identity(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "" }
        return "\(info.st_dev):\(info.st_ino):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    static func sidecarInputIDs(_ path: String) -> [String: String]? {
        guard let bytes = try? FileIO.readAll(path: path, maxBytes: 1 << 20),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        return object["input_ids"] as? [String: String]
    }

    func failJob(_ job: ClaimedJob, inbox: Inbox, record: JobRecord, generation: Generation) {
        var record = record
        record.finished = Date().timeIntervalSince1970
        let moved = inbox.fail(job, report: record.report())
        failed.add(1, ordering: .relaxed)
        generation.jobLog?.append(record.logLine())
        logger.error("job failed", metadata: ["file": "\(record.inputs.values.sorted().joined(separator: " + "))",
                                              "pipeline": "\(inbox.pipeline.name)",
                                              "step": "\(record.error?.step ?? "-")",
                                              "error": "\(record.error?.message ?? "?")",
                                              "moved_to": "\(moved.joined(separator: " + "))"])
    }

    // MARK: control

    func statusText() -> String {
        let queued = backlog.count - backlogHead + queue.count + pendingRecovered.count + running.load(ordering: .relaxed)
        return "watching \(watcher.count) folder\(watcher.count == 1 ? "" : "s"); \(done.load(ordering: .relaxed)) done, "
            + "\(failed.load(ordering: .relaxed)) failed, \(queued) queued"
    }

    func ping() {
        guard let interval = notifier.watchdogInterval else { return }
        let now = Date().timeIntervalSince1970
        if now - lastPing >= interval * 0.9 {
            notifier.send("WATCHDOG=1")
            lastPing = now
        }
    }

    func tick() {
        ping()
        let status = statusText()
        if status != lastStatus {
            notifier.send("STATUS=" + status)
            lastStatus = status
        }
    }

    /// SIGHUP: load the new configuration beside the old; swap only when all of it loads.
    func reload() {
        notifier.send("RELOADING=1", "STATUS=reloading " + options.configPath)
        logger.notice("reloading", metadata: ["config": "\(options.configPath)"])
        generationNumber += 1
        let next: Generation
        do { next = try Daemon.load(options, logger: logger) } catch {
            for e in error.errors { logger.error("configuration error; keeping the running one", metadata: ["error": "\(e)"]) }
            options.control.write(ReloadStatus(generation: generationNumber, ok: false, errors: error.errors.map(\.description)))
            notifier.send("READY=1", "STATUS=" + statusText() + " (reload failed: kept the old configuration)")
            return
        }
        _ = stopWorkers(timeout: .infinity)
        watcher.removeAll()
        backlog.removeAll()
        backlogHead = 0
        backlogSet.removeAll()
        halves.removeAll()
        generation = next
        do { try start() } catch {
            logger.error("cannot watch after reload", metadata: ["error": "\(error)"])
            options.control.write(ReloadStatus(generation: generationNumber, ok: false, errors: ["\(error)"]))
            notifier.send("READY=1", "STATUS=" + statusText())
            return
        }
        options.control.write(ReloadStatus(generation: generationNumber, ok: true, errors: []))
        logger.notice("reloaded", metadata: ["config": "\(options.configPath)", "folders": "\(watcher.count)"])
        lastStatus = statusText()
        notifier.send("READY=1", "STATUS=" + lastStatus)
    }

    /// SIGTERM: take no new files, let running jobs finish (up to stop_timeout), exit 0.
    func shutDown() -> Int32 {
        notifier.send("STOPPING=1", "STATUS=stopping: finishing \(running.load(ordering: .relaxed)) running job(s)")
        logger.notice("stopping", metadata: ["running": "\(running.load(ordering: .relaxed))"])
        let finished = stopWorkers(timeout: Double(generation.configuration.stopTimeout))
        if !finished { logger.warning("stop_timeout reached; unfinished jobs stay claimed for the next start") }
        logger.notice("stopped", metadata: ["done": "\(done.load(ordering: .relaxed))",
                                            "failed": "\(failed.load(ordering: .relaxed))"])
        return 0
    }
}

/// A worker's plugin states, handed to its thread and used by it alone.
final class Chains: @unchecked Sendable {
    let value: [Int: ChainWorker]
    init(_ value: [Int: ChainWorker]) { self.value = value }
}

/// A readers-writer lock that lets a waiting writer in first (no starvation by a stream of
/// readers).
final class Gate: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    init() {
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func shared(_ body: () -> Void) {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        body()
    }

    func exclusive(_ body: () -> Void) {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        body()
    }
}
