// SystemdNotifier: the sd_notify protocol, written directly: one datagram per message to the
// AF_UNIX socket named by NOTIFY_SOCKET (a path, or an abstract name written with '@').
// Without NOTIFY_SOCKET (run by hand) every call does nothing.
import Glibc

public final class SystemdNotifier {
    private let fd: Int32
    private var address = sockaddr_un()
    private var addressLength: socklen_t = 0
    /// Half of WATCHDOG_USEC in seconds when systemd asked for pings (and they are for us).
    public let watchdogInterval: Double?

    public init(environment: [String: String]) {
        var interval: Double?
        if let usec = environment["WATCHDOG_USEC"].flatMap(Double.init), usec > 0,
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            interval = usec / 2e6
        }
        watchdogInterval = interval
        guard let name = environment["NOTIFY_SOCKET"], !name.isEmpty,
              name.hasPrefix("/") || name.hasPrefix("@"), name.utf8.count < 108 else {
            fd = -1
            return
        }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (i, b) in bytes.enumerated() { path[i] = b }
        }
        // Abstract names are exactly as long as given; paths end at their NUL.
        addressLength = socklen_t(MemoryLayout.offset(of: \sockaddr_un.sun_path)! + bytes.count + (bytes[0] == 0 ? 0 : 1))
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends `KEY=value` lines in one datagram; returns false when it could not be sent.
    @discardableResult
    public func send(_ lines: String...) -> Bool {
        guard fd >= 0 else { return false }
        let text = Array(lines.joined(separator: "\n").utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { addr in
                text.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), addr, addressLength) }
            }
        }
        return sent == text.count
    }
}
