// `pirec bench-queue`: the shared queue's claim rate alone, for bench/shared_queue.py: N jobs of a
// scratch pipeline are inserted, W threads claim, start and finish them (an empty chain)
// through the same JobTable calls pirecd makes, and the rows are deleted again.
import ArgumentParser
import Foundation
import PirecCore
import PirecQueue

struct QueueBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-queue", abstract: "Measure claims per second of the shared queue's SQL; prints JSON.")

    @Option(name: .long, help: "The configuration file (with a `queue:` block).") var config: String
    @Option(name: .long, help: "Jobs to insert and claim.") var jobs: Int = 5000
    @Option(name: .long, help: "Claiming threads (each claims, starts and finishes in turn).") var workers: Int = 8

    func run() throws {
        let configuration: Configuration
        do { configuration = try Configuration.load(path: config) } catch {
            for e in error.errors { Console.error(e.description) }
            throw ExitCode(1)
        }
        guard let settings = configuration.queue else { throw Console.fail("\(config) has no `queue:` block") }
        let database = QueueDatabase(settings: settings, environment: ProcessInfo.processInfo.environment,
                                     logger: Console.logger(verbose: false))
        defer { database.close() }
        try QueueSchema.migrate(database)
        let pipeline = "bench-\(getpid())"
        let tables = (0..<workers).map { JobTable(database: database, host: "bench-\($0)", leaseSeconds: 60) }
        for i in 0..<jobs {
            try tables[0].ingest(pipeline: pipeline, key: "f\(i).png", identity: "\(i)", inputs: ["source": "f\(i).png"])
        }
        let done = DispatchGroup()
        let counts = Counts()
        let start = Date()
        for w in 0..<workers {
            done.enter()
            Thread {
                defer { done.leave() }
                let table = tables[w]
                while case let .run(claim)? = try? table.claim(pipelines: [pipeline], maxAttempts: 2) {
                    guard (try? table.start(claim)) == true,
                          (try? table.finish(claim, outputs: ["f.png"], publish: {})) == true else { continue }
                    counts.add()
                }
            }.start()
        }
        done.wait()
        let seconds = Date().timeIntervalSince(start)
        let claimed = counts.total
        _ = try database.blocking { client in try await client.query("DELETE FROM pirec_jobs WHERE pipeline = \(pipeline)") }
        print("{\"jobs\": \(jobs), \"claimed\": \(claimed), \"workers\": \(workers), \"seconds\": \(seconds), "
            + "\"claims_per_second\": \(Double(claimed) / seconds)}")
        if claimed != jobs { throw Console.fail("claimed \(claimed) of \(jobs) jobs") }
    }

    private final class Counts: @unchecked Sendable {  // under its lock
        private var value = 0
        private let lock = NSLock()
        func add() { lock.withLock { value += 1 } }
        var total: Int { lock.withLock { value } }
    }
}
