// JobQueue: where the dispatcher's jobs come from. It offers every file an event or a scan
// finds and takes claimed jobs as the workers have room. FolderQueue is the single-host
// queue (claims are renames into `.processing/`); PostgresQueue the queue several hosts
// share (claims in a PostgreSQL job table). Each comes with its worker side, a JobStore.

protocol JobQueue: AnyObject {
    /// Takes back the jobs this host held when it last stopped or crashed: they come first
    /// from `claimNext`. Returns how many.
    func recover() -> Int
    /// A file is in an inbox: `complete` when an event said it was closed or moved in, not
    /// when a scan found it (it may still be being written). Offering one already known does
    /// nothing.
    func offer(_ file: InboxFile, complete: Bool)
    /// The next job, claimed; nil when nothing is ready. Files that cannot make a job (not a
    /// regular file, not part of a pair) go to the failed folder on the way.
    func claimNext() -> ClaimedJob?
    /// Gives up on what waited too long by `now` (seconds since 1970): half pairs past
    /// `pair_timeout`.
    func expire(now: Double)
    /// Files known and not claimed yet, and recovered jobs not yet handed out.
    var waiting: Int { get }
    /// The same by pipeline index, where the queue can tell (the shared queue's rows are
    /// counted by `pirec status` from the job table instead).
    var waitingByPipeline: [Int: Int] { get }
    /// Seconds between rescans of every inbox (for storage whose changes raise no events);
    /// nil when events are enough.
    var pollSeconds: Double? { get }
    /// A problem to show in the service's status ("queue unavailable"); nil when all is well.
    var trouble: String? { get }
}
