// Daemon: pirecd's composition and loop. One thread polls the watch source and a wake-up
// pipe (signals from the signal thread, "a job finished" from the workers) and hands what
// happened to the Dispatcher; around it, systemd is kept told (READY, STATUS, WATCHDOG,
// RELOADING, STOPPING) and `pirec reload` gets its verdict through the control files.
import Foundation
import Glibc
import Logging
import PirecCore

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

public final class Daemon {
    private let options: DaemonOptions
    private let logger: Logger
    private let notifier: SystemdNotifier
    private let wake: WakePipe
    private let metrics = DaemonMetrics()
    private let counters: JobCounters
    /// `/metrics`, when the configuration has `metrics:` (fixed until restart).
    private var metricsServer: MetricsServer?
    private let dispatcher: Dispatcher
    /// The shared queue, when the configuration has a `queue:` block (fixed until restart).
    private let connection: QueueConnection?
    /// The generation loaded at start, until `run` starts it.
    private var first: Generation?
    /// Reloads asked for so far: `pirec reload` waits for its number in the control files.
    private var reloads = 0
    private var lastPing = 0.0
    private var lastStatus = ""
    private let startedAt = Date().timeIntervalSince1970
    /// When the configuration in force was loaded (start or the last good reload).
    private var configLoadedAt = Date().timeIntervalSince1970
    private var published: DaemonStatus?
    /// The generation in force's model files (made once per start or reload, not per turn).
    private var models: [DaemonStatus.Model] = []

