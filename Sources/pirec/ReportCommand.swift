// `pirec report`: the recent jobs of a pirecd as one self-contained HTML page (PirecReport):
// inputs, intermediates, result, milliseconds per step and failures with their reasons,
// newest first. It reads the job log the configuration names and the sidecars beside the
// results; the daemon need not run.
import ArgumentParser
import Foundation
import PirecCore
import PirecReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Write an HTML page of recent jobs: pictures, timings and failures.")

    @Option(name: .long, help: "The configuration file (its `job_log:` is read).") var config: String?
    @Option(name: .long, help: "The job log to read, instead of the configuration's.") var jobLog: String?
    @Option(name: .long, help: "At most this many jobs, the newest.") var last = 50
    @Option(name: .long, help: "Only jobs finished within this long: 90s, 30m, 1h, 2d, 1w.") var since: String?
    @Option(name: .shortAndLong, help: "The page to write.") var output = "report.html"

    func validate() throws {
        guard last > 0 else { throw ValidationError("--last must be at least 1, got \(last)") }
        if let since, JobHistory.seconds(of: since) == nil {
            throw ValidationError("--since: expected a number and a unit (s, m, h, d, w), e.g. 1h; got \"\(since)\"")
        }
        if config == nil && jobLog == nil { throw ValidationError("give --config FILE or --job-log FILE") }
    }

    func run() throws {
        let source: String
        if let jobLog {
            source = jobLog
        } else {
            let configuration: Configuration
            do { configuration = try Configuration.load(path: config!) } catch {
                for e in error.errors { Console.error(e.description) }
                throw ExitCode(1)
            }
            guard let path = configuration.jobLog else {
                throw Console.fail("\(config!): no `job_log:`, so pirecd keeps no record of its jobs to report; "
                    + "add `job_log: /var/lib/pirec/log/jobs.jsonl`")
            }
            source = path
        }
        let cutoff = since.flatMap(JobHistory.seconds(of:)).map { Date().addingTimeInterval(-$0) }
        let history: JobHistory
        do { history = try JobHistory.read(jobLog: source, last: last, since: cutoff) } catch {
            throw Console.fail("\(error)")
        }
        let page = ReportPage().html(history, source: source)
        do { try FileIO.writeAtomically(Array(page.utf8), to: output) } catch {
            throw Console.fail(error.description)
        }
        let failed = history.jobs.filter { $0.status == .failed }.count
        print("\(output): \(history.jobs.count) jobs (\(failed) failed)"
            + (history.skippedLines > 0 ? "; \(history.skippedLines) unreadable job-log lines skipped" : ""))
    }
}
