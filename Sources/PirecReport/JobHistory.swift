// JobHistory: the jobs pirecd finished, read back from its job log (one JSON line per job,
// JobRecord.logLine) and each done job's sidecar (NAME.json, for the milliseconds per step),
// newest first, for `pirec report`. Reading never fails on one bad line: a torn last line
// (a crash mid-write) or a line from another program is counted and skipped.
import Foundation

/// One finished or failed job as the job log and its sidecar tell it.
public struct ReportedJob: Sendable {
    public enum Status: String, Sendable { case done, failed }

    /// A picture of the job: an input, an intermediate or the result, with where it is now.
    public struct Picture: Sendable, Equatable {
        public var label: String
        public var path: String
    }

    public struct StepTime: Sendable, Equatable {
        public var plugin: String
        public var milliseconds: Double
    }

    public var time: Date
    public var timeText: String
    public var pipeline: String
    public var status: Status
    /// The job's name: the result's file name without `.png`, else the first input's.
    public var name: String
    public var inputs: [Picture]
    /// Intermediates (`NAME.SLOT.png`) then the result (`NAME.png`), for a done job.
    public var outputs: [Picture]
    public var milliseconds: Double
    public var host: String
    public var steps: [StepTime]
    /// For a failed job: the step that failed (nil: before the chain) and the reason.
    public var failedStep: String?
    public var error: String?
}

public struct JobHistory: Sendable {
    public var jobs: [ReportedJob]
    /// Lines of the job log that were not a job (torn, foreign, not JSON).
    public var skippedLines: Int
    /// Jobs in the log before the selection (how many the report leaves out).
    public var totalJobs: Int

    /// The newest `last` jobs of the log at `path` that finished at or after `since`.
    public static func read(jobLog path: String, last: Int, since: Date? = nil) throws -> JobHistory {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ReportError("\(path): cannot open the job log: "
                + (FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"))
        }
        defer { try? handle.close() }
        var kept: [ReportedJob] = []  // the newest `last`, oldest first
        var skipped = 0, total = 0
        var pending = Data()
        func take(_ line: Data) {
            guard !line.isEmpty else { return }
            guard let job = parse(line) else { skipped += 1; return }
            total += 1
            if let since, job.time < since { return }
            kept.append(job)
            if kept.count > 2 * max(last, 1) { kept.removeFirst(kept.count - last) }
        }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                take(pending[pending.startIndex..<newline])
                pending = pending[(newline + 1)...]
            }
            pending = Data(pending)
        }
        take(pending)
        let newest = kept.suffix(last).reversed()
        return JobHistory(jobs: newest.map(withSidecar), skippedLines: skipped, totalJobs: total)
    }

    /// A job-log line as a job; nil when it is not one.
    static func parse(_ line: Data) -> ReportedJob? {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
              let timeText = object["time"] as? String, let time = JobHistory.date(timeText),
              let pipeline = object["pipeline"] as? String,
              let status = (object["status"] as? String).flatMap(ReportedJob.Status.init(rawValue:)),
              let inputs = object["inputs"] as? [String: String]
        else { return nil }
        let archived = object["archived_as"] as? [String: String] ?? [:]
        let outputs = (object["outputs"] as? [String] ?? []).filter { $0.hasSuffix(".png") }
        let result = outputs.first
        let name = result.map { String(($0 as NSString).lastPathComponent.dropLast(4)) }
            ?? inputs.keys.sorted().first.map { (inputs[$0]! as NSString).lastPathComponent } ?? "?"
        // Where each input is now: archived or in the failed folder, else where it was dropped.
        let inputPictures = inputs.keys.sorted().map { ReportedJob.Picture(label: $0, path: archived[$0] ?? inputs[$0]!) }
        // The result is listed first in the log; intermediates are NAME.SLOT.png, shown in
        // the order the shipped chains make them.
        let intermediates = outputs.dropFirst().map { path -> ReportedJob.Picture in
            let file = (path as NSString).lastPathComponent
            let slot = file.hasPrefix(name + ".") ? String(file.dropFirst(name.count + 1).dropLast(4)) : file
            return ReportedJob.Picture(label: slot, path: path)
        }.sorted { (chainOrder($0.label), $0.label) < (chainOrder($1.label), $1.label) }
        return ReportedJob(
            time: time, timeText: timeText, pipeline: pipeline, status: status, name: name, inputs: inputPictures,
            outputs: intermediates + (result.map { [ReportedJob.Picture(label: "result", path: $0)] } ?? []),
            milliseconds: object["milliseconds"] as? Double ?? 0, host: object["host"] as? String ?? "",
            steps: [], failedStep: object["step"] as? String, error: object["error"] as? String)
    }

    /// Where a slot's picture comes in the shipped chains (edge extractor, colour quantizer,
    /// generator, then anything else).
    static func chainOrder(_ slot: String) -> Int { ["edge", "color", "stage1"].firstIndex(of: slot) ?? 3 }

    /// The milliseconds per step from the job's sidecar (`NAME.json` beside the result), when
    /// it is still there.
    static func withSidecar(_ job: ReportedJob) -> ReportedJob {
        guard let result = job.outputs.last, result.label == "result" else { return job }
        let sidecar = String(result.path.dropLast(4)) + ".json"
        guard let data = FileManager.default.contents(atPath: sidecar),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let chain = object["chain"] as? [[String: Any]]
        else { return job }
        var job = job
        job.steps = chain.compactMap { step in
            guard let plugin = step["plugin"] as? String, let ms = step["milliseconds"] as? Double else { return nil }
            return ReportedJob.StepTime(plugin: plugin, milliseconds: ms)
        }
        return job
    }

    /// A job-log time, "2026-12-07T06:50:46.123Z".
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// "90s", "30m", "1h", "2d", "1w" as seconds; nil for anything else.
    public static func seconds(of duration: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        guard let unit = duration.last.flatMap({ units[$0] }), let count = Double(duration.dropLast()),
              count.isFinite, count >= 0 else { return nil }
        return count * unit
    }
}

public struct ReportError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
