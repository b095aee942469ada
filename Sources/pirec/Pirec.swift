// pirec: the one-shot command line. Runs a pipeline's chain on files (`pirec run`), checks a
// configuration (`pirec check`), lists plugins (`pirec plugins`) and shows what pirecd did
// (`pirec status`, `pirec report`).
import ArgumentParser
import PirecCore

@main
struct Pirec: ParsableCommand {
    static func main() {
        // Before any plugin loads OpenBLAS or any job allocates.
        HostProcess.prepare()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "pirec",
        abstract: "Turn sketches and flat colour into finished pictures.",
        version: "\(PirecVersion.current) (plugin ABI \(PirecVersion.abi))",
        subcommands: [RunCommand.self, CheckCommand.self, StatusCommand.self, ReportCommand.self, QueueBenchCommand.self, ReloadCommand.self, PluginsCommand.self, BenchCommand.self])
}
