// DaemonHarness: the real `pirecd` binary on temporary folders, driven as users and systemd
// drive it: files dropped in, signals, kill -9, restarts.
import Foundation
import PirecCore
import PirecTestKit

final class DaemonHarness {
    let root: String
    let configPath: String
    let logPath: String
    var process: Process?

    /// `config` may use ROOT for the temporary folder, BUILD for the build folder and REPO for
    /// the repository.
    init(config: String) throws {
        root = TestPaths.temporaryFolder()
        configPath = root + "/pirec.yaml"
        logPath = root + "/pirecd.log"
        try TestPaths.write(config.replacingOccurrences(of: "ROOT", with: root)
            .replacingOccurrences(of: "BUILD", with: TestPaths.build)
            .replacingOccurrences(of: "REPO", with: TestPaths.repository), to: configPath)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: root)
    }

    static var pirecd: String { TestPaths.build + "/pirecd" }

    /// A command that runs pirecd (`ip netns exec NAME`: it execs, so the PID stays pirecd's).
    var launcher: [String] = []

    func start(environment extra: [String: String] = [:]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: launcher.first ?? DaemonHarness.pirecd)
        p.arguments = launcher.dropFirst() + (launcher.isEmpty ? [] : [DaemonHarness.pirecd])
            + ["--config", configPath, "--control", root + "/run"]
        var environment = ProcessInfo.processInfo.environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "RUNTIME_DIRECTORY"] { environment[key] = nil }
        // A crash ends the process at once: Swift's backtracer takes seconds under a
        // parallel test run, longer than the crash tests wait for a death.
        environment["SWIFT_BACKTRACE"] = "enable=no"
        environment.merge(extra) { $1 }
        p.environment = environment
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        p.standardError = log
        p.standardOutput = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
    }

    var readyLines: Int { log.components(separatedBy: "<6>ready ").count - 1 }

    /// Starts the daemon and waits until it logs that it is ready; false if it exits first.
    func startAndWait(environment: [String: String] = [:], timeout: Double = 30) throws -> Bool {
        let before = readyLines
        try start(environment: environment)
        _ = waitUntil(timeout: timeout) { self.readyLines > before || !(self.process?.isRunning ?? false) }
        return readyLines > before && (process?.isRunning ?? false)
    }

    /// SIGTERM, then the exit status.
    func stop() -> Int32 {
        guard let process else { return -1 }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }

    func kill9() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// Regular files under `folder` (relative paths, sorted), dot files included.
    func files(_ folder: String) -> [String] {
        let base = root + "/" + folder
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        var out: [String] = []
        while let item = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + item, isDirectory: &isDir), !isDir.boolValue { out.append(item) }
        }
        return out.sorted()
    }

    func text(_ relative: String) -> String { (try? String(contentsOfFile: root + "/" + relative, encoding: .utf8)) ?? "" }

    func jobLog() -> [[String: Any]] {
        text("jobs.jsonl").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// A small RGB PNG of `width` x `height` (its pixels depend on `seed`).
    static func png(width: Int = 16, height: Int = 12, seed: Int = 0) throws -> [UInt8] {
        let image = try PluginHarness.image(width: width, height: height, channels: 3) { x, y, c in
            Float((x * 7 + y * 3 + c * 5 + seed) % 256) / 255
        }
        let path = TestPaths.temporaryFolder() + "/p.png"
        try PNGCodec().write(image, to: path)
        defer { try? FileManager.default.removeItem(atPath: FileIO.split(path).folder) }
        return try FileIO.readAll(path: path, maxBytes: 1 << 24)
    }

    /// Writes `bytes` to `path` the way `cp` does: create, write, close.
    static func put(_ bytes: [UInt8], _ path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }
}
