// FileIO: whole-file reads with a size limit, and atomic writes (temp file in the target
// folder, fsync, rename, fsync the folder), so a reader never sees a half-written output.
import Glibc

/// A failure tied to one file: the message names the file and the problem.
public struct FileError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

public enum FileIO {
    /// Reads a whole regular file, refusing one larger than `maxBytes`.
    public static func readAll(path: String, maxBytes: Int) throws(FileError) -> [UInt8] {
        let fd = retryOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw FileError(path: path, reason: describe(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError(path: path, reason: describe(errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileError(path: path, reason: (info.st_mode & S_IFMT) == S_IFDIR ? "is a directory" : "not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= maxBytes else {
            throw FileError(path: path, reason: "file is \(size) bytes, over the limit of \(maxBytes) bytes")
        }
        // Read until end of file: files in /proc report a size of 0, and a file may shrink or grow.
        var bytes = [UInt8](repeating: 0, count: max(size, 4096))
        var done = 0
        while true {
            if done == bytes.count {
                guard bytes.count < maxBytes else {
                    throw FileError(path: path, reason: "file grew over the limit of \(maxBytes) bytes while reading")
                }
                bytes += [UInt8](repeating: 0, count: min(bytes.count, maxBytes - bytes.count))
            }
            let n = bytes.withUnsafeMutableBytes { buffer in
                retryOnInterrupt { read(fd, buffer.baseAddress! + done, buffer.count - done) }
            }
            if n < 0 { throw FileError(path: path, reason: describe(errno)) }
            if n == 0 { break }
            done += n
        }
        return done == bytes.count ? bytes : Array(bytes[0..<done])
    }

    /// Writes `bytes` to `path` so that `path` holds either its old content or all of the new:
    /// a temp file `.NAME.XXXXXX.tmp` in the same folder, fsync, rename over, fsync the folder.
    /// `durable: false` skips both fsyncs: still whole or absent if the process dies (the
    /// kernel keeps what was written), but not promised across a power cut.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644,
                                       durable: Bool = true) throws(FileError) {
        let (folder, name) = split(path)
        var template = Array("\(folder)/.\(name).XXXXXX.tmp".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }
        guard fd >= 0 else { throw FileError(path: path, reason: "cannot create a temporary file: " + describe(errno)) }
        let tempPath = String(cBuffer: template)
        var ok = false
        defer {
            if !ok { unlink(tempPath) }
        }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                retryOnInterrupt { write(fd, buffer.baseAddress! + done, bytes.count - done) }
            }
            if n <= 0 {
                let reason = describe(errno)
                close(fd)
                throw FileError(path: path, reason: "write failed: " + reason)
            }
            done += n
        }
        if fchmod(fd, mode) != 0 || (durable && fsync(fd) != 0) {
            let reason = describe(errno)
            close(fd)
            throw FileError(path: path, reason: "cannot flush to disk: " + reason)
        }
        close(fd)
        guard rename(tempPath, path) == 0 else { throw FileError(path: path, reason: "cannot rename into place: " + describe(errno)) }
        ok = true
        if durable { syncFolder(folder) }
    }

    /// Moves a regular file to `target` (a name not taken), across filesystems too: rename,
    /// or where that fails with EXDEV (the archive or failed folder on another mount) a copy
    /// written atomically beside the target, then the source removed. Whatever happens, the
    /// file is at one of the two places, whole. Nil on success, else why not.
    public static func move(_ source: String, to target: String) -> String? {
        if rename(source, target) == 0 { return nil }
        guard errno == EXDEV else { return describe(errno) }
        var info = stat()
        guard lstat(source, &info) == 0 else { return describe(errno) }
        do {
            let bytes = try readAll(path: source, maxBytes: Int.max)
            try writeAtomically(bytes, to: target, mode: info.st_mode & 0o7777)
        } catch {
            return error.reason
        }
        return unlink(source) == 0 ? nil : describe(errno)
    }

    /// Creates a folder and its parents (mode 0755); fine if it exists.
    public static func makeFolders(_ path: String) throws(FileError) {
        var current = isAbsolute(path) ? "" : "."
        for part in components(path) {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw FileError(path: path, reason: "cannot create folder: " + describe(errno))
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FileError(path: path, reason: "exists and is not a folder")
        }
    }

    public static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The names in a folder, sorted, without "." and "..".
    public static func list(_ folder: String) throws(FileError) -> [String] {
        guard let dir = opendir(folder) else { throw FileError(path: folder, reason: describe(errno)) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The file name without its extension (a leading dot is not one).
    public static func baseName(_ path: String) -> String {
        let name = split(path).name.unicodeScalars
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return String(name) }
        return String(String.UnicodeScalarView(name[..<dot]))
    }

    /// What follows `baseName` in the file name: ".png", or "" (by scalar, as baseName cuts).
    public static func fileExtension(_ path: String) -> String {
        let name = split(path).name.unicodeScalars
        return String(String.UnicodeScalarView(name.dropFirst(baseName(path).unicodeScalars.count)))
    }

    // Paths are cut at "/" and "." by Unicode scalar, not by Character: a name that starts
    // with a combining mark ("\u{35A}x") makes "/" and that mark one Character, which
    // Character-wise search and hasPrefix would miss (the names fuzz target's find).

    /// `text` without `suffix` at its end, compared by scalar, or nil when it does not end so.
    public static func dropping(suffix: String, from text: String) -> String? {
        let scalars = text.unicodeScalars, tail = suffix.unicodeScalars
        guard scalars.count >= tail.count, scalars.suffix(tail.count).elementsEqual(tail) else { return nil }
        return String(String.UnicodeScalarView(scalars.dropLast(tail.count)))
    }

    /// Whether the path starts at the root.
    public static func isAbsolute(_ path: String) -> Bool { path.unicodeScalars.first == "/" }

    /// The non-empty parts between slashes.
    static func components(_ path: String) -> [String] {
        path.unicodeScalars.split(separator: "/").map { String(String.UnicodeScalarView($0)) }
    }

    /// True when something (a link included) is at `path`.
    public static func lexists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The kind of what is at `path` (`S_IFREG`, `S_IFDIR`, ...), without following links.
    public static func kind(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
    }

    /// How many names the file at `path` has (0 when there is nothing), without following links.
    public static func linkCount(_ path: String) -> Int {
        var info = stat()
        return lstat(path, &info) == 0 ? Int(info.st_nlink) : 0
    }

    /// Status change time (seconds since 1970; a rename sets it), without following links.
    public static func changed(_ path: String) -> Double? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Double(info.st_ctim.tv_sec) + Double(info.st_ctim.tv_nsec) / 1e9
    }

    /// Modification time (seconds since 1970), without following links.
    public static func modified(_ path: String) -> Double? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    /// Where the symbolic link at `path` points ("?" when it cannot be read).
    public static func linkTarget(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        return n > 0 ? String(cBuffer: Array(buffer[0..<n])) : "?"
    }

    /// "device:inode:mtime" of a file: the same across renames on one filesystem ("" when
    /// there is nothing at `path`).
    public static func identity(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "" }
        return "\(info.st_dev):\(info.st_ino):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// "inode:size:mtime", without the device: the same on every host that mounts the file
    /// from shared storage (an NFS client numbers devices its own way). "" when it is gone.
    public static func sharedIdentity(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "" }
        return "\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// Folder and file name of a path ("." when there is no folder part).
    public static func split(_ path: String) -> (folder: String, name: String) {
        let scalars = path.unicodeScalars
        guard let slash = scalars.lastIndex(of: "/") else { return (".", path) }
        let folder = String(String.UnicodeScalarView(scalars[..<slash]))
        return (folder.isEmpty ? "/" : folder, String(String.UnicodeScalarView(scalars[scalars.index(after: slash)...])))
    }

    /// `path` made absolute against `base` when relative (and `base` against the working
    /// folder), without "." and ".." parts, so logs and sidecars show plain paths.
    public static func resolve(_ path: String, against base: String) -> String {
        if isAbsolute(path) { return normalized(path) }
        var root = base
        if !isAbsolute(root) {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            guard getcwd(&buffer, buffer.count) != nil else { return base == "." ? path : base + "/" + path }
            root = String(cBuffer: buffer) + (base == "." ? "" : "/" + base)
        }
        return normalized(root + "/" + path)
    }

    /// An absolute path with "." and ".." taken out lexically.
    static func normalized(_ path: String) -> String {
        var parts: [String] = []
        for part in components(path) {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    public static func syncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    public static func describe(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "permission denied"
        default:
            // strerror's capital ("No space left on device") mid-sentence reads oddly.
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }

    @inline(__always)
    static func retryOnInterrupt<T: BinaryInteger>(_ body: () -> T) -> T {
        while true {
            let result = body()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}

extension String {
    /// Without leading and trailing white space.
    public func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    /// The text of a C message buffer up to its first NUL, or all of it if there is none.
    public init(cBuffer buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
