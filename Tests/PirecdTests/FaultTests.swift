// Faults a long-running service meets, on the real pirecd: a full disk, a folder that
// cannot be written, an inbox deleted and recreated, a configuration gone at reload, a storm
// of reloads and a stop in the middle of one. Each must leave a clear log line and never a
// lost or half-written file; a fault that is not the input's does not send it to `failed`.
// Mounting a small tmpfs needs root (as `make test` runs, in CI too).
import Foundation
import PirecCore
import PirecTestKit
import Testing

@Suite(.serialized) struct FaultTests {
    static let config = """
        job_log: ROOT/jobs.jsonl
        workers: 2
        pipelines:
          - name: up
            watch: ROOT/inbox
            output: ROOT/outbox
            failed: ROOT/failed
            archive: ROOT/archive
            chain:
              - plugin: upscaler
                with: { scale: 4 }

        """

    static func mount(_ options: String, _ folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let m = try TestProcess.run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", folder])
        guard m.status == 0 else { throw TestServerError("mount \(options) \(folder): \(m.stderr)") }
    }

    static func unmount(_ folder: String) { _ = try? TestProcess.run("/bin/umount", ["-l", folder]) }

    static func drop(_ d: DaemonHarness, _ count: Int, prefix: String = "f") throws {
        let png = try DaemonHarness.png(width: 120, height: 120)
        for i in 0..<count { DaemonHarness.put(png, d.root + "/inbox/\(prefix)\(i).png") }
    }

    @Test func aFullDiskKeepsTheInputsClaimedAndFinishesOnceThereIsSpace() throws {
        try #require(getuid() == 0, "mounting a tmpfs needs root")
        let d = try DaemonHarness(config: FaultTests.config)
        try FaultTests.mount("size=300k", d.root + "/outbox")
        defer { FaultTests.unmount(d.root + "/outbox") }
        #expect(try d.startAndWait(), "\(d.log)")
        try FaultTests.drop(d, 30)
        #expect(d.waitUntil(timeout: 30) { d.log.contains("cannot write into a folder") }, "\(d.log)")
        #expect(d.log.contains("no space left on device") && d.log.contains(d.root + "/outbox"), "names the folder and the reason")
        #expect(d.files("failed") == [], "not the inputs' fault: none goes to failed")
        // Stopped and started twice while waiting (max_attempts is 2): the interrupted waits
        // are not counted as the inputs' attempts.
        for _ in 0..<2 {
            #expect(d.stop() == 0)
            #expect(try d.startAndWait(), "\(d.log)")
            #expect(d.waitUntil(timeout: 30) { d.log.components(separatedBy: "cannot write into a folder").count > 3 })
        }
        #expect(d.files("failed") == [], "\(d.files("failed"))")
        // Space comes back: every job finishes, each result whole (a PNG the codec reads).
        let grow = try TestProcess.run("/bin/mount", ["-o", "remount,size=64m", d.root + "/outbox"])
        #expect(grow.status == 0, "\(grow.stderr)")
        #expect(d.waitUntil(timeout: 90) { d.jobLog().count == 30 }, "\(d.jobLog().count) of 30\n\(d.log)")
        let results = d.files("outbox").filter { $0.hasSuffix(".png") }
        #expect(results.count == 30 && d.files("failed") == [] && d.files("inbox/.processing") == [])
        for name in results { #expect(throws: Never.self) { try PNGCodec().read(path: d.root + "/outbox/" + name) } }
        #expect(d.jobLog().allSatisfy { $0["status"] as? String == "done" })
        #expect(d.stop() == 0)
    }

    @Test func aFailedFolderThatCannotBeWrittenKeepsTheInputUntilItCan() throws {
        try #require(getuid() == 0, "mounting a tmpfs needs root")
        let d = try DaemonHarness(config: FaultTests.config)
        try FaultTests.mount("ro,size=1m", d.root + "/failed")
        defer { FaultTests.unmount(d.root + "/failed") }
        #expect(try d.startAndWait(), "\(d.log)")
        DaemonHarness.put(Array("not a png".utf8), d.root + "/inbox/bad.png")
        #expect(d.waitUntil(timeout: 20) { d.log.contains("cannot write into a folder") && d.log.contains("read-only file system") },
                "\(d.log)")
        #expect(d.files("inbox/.processing") == ["bad.png", "bad.png.attempts"], "still claimed: \(d.files("inbox"))")
        let rw = try TestProcess.run("/bin/mount", ["-o", "remount,rw", d.root + "/failed"])
        #expect(rw.status == 0, "\(rw.stderr)")
        #expect(d.waitUntil(timeout: 30) { d.files("failed") == ["bad.error.txt", "bad.png"] }, "\(d.files("failed"))\n\(d.log)")
        #expect(d.text("failed/bad.error.txt").contains("reading the input"), "the input's own failure is the one reported")
        #expect(d.stop() == 0)
    }

