// The dispatcher driven directly, as the loop drives it, with a fake watch source, workers
// that run each job inline on the test's thread, and the test's own clock: overflows,
// rescans, pairs and their timeouts, crash recovery, reload and stop, with no root and no
// sleeping. The plugins and the folders are real.
import Foundation
import Logging
import PirecCore
@testable import PirecDaemon
import PirecTestKit
import Testing

/// Events come from the test (Dispatcher.handle); this records what is watched.
final class FakeWatchSource: WatchSource {
    var folders: [WatchedFolder] = []
    var descriptor: Int32 { -1 }
    var count: Int { folders.count }
    func add(_ path: String, as folder: WatchedFolder) throws(FileError) { folders.append(folder) }
    func removeAll() { folders.removeAll() }
    func read() -> [WatchEvent] { [] }
}

/// Runs each job as it is handed over, or holds it (`holding`) as a busy pool would.
final class InlineWorkers: Workers {
    let execution: JobExecution
    let chains: [Int: ChainWorker]
    let isolation = RerunAlone()
    var holding = false
    var held: [ClaimedJob] = []
    /// Names of the jobs run, in order.
    var ran: [String] = []
    var stopped = false

    init(_ generation: Generation, counters: JobCounters, logger: Logger) throws(ConfigErrors) {
        chains = try generation.makeChains(logger: logger)
        execution = JobExecution(generation: generation,
                                 store: FolderStore(ledger: JobLedger(maxAttempts: generation.configuration.maxAttempts)),
                                 counters: counters, logger: logger)
    }

    var hasRoom: Bool { !stopped }
    var pending: Int { held.count }
    var waitingByPipeline: [Int: Int] { Dictionary(held.map { ($0.pipeline, 1) }, uniquingKeysWith: +) }

    func submit(_ job: ClaimedJob) {
        if holding { return held.append(job) }
        ran.append(job.name)
        execution.execute(job, chains: chains, isolation: isolation, worker: 1)
    }

    func stop(timeoutSeconds: Double, pollSeconds: Double, waiting: () -> Void) -> Bool {
        stopped = true
        held.removeAll()  // still claimed on disk, as the pool leaves them
        return true
    }
}

final class DispatcherRig {
    let root = TestPaths.temporaryFolder()
    let watcher = FakeWatchSource()
    let counters = JobCounters()
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    var workers: [InlineWorkers] = []
    var holding = false
    lazy var dispatcher = Dispatcher(watcher: watcher, factory: Dispatcher.Factory(
        queue: { [unowned self] in FolderQueue(generation: $0, counters: counters, logger: logger) },
        workers: { [unowned self] generation throws(ConfigErrors) in
            let w = try InlineWorkers(generation, counters: counters, logger: logger)
            w.holding = holding
            workers.append(w)
            return w
        }), logger: logger)

    /// DropTests' configuration: an upscaling inbox and a pair inbox (pair_timeout 2 s).
    static let config = upscaleConfig

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func generation(model: String = "emoji/generator.safetensors") throws -> Generation {
        let text = Self.config.replacingOccurrences(of: "ROOT", with: root)
            .replacingOccurrences(of: "REPO", with: TestPaths.repository)
            .replacingOccurrences(of: "emoji/generator.safetensors", with: model)
        let configuration = try Configuration.parse(text, file: root + "/pirec.yaml")
        return try Generation(configuration: configuration, catalog: PluginCatalog(directories: [TestPaths.build]))
    }

    func put(_ relative: String, seed: Int = 0) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: FileIO.split(path).folder, withIntermediateDirectories: true)
        DaemonHarness.put(try DaemonHarness.png(seed: seed), path)
    }

    /// What the inotify source reports when a writer closes `name` in a pipeline's inbox.
    func closed(_ pipeline: Int, _ name: String) -> WatchEvent { .file(WatchedFolder(pipeline: pipeline, relative: ""), name: name) }

    func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)) ?? []).sorted()
    }

    func text(_ relative: String) -> String { (try? String(contentsOfFile: root + "/" + relative, encoding: .utf8)) ?? "" }
}

