// The shared queue end to end: several real pirecd processes (hosts, by their `queue.host`
// names) on one folder tree (the shared storage) and one throw-away PostgreSQL server. Every
// input must end exactly once in the outbox or the failed folder, whatever happens to a host
// or to the database meanwhile, and the job table must agree with the folders.
import Foundation
import PirecCore
import PirecQueue
import PirecTestKit
import Testing

/// PostgreSQL, the shared folders and one DaemonHarness per host; with `network`, each host
/// in its own network namespace reaching the database over a veth link (TCP), else all on
/// its unix socket.
final class Cluster {
    let server: PostgresTestServer
    let shared = TestPaths.temporaryFolder()
    var hosts: [DaemonHarness] = []
    let network: TestNetwork?

    static let config = """
        job_log: ROOT/jobs.jsonl
        model_dir: REPO/models
        workers: 2
        max_attempts: 2
        queue:
          postgres: "host=PGDIR port=5432 user=postgres dbname=postgres"
          host: HOSTNAME
          lease: 3
          poll: 1
        pipelines:
          - name: up
            watch: SHARED/inbox
            output: SHARED/outbox
            failed: SHARED/failed
            archive: SHARED/archive
            chain:
              - plugin: STEP
                with: STEPWITH
          - name: pairs
            watch: SHARED/pairs
            output: SHARED/pairs-out
            failed: SHARED/pairs-failed
            inputs: pair
            keep_inputs: false
            chain:
              - plugin: edge-extractor
                with: { method: normalize }
              - plugin: generator
                with: { model: emoji/generator.safetensors }

        """

    init(hosts names: [String], network: Bool, step: String = "upscaler", with: String = "{ scale: 4 }") throws {
        self.network = network ? try TestNetwork(count: names.count) : nil
        server = try PostgresTestServer(listen: self.network?.hosts.map(\.gateway) ?? [])
        for (i, name) in names.enumerated() {
            var config = Cluster.config
            if let link = self.network?.hosts[i] {
                config = config.replacingOccurrences(of: "host=PGDIR port=5432 user=postgres dbname=postgres",
                                                     with: "postgresql://postgres@\(link.gateway):5432/postgres")
            }
            let host = try DaemonHarness(config: config
                .replacingOccurrences(of: "SHARED", with: shared).replacingOccurrences(of: "PGDIR", with: server.folder)
                .replacingOccurrences(of: "HOSTNAME", with: name)
                .replacingOccurrences(of: "STEPWITH", with: with).replacingOccurrences(of: "STEP", with: step))
            host.launcher = self.network?.hosts[i].launcher ?? []
            hosts.append(host)
        }
        for folder in ["inbox", "pairs"] { try FileManager.default.createDirectory(atPath: shared + "/" + folder, withIntermediateDirectories: true) }
    }

    deinit { try? FileManager.default.removeItem(atPath: shared) }

    /// Starts every host at the same instant (they migrate the empty database together).
    func startAll() throws -> Bool {
        for host in hosts { try host.start() }
        return hosts.allSatisfy { host in host.waitUntil(timeout: 60) { host.readyLines > 0 } }
    }

