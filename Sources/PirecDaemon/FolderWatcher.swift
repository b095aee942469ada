// FolderWatcher: inotify on the pipelines' input folders. Only IN_CLOSE_WRITE (a file written
// here and closed) and IN_MOVED_TO (renamed in) mean "a file is ready"; a file still being
// written is reported only when its writer closes it. Subfolders are watched too when a
// pipeline is recursive, including ones created later.
import Glibc
import PirecCore

public struct WatchedFolder: Hashable, Sendable {
    /// Index of the pipeline in the configuration.
    public var pipeline: Int
    /// Path relative to the pipeline's `watch` folder ("" for the folder itself).
    public var relative: String
}

public enum WatchEvent: Sendable, Equatable {
    /// A file is complete in `folder`.
    case file(WatchedFolder, name: String)
    /// A subfolder appeared (created or moved in).
    case folder(WatchedFolder, name: String)
    /// Something else was created: complete only if it is not a regular file (a symbolic
    /// link is whole at once; a regular file is ready at its CLOSE_WRITE).
    case created(WatchedFolder, name: String)
    /// The kernel dropped events: rescan everything.
    case overflow
    /// A watched folder was deleted or moved away: nothing more comes from it.
    case gone(WatchedFolder)
}

public final class FolderWatcher {
    public let fd: Int32
    private var folders: [Int32: WatchedFolder] = [:]
    private var descriptors: [WatchedFolder: Int32] = [:]

    public init() throws(FileError) {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw FileError(path: "inotify", reason: FileIO.describe(errno)) }
    }

    deinit { close(fd) }

    public var count: Int { descriptors.count }

    /// Starts watching `path` as `folder`.
    public func add(_ path: String, as folder: WatchedFolder) throws(FileError) {
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
        let wd = inotify_add_watch(fd, path, mask)
        guard wd >= 0 else { throw FileError(path: path, reason: "cannot watch: " + FileIO.describe(errno)) }
        folders[wd] = folder
        descriptors[folder] = wd
    }

    /// Stops watching everything (before a reload sets up the new folders).
    public func removeAll() {
        for wd in folders.keys { inotify_rm_watch(fd, wd) }
        folders.removeAll()
        descriptors.removeAll()
    }

    /// The events waiting now (none when there are none).
    public func read() -> [WatchEvent] {
        var events: [WatchEvent] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= n {
                let (wd, mask, length) = buffer.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                    let base = raw.baseAddress! + offset
                    return (base.loadUnaligned(fromByteOffset: 0, as: Int32.self),
                            base.loadUnaligned(fromByteOffset: 4, as: UInt32.self),
                            Int(base.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
                }
                let nameBytes = buffer[(offset + header)..<(offset + header + length)].prefix { $0 != 0 }
                let name = String(decoding: nameBytes, as: UTF8.self)
                offset += header + length
                if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    events.append(.overflow)
                    continue
                }
                if mask & UInt32(IN_IGNORED) != 0 {
                    if let folder = folders.removeValue(forKey: wd) {
                        descriptors[folder] = nil
                        events.append(.gone(folder))
                    }
                    continue
                }
                guard let folder = folders[wd], !name.isEmpty else { continue }
                if mask & UInt32(IN_ISDIR) != 0 {
                    if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 { events.append(.folder(folder, name: name)) }
                } else if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
                    events.append(.file(folder, name: name))
                } else if mask & UInt32(IN_CREATE) != 0 {
                    events.append(.created(folder, name: name))
                }
            }
        }
        return events
    }
}
