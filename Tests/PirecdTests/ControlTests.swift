// How systemd and the admin control the daemon: the notify protocol (READY, STATUS,
// WATCHDOG, RELOADING, STOPPING) on a socket we listen on, `pirec reload` with a good and a
// bad configuration, and SIGTERM letting a running job finish.
import Foundation
import Glibc
import PirecCore
import PirecTestKit
import Synchronization
import Testing

/// A datagram socket with an abstract name, as systemd's NOTIFY_SOCKET, collecting messages.
final class NotifyListener: @unchecked Sendable {
    let name = "pirecd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    private let fd: Int32
    private let received = Mutex<[String]>([])

    init() {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = [UInt8(0)] + Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { for (i, b) in bytes.enumerated() { $0[i] = b } }
        let length = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path)! + bytes.count)
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        precondition(ok == 0, "bind failed")
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return }
                let text = String(decoding: buffer[0..<n], as: UTF8.self)
                received.withLock { $0.append(text) }
            }
        }
        thread.start()
    }

    var environmentValue: String { "@" + name }

    /// Every message so far, one string per datagram.
    var messages: [String] { received.withLock { $0 } }

    /// Every line of every message, in order.
    var lines: [String] { messages.flatMap { $0.split(separator: "\n").map(String.init) } }
}

@Suite(.serialized) struct ControlTests {
    static let config = """
        workers: 1
        pipelines:
          - name: up
            watch: ROOT/inbox
            output: ROOT/outbox
            failed: ROOT/failed
            chain:
              - plugin: upscaler
                with: { scale: 2 }

        """

