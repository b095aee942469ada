// pirecd: the folder-watching daemon, in the foreground (what systemd starts, Type=notify).
// See systemd/README.md for the service and README.md for the folders and keys.
import ArgumentParser
import Foundation
import Logging
import PirecCore
import PirecDaemon

@main
struct Pirecd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pirecd",
        abstract: "Watch the configured folders and run each dropped file through its pipeline.",
        version: "\(PirecVersion.current) (plugin ABI \(PirecVersion.abi))")

    @Option(name: .long, help: "Configuration file.") var config: String = "/etc/pirec/pirec.yaml"
    @Option(name: .long, help: "Control folder for `pirec reload` (default: $RUNTIME_DIRECTORY, else /run/pirec).")
    var control: String?
    @Option(name: .long, help: "Plugin folder (default: plugin_dir, else beside the executable).") var pluginDir: String?
    @Flag(name: .long, help: "Log debug messages too.") var verbose = false

    static func main() {
        // Before any thread exists (OpenBLAS starts its own when a plugin loads it).
        Daemon.prepareSignals()
        // Before any plugin loads OpenBLAS or any job allocates.
        HostProcess.prepare()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    func run() throws {
        let level: Logger.Level = verbose ? .debug : .info
        LoggingSystem.bootstrap { label in
            var handler = JournalLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "pirecd")
        let environment = ProcessInfo.processInfo.environment
        let controlFolder = control ?? ControlFiles.defaultFolder(environment: environment)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let options = DaemonOptions(configPath: config, control: ControlFiles(folder: controlFolder),
                                    pluginDirectories: pluginDir.map { [$0] },
                                    defaultPluginDirectories: PluginCatalog.defaultDirectories(executable: executable),
                                    environment: environment)
        let daemon: Daemon
        do { daemon = try Daemon(options: options, logger: logger) } catch let error as ConfigErrors {
            for e in error.errors { logger.error("configuration error", metadata: ["error": "\(e)"]) }
            throw ExitCode(1)
        } catch {
            logger.error("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        throw ExitCode(daemon.run())
    }
}
