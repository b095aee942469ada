// WatchSource: where the dispatcher learns that files are ready. inotify on Linux
// (InotifyWatchSource); a fake in the tests; a polling scanner later, for network
// filesystems whose changes from other clients raise no events.
import PirecCore

public protocol WatchSource: AnyObject {
    /// A descriptor that becomes readable when events wait, for the daemon's poll; -1 when
    /// there is none (then `read` is called at every turn).
    var descriptor: Int32 { get }
    /// How many folders are watched.
    var count: Int { get }
    /// Starts watching `path` as `folder`.
    func add(_ path: String, as folder: WatchedFolder) throws(FileError)
    /// Stops watching everything (before a reload sets up the new folders).
    func removeAll()
    /// The events waiting now (none when there are none); never blocks.
    func read() -> [WatchEvent]
}

public struct WatchedFolder: Hashable, Sendable {
    /// Index of the pipeline in the configuration.
    public var pipeline: Int
    /// Path relative to the pipeline's inbox ("" for the inbox itself).
    public var relative: String

    public init(pipeline: Int, relative: String) {
        self.pipeline = pipeline
        self.relative = relative
    }
}

public enum WatchEvent: Sendable, Equatable {
    /// A file is complete in `folder`.
    case file(WatchedFolder, name: String)
    /// A subfolder appeared (created or moved in).
    case folder(WatchedFolder, name: String)
    /// Something else was created: complete only if it is not a regular file (a symbolic
    /// link is whole at once; a regular file is ready at its CLOSE_WRITE).
    case created(WatchedFolder, name: String)
    /// Events were dropped: rescan everything.
    case overflow
    /// A watched folder was deleted or moved away: nothing more comes from it.
    case gone(WatchedFolder)
}
