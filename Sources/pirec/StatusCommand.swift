// `pirec status`: what the shared queue holds, from its job table: per pipeline the jobs by
// state and how long the oldest queued one has waited, and each host's running jobs. Any
// host with the configuration can ask; the answer is the cluster's.
import ArgumentParser
import Foundation
import PirecCore
import PirecQueue

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the shared queue's jobs by pipeline and state, and who runs what.")

    @Option(name: .long, help: "The configuration file (with a `queue:` block).") var config: String
    @Flag(name: .long, help: "Print JSON instead of text.") var json = false

    func run() throws {
        let configuration: Configuration
        do { configuration = try Configuration.load(path: config) } catch {
            for e in error.errors { Console.error(e.description) }
            throw ExitCode(1)
        }
        guard let settings = configuration.queue else {
            throw Console.fail("\(config) has no `queue:` block: this host's folders are its queue "
                + "(systemctl status pirecd shows the daemon's counts)")
        }
        let database = QueueDatabase(settings: settings, environment: ProcessInfo.processInfo.environment,
                                     logger: Console.logger(verbose: false))
        defer { database.close() }
        let overview: QueueOverview
        do {
            overview = try JobTable(database: database, host: settings.host, leaseSeconds: settings.lease).overview()
        } catch {
            throw Console.fail("\(config): queue.postgres: cannot read the job table at \(settings.description): \(error)")
        }
        // Pipelines of this configuration first, in its order, then any others the table holds.
        let names = configuration.pipelines.map(\.name) + overview.pipelines.keys.sorted()
            .filter { name in !configuration.pipelines.contains { $0.name == name } }
        print(json ? Self.json(overview, names: names, settings: settings) : Self.text(overview, names: names, settings: settings),
              terminator: "")
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

    static func json(_ overview: QueueOverview, names: [String], settings: QueueSettings) -> String {
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
        let object: [String: Any] = ["queue": settings.description, "pipelines": pipelines, "running": running]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func seconds(_ s: Double) -> String {
        s < 120 ? String(format: "%.1f s", s) : s < 7200 ? "\(Int(s / 60)) min" : String(format: "%.1f h", s / 3600)
    }
}
