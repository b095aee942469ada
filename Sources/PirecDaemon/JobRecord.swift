// JobRecord: what the daemon writes about a job: the `NAME.json` sidecar beside the result,
// `NAME.error.txt` beside a failed input, and one line of the JSON-lines job log.
import Glibc
import PirecCore
import PirecParameters

/// A plugin step as the sidecar describes it: what ran, with which parameters and files.
public struct StepRecord: Sendable {
    public var plugin: String
    public var version: String
    /// Every parameter as the plugin received it (StepSettings.json).
    public var parametersJSON: String
    /// Path parameters (model files): key to the absolute path and the file's SHA-256.
    public var files: [String: (path: String, sha256: String)]
}

public struct JobRecord {
    public var pipeline: String
    public var inputs: [String: String]
    public var archived: [String: String]
    public var outputs: [String]
    public var steps: [StepRecord]
    public var timings: [StepTiming]
    public var started: Double
    public var finished: Double
    public var error: JobError?
    public var attempt: Int
    /// Slot to "device:inode:mtime" of the claimed input: the sidecar names exactly which
    /// files it is the result of, so a restart can tell a finished job from an unfinished one.
    public var inputIDs: [String: String] = [:]
    /// The host that ran it: `queue.host` with a shared queue, else the machine's name.
    public var host = HostProcess.hostName
    /// Its row in the shared queue's job table; nil with the single-host queue.
    public var jobID: Int64?
    /// A file refused before it made a job (a half pair, a link, not part of a pair).
    public var refused = false
    /// When its inputs were last written (dropped), seconds since 1970: the metrics' latency.
    public var dropped: Double?

    static func json(_ s: String) -> String { JSONText.string(s) }

    static func object(_ pairs: [String: String]) -> String { JSONText.object(pairs.mapValues(json), spaced: true) }

    public static func timestamp(_ seconds: Double) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        let ms = Int((seconds - Double(Int(seconds))) * 1000)
        func pad(_ v: Int32, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
    }

    /// The `NAME.json` sidecar.
    public func sidecar() -> String {
        var chain: [String] = []
        for (i, step) in steps.enumerated() {
            var fields = ["\"plugin\": \(JobRecord.json(step.plugin))", "\"version\": \(JobRecord.json(step.version))",
                          "\"with\": \(step.parametersJSON)"]
            if !step.files.isEmpty {
                fields.append("\"files\": " + JSONText.object(step.files.mapValues {
                    JobRecord.object(["file": $0.path, "sha256": $0.sha256])
                }, spaced: true))
            }
            if i < timings.count { fields.append("\"milliseconds\": \(rounded(timings[i].milliseconds))") }
            chain.append("    {" + fields.joined(separator: ", ") + "}")
        }
        return """
        {
          "pipeline": \(JobRecord.json(pipeline)),
          "inputs": \(JobRecord.object(inputs)),
          "input_ids": \(JobRecord.object(inputIDs)),
          "outputs": [\(outputs.map(JobRecord.json).joined(separator: ", "))],
          "chain": [
        \(chain.joined(separator: ",\n"))
          ],
          "milliseconds": \(rounded((finished - started) * 1000)),
          "attempt": \(attempt),
          "host": \(JobRecord.json(host)),\(jobID.map { "\n  \"job_id\": \($0)," } ?? "")
          "pid": \(getpid()),
          "started": \(JobRecord.json(JobRecord.timestamp(started))),
          "finished": \(JobRecord.json(JobRecord.timestamp(finished)))
        }

        """
    }

    /// One line of the job log.
    public func logLine() -> String {
        var fields = ["\"time\": \(JobRecord.json(JobRecord.timestamp(finished)))",
                      "\"pipeline\": \(JobRecord.json(pipeline))",
                      "\"status\": \(error == nil ? "\"done\"" : "\"failed\"")",
                      "\"inputs\": \(JobRecord.object(inputs))",
                      "\"outputs\": [\(outputs.map(JobRecord.json).joined(separator: ", "))]",
                      "\"archived_as\": \(JobRecord.object(archived))",
                      "\"milliseconds\": \(rounded((finished - started) * 1000))",
                      "\"host\": \(JobRecord.json(host))"]
        if let jobID { fields.append("\"job_id\": \(jobID)") }
        if let error {
            fields.append("\"step\": \(error.step.map(JobRecord.json) ?? "null")")
            fields.append("\"error\": \(JobRecord.json(error.message))")
        }
        return "{" + fields.joined(separator: ", ") + "}\n"
    }

    /// `NAME.error.txt`: what failed, at which step, and why.
    public func report() -> String {
        var text = "pirecd could not process this input.\n\n"
        text += "pipeline: \(pipeline)\n"
        for slot in inputs.keys.sorted() { text += "input (\(slot)): \(inputs[slot]!)\n" }
        text += "step: \(error?.step ?? "(before the chain: reading the input)")\n"
        text += "error: \(error?.message ?? "unknown")\n"
        text += "attempt: \(attempt)\n"
        text += "time: \(JobRecord.timestamp(finished))\nhost: \(host)\n" + (jobID.map { "job id: \($0)\n" } ?? "")
        return text
    }

    private func rounded(_ v: Double) -> String { String(Double(Int(v * 1000)) / 1000) }
}

/// The JSON-lines job log: each line is one `write` to a file opened with O_APPEND, so lines
/// from several workers never mix and a crash leaves at most a missing last line.
public final class JobLog: Sendable {
    private let fd: Int32

    public init(path: String) throws(FileError) {
        try FileIO.makeFolders(FileIO.split(path).folder)
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: path, reason: "cannot open the job log: " + FileIO.describe(errno)) }
    }

    deinit { close(fd) }

    public func append(_ line: String) {
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