    func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: shared + "/" + folder)) ?? []).sorted()
    }

    /// Results in the outboxes (sidecars and hidden staging folders not counted).
    var results: Int {
        (files("outbox") + files("pairs-out")).filter { $0.hasSuffix(".png") && !$0.hasPrefix(".") }.count
    }

    /// `psql` on the server as its superuser; the output's lines.
    func sql(_ query: String) throws -> [String] {
        let psql = try TestProcess.run("/usr/bin/psql", ["-h", server.folder, "-U", "postgres", "-d", "postgres",
                                                         "-At", "-c", query])
        guard psql.status == 0 else { throw TestServerError("psql: \(psql.stderr)") }
        return psql.stdout.split(separator: "\n").map(String.init)
    }

    /// Every host's job-log lines.
    var jobLogs: [[String: Any]] { hosts.flatMap { $0.jobLog() } }

    var logs: String { hosts.map { "---- \($0.configPath)\n" + $0.log.suffix(4000) }.joined(separator: "\n") }

    /// Drops `singles` pictures and `pairs` sketch + colour pairs, as a burst.
    func drop(singles: Int, pairs: Int) throws {
        let png = try DaemonHarness.png(width: 96, height: 96)
        let small = try DaemonHarness.png()
        for i in 0..<singles {
            DaemonHarness.put(png, shared + "/inbox/s\(i).png")
            if i < pairs {
                DaemonHarness.put(small, shared + "/pairs/p\(i)_e.png")
                DaemonHarness.put(small, shared + "/pairs/p\(i)_c.png")
            }
        }
    }

    /// The invariants after a burst of `singles` and `pairs` that all succeed: each input's
    /// result exactly once, each input archived (singles) or removed (pairs) once, one `done`
    /// line per job across the hosts' job logs, no staging left, and the table all `done`.
    func checkEveryJobDoneOnce(singles: Int, pairs: Int) throws {
        #expect(files("outbox").filter { $0.hasSuffix(".png") } == (0..<singles).map { "s\($0).png" }.sorted())
        #expect(files("outbox").filter { $0.hasPrefix(".") } == [], "staging folders left")
        #expect(files("pairs-out").filter { $0.hasSuffix(".png") } == (0..<pairs).map { "p\($0).png" }.sorted())
        #expect(files("archive") == (0..<singles).map { "s\($0).png" }.sorted(), "each input archived once")
        #expect(files("inbox").filter { !$0.hasPrefix(".") } == [] && files("pairs").filter { !$0.hasPrefix(".") } == [])
        #expect(files("failed") == [] && files("pairs-failed") == [])
        var done: [String: Int] = [:]
        for line in jobLogs where line["status"] as? String == "done" {
            for input in (line["inputs"] as? [String: String] ?? [:]).values { done[input, default: 0] += 1 }
        }
        #expect(done.count == singles + 2 * pairs && done.values.allSatisfy { $0 == 1 },
                "\(done.filter { $0.value != 1 })")
        #expect(try sql("SELECT state, count(*) FROM pirec_jobs GROUP BY state") == ["done|\(singles + pairs)"])
        #expect(try sql("SELECT count(*) FROM pirec_jobs WHERE jsonb_array_length(outputs) = 0") == ["0"])
    }
}

