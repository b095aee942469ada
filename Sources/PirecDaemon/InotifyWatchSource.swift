// InotifyWatchSource: the watch source on Linux's inotify. Only IN_CLOSE_WRITE (a file
// written here and closed) and IN_MOVED_TO (renamed in) mean "a file is ready"; a file still
// being written is reported only when its writer closes it. IN_IGNORED tells that a watched
// folder went away; IN_Q_OVERFLOW that the kernel dropped events.
import Glibc
import PirecCore

public final class InotifyWatchSource: WatchSource {
    public let descriptor: Int32
    private var folders: [Int32: WatchedFolder] = [:]
    private var descriptors: [WatchedFolder: Int32] = [:]

    public init() throws(FileError) {
        descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard descriptor >= 0 else { throw FileError(path: "inotify", reason: FileIO.describe(errno)) }
    }

    deinit { close(descriptor) }

    public var count: Int { descriptors.count }

    public func add(_ path: String, as folder: WatchedFolder) throws(FileError) {
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)
        let wd = inotify_add_watch(descriptor, path, mask)
        guard wd >= 0 else { throw FileError(path: path, reason: "cannot watch: " + FileIO.describe(errno)) }
        folders[wd] = folder
        descriptors[folder] = wd
    }

    public func removeAll() {
        for wd in folders.keys { inotify_rm_watch(descriptor, wd) }
        folders.removeAll()
        descriptors.removeAll()
    }

    public func read() -> [WatchEvent] {
        var events: [WatchEvent] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, $0.count) }
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
