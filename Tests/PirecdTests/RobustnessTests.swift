// The daemon under abuse: killed at random moments mid-burst, an inotify queue that
// overflows, a plugin that segfaults on one file. Nothing may be lost or half-written.
import Foundation
import PirecCore
import PirecDaemon
import PirecTestKit
import Testing

@Suite(.serialized) struct RobustnessTests {
    static let config = """
        job_log: ROOT/jobs.jsonl
        workers: 2
        max_attempts: 2
        pipelines:
          - name: up
            watch: ROOT/inbox
            output: ROOT/outbox
            failed: ROOT/failed
            archive: ROOT/archive
            chain:
              - plugin: STEP

        """

    /// Names of the PNG outputs and of the failed inputs, without extensions.
    static func outcomes(_ d: DaemonHarness) -> (done: [String], failed: [String]) {
        let done = d.files("outbox").filter { $0.hasSuffix(".png") }.map { String($0.dropLast(4)) }
        let failed = d.files("failed").filter { $0.hasSuffix(".png") }.map { String($0.dropLast(4)) }
        return (done, failed)
    }

    @Test func killedAtRandomMomentsItLosesNothing() throws {
        let d = try DaemonHarness(config: RobustnessTests.config.replacingOccurrences(of: "STEP", with: "upscaler"))
        let count = 200
        var generator = SystemRandomNumberGenerator()
        let png = try DaemonHarness.png(width: 96, height: 64)
        #expect(try d.startAndWait(), "\(d.log)")
        for i in 0..<count { DaemonHarness.put(png, d.root + "/inbox/f\(i).png") }
        for round in 0..<5 {
            usleep(UInt32.random(in: 20_000...250_000, using: &generator))
            d.kill9()
            // What a crash may leave in the output folder: only finished files and hidden
            // temporaries of atomic writes, never a partial file under a real name.
            for name in d.files("outbox") where name.hasSuffix(".png") && !name.hasPrefix(".") {
                #expect(throws: Never.self, "round \(round): \(name) is whole") {
                    _ = try PNGCodec().read(path: d.root + "/outbox/" + name)
                }
            }
            #expect(try d.startAndWait(), "\(d.log)")
        }
        #expect(d.waitUntil(timeout: 60) {
            let o = RobustnessTests.outcomes(d)
            return o.done.count + o.failed.count >= count && d.files("inbox").isEmpty
        }, "\(RobustnessTests.outcomes(d).done.count) done, \(RobustnessTests.outcomes(d).failed.count) failed")
        let (done, failed) = RobustnessTests.outcomes(d)
        #expect(Set(done).isDisjoint(with: failed), "each input in exactly one place")
        #expect(Set(done).union(failed) == Set((0..<count).map { "f\($0)" }), "none lost")
        #expect(done.count + failed.count == count)
        for name in failed { #expect(d.text("failed/\(name).error.txt").contains("crashed the daemon")) }
        #expect(d.files("outbox").filter { $0.hasPrefix(".") || $0.contains("/.") }.isEmpty, "no temporaries left")
        #expect(d.files("inbox").isEmpty, "nothing left claimed or unclaimed")
        #expect(d.stop() == 0)
    }

    @Test func anOverflowingQueueStillProcessesEveryFile() throws {
        let limit = "/proc/sys/fs/inotify/max_queued_events"
        guard getuid() == 0, let saved = try? String(contentsOfFile: limit, encoding: .utf8) else {
            Issue.record("needs root to lower \(limit); make test runs as root in CI")
            return
        }
        let d = try DaemonHarness(config: RobustnessTests.config.replacingOccurrences(of: "STEP", with: "upscaler"))
        // The limit is read when an inotify instance is made: lower it around the start only.
        try "8\n".write(toFile: limit, atomically: false, encoding: .utf8)
        let started = try d.startAndWait()
        try saved.write(toFile: limit, atomically: false, encoding: .utf8)
        #expect(started, "\(d.log)")
        let png = try DaemonHarness.png()
        kill(d.process!.processIdentifier, SIGSTOP)
        for i in 0..<60 { DaemonHarness.put(png, d.root + "/inbox/o\(i).png") }
        kill(d.process!.processIdentifier, SIGCONT)
        #expect(d.waitUntil(timeout: 30) { RobustnessTests.outcomes(d).done.count == 60 }, "\(d.log)")
        #expect(d.log.contains("inotify queue overflowed"))
        #expect(d.stop() == 0)
    }

    @Test func aJobGivenUpAfterCrashesLeavesNoOutputBehind() throws {
        let d = try DaemonHarness(config: RobustnessTests.config.replacingOccurrences(of: "STEP", with: "upscaler"))
        let png = try DaemonHarness.png()
        for folder in ["inbox/.processing", "outbox"] {
            try FileManager.default.createDirectory(atPath: d.root + "/" + folder, withIntermediateDirectories: true)
        }
        DaemonHarness.put(png, d.root + "/inbox/x.png")
        usleep(20_000)
        #expect(rename(d.root + "/inbox/x.png", d.root + "/inbox/.processing/x.png") == 0)
        DaemonHarness.put(Array("2\n".utf8), d.root + "/inbox/.processing/x.png.attempts")
        usleep(20_000)
        // What two killed runs of x wrote, and a result of another job named x.a.b.
        for name in ["x.png", "x.edge.png", "x.a.b.png"] { DaemonHarness.put(png, d.root + "/outbox/" + name) }
        #expect(try d.startAndWait(), "\(d.log)")
        #expect(d.waitUntil(timeout: 10) { d.jobLog().count == 1 }, "\(d.log)")
        #expect(RobustnessTests.outcomes(d).failed == ["x"])
        let report = d.text("failed/x.error.txt")
        #expect(report.contains("crashed the daemon 2 times") && report.contains("outbox/x.edge.png"), "\(report)")
        #expect(d.files("outbox") == ["x.a.b.png"], "only the other job's result is left")
        #expect(d.stop() == 0)
    }

    @Test func aFileThatCrashesTheDaemonEndsInFailedAfterMaxAttempts() throws {
        let plugin = TestPaths.temporaryFolder() + "/libpirec-crashy.so"
        try TestProcess.buildCPlugin(plugin, defines: ["TEST_CRASH_ON_WIDTH=13"])
        let d = try DaemonHarness(config: RobustnessTests.config.replacingOccurrences(of: "STEP", with: plugin))
        let good = try DaemonHarness.png(), poison = try DaemonHarness.png(width: 13, height: 9)
        try FileManager.default.createDirectory(atPath: d.root + "/inbox", withIntermediateDirectories: true)
        DaemonHarness.put(poison, d.root + "/inbox/poison.png")
        for i in 0..<4 { DaemonHarness.put(good, d.root + "/inbox/good\(i).png") }
        // Restart it whenever it dies, as systemd's Restart=on-failure would.
        var restarts = 0
        while restarts < 6 {
            _ = try d.startAndWait()
            _ = d.waitUntil(timeout: 10) { !(d.process?.isRunning ?? false) || RobustnessTests.outcomes(d).failed.count == 1 }
            if d.process?.isRunning ?? false { break }
            #expect(d.process?.terminationReason == .uncaughtSignal)
            restarts += 1
        }
        #expect(restarts == 2, "died once per attempt, then refused the file: \(restarts)\n\(d.log)\n\(d.text("pirec.yaml"))")
        #expect(d.waitUntil(timeout: 10) { RobustnessTests.outcomes(d).done.count == 4 }, "\(d.log)")
        #expect(RobustnessTests.outcomes(d).failed == ["poison"])
        #expect(d.text("failed/poison.error.txt").contains("crashed the daemon 2 times"))
        #expect(d.stop() == 0)
    }
}