@Suite struct DispatcherTests {
    @Test func anOverflowRescansAndLosesNoFile() throws {
        let rig = DispatcherRig()
        try rig.dispatcher.start(rig.generation())
        #expect(rig.watcher.folders.map(\.pipeline) == [0, 1])
        // Written while the kernel's queue was full: no event for any of them.
        for i in 0..<5 { try rig.put("inbox/o\(i).png", seed: i) }
        rig.dispatcher.tick(now: Date().timeIntervalSince1970)
        #expect(rig.files("outbox").isEmpty)
        rig.dispatcher.handle([.overflow])
        #expect(rig.files("outbox").filter { $0.hasSuffix(".png") } == (0..<5).map { "o\($0).png" })
        #expect(rig.files("inbox") == [".processing"] && rig.files("inbox/.processing").isEmpty)
        #expect(rig.counters.value(.done) == 5)
    }

    @Test func pairsMatchAndAHalfFailsAtItsTimeout() throws {
        let rig = DispatcherRig()
        try rig.dispatcher.start(rig.generation())
        try rig.put("pairs/dog_e.png")
        rig.dispatcher.handle([rig.closed(1, "dog_e.png")])
        #expect(rig.workers[0].ran.isEmpty, "half a pair waits")
        try rig.put("pairs/dog_c.png", seed: 3)
        rig.dispatcher.handle([rig.closed(1, "dog_c.png")])
        #expect(rig.workers[0].ran == ["dog"])
        #expect(rig.files("pairs-out").contains("dog.png"))
        // The sidecar records what the plugins received: every value, defaults filled in, the
        // model as the absolute path it was read from, with its hash.
        let sidecar = try JSONSerialization.jsonObject(with: Data(rig.text("pairs-out/dog.json").utf8)) as? [String: Any]
        let chain = try #require(sidecar?["chain"] as? [[String: Any]])
        #expect((chain[0]["with"] as? [String: Any])?.keys.sorted()
            == ["high", "lines", "low", "method", "min_length", "sigma", "thin", "threshold"])
        let model = (chain[1]["files"] as? [String: Any])?["model"] as? [String: String]
        #expect(model?["file"] == TestPaths.repository + "/models/emoji/generator.safetensors")
        #expect(model?["sha256"]?.count == 64)
        #expect((chain[1]["with"] as? [String: Any])?["model"] as? String == model?["file"])

        try rig.put("pairs/cat_c.png")
        rig.dispatcher.handle([rig.closed(1, "cat_c.png")])
        let now = Date().timeIntervalSince1970
        rig.dispatcher.tick(now: now + 1)
        #expect(rig.files("pairs").contains("cat_c.png"), "still within pair_timeout")
        rig.dispatcher.tick(now: now + 3)
        #expect(rig.files("pairs-failed") == ["cat_c.error.txt", "cat_c.png"])
        #expect(rig.text("pairs-failed/cat_c.error.txt").contains("half a pair: cat_e.png did not arrive within 2 s"))

