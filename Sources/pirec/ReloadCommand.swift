// `pirec reload`: a synchronous reload of a running pirecd, for systemd's ExecReload=. Sends
// SIGHUP and waits until the daemon has either swapped in the new configuration (exit 0) or
// kept the old one because the new one is invalid (the errors, exit 1).
import ArgumentParser
import Foundation
import Glibc
import PirecDaemon

struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make a running pirecd re-read its configuration, and wait until it has.")

    @Option(name: .long, help: "pirecd's control folder (default: $RUNTIME_DIRECTORY, else /run/pirec).")
    var control: String?
    @Option(name: .long, help: "pirecd's PID (default: from the control folder).") var pid: Int32?
    @Option(name: .long, help: "Seconds to wait.") var timeout: Double = 120

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let folder = control ?? ControlFiles.defaultFolder(environment: environment)
        let files = ControlFiles(folder: folder)
        guard let target = pid ?? files.readPID() else {
            throw Console.fail("no pirecd PID: pass --pid or --control (no \(files.pidPath))")
        }
        let before = files.readStatus()?.generation ?? -1
        guard kill(target, SIGHUP) == 0 else {
            throw Console.fail("cannot signal pirecd (PID \(target)): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = files.readStatus(), status.generation > before {
                if status.ok {
                    print("pirecd reloaded its configuration")
                    return
                }
                for e in status.errors { Console.error(e) }
                throw Console.fail("pirecd kept its running configuration: the new one is invalid")
            }
            if kill(target, 0) != 0 { throw Console.fail("pirecd (PID \(target)) is gone") }
            usleep(20_000)
        }
        throw Console.fail("pirecd did not answer within \(Int(timeout)) s (\(files.statusPath))")
    }
}
