// JobStore: the worker's side of a job queue: where a claimed job's inputs are while it runs,
// what its history says to do, where the chain writes, and how the end is made final.
// FolderStore is the single-host queue's (claims in `.processing/`, counts in markers);
// SharedStore the PostgreSQL queue's (claims and counts in the job table). JobExecution
// runs jobs the same way on either.
import PirecCore

protocol JobStore: Sendable {
    /// Where the job's input files are while it runs.
    func inputFolder(_ job: ClaimedJob, in inbox: Inbox) -> String
    func decide(_ job: ClaimedJob, in inbox: Inbox) -> JobLedger.Decision
    /// Counts the start of attempt `attempt` before it runs; false when the job is no longer
    /// this host's (it must not run).
    func begin(_ job: ClaimedJob, attempt: Int, in inbox: Inbox) -> Bool
    /// Hands back a claimed job that will not run here (the workers stopped before it).
    func unclaim(_ job: ClaimedJob)
    /// Hands back a job whose start `attempt` was counted but that stopped (the workers
    /// stopped) while it waited to retry writing its results: no fault of the input's, so
    /// the start is not counted against `max_attempts`.
    func interrupt(_ job: ClaimedJob, attempt: Int, in inbox: Inbox)
    /// Where the chain writes the job's outputs and sidecar.
    func stagingFolder(_ job: ClaimedJob, in inbox: Inbox) -> String
    /// Makes the staged files (`staged` in `stagingFolder`, the sidecar last) the job's
    /// outputs in the output folder and records the job done. False when the claim is no
    /// longer this host's: the staged files are then removed, and the job belongs to another.
    func publish(_ job: ClaimedJob, in inbox: Inbox, staged: [String], outputs: [String]) -> Bool
    /// Records the job failed with `message`; false when the claim is no longer this host's
    /// (its inputs must then stay where they are).
    func recordFailure(_ job: ClaimedJob, in inbox: Inbox, message: String) -> Bool
    /// Removes what interrupted earlier attempts left, before the job is given up.
    func removeInterrupted(_ job: ClaimedJob, in inbox: Inbox) -> [String]
    /// This job's row in a shared job table.
    func jobID(_ job: ClaimedJob) -> Int64?
}

/// The single-host queue: the claimed inputs in `.processing/`, attempts in markers beside
/// them, outputs written straight into the output folder (atomically, one by one).
struct FolderStore: JobStore {
    let ledger: JobLedger

    func inputFolder(_ job: ClaimedJob, in inbox: Inbox) -> String { inbox.claimedFolder(job.relative) }
    func decide(_ job: ClaimedJob, in inbox: Inbox) -> JobLedger.Decision { ledger.decide(job, in: inbox) }
    func begin(_ job: ClaimedJob, attempt: Int, in inbox: Inbox) -> Bool {
        inbox.recordAttempt(job, count: attempt)
        return true
    }
    /// It stays in `.processing/`; the next generation's FolderQueue recovers it.
    func unclaim(_ job: ClaimedJob) {}
    func interrupt(_ job: ClaimedJob, attempt: Int, in inbox: Inbox) { inbox.recordAttempt(job, count: attempt - 1) }
    func stagingFolder(_ job: ClaimedJob, in inbox: Inbox) -> String { inbox.outputFolder(job.relative) }
    func publish(_ job: ClaimedJob, in inbox: Inbox, staged: [String], outputs: [String]) -> Bool { true }
    func recordFailure(_ job: ClaimedJob, in inbox: Inbox, message: String) -> Bool { true }
    func removeInterrupted(_ job: ClaimedJob, in inbox: Inbox) -> [String] { inbox.removeInterruptedOutputs(job) }
    func jobID(_ job: ClaimedJob) -> Int64? { nil }
}
