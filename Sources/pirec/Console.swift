// Console: what the commands share: loading and checking a configuration with its plugins,
// messages on stderr, and the progress display (a bar on a terminal, plain lines otherwise).
import ArgumentParser
import Foundation
import Logging
import PirecCore
import Synchronization

enum Console {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    }

    /// Prints `message` as an error and returns the exit code to throw.
    static func fail(_ message: String) -> ExitCode {
        error(message)
        return ExitCode(1)
    }

    static func logger(verbose: Bool) -> Logger {
        var logger = Logger(label: "pirec") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }

    static var defaultPluginDirectories: [String] {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return PluginCatalog.defaultDirectories(executable: executable)
    }

    /// Loads the configuration, the plugin catalog, and checks every step against its plugin;
    /// with `startPlugins`, also creates each step's plugin once (what `pirec check` does;
    /// `pirec run` skips it, since starting its workers reports the same errors).
    static func loadChecked(_ path: String, pluginDir: String?, startPlugins: Bool) throws
        -> (Configuration, PluginCatalog)
    {
        let configuration: Configuration
        do { configuration = try Configuration.load(path: path) } catch {
            for e in error.errors { Console.error(e.description) }
            throw ExitCode(1)
        }
        let directories = pluginDir.map { [$0] } ?? configuration.pluginDirectory.map { [$0] } ?? defaultPluginDirectories
        let catalog = PluginCatalog(directories: directories, insecure: configuration.insecurePlugins)
        var problems = catalog.validate(configuration)
        if problems.isEmpty && startPlugins {
            problems = catalog.startCheck(configuration, logger: logger(verbose: false))
        }
        guard problems.isEmpty else {
            for e in problems { Console.error(e.description) }
            throw ExitCode(1)
        }
        return (configuration, catalog)
    }
}

/// Hands out job indices to worker threads.
final class Counter: Sendable {
    private let value = Mutex(0)

    func take(below limit: Int) -> Int? {
        value.withLock { next in
            guard next < limit else { return nil }
            defer { next += 1 }
            return next
        }
    }
}

/// The workers, one per thread; each is touched only by the thread with its index.
struct WorkerPool: @unchecked Sendable {
    private let workers: [ChainWorker]

    init(_ workers: [ChainWorker]) { self.workers = workers }

    var count: Int { workers.count }

    subscript(index: Int) -> ChainWorker { workers[index] }
}

/// Progress on stderr: a redrawn bar on a terminal; one line per job otherwise.
final class Progress: Sendable {
    private struct State {
        var finished = 0
        var failures = 0
    }

    let total: Int
    private let state = Mutex(State())
    private let isTerminal = isatty(STDERR_FILENO) == 1

    init(total: Int) { self.total = total }

    var failures: Int { state.withLock { $0.failures } }

    func done(_ line: String) { record(line, failed: false) }

    func failed(_ line: String) { record(line, failed: true) }

    private func record(_ line: String, failed: Bool) {
        state.withLock { s in
            s.finished += 1
            if failed { s.failures += 1 }
            if isTerminal {
                let width = 30, filled = total == 0 ? width : width * s.finished / total
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                let text = (failed ? "error: " : "done: ") + line
                write("\r\u{1B}[2K\(text)\n[\(bar)] \(s.finished)/\(total)")
            } else if failed {
                write("error: \(line)\n")
            } else {
                FileHandle.standardOutput.write(Data("done: \(line)\n".utf8))
            }
        }
    }

    func finish(outputFolder: String) {
        let s = state.withLock { $0 }
        if isTerminal { write("\n") }
        let summary = "\(s.finished - s.failures) done, \(s.failures) failed; outputs in \(outputFolder)/"
        print(summary)
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