    @Test func anOutboxDeletedWhileRunningIsRecreated() throws {
        let d = try DaemonHarness(config: FaultTests.config)
        #expect(try d.startAndWait(), "\(d.log)")
        try FaultTests.drop(d, 2, prefix: "a")
        #expect(d.waitUntil(timeout: 20) { d.jobLog().count == 2 })
        try FileManager.default.removeItem(atPath: d.root + "/outbox")
        try FaultTests.drop(d, 2, prefix: "b")
        #expect(d.waitUntil(timeout: 20) { d.jobLog().count == 4 }, "\(d.log)")
        #expect(d.files("outbox").filter { $0.hasSuffix(".png") } == ["b0.png", "b1.png"])
        #expect(d.stop() == 0)
    }

    @Test func anInboxDeletedAndRecreatedIsWatchedAgain() throws {
        let d = try DaemonHarness(config: FaultTests.config)
        #expect(try d.startAndWait(), "\(d.log)")
        try FileManager.default.removeItem(atPath: d.root + "/inbox")
        #expect(d.waitUntil(timeout: 10) { d.log.contains("inbox folder gone; watching for it to come back") }, "\(d.log)")
        try FileManager.default.createDirectory(atPath: d.root + "/inbox", withIntermediateDirectories: true)
        #expect(d.waitUntil(timeout: 10) { d.log.contains("inbox folder back; watching it again") }, "\(d.log)")
        try FaultTests.drop(d, 3)
        #expect(d.waitUntil(timeout: 20) { d.jobLog().count == 3 }, "\(d.log)")
        #expect(d.stop() == 0)
    }

    @Test func aConfigurationGoneAtReloadKeepsTheRunningOne() throws {
        let d = try DaemonHarness(config: FaultTests.config)
        #expect(try d.startAndWait(), "\(d.log)")
        try FileManager.default.removeItem(atPath: d.configPath)
        let reload = try TestProcess.pirec("reload", "--control", d.root + "/run")
        #expect(reload.status != 0 && reload.stderr.contains("cannot read configuration: no such file"), "\(reload.stderr)")
        try FaultTests.drop(d, 2)
        #expect(d.waitUntil(timeout: 20) { d.jobLog().count == 2 }, "the old configuration runs on\n\(d.log)")
        #expect(d.stop() == 0)
    }

