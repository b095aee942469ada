// SharedStore: the workers' side of the shared queue. A claimed job's inputs stay in the
// shared inbox; its outputs are staged in `.job-ID.HOST/` inside the output folder and moved
// into place in the transaction that marks the row done, under its lock and only if the
// claim is still this host's, so a host whose lease was taken over never overwrites the new
// holder's result. While the database is down a finished job waits, staged, and is retried.
// LeaseKeeper renews the leases of the jobs claimed here, from the claim (a job may wait
// behind others) to its end.
import Dispatch
import Foundation
import Logging
import PirecCore
import PirecQueue
import Synchronization

struct SharedStore: JobStore {
    let connection: QueueConnection
    let logger: Logger

    func inputFolder(_ job: ClaimedJob, in inbox: Inbox) -> String { inbox.inputFolder(job.relative) }

    func decide(_ job: ClaimedJob, in inbox: Inbox) -> JobLedger.Decision {
        guard let ticket = job.ticket else { preconditionFailure("a shared-queue job without its claim") }
        if let reason = ticket.givenUp { return .giveUp(attempts: ticket.claim.starts, reason: reason) }
        return .run(attempt: ticket.claim.starts + 1, alone: ticket.claim.starts > 0)
    }

    func begin(_ job: ClaimedJob, attempt: Int, in inbox: Inbox) -> Bool {
        guard let claim = job.ticket?.claim, retrying(claim, { try connection.table.start(claim) }) else {
            job.ticket.map { connection.leases.release($0.claim) }
            return false
        }
        _ = removeInterrupted(job, in: inbox)
        try? FileIO.makeFolders(stagingFolder(job, in: inbox))
        return true
    }

    func unclaim(_ job: ClaimedJob) {
        guard let claim = job.ticket?.claim else { return }
        connection.leases.release(claim)
        // If the database does not answer, the lease runs out instead.
        _ = try? connection.table.unclaim(claim)
    }

    func interrupt(_ job: ClaimedJob, attempt: Int, in inbox: Inbox) {
        guard let claim = job.ticket?.claim else { return }
        connection.leases.release(claim)
        _ = try? connection.table.unclaim(claim, started: true)
    }

    func stagingFolder(_ job: ClaimedJob, in inbox: Inbox) -> String {
        inbox.outputFolder(job.relative) + "/" + stagingPrefix(job) + connection.settings.host
    }

    func publish(_ job: ClaimedJob, in inbox: Inbox, staged: [String], outputs: [String]) -> Bool {
        guard let claim = job.ticket?.claim else { return false }
        defer { connection.leases.release(claim) }
        let moves = Array(zip(staged, outputs))
        let ours = retrying(claim) {
            try connection.table.finish(claim, outputs: outputs) {
                for (from, to) in moves where rename(from, to) != 0 {
                    // Moved already by a try whose answer was lost.
                    guard errno == ENOENT, FileIO.lexists(to) else {
                        throw FileError(path: to, reason: "cannot move the result into place: " + FileIO.describe(errno))
                    }
                }
                FileIO.syncFolder(inbox.outputFolder(job.relative))
            }
        }
        for path in staged { unlink(path) }
        rmdir(stagingFolder(job, in: inbox))
        return ours
    }

    func recordFailure(_ job: ClaimedJob, in inbox: Inbox, message: String) -> Bool {
        guard let ticket = job.ticket else { return false }
        defer { connection.leases.release(ticket.claim) }
        rmdir(stagingFolder(job, in: inbox))
        if ticket.givenUp != nil { return true }  // the claim marked it failed
        return retrying(ticket.claim) { try connection.table.fail(ticket.claim, error: message) }
    }

    /// Staging folders of this job's earlier attempts, here or on hosts that died.
    func removeInterrupted(_ job: ClaimedJob, in inbox: Inbox) -> [String] {
        let folder = inbox.outputFolder(job.relative)
        var removed: [String] = []
        for name in (try? FileIO.list(folder)) ?? [] where name.hasPrefix(stagingPrefix(job)) {
            let path = folder + "/" + name
            for file in (try? FileIO.list(path)) ?? [] { unlink(path + "/" + file) }
            if rmdir(path) == 0 { removed.append(path) }
        }
        return removed
    }

    func jobID(_ job: ClaimedJob) -> Int64? { job.ticket?.claim.id }

    private func stagingPrefix(_ job: ClaimedJob) -> String { ".job-\(job.ticket?.claim.id ?? 0)." }

    /// `body`'s answer, retried every few seconds while the database does not answer (the
    /// job, or its staged result, waits).
    private func retrying(_ claim: Claim, _ body: () throws -> Bool) -> Bool {
        var wait = 1.0
        while true {
            do {
                let answer = try body()
                connection.health.answered()
                return answer
            } catch let error as FileError {
                logger.error("cannot publish a result", metadata: ["file": "\(error.path)", "error": "\(error.reason)"])
                return false
            } catch {
                connection.health.failed(error)
                Thread.sleep(forTimeInterval: wait)
                wait = min(wait * 2, 8)
            }
        }
    }
}

/// Renews, every `every` seconds, the lease of each job running on this host.
final class LeaseKeeper: Sendable {
    private let held = Mutex<Set<Claim>>([])

    init(table: JobTable, every: Double, health: QueueHealth, logger: Logger) {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: every)
                for claim in self.held.withLock({ $0 }) {
                    do {
                        if try !table.renew(claim) {
                            self.release(claim)
                            logger.warning("lease lost: another host took the job over", metadata: ["job": "\(claim.id)"])
                        }
                        health.answered()
                    } catch {
                        health.failed(error)
                        break
                    }
                }
            }
        }
        thread.name = "pirecd-leases"
        thread.start()
    }

    func hold(_ claim: Claim) { held.withLock { _ = $0.insert(claim) } }
    func release(_ claim: Claim) { held.withLock { _ = $0.remove(claim) } }
}
