// JobQueue: where the dispatcher's jobs come from. It offers every file an event or a scan
// finds and takes claimed jobs as the workers have room. FolderQueue is the single-host
// queue (claims are renames into `.processing/`); a shared queue for several hosts
// implements the same protocol.

protocol JobQueue: AnyObject {
    /// Takes back the jobs this host held when it last stopped or crashed: they come first
    /// from `claimNext`. Returns how many.
    func recover() -> Int
    /// A file is ready in an inbox. Offering one already known does nothing.
    func offer(_ file: InboxFile)
    /// The next job, claimed; nil when nothing is ready. Files that cannot make a job (not a
    /// regular file, not part of a pair) go to the failed folder on the way.
    func claimNext() -> ClaimedJob?
    /// Gives up on what waited too long by `now` (seconds since 1970): half pairs past
    /// `pair_timeout`.
    func expire(now: Double)
    /// Files known and not claimed yet, and recovered jobs not yet handed out.
    var waiting: Int { get }
}