    /// Loads the configuration and checks every plugin; throws the configuration's errors.
    public init(options: DaemonOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        notifier = SystemdNotifier(environment: options.environment)
        wake = try WakePipe()
        counters = JobCounters(metrics: metrics)
        let first = try Generation.load(options)
        self.first = first
        let connection = first.configuration.queue.map {
            QueueConnection(settings: $0, environment: options.environment, logger: logger)
        }
        self.connection = connection
        let (counters, wake) = (counters, wake)
        dispatcher = Dispatcher(watcher: try InotifyWatchSource(), factory: Dispatcher.Factory(
            queue: { generation in
                guard let connection else { return FolderQueue(generation: generation, counters: counters, logger: logger) }
                return PostgresQueue(generation: generation, connection: connection, counters: counters, logger: logger)
            },
            workers: { generation throws(ConfigErrors) in
                let store: any JobStore = connection.map { SharedStore(connection: $0, logger: logger) }
                    ?? FolderStore(ledger: JobLedger(maxAttempts: generation.configuration.maxAttempts))
                return try WorkerPool(generation: generation, store: store, counters: counters, logger: logger) {
                    wake.send(.jobFinished)
                }
            }), logger: logger)
    }

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
        startSignalThread()
        try? options.control.writePID()
        options.control.write(ReloadStatus(generation: reloads, ok: true, errors: []))
        guard startFirst() else { return 1 }
        var fds = [pollfd(fd: dispatcher.watcher.descriptor, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wake.descriptor, events: Int16(POLLIN), revents: 0)]
        while true {
            _ = poll(&fds, 2, Int32(min(notifier.watchdogInterval ?? 1, 1) * 1000))
            if fds[0].revents != 0 { dispatcher.handle(dispatcher.watcher.read()) }
            let woken = fds[1].revents != 0 ? wake.receive() : []
            if woken.contains(.stop) { return shutDown() }
            if woken.contains(.reload) { reload() }
            dispatcher.tick(now: Date().timeIntervalSince1970)
            ping()
            report()
        }
    }

    /// Starts the generation loaded at `init` and lets go of it (a reload must be able to free
    /// it: it holds the job log open). False when it cannot start.
    private func startFirst() -> Bool {
        guard let generation = first else { return false }
        first = nil
        if let address = generation.configuration.metrics {
            do {
                let server = try MetricsServer(address: address, inherited: MetricsServer.inheritedSocket(environment: options.environment),
                                               metrics: metrics)
                metricsServer = server
                logger.info("serving metrics", metadata: ["address": "\(server.listening)", "path": "/metrics"])
            } catch {
                // Under systemd the unit has no network of its own: the socket must come from it.
                let hint = options.environment["INVOCATION_ID"] == nil ? ""
                    : "; under systemd pirecd has no network: enable pirecd-metrics.socket (stop pirecd first)"
                logger.error("cannot serve metrics", metadata: ["address": "\(address)", "error": "\(error)\(hint)"])
                return false
            }
        }
        models = generation.models
        metrics.models(models)
        do { try dispatcher.start(generation) } catch let error as ConfigErrors {
            for e in error.errors { logger.error("configuration error", metadata: ["error": "\(e)"]) }
            return false
        } catch {
            logger.error("cannot start", metadata: ["error": "\(error)"])
            return false
        }
        notifier.send("READY=1", "STATUS=" + statusText(), "MAINPID=\(getpid())")
        logger.info("ready", metadata: ["folders": "\(dispatcher.watcher.count)", "workers": "\(generation.configuration.workers)",
                                        "config": "\(options.configPath)", "queue": "\(queueDescription)"])
        return true
    }

    private func startSignalThread() {
        let (waitFor, wake) = (Daemon.controlSignals, wake)
        let thread = Thread {
            var set = waitFor
            while true {
                var caught: Int32 = 0
                guard sigwait(&set, &caught) == 0 else { continue }
                wake.send(caught == SIGHUP ? .reload : .stop)
            }
        }
        thread.name = "pirecd-signals"
        thread.start()
    }

    // MARK: control

    /// SIGHUP: load the new configuration and start its workers beside the old; swap only when
    /// all of it loads.
    private func reload() {
        notifier.send("RELOADING=1", "STATUS=reloading " + options.configPath)
        publish(.reloading)
        logger.notice("reloading", metadata: ["config": "\(options.configPath)"])
        reloads += 1
        do {
            let next = try Generation.load(options)
            if next.configuration.queue != connection?.settings {
                throw ConfigErrors([ConfigError(mark: SourceMark(file: options.configPath, line: 1, column: 1), path: "queue",
                                                message: "the `queue:` block changed: restart pirecd to change queues")])
            }
            if next.configuration.metrics != dispatcher.running?.generation.configuration.metrics {
                throw ConfigErrors([ConfigError(mark: SourceMark(file: options.configPath, line: 1, column: 1), path: "metrics",
                                                message: "`metrics:` changed: restart pirecd to serve them elsewhere")])
            }
            try dispatcher.reload(to: next, waiting: ping)
        } catch let error as ConfigErrors {
            for e in error.errors { logger.error("configuration error; keeping the running one", metadata: ["error": "\(e)"]) }
            metrics.reloaded(ok: false)
            options.control.write(ReloadStatus(generation: reloads, ok: false, errors: error.errors.map(\.description)))
            notifier.send("READY=1", "STATUS=" + statusText() + " (reload failed: kept the old configuration)")
            return
        } catch {
            logger.error("cannot watch after reload", metadata: ["error": "\(error)"])
            metrics.reloaded(ok: false)
            options.control.write(ReloadStatus(generation: reloads, ok: false, errors: ["\(error)"]))
            notifier.send("READY=1", "STATUS=" + statusText())
            return
        }
        options.control.write(ReloadStatus(generation: reloads, ok: true, errors: []))
        configLoadedAt = Date().timeIntervalSince1970
        metrics.reloaded(ok: true)
        if let generation = dispatcher.running?.generation {
            models = generation.models
            metrics.models(models)
        }
        logger.notice("reloaded", metadata: ["config": "\(options.configPath)", "folders": "\(dispatcher.watcher.count)"])
        lastStatus = statusText()
        notifier.send("READY=1", "STATUS=" + lastStatus)
    }

    /// SIGTERM: take no new files, let running jobs finish (up to stop_timeout), exit 0.
    private func shutDown() -> Int32 {
        let running = counters.value(.running)
        notifier.send("STOPPING=1", "STATUS=stopping: finishing \(running) running job(s)")
        publish(.stopping)
        defer { options.control.removeDaemonStatus() }
        logger.notice("stopping", metadata: ["running": "\(running)"])
        let timeout = Double(dispatcher.running?.generation.configuration.stopTimeout ?? 0)
        if !dispatcher.stop(timeoutSeconds: timeout, waiting: ping) {
            logger.warning("stop_timeout reached; unfinished jobs stay claimed for the next start")
        }
        metricsServer?.close()
        logger.notice("stopped", metadata: ["done": "\(counters.value(.done))", "failed": "\(counters.value(.failed))"])
        return 0
    }

    // MARK: systemd

    private func statusText() -> String {
        let folders = dispatcher.watcher.count
        return "watching \(folders) folder\(folders == 1 ? "" : "s"); \(counters.value(.done)) done, "
            + "\(counters.value(.failed)) failed, \(dispatcher.queued) queued"
            + (dispatcher.running?.queue.trouble.map { "; " + $0 } ?? "") + (counters.trouble.map { "; " + $0 } ?? "")
    }

    private func ping() {
        guard let interval = notifier.watchdogInterval else { return }
        let now = Date().timeIntervalSince1970
        if now - lastPing >= interval * 0.9 {
            notifier.send("WATCHDOG=1")
            lastPing = now
        }
    }

    private func report() {
        let status = statusText()
        if status != lastStatus {
            notifier.send("STATUS=" + status)
            lastStatus = status
        }
        publish(.running)
    }

    // MARK: pirec status

    /// Which queue this daemon takes its jobs from, for the log and `pirec status`.
    private var queueDescription: String {
        connection.map { "shared: \($0.settings.description) as \($0.settings.host)" } ?? "this host's folders"
    }

    /// Writes `status.json` into the control folder when what it says has changed.
    private func publish(_ state: DaemonStatus.State) {
        guard let generation = dispatcher.running?.generation else { return }
        let counts = counters.snapshot
        let queued = dispatcher.queuedByPipeline
        let configuration = generation.configuration
        let pipelines = generation.inboxes.map { inbox in
            let name = inbox.pipeline.name
            return DaemonStatus.Pipeline(name: name, done: counts.done[name] ?? 0, failed: counts.failed[name] ?? 0,
                                         queued: queued[inbox.index] ?? 0,
                                         running: counts.running.values.filter { $0.pipeline == name }.count)
        }
        metrics.gauges(queued: Dictionary(pipelines.map { ($0.name, $0.queued) }, uniquingKeysWith: +),
                       running: Dictionary(pipelines.map { ($0.name, $0.running) }, uniquingKeysWith: +))
        let running = counts.running.values.sorted { $0.started < $1.started }.map {
            DaemonStatus.Job(pipeline: $0.pipeline, input: $0.input, started: $0.started, step: $0.step + 1,
                             steps: $0.steps, plugin: $0.plugin)
        }
        let failures = counts.failures.map {
            DaemonStatus.Failure(time: $0.time, pipeline: $0.pipeline, input: $0.input, step: $0.step, error: $0.message)
        }
        let trouble = [dispatcher.running?.queue.trouble, counters.trouble].compactMap { $0 }
        let status = DaemonStatus(
            pid: getpid(), state: state, started: startedAt, host: generation.hostName,
            config: FileIO.resolve(options.configPath, against: "."),
            configLoaded: configLoadedAt, queue: queueDescription, workers: configuration.workers, pipelines: pipelines,
            running: running, failures: failures, models: models, trouble: trouble)
        guard status != published else { return }
        options.control.write(status)
        published = status
    }
}

/// The self-pipe that wakes the loop's poll from other threads: one byte per message.
final class WakePipe: Sendable {
    enum Message: UInt8 {
        case reload = 72  // "H"
        case stop = 84  // "T"
        case jobFinished = 74  // "J"
    }

    private let read: Int32
    private let write: Int32

    init() throws(FileError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw FileError(path: "pipe", reason: FileIO.describe(errno)) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        (read, write) = (fds[0], fds[1])
    }

    deinit {
        close(read)
        close(write)
    }

    var descriptor: Int32 { read }

    /// From any thread; never blocks (a full pipe already holds a wake-up).
    func send(_ message: Message) {
        var byte = message.rawValue
        _ = Glibc.write(write, &byte, 1)
    }

    /// The messages waiting, in any order (duplicates merged).
    func receive() -> Set<Message> {
        var messages: Set<Message> = []
        var bytes = [UInt8](repeating: 0, count: 256)
        while true {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            for b in bytes[0..<n] { if let m = Message(rawValue: b) { messages.insert(m) } }
        }
        return messages
    }
}
