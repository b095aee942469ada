// HostProcess: what a process that loads plugins sets up first, before any plugin loads
// OpenBLAS and before any job allocates: OpenBLAS's kernels (BLASEnvironment) and glibc's
// handling of large buffers (HeapTuning). pirec and pirecd call it at start. Also what the
// process tells of itself: host and user name, memory, descriptors, version.
import CPirecPlugin
import Glibc

public enum HostProcess {
    public static func prepare() {
        BLASEnvironment.prepare()
        HeapTuning.keepLargeBuffers()
    }

    /// This machine's name (gethostname).
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(cBuffer: buffer)
    }

    /// The login name of the process's user (what libpq uses when a URL names no user).
    public static var userName: String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "\(geteuid())" }
        return String(cString: name)
    }

    /// Resident memory in bytes (/proc/self/statm's second field times the page size); 0
    /// when unreadable.
    public static func residentBytes() -> Int {
        guard let bytes = try? FileIO.readAll(path: "/proc/self/statm", maxBytes: 4096) else { return 0 }
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }

    /// Open file descriptors (entries of /proc/self/fd, less the one listing them).
    public static func openDescriptors() -> Int {
        max(0, ((try? FileIO.list("/proc/self/fd"))?.count ?? 1) - 1)
    }
}

/// pirec's own version (`pirec --version`, the metrics' build info) and the plugin ABI it
/// hosts.
public enum PirecVersion {
    public static let current = "0.9.0"
    public static let abi = "\(PIREC_ABI_MAJOR).\(PIREC_ABI_MINOR)"
}