        try rig.put("pairs/stray.png")
        rig.dispatcher.handle([rig.closed(1, "stray.png")])
        #expect(rig.text("pairs-failed/stray.error.txt").contains("not part of a pair: expected NAME_e.png"))
        #expect(rig.counters.value(.failed) == 2)
    }

    @Test func linksAndFIFOsAreRefusedWithoutBlocking() throws {
        let rig = DispatcherRig()
        try rig.dispatcher.start(rig.generation())
        let outside = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try rig.put("elsewhere.png")
        try FileManager.default.createDirectory(atPath: outside + "/sub", withIntermediateDirectories: true)
        // A symbolic link to a folder inside the recursive inbox, a hard link to a file outside
        // it, and a FIFO nobody writes to (opening it would block).
        try FileManager.default.createSymbolicLink(atPath: rig.root + "/inbox/linked", withDestinationPath: outside + "/sub")
        #expect(link(rig.root + "/elsewhere.png", rig.root + "/inbox/hard.png") == 0)
        #expect(mkfifo(rig.root + "/inbox/pipe.png", 0o644) == 0)
        rig.dispatcher.handle([.overflow])
        #expect(rig.workers[0].ran.isEmpty)
        #expect(rig.files("failed") == ["hard.error.txt", "hard.png", "linked", "linked.error.txt", "pipe.error.txt", "pipe.png"])
        #expect(rig.text("failed/linked.error.txt").contains("refused: a symbolic link (to \(outside)/sub)"))
        #expect(rig.text("failed/hard.error.txt").contains("refused: a hard link (the file has 2 names)"))
        #expect(rig.text("failed/pipe.error.txt").contains("refused: not a regular file"))
        #expect(FileManager.default.fileExists(atPath: rig.root + "/elsewhere.png"), "the other name is untouched")
    }

    @Test func claimedJobsResumeFirstAndACrasherIsGivenUp() throws {
        let rig = DispatcherRig()
        // Left by a daemon that died: a job it never started, one it was running (once), one
        // that has killed it twice (max_attempts 2); and a file dropped while it was down.
        try rig.put("inbox/.processing/fresh.png")
        try rig.put("inbox/.processing/rerun.png", seed: 1)
        try "1\n".write(toFile: rig.root + "/inbox/.processing/rerun.png.attempts", atomically: true, encoding: .utf8)
        try rig.put("inbox/.processing/crasher.png", seed: 2)
        try "2\n".write(toFile: rig.root + "/inbox/.processing/crasher.png.attempts", atomically: true, encoding: .utf8)
        try rig.put("inbox/dropped.png", seed: 3)
        try rig.dispatcher.start(rig.generation())
        #expect(rig.workers[0].ran == ["crasher", "fresh", "rerun", "dropped"])
        #expect(rig.files("outbox").filter { $0.hasSuffix(".png") } == ["dropped.png", "fresh.png", "rerun.png"])
        let sidecar = try JSONSerialization.jsonObject(with: Data(rig.text("outbox/rerun.json").utf8)) as? [String: Any]
        #expect(sidecar?["attempt"] as? Int == 2)
        #expect(rig.files("failed") == ["crasher.error.txt", "crasher.png"])
        #expect(rig.text("failed/crasher.error.txt").contains("crashed the daemon 2 times (max_attempts 2)"))
        #expect(rig.files("inbox/.processing").isEmpty, "no marker left")
    }

    @Test func stopLeavesWaitingJobsClaimedForTheNextStart() throws {
        let rig = DispatcherRig()
        rig.holding = true
        try rig.dispatcher.start(rig.generation())
        for i in 0..<3 { try rig.put("inbox/w\(i).png", seed: i) }
        rig.dispatcher.handle((0..<3).map { rig.closed(0, "w\($0).png") })
        #expect(rig.dispatcher.queued == 3)
        #expect(rig.dispatcher.stop(timeoutSeconds: 1, waiting: {}))
        guard case .stopped = rig.dispatcher.lifecycle else { Issue.record("not stopped"); return }
        #expect(rig.files("inbox/.processing") == ["w0.png", "w1.png", "w2.png"])

        let next = DispatcherRig()
        let again = Dispatcher(watcher: FakeWatchSource(), factory: Dispatcher.Factory(
            queue: { FolderQueue(generation: $0, counters: next.counters, logger: next.logger) },
            workers: { generation throws(ConfigErrors) in
                let w = try InlineWorkers(generation, counters: next.counters, logger: next.logger)
                next.workers.append(w)
                return w
            }), logger: next.logger)
        // The same folders, a new daemon.
        let text = DispatcherRig.config.replacingOccurrences(of: "ROOT", with: rig.root)
            .replacingOccurrences(of: "REPO", with: TestPaths.repository)
        try again.start(Generation(configuration: Configuration.parse(text, file: rig.root + "/pirec.yaml"),
                                   catalog: PluginCatalog(directories: [TestPaths.build])))
        #expect(next.workers[0].ran == ["w0", "w1", "w2"])
        #expect(rig.files("inbox/.processing").isEmpty)
    }

    @Test func aReloadWhosePluginsFailKeepsTheRunningGeneration() throws {
        let rig = DispatcherRig()
        let first = try rig.generation()
        try rig.dispatcher.start(first)
        // Valid YAML and parameters, but the generator cannot load this model.
        let broken = try rig.generation(model: "emoji/missing.safetensors")
        #expect(throws: ConfigErrors.self) { try rig.dispatcher.reload(to: broken, waiting: {}) }
        #expect(rig.dispatcher.running?.generation === first)
        #expect(rig.watcher.folders.count == 2 && !rig.workers[0].stopped)
        try rig.put("inbox/after.png")
        rig.dispatcher.handle([rig.closed(0, "after.png")])
        #expect(rig.workers[0].ran == ["after"])

        let good = try rig.generation()
        try rig.dispatcher.reload(to: good, waiting: {})
        #expect(rig.dispatcher.running?.generation === good && rig.workers[0].stopped)
        try rig.put("inbox/later.png")
        rig.dispatcher.handle([rig.closed(0, "later.png")])
        #expect(rig.workers.last?.ran == ["later"])
    }
}
