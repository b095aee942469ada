// HostProcess: what a process that loads plugins sets up first, before any plugin loads
// OpenBLAS and before any job allocates: OpenBLAS's kernels (BLASEnvironment) and glibc's
// handling of large buffers (HeapTuning). pirec and pirecd call it at start.
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
}