    @Test func aStormOfReloadsAndAStopDuringOneLoseNothing() throws {
        let d = try DaemonHarness(config: FaultTests.config)
        #expect(try d.startAndWait(), "\(d.log)")
        let pid = d.process!.processIdentifier
        try FaultTests.drop(d, 20)
        for _ in 0..<50 {
            kill(pid, SIGHUP)
            usleep(20_000)
        }
        #expect(d.waitUntil(timeout: 60) { d.jobLog().count == 20 }, "\(d.jobLog().count) of 20\n\(d.log)")
        #expect(d.process?.isRunning ?? false, "survived 50 reloads in a second")
        // A stop right behind a reload: the reload finishes or is abandoned, the exit is clean.
        try FaultTests.drop(d, 10, prefix: "late")
        kill(pid, SIGHUP)
        #expect(d.stop() == 0, "\(d.log)")
        let done = d.jobLog().count
        let left = d.files("inbox").filter { !$0.hasPrefix(".archive/") && $0.hasSuffix(".png") }
        #expect(done + left.count == 30, "every file is done or still in the inbox (claimed or not): \(done) + \(left)")
        #expect(d.files("failed") == [])
        // And the next start finishes them.
        #expect(try d.startAndWait(), "\(d.log)")
        #expect(d.waitUntil(timeout: 60) { d.jobLog().count == 30 }, "\(d.log)")
        #expect(d.stop() == 0)
    }

    static func hangConfig(_ plugin: String) -> String {
        """
        job_log: ROOT/jobs.jsonl
        workers: 2
        max_attempts: 2
        pipelines:
          - name: up
            watch: ROOT/inbox
            output: ROOT/outbox
            failed: ROOT/failed
            chain:
              - plugin: \(plugin)
                timeout: 1

        """
    }

    @Test func aStepPastItsTimeoutIsCancelledAndItsInputFails() throws {
        let plugin = TestPaths.temporaryFolder() + "/libpirec-hangs.so"
        try TestProcess.buildCPlugin(plugin, defines: ["TEST_HANG_ON_WIDTH=13", "TEST_HANG_OBEYS"])
        let d = try DaemonHarness(config: FaultTests.hangConfig(plugin))
        #expect(try d.startAndWait(), "\(d.log)")
        DaemonHarness.put(try DaemonHarness.png(width: 13, height: 9), d.root + "/inbox/stuck.png")
        for i in 0..<3 { DaemonHarness.put(try DaemonHarness.png(), d.root + "/inbox/good\(i).png") }
        #expect(d.waitUntil(timeout: 20) { d.jobLog().count == 4 }, "\(d.log)")
        #expect(d.files("failed") == ["stuck.error.txt", "stuck.png"])
        #expect(d.text("failed/stuck.error.txt").contains("timed out after 1.0 s (timeout) and was cancelled"),
                "\(d.text("failed/stuck.error.txt"))")
        #expect(d.log.contains("step timed out; cancelling it"))
        #expect(d.stop() == 0)
    }

    @Test func aStepThatIgnoresItsCancellationRestartsTheDaemonUntilMaxAttempts() throws {
        let plugin = TestPaths.temporaryFolder() + "/libpirec-hangs.so"
        try TestProcess.buildCPlugin(plugin, defines: ["TEST_HANG_ON_WIDTH=13"])
        let d = try DaemonHarness(config: FaultTests.hangConfig(plugin))
        try FileManager.default.createDirectory(atPath: d.root + "/inbox", withIntermediateDirectories: true)
        DaemonHarness.put(try DaemonHarness.png(width: 13, height: 9), d.root + "/inbox/hung.png")
        DaemonHarness.put(try DaemonHarness.png(), d.root + "/inbox/good.png")
        // Restart it whenever it ends, as systemd's Restart=on-failure would.
        var restarts = 0
        while restarts < 5 {
            _ = try d.startAndWait()
            _ = d.waitUntil(timeout: 30) { !(d.process?.isRunning ?? false) || d.files("failed").contains("hung.png") }
            if d.process?.isRunning ?? false { break }
            restarts += 1
        }
        #expect(restarts == 2, "ended once per attempt, then refused the file: \(restarts)\n\(d.log)")
        #expect(d.log.contains("step hung: it ignored its cancellation"))
        #expect(d.waitUntil(timeout: 10) { d.files("failed") == ["hung.error.txt", "hung.png"] }, "\(d.files("failed"))")
        #expect(d.text("failed/hung.error.txt").contains("crashed the daemon 2 times"))
        #expect(d.waitUntil(timeout: 10) { d.files("outbox").contains("good.png") })
        #expect(d.stop() == 0)
    }
}
