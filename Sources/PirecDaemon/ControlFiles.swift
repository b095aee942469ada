// ControlFiles: how `pirec reload` talks to a running pirecd. systemd 252 has no
// Type=notify-reload and `kill -HUP` returns before the daemon has reloaded, so the client
// reads the reload generation, sends SIGHUP, and waits until the daemon writes a newer one
// with its verdict. Files in the control folder (systemd's RuntimeDirectory):
//   pirecd.pid     the daemon's PID
//   reload.status  "GENERATION\nok\n" or "GENERATION\nfailed\nERRORS..."
//   status.json    what the daemon is doing (DaemonStatus), for `pirec status`
import Glibc
import PirecCore

public struct ReloadStatus: Sendable, Equatable {
    public var generation: Int
    public var ok: Bool
    public var errors: [String]

    public init(generation: Int, ok: Bool, errors: [String]) {
        self.generation = generation
        self.ok = ok
        self.errors = errors
    }
}

public struct ControlFiles: Sendable {
    public let folder: String

    public init(folder: String) { self.folder = folder }

    /// The folder when none is given: systemd's RuntimeDirectory (the first, if several), else
    /// /run/pirec. pirecd and `pirec reload` must agree on it.
    public static func defaultFolder(environment: [String: String]) -> String {
        environment["RUNTIME_DIRECTORY"]?.split(separator: ":").first.map(String.init) ?? "/run/pirec"
    }

    public var pidPath: String { folder + "/pirecd.pid" }
    public var statusPath: String { folder + "/reload.status" }
    public var daemonStatusPath: String { folder + "/status.json" }

    public func writePID() throws(FileError) {
        try FileIO.makeFolders(folder)
        try FileIO.writeAtomically(Array("\(getpid())\n".utf8), to: pidPath)
    }

    public func readPID() -> Int32? {
        guard let bytes = try? FileIO.readAll(path: pidPath, maxBytes: 64) else { return nil }
        return Int32(String(decoding: bytes, as: UTF8.self).trimmingWhitespace())
    }

    public func write(_ status: ReloadStatus) {
        let text = "\(status.generation)\n\(status.ok ? "ok" : "failed")\n" + status.errors.map { $0 + "\n" }.joined()
        try? FileIO.writeAtomically(Array(text.utf8), to: statusPath)
    }

    /// Not durable: it says what the running daemon does now, means nothing after a crash,
    /// and is rewritten often (no fsync on the dispatcher's thread).
    public func write(_ status: DaemonStatus) {
        try? FileIO.writeAtomically(status.encoded(), to: daemonStatusPath, durable: false)
    }

    /// At a clean stop: no status means no daemon.
    public func removeDaemonStatus() { unlink(daemonStatusPath) }

    public func readDaemonStatus() -> DaemonStatus? {
        (try? FileIO.readAll(path: daemonStatusPath, maxBytes: 16 << 20)).flatMap(DaemonStatus.decoded)
    }

    public func readStatus() -> ReloadStatus? {
        guard let bytes = try? FileIO.readAll(path: statusPath, maxBytes: 1 << 20) else { return nil }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 2, let generation = Int(lines[0]) else { return nil }
        return ReloadStatus(generation: generation, ok: lines[1] == "ok",
                            errors: lines.dropFirst(2).filter { !$0.isEmpty }.map(String.init))
    }
}
