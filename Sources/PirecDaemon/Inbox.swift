// Inbox: the on-disk protocol that makes jobs durable. A file is claimed by renaming it into
// `.processing/` inside its pipeline's watch folder (atomic on one filesystem); it leaves
// `.processing/` only after its outputs are safely written (to the archive, or deleted) or
// after its failure is recorded (to the failed folder). A crash at any moment leaves every
// input unclaimed, claimed (run again at the next start) or finished; never lost.
import Glibc
import PirecCore
import PirecQueue

/// A file seen in an inbox (by an event or a scan), not claimed yet.
public struct InboxFile: Sendable, Hashable {
    /// Index of the pipeline in the configuration.
    public var pipeline: Int
    /// Subfolder of the inbox ("" for the top).
    public var relative: String
    public var name: String
}

/// One job of the daemon: a single file or a sketch + colour pair, claimed.
public struct ClaimedJob: Sendable, Hashable {
    public var pipeline: Int
    /// Subfolder of the inbox ("" for the top).
    public var relative: String
    /// Output base name.
    public var name: String
    /// Slot to file name (inside `.processing/<relative>/`, or the inbox itself with a
    /// shared queue).
    public var files: [Slot: String]
    /// Its claim in the shared job table; nil with the single-host queue.
    public var ticket: Ticket? = nil

    /// The file whose attempt marker counts for the job.
    public var primary: String { files[.source] ?? files[.edge] ?? files.values.sorted().first ?? name }
}

/// A job's claim in the shared job table (PostgresQueue).
public struct Ticket: Sendable, Hashable {
    public var claim: Claim
    /// Set when the claim found the job past `max_attempts`: the table has it failed with
    /// this reason, and its inputs go to the failed folder without running.
    public var givenUp: String?
}

public struct Inbox: Sendable {
    public let pipeline: Pipeline
    public let watch: WatchSettings
    public let index: Int

    /// The inbox of a watched pipeline; nil for one only `pirec run` uses.
    public init?(pipeline: Pipeline, index: Int) {
        guard let watch = pipeline.watch else { return nil }
        self.pipeline = pipeline
        self.watch = watch
        self.index = index
    }

    public var processing: String { watch.folder + "/.processing" }

    static func join(_ folder: String, _ relative: String) -> String { relative.isEmpty ? folder : folder + "/" + relative }

    public func inputFolder(_ relative: String) -> String { Inbox.join(watch.folder, relative) }
    public func claimedFolder(_ relative: String) -> String { Inbox.join(processing, relative) }
    public func outputFolder(_ relative: String) -> String { Inbox.join(watch.output, relative) }
    public func failedFolder(_ relative: String) -> String { Inbox.join(watch.failed, relative) }
    public func archiveFolder(_ relative: String) -> String { Inbox.join(watch.archive, relative) }
    public func path(of file: InboxFile) -> String { inputFolder(file.relative) + "/" + file.name }

    /// Renames `name` from the input folder into `.processing/`. False when it is gone (another
    /// event already claimed it).
    public func claim(_ name: String, relative: String) throws(FileError) -> Bool {
        let folder = claimedFolder(relative)
        try FileIO.makeFolders(folder)
        // No fsync: a claim lost to a power cut only puts the file back in the inbox.
        if rename(inputFolder(relative) + "/" + name, folder + "/" + name) == 0 { return true }
        if errno == ENOENT { return false }
        throw FileError(path: inputFolder(relative) + "/" + name, reason: "cannot claim: " + FileIO.describe(errno))
    }

    // MARK: attempts

    private func markerPath(_ job: ClaimedJob) -> String { claimedFolder(job.relative) + "/" + job.primary + ".attempts" }

    /// How many times a daemon has started this job before.
    public func attempts(_ job: ClaimedJob) -> Int {
        guard let bytes = try? FileIO.readAll(path: markerPath(job), maxBytes: 64) else { return 0 }
        return Int(String(decoding: bytes, as: UTF8.self).trimmingWhitespace()) ?? 0
    }

    /// Records one more start before the job runs, so the count survives the job killing the
    /// daemon. Not fsynced: the kernel's cache outlives the process; a power cut costing one
    /// count only allows one more attempt.
    public func recordAttempt(_ job: ClaimedJob, count: Int) {
        try? FileIO.writeAtomically(Array("\(count)\n".utf8), to: markerPath(job), durable: false)
    }