/// The first two put each host in its own network namespace (a real TCP link to the
/// database); the poison test uses the unix socket, the other way to reach it.
@Suite(.serialized) struct SharedQueueTests {
    @Test func threeHostsShareABurstAndTakeOverFromAHostKilledTwice() throws {
        let c = try Cluster(hosts: ["render-a", "render-b", "render-c"], network: true)
        #expect(try c.startAll(), "\(c.logs)")
        #expect(try c.sql("SELECT version FROM pirec_schema") == ["\(QueueSchema.current)"], "migrated by one of the three")
        try c.drop(singles: 300, pairs: 20)
        #expect(c.hosts[0].waitUntil(timeout: 20) {
            ((try? c.sql("SELECT count(DISTINCT client_addr) FROM pg_stat_activity WHERE client_addr IS NOT NULL")) ?? []) == ["3"]
        }, "each host connects from its own namespace's address")
        let check = try TestProcess.pirec("check", "--config", c.hosts[0].configPath, "--connect")
        #expect(check.status == 0 && check.stdout.contains("queue OK") && check.stdout.contains("version \(QueueSchema.current)"),
                "\(check.stdout)\(check.stderr)")
        let victim = c.hosts[1]
        _ = victim.waitUntil(timeout: 60) { c.results >= 20 }
        // Asked until a job is running in the table (between jobs there may be none).
        var during = try TestProcess.pirec("status", "--config", victim.configPath, "--control", victim.root + "/run")
        _ = victim.waitUntil(timeout: 20) {
            during = (try? TestProcess.pirec("status", "--config", victim.configPath, "--control", victim.root + "/run")) ?? during
            return during.stdout.contains("  render-")
        }
        #expect(during.status == 0 && during.stdout.contains("pipeline up: ") && during.stdout.contains("  render-"),
                "each host's running jobs: \(during.stdout)\(during.stderr)")
        for mark in [60, 180] {
            _ = victim.waitUntil(timeout: 60) { c.results >= mark }
            #expect(c.results < 320, "killed in the middle of the burst")
            victim.kill9()
            _ = victim.waitUntil(timeout: 60) { c.results >= mark + 40 }
            #expect(try victim.startAndWait(), "\(victim.log)")
        }
        #expect(c.hosts[0].waitUntil(timeout: 120) { c.results == 320 && c.jobLogs.count == 320 }, "\(c.results)\n\(c.logs)")
        try c.checkEveryJobDoneOnce(singles: 300, pairs: 20)
        #expect(try Int(c.sql("SELECT count(*) FROM pirec_jobs WHERE claims > 1")[0])! >= 2, "the victim's claims were taken over")
        let after = try TestProcess.pirec("status", "--config", c.hosts[2].configPath, "--control", c.hosts[2].root + "/run")
        #expect(after.stdout.contains("pipeline up: 0 queued, 0 running, 300 done, 0 failed\n")
                    && after.stdout.contains("pipeline pairs: 0 queued, 0 running, 20 done, 0 failed\n")
                    && after.stdout.contains("running: none"), "\(after.stdout)\(after.stderr)")
        #expect(after.status == 0 && after.stdout.contains("pirecd: running") && after.stdout.contains("queue: shared: "),
                "this host's daemon, then the cluster: \(after.stdout)")
        let json = try TestProcess.pirec("status", "--config", c.hosts[2].configPath, "--json", "--control", c.hosts[2].root + "/run")
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let cluster = parsed?["cluster"] as? [String: Any]
        #expect((cluster?["pipelines"] as? [[String: Any]])?.first?["done"] as? Int == 300, "\(json.stdout)")
        #expect(c.jobLogs.allSatisfy { ($0["job_id"] as? Int ?? 0) > 0 }, "job-log lines name their row")
        let byHost = Dictionary(grouping: c.jobLogs, by: { $0["host"] as? String ?? "?" }).mapValues(\.count)
        #expect(byHost.count == 3, "every host worked: \(byHost)")
        for host in c.hosts { #expect(host.stop() == 0) }
    }

    @Test func theHostsRideOutTenSecondsWithoutTheDatabase() throws {
        let c = try Cluster(hosts: ["render-a", "render-b"], network: true)
        #expect(try c.startAll(), "\(c.logs)")
        try c.drop(singles: 150, pairs: 10)
        _ = c.hosts[0].waitUntil(timeout: 60) { c.results >= 30 }
        try c.server.stop(immediate: true)
        sleep(10)
        try c.server.start()
        #expect(c.hosts[0].waitUntil(timeout: 120) { c.results == 160 && c.jobLogs.count == 160 }, "\(c.results)\n\(c.logs)")
        try c.checkEveryJobDoneOnce(singles: 150, pairs: 10)
        for host in c.hosts {
            let log = host.log
            #expect(log.components(separatedBy: "job queue unavailable").count - 1 >= 1, "the outage is logged")
            #expect(log.contains("job queue reachable again"))
            #expect(host.stop() == 0)
        }
    }

    @Test func aFileThatCrashesHostsEndsFailedAfterMaxAttemptsAcrossTheCluster() throws {
        let plugin = TestPaths.temporaryFolder() + "/libpirec-crashy.so"
        try TestProcess.buildCPlugin(plugin, defines: ["TEST_CRASH_ON_WIDTH=13"])
        let c = try Cluster(hosts: ["render-a", "render-b"], network: false, step: plugin, with: "{}")
        #expect(try c.startAll(), "\(c.logs)")
        DaemonHarness.put(try DaemonHarness.png(width: 13, height: 9), c.shared + "/inbox/poison.png")
        for i in 0..<4 { DaemonHarness.put(try DaemonHarness.png(), c.shared + "/inbox/good\(i).png") }
        // Restart a host whenever it dies, as systemd's Restart=on-failure would.
        var deaths = 0
        let deadline = Date().addingTimeInterval(90)
        func settled() -> Bool { c.files("failed").contains("poison.png") && c.results == 4 && c.jobLogs.count == 5 }
        // A host that crashed may still be alive for seconds, printing its backtrace (its
        // lease lapses meanwhile): settled means settled and no host dying for 6 s.
        var quietSince: Date?
        while Date() < deadline {
            let dead = c.hosts.filter { !($0.process?.isRunning ?? false) }
            if dead.isEmpty && settled() {
                if let since = quietSince, Date().timeIntervalSince(since) > 6 { break }
                quietSince = quietSince ?? Date()
            } else {
                quietSince = nil
            }
            for host in dead {
                deaths += 1
                _ = try host.startAndWait()
            }
            usleep(200_000)
        }
        #expect(deaths == 2, "one death per attempt (max_attempts 2), on whichever host claimed it: \(deaths)\n\(c.logs)")
        #expect(c.files("failed") == ["poison.error.txt", "poison.png"])
        let report = (try? String(contentsOfFile: c.shared + "/failed/poison.error.txt", encoding: .utf8)) ?? ""
        #expect(report.contains("crashed or timed out 2 times"), "\(report)")
        #expect(try c.sql("SELECT key, state, attempts FROM pirec_jobs WHERE state <> 'done'") == ["poison.png|failed|2"])
        for host in c.hosts { #expect(host.stop() == 0) }
    }
}
