// JobLedger: what a claimed job's history says to do with it. Starts are counted in an
// `.attempts` marker beside the claimed files (written before each run, so the count
// survives the run killing the daemon); a sidecar that names the very files claimed proves
// a job finished before a restart; a job that has crashed the daemon `max_attempts` times is
// given up. Beside Inbox, which moves the files; this only reads and counts.
import Foundation
import PirecCore

struct JobLedger: Sendable {
    let maxAttempts: Int

    enum Decision: Equatable {
        /// Its outputs and sidecar are written: only the archiving is left.
        case finishedBeforeRestart
        /// It crashed the daemon (or, in a shared queue, timed out) this many times.
        case giveUp(attempts: Int, reason: String)
        /// Run it as attempt `attempt`; `alone` after a crash, so that if the daemon dies again
        /// the blame is certain and the jobs that happened to run beside it go free.
        case run(attempt: Int, alone: Bool)
    }

    func decide(_ job: ClaimedJob, in inbox: Inbox) -> Decision {
        let attempts = inbox.attempts(job)
        if attempts > 0, JobLedger.sidecarInputIDs(inbox.outputFolder(job.relative) + "/" + job.name + ".json")
            == JobLedger.inputIDs(job, in: inbox) {
            return .finishedBeforeRestart
        }
        if attempts >= maxAttempts {
            return .giveUp(attempts: attempts, reason: "crashed the daemon \(attempts) times (max_attempts \(maxAttempts))")
        }
        return .run(attempt: attempts + 1, alone: attempts > 0)
    }

    /// Slot name to the identity of each claimed file: what the sidecar records.
    static func inputIDs(_ job: ClaimedJob, in inbox: Inbox) -> [String: String] {
        inputIDs(job, folder: inbox.claimedFolder(job.relative))
    }

    /// Slot to the identity of each of the job's files in `folder`.
    static func inputIDs(_ job: ClaimedJob, folder: String) -> [String: String] {
        Dictionary(uniqueKeysWithValues: job.files.map { slot, file in (slot.rawValue, FileIO.identity(folder + "/" + file)) })
    }

    static func sidecarInputIDs(_ path: String) -> [String: String]? {
        guard let bytes = try? FileIO.readAll(path: path, maxBytes: 1 << 20),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        return object["input_ids"] as? [String: String]
    }
}
