// `pirec status`: what pirecd is doing, from what it publishes in its control folder
// (DaemonStatus): state, uptime, configuration, per-pipeline counts, running jobs with their
// step, the last failures, the models loaded. With a configuration that has a `queue:`
// block, the shared queue's view too, from its job table: per pipeline the jobs by state,
// how long the oldest queued one has waited, and each host's running jobs. Exits 3 (as
// `systemctl status` does for a stopped unit) when pirecd is not running.
import ArgumentParser
import Foundation
import Glibc
import PirecCore
import PirecDaemon
import PirecQueue

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show what pirecd is doing (and, with a shared queue, the cluster's jobs).")

    @Option(name: .long, help: "pirecd's control folder (default: $RUNTIME_DIRECTORY, else /run/pirec).")
    var control: String?
    @Option(name: .long, help: "The configuration file; with a `queue:` block the shared queue is shown too.")
    var config: String?
    @Flag(name: .long, help: "Print JSON instead of text.") var json = false

    /// `systemctl status`'s code for a unit that is not running.
    static let notRunning: Int32 = 3

    func run() throws {
        let files = ControlFiles(folder: control ?? ControlFiles.defaultFolder(environment: ProcessInfo.processInfo.environment))
        let (daemon, absence) = Self.daemon(files)
        let cluster = try config.flatMap(Self.cluster)
        if json {
            var object: [String: Any] = ["running": daemon != nil]
            if let daemon, let parsed = try? JSONSerialization.jsonObject(with: Data(daemon.encoded())) {
                object["daemon"] = parsed
            } else {
                object["reason"] = absence
            }
            if let cluster { object["cluster"] = Self.json(cluster.overview, names: cluster.names, settings: cluster.settings) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(daemon.map { Self.text($0, now: Date().timeIntervalSince1970) } ?? "pirecd: not running (\(absence))\n",
                  terminator: "")
            if let cluster { print("\n" + Self.text(cluster.overview, names: cluster.names, settings: cluster.settings), terminator: "") }
        }
        if daemon == nil { throw ExitCode(Self.notRunning) }
    }

    /// The daemon's published status, or why there is none.
    static func daemon(_ files: ControlFiles) -> (DaemonStatus?, String) {
        guard let status = files.readDaemonStatus() else { return (nil, "no \(files.daemonStatusPath)") }
        // A daemon killed (SIGKILL, a crash) leaves its last status behind.
        guard kill(status.pid, 0) == 0 || errno == EPERM else {
            return (nil, "its PID \(status.pid) is gone; \(files.daemonStatusPath) is from \(timestamp(status.started))")
        }
        return (status, "")
    }

    static func text(_ s: DaemonStatus, now: Double) -> String {
        var text = "pirecd: \(s.state.rawValue) (PID \(s.pid)) on \(s.host) for \(duration(now - s.started))\n"
        text += "configuration: \(s.config), loaded \(timestamp(s.configLoaded)) (\(duration(now - s.configLoaded)) ago)\n"
        text += "queue: \(s.queue); \(s.workers) worker\(s.workers == 1 ? "" : "s")\n"
        for trouble in s.trouble { text += "trouble: \(trouble)\n" }
        for p in s.pipelines {
            text += "pipeline \(p.name): \(p.done) done, \(p.failed) failed, \(p.queued) queued, \(p.running) running\n"
        }
        text += s.running.isEmpty ? "running: none\n" : "running:\n"
        for job in s.running {
            let step = job.step == 0 ? "starting" : "step \(job.step)/\(job.steps) (\(job.plugin))"
            text += "  \(job.pipeline)  \(job.input)  \(seconds(now - job.started))  \(step)\n"
        }
        text += s.failures.isEmpty ? "recent failures: none\n" : "recent failures (newest first):\n"
        for f in s.failures.reversed() {
            text += "  \(timestamp(f.time))  \(f.pipeline)  \(f.input)\n    \(f.step ?? "before the chain"): \(f.error)\n"
        }
        text += s.models.isEmpty ? "models: none\n" : "models:\n"
        for m in s.models { text += "  \(m.file)  sha256 \(m.sha256.prefix(16))...  (\(m.pipelines.joined(separator: ", ")))\n" }
        return text
    }

    // MARK: the shared queue

    struct Cluster {
        var overview: QueueOverview
        var names: [String]
        var settings: QueueSettings
    }

    /// The shared queue's overview when `path` has a `queue:` block; nil when it has none.
    static func cluster(_ path: String) throws -> Cluster? {
        let configuration: Configuration
        do { configuration = try Configuration.load(path: path) } catch {
            for e in error.errors { Console.error(e.description) }
            throw ExitCode(1)
        }
        guard let settings = configuration.queue else { return nil }
        let database = QueueDatabase(settings: settings, environment: ProcessInfo.processInfo.environment,
                                     logger: Console.logger(verbose: false))
        defer { database.close() }
        let overview: QueueOverview
        do {
            overview = try JobTable(database: database, host: settings.host, leaseSeconds: settings.lease).overview()
        } catch {
            throw Console.fail("\(path): queue.postgres: cannot read the job table at \(settings.description): \(error)")
        }
        // Pipelines of this configuration first, in its order, then any others the table holds.
        let names = configuration.pipelines.map(\.name) + overview.pipelines.keys.sorted()
            .filter { name in !configuration.pipelines.contains { $0.name == name } }
        return Cluster(overview: overview, names: names, settings: settings)
    }

    static let states = ["queued", "running", "done", "failed"]

    static func text(_ overview: QueueOverview, names: [String], settings: QueueSettings) -> String {
        var text = "queue: \(settings.description) (shared; asked as \(settings.host))\n"
        for name in names {
            let p = overview.pipelines[name] ?? .init()
            let counts = states.map { "\(p.counts[$0] ?? 0) \($0)" }.joined(separator: ", ")
            text += "pipeline \(name): \(counts)" + (p.oldestQueued.map { "; oldest queued \(seconds($0))" } ?? "") + "\n"
        }
        let hosts = Dictionary(grouping: overview.running, by: \.host)
        text += hosts.isEmpty ? "running: none\n" : "running:\n"
        for host in hosts.keys.sorted() {
            text += "  \(host): \(hosts[host]!.count) job\(hosts[host]!.count == 1 ? "" : "s")\n"
            for job in hosts[host]! {
                let lease = job.leaseLeft >= 0 ? "lease \(seconds(job.leaseLeft)) left" : "lease lapsed \(seconds(-job.leaseLeft)) ago"
                text += "    \(job.pipeline)/\(job.key)  \(seconds(job.seconds))  (\(lease), start \(job.starts))\n"
            }
        }
        return text
    }

    static func json(_ overview: QueueOverview, names: [String], settings: QueueSettings) -> [String: Any] {
        let pipelines = names.map { name -> [String: Any] in
            let p = overview.pipelines[name] ?? .init()
            var entry: [String: Any] = ["name": name]
            for state in states { entry[state] = p.counts[state] ?? 0 }
            if let oldest = p.oldestQueued { entry["oldest_queued_seconds"] = oldest }
            return entry
        }
        let running = overview.running.map {
            ["host": $0.host, "pipeline": $0.pipeline, "input": $0.key, "seconds": $0.seconds,
             "lease_left_seconds": $0.leaseLeft, "starts": $0.starts] as [String: Any]
        }
        return ["queue": settings.description, "pipelines": pipelines, "running": running]
    }

    static func seconds(_ s: Double) -> String {
        s < 120 ? String(format: "%.1f s", s) : s < 7200 ? "\(Int(s / 60)) min" : String(format: "%.1f h", s / 3600)
    }

    /// A longer span for uptimes: "42 s", "17 min", "3 h 5 min", "2 d 4 h".
    static func duration(_ s: Double) -> String {
        let t = Int(max(0, s))
        return t < 60 ? "\(t) s" : t < 3600 ? "\(t / 60) min" : t < 86400 ? "\(t / 3600) h \(t % 3600 / 60) min"
            : "\(t / 86400) d \(t % 86400 / 3600) h"
    }

    static func timestamp(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