    // MARK: finishing

    /// Moves the job's inputs from `folder` (where they are while it runs) to the archive (or
    /// deletes them), then drops the marker.
    public func finish(_ job: ClaimedJob, from folder: String) throws(FileError) -> [Slot: String] {
        var archived: [Slot: String] = [:]
        for (slot, file) in job.files.sorted(by: { $0.key < $1.key }) {
            let from = folder + "/" + file
            if watch.keepInputs {
                let folder = archiveFolder(job.relative)
                try FileIO.makeFolders(folder)
                let target = InboxNames.unused(folder, file)
                if let problem = FileIO.move(from, to: target) {
                    throw FileError(path: from, reason: "cannot move to the archive: " + problem)
                }
                archived[slot] = target
            } else {
                unlink(from)
            }
        }
        // No fsyncs here: the outputs are already durable, and a move lost to a power cut
        // leaves the input claimed, to be recognised as done by its sidecar at the next start.
        unlink(markerPath(job))
        return archived
    }

    /// Removes what interrupted attempts of `job` wrote (`NAME.png`, `NAME.SLOT.png` changed
    /// since the claim), so an input that ends in the failed folder has no result beside it.
    /// Outputs of earlier jobs with the same name are older than the claim and stay.
    public func removeInterruptedOutputs(_ job: ClaimedJob) -> [String] {
        guard let claimed = FileIO.changed(claimedFolder(job.relative) + "/" + job.primary) else { return [] }
        let folder = outputFolder(job.relative)
        guard let names = try? FileIO.list(folder) else { return [] }
        var removed: [String] = []
        for name in names.sorted() where name.hasSuffix(".png") {
            let stem = name.dropLast(4)
            let slot = stem.dropFirst(job.name.count + 1)
            guard stem == job.name || (stem.hasPrefix(job.name + ".") && !slot.isEmpty && !slot.contains(".")) else { continue }
            let path = folder + "/" + name
            if FileIO.kind(path) == S_IFREG, let written = FileIO.modified(path), written >= claimed, unlink(path) == 0 {
                removed.append(path)
            }
        }
        return removed
    }

    /// Moves the job's inputs from `source` to the failed folder with `NAME.error.txt` beside
    /// them. Returns where each went, and why some could not be moved (they stay claimed).
    public func fail(_ job: ClaimedJob, from source: String, report: String) -> (moved: [Slot: String], problem: String?) {
        let folder = failedFolder(job.relative)
        do { try FileIO.makeFolders(folder) } catch { return ([:], error.description) }
        // The report first, so that an input in the failed folder always has its report
        // beside it; taken back if no input could be moved (a retry writes it again).
        let reportPath = InboxNames.unusedReport(folder, job.name)
        do { try FileIO.writeAtomically(Array(report.utf8), to: reportPath) } catch { return ([:], error.description) }
        var moved: [Slot: String] = [:]
        var problem: String?
        for (slot, file) in job.files.sorted(by: { $0.value < $1.value }) {
            let target = InboxNames.unused(folder, file)
            if let reason = FileIO.move(source + "/" + file, to: target) {
                // Gone: another host of a shared queue moved it.
                if FileIO.lexists(source + "/" + file) { problem = "cannot move \(source)/\(file) there: " + reason }
            } else {
                moved[slot] = target
            }
        }
        if moved.isEmpty { unlink(reportPath) }
        if problem == nil { unlink(markerPath(job)) }
        FileIO.syncFolder(folder)
        return (moved, problem)
    }

    /// Moves an unclaimed file straight to the failed folder (a half pair that waited too long,
    /// a name that is not part of a pair, a symbolic link) with its report.
    public func reject(_ name: String, relative: String, report: String) -> String? {
        let folder = failedFolder(relative)
        try? FileIO.makeFolders(folder)
        // The report first (an input there always has one); of several hosts refusing the
        // same shared file, those whose move fails take theirs back.
        let reportPath = InboxNames.unusedReport(folder, FileIO.baseName(name))
        try? FileIO.writeAtomically(Array(report.utf8), to: reportPath)
        let target = InboxNames.unused(folder, name)
        guard FileIO.move(inputFolder(relative) + "/" + name, to: target) == nil else {
            unlink(reportPath)
            return nil
        }
        FileIO.syncFolder(folder)
        return target
    }
}