    @Test func notifyProtocolAndSynchronousReload() throws {
        let d = try DaemonHarness(config: ControlTests.config)
        let listener = NotifyListener()
        #expect(try d.startAndWait(environment: ["NOTIFY_SOCKET": listener.environmentValue,
                                                  "WATCHDOG_USEC": "300000"]), "\(d.log)")
        #expect(d.waitUntil(timeout: 5) { listener.lines.contains("READY=1") }, "\(listener.messages)")
        #expect(listener.lines.contains("STATUS=watching 1 folder; 0 done, 0 failed, 0 queued"), "\(listener.messages)")
        usleep(700_000)
        #expect(listener.lines.filter { $0 == "WATCHDOG=1" }.count >= 3, "pings at half of WATCHDOG_USEC")

        DaemonHarness.put(try DaemonHarness.png(), d.root + "/inbox/one.png")
        #expect(d.waitUntil(timeout: 10) { listener.lines.contains("STATUS=watching 1 folder; 1 done, 0 failed, 0 queued") },
                "\(listener.messages)")

        // A valid new configuration: a second pipeline. `pirec reload` returns once it is in force.
        let second = ControlTests.config + """
              - name: again
                watch: ROOT/inbox2
                output: ROOT/outbox2
                failed: ROOT/failed2
                chain:
                  - plugin: upscaler
                    with: { scale: 4 }

            """
        try TestPaths.write(second.replacingOccurrences(of: "ROOT", with: d.root), to: d.configPath)
        let reload = try TestProcess.pirec("reload", "--control", d.root + "/run")
        #expect(reload.status == 0, "\(reload.stderr)")
        let afterReload = listener.lines
        let reloading = afterReload.lastIndex(of: "RELOADING=1")
        #expect(reloading != nil && afterReload[reloading!...].contains("READY=1"), "\(afterReload)")
        #expect(afterReload.contains { $0.hasPrefix("STATUS=watching 2 folders") }, "in force when reload returned")
        DaemonHarness.put(try DaemonHarness.png(), d.root + "/inbox2/two.png")
        #expect(d.waitUntil(timeout: 10) { d.files("outbox2").contains("two.png") }, "\(d.log)")

        // An invalid one: the errors come back with file:line:column, the old chain keeps working.
        try TestPaths.write("pipelines:\n  - name: broken\n    chain: [ { plugin: upscaler, with: { scale: 99 } } ]\n",
                            to: d.configPath)
        let bad = try TestProcess.pirec("reload", "--control", d.root + "/run")
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("\(d.configPath):3:"), "\(bad.stderr)")
        #expect(bad.stderr.contains("kept its running configuration"), "\(bad.stderr)")
        #expect(d.log.contains("<3>configuration error; keeping the running one"))
        DaemonHarness.put(try DaemonHarness.png(), d.root + "/inbox2/three.png")
        #expect(d.waitUntil(timeout: 10) { d.files("outbox2").contains("three.png") }, "old configuration still in force")

        #expect(d.stop() == 0)
        #expect(listener.lines.contains("STOPPING=1"))
    }

    /// A `with:` value only the plugin can refuse (a model file that is not there): one
    /// `file:line:column`, at the `model` key, from `pirec check`, at start and at reload.
    @Test func aBadWithValueIsReportedOnceAtItsKey() throws {
        let broken = """
            model_dir: REPO/models
            pipelines:
              - name: up
                watch: ROOT/inbox
                output: ROOT/outbox
                failed: ROOT/failed
                chain:
                  - plugin: generator
                    with: { model: emoji/missing.safetensors }

            """
        let d = try DaemonHarness(config: broken)
        let place = d.configPath + ":9:17: pipelines[0].chain[0].with.model: plugin generator: "
        func once(_ text: String) -> Bool {
            text.components(separatedBy: d.configPath + ":").count == 2 && text.contains(place)
        }
        let check = try TestProcess.pirec("check", "--config", d.configPath)
        #expect(check.status == 1 && once(check.stderr), "\(check.stderr)")
        #expect(!(try d.startAndWait()))
        let refused = d.log.split(separator: "\n").filter { $0.contains("configuration error") }
        #expect(refused.count == 1 && once(String(refused[0])), "\(d.log)")

        try TestPaths.write(ControlTests.config.replacingOccurrences(of: "ROOT", with: d.root), to: d.configPath)
        #expect(try d.startAndWait(), "\(d.log)")
        try TestPaths.write(broken.replacingOccurrences(of: "ROOT", with: d.root)
            .replacingOccurrences(of: "REPO", with: TestPaths.repository), to: d.configPath)
        let reload = try TestProcess.pirec("reload", "--control", d.root + "/run")
        #expect(reload.status == 1 && once(reload.stderr), "\(reload.stderr)")
        #expect(d.stop() == 0)
    }

    @Test func sigtermLetsTheRunningJobFinish() throws {
        let plugin = TestPaths.temporaryFolder() + "/libpirec-slow.so"
        try TestProcess.buildCPlugin(plugin, defines: ["TEST_SLOW_MS=1500"])
        let d = try DaemonHarness(config: ControlTests.config.replacingOccurrences(
            of: "upscaler\n        with: { scale: 2 }", with: plugin))
        #expect(d.text("pirec.yaml").contains(plugin))
        #expect(try d.startAndWait(), "\(d.log)")
        DaemonHarness.put(try DaemonHarness.png(), d.root + "/inbox/slow.png")
        DaemonHarness.put(try DaemonHarness.png(), d.root + "/inbox/waiting.png")
        #expect(d.waitUntil(timeout: 5) { d.files("inbox/.processing").contains("slow.png.attempts") })
        let start = Date()
        #expect(d.stop() == 0)
        #expect(Date().timeIntervalSince(start) > 0.5, "waited for the running job")
        #expect(d.files("outbox").contains("slow.png"), "the running job finished: \(d.files("outbox"))\n\(d.log)")
        // Queued (claimed) or not yet seen when the signal came: either way it waits in the inbox.
        #expect(!d.files("outbox").contains("waiting.png"))
        #expect(d.files("inbox").contains(".processing/waiting.png") || d.files("inbox").contains("waiting.png"),
                "the queued one stays for the next start: \(d.files("inbox"))")
        #expect(try d.startAndWait(), "\(d.log)")
        #expect(d.waitUntil(timeout: 10) { d.files("outbox").contains("waiting.png") }, "\(d.log)")
        #expect(d.stop() == 0)
    }

    @Test func statusShowsCountsRunningStepsFailuresAndModels() throws {
        let plugin = TestPaths.temporaryFolder() + "/libpirec-slow.so"
        try TestProcess.buildCPlugin(plugin, defines: ["TEST_SLOW_MS=1500"])
        let d = try DaemonHarness(config: """
            workers: 1
            model_dir: REPO/models
            pipelines:
              - name: up
                watch: ROOT/inbox
                output: ROOT/outbox
                failed: ROOT/failed
                chain:
                  - plugin: upscaler
                    with: { scale: 2 }
                  - plugin: \(plugin)
              - name: net
                watch: ROOT/pairs
                output: ROOT/pairs-out
                failed: ROOT/pairs-failed
                inputs: pair
                chain:
                  - plugin: generator
                    with: { model: emoji/generator.safetensors }

            """)
        let control = ["--control", d.root + "/run"]
        let before = try TestProcess.run(TestPaths.pirec, ["status"] + control)
        #expect(before.status == 3 && before.stdout.contains("pirecd: not running"), "\(before.stdout)\(before.stderr)")
        #expect(try d.startAndWait(), "\(d.log)")
        DaemonHarness.put(Array("not a png".utf8), d.root + "/inbox/broken.png")
        #expect(d.waitUntil(timeout: 10) { d.files("failed").contains("broken.png") })
        DaemonHarness.put(try DaemonHarness.png(), d.root + "/inbox/slow.png")
        DaemonHarness.put(try DaemonHarness.png(), d.root + "/inbox/next.png")
        // While the slow step runs: one job in step 2 of 2 (the slow plugin), one queued.
        var seen: ProcessResult?
        #expect(d.waitUntil(timeout: 10) {
            seen = try? TestProcess.run(TestPaths.pirec, ["status"] + control)
            return seen?.stdout.contains("step 2/2 (invert)") ?? false
        }, "\(seen?.stdout ?? "")\(seen?.stderr ?? "")")
        let during = try #require(seen)
        #expect(during.status == 0)
        #expect(during.stdout.contains("pirecd: running (PID \(d.process!.processIdentifier))"), "\(during.stdout)")
        #expect(during.stdout.contains("configuration: \(d.configPath), loaded "))
        #expect(during.stdout.contains("pipeline up: 0 done, 1 failed, 1 queued, 1 running\n"), "\(during.stdout)")
        #expect(during.stdout.contains("pipeline net: 0 done, 0 failed, 0 queued, 0 running\n"))
        #expect(during.stdout.contains("\(d.root)/failed/broken.png\n    before the chain: cannot read PNG: not a PNG file"),
                "the failure, where its input lies now: \(during.stdout)")
        let model = TestPaths.repository + "/models/emoji/generator.safetensors"
        #expect(during.stdout.contains("  \(model)  sha256 \(try SHA256.file(model).prefix(16))...  (net)"), "\(during.stdout)")
        #expect(d.waitUntil(timeout: 10) { d.files("outbox").contains("next.png") })
        let json = try TestProcess.run(TestPaths.pirec, ["status", "--json"] + control)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let daemon = parsed?["daemon"] as? [String: Any]
        let up = (daemon?["pipelines"] as? [[String: Any]])?.first
        #expect(json.status == 0 && parsed?["running"] as? Bool == true, "\(json.stdout)")
        #expect(up?["name"] as? String == "up" && up?["done"] as? Int == 2 && up?["failed"] as? Int == 1, "\(json.stdout)")
        #expect((daemon?["failures"] as? [[String: Any]])?.first?["error"] as? String == "cannot read PNG: not a PNG file (bad signature)")
        #expect(d.stop() == 0)
        let after = try TestProcess.run(TestPaths.pirec, ["status"] + control)
        #expect(after.status == 3 && after.stdout.contains("not running"), "a clean stop takes its status away: \(after.stdout)")
        // A daemon killed outright leaves its status behind: its PID tells it is gone.
        #expect(try d.startAndWait(), "\(d.log)")
        #expect(d.waitUntil(timeout: 5) { FileManager.default.fileExists(atPath: d.root + "/run/status.json") })
        d.kill9()
        let killed = try TestProcess.run(TestPaths.pirec, ["status"] + control)
        #expect(killed.status == 3 && killed.stdout.contains("is gone"), "\(killed.stdout)")
    }
}
