// The subcommands. Each prints every problem it finds and exits 1 if there was any.
import ArgumentParser
import Foundation
import Logging
import PirecCore
import PirecQueue

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a pipeline on PNG files, pairs or folders of them.")

    @Option(name: .long, help: "The configuration file.") var config: String
    @Option(name: .long, help: "The pipeline to run.") var pipeline: String
    @Option(name: .shortAndLong, help: "Output folder (default: the pipeline's `output`).") var output: String?
    @Option(name: .long, help: "Plugin folder, overriding the configuration's plugin_dir.") var pluginDir: String?
    @Flag(name: .shortAndLong, help: "Log plugin messages at debug level.") var verbose = false
    @Argument(help: "Input PNG files, NAME_e.png/NAME_c.png pairs, or folders.") var inputs: [String]

    func run() throws {
        let logger = Console.logger(verbose: verbose)
        let (configuration, catalog) = try Console.loadChecked(config, pluginDir: pluginDir, startPlugins: false)
        guard let pipeline = configuration.pipeline(named: pipeline) else {
            let names = configuration.pipelines.map(\.name).joined(separator: ", ")
            throw Console.fail("\(config): no pipeline named \"\(self.pipeline)\" (pipelines: \(names))")
        }
        guard let outputFolder = output ?? pipeline.output else {
            throw Console.fail("\(config): pipeline \"\(pipeline.name)\" has no output folder; pass -o DIR")
        }
        let runner = PipelineRunner(pipeline: pipeline, codec: configuration.pngCodec)
        let (jobs, inputErrors) = runner.jobs(for: inputs)
        let progress = Progress(total: jobs.count + inputErrors.count)
        for error in inputErrors { progress.failed("\(error)") }
        let workerCount = max(1, min(configuration.workers, jobs.count))
        var workers: [ChainWorker] = []
        for _ in 0..<(jobs.isEmpty ? 0 : workerCount) {
            do { workers.append(try ChainWorker(pipeline: pipeline, configuration: configuration, catalog: catalog,
                                               logger: logger)) } catch {
                throw Console.fail(error.description)
            }
        }
        let pool = WorkerPool(workers)
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: pool.count) { index in
            let worker = pool[index]
            while let jobIndex = next.take(below: jobs.count) {
                let job = jobs[jobIndex]
                do {
                    let result = try runner.run(job, worker: worker, outputFolder: outputFolder)
                    let ms = result.timings.reduce(0) { $0 + $1.milliseconds }
                    progress.done("\(job.inputList) -> \(result.outputs.joined(separator: ", ")) (\(Int(ms.rounded())) ms)")
                } catch {
                    progress.failed("\(error)")
                }
            }
        }
        progress.finish(outputFolder: outputFolder)
        if progress.failures > 0 || progress.total == 0 {
            if progress.total == 0 { Console.error("no input files") }
            throw ExitCode(1)
        }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check a configuration and the plugins it names; print every problem.")

    @Option(name: .long, help: "The configuration file.") var config: String
    @Option(name: .long, help: "Plugin folder, overriding the configuration's plugin_dir.") var pluginDir: String?
    @Flag(name: .long, help: "Also check that the `queue:` database answers and its job table is current.")
    var connect = false

    func run() throws {
        let (configuration, _) = try Console.loadChecked(config, pluginDir: pluginDir, startPlugins: true)
        print("configuration OK")
        guard connect, let settings = configuration.queue else {
            if connect { print("no `queue:` block: this host's folders are the queue; nothing to connect to") }
            return
        }
        let database = QueueDatabase(settings: settings, environment: ProcessInfo.processInfo.environment,
                                     logger: Console.logger(verbose: false), timeout: .seconds(10))
        defer { database.close() }
        let version: Int
        do { version = try QueueSchema.version(database) } catch {
            Console.error("\(config): queue.postgres: cannot reach \(settings.description): \(error)")
            throw ExitCode(1)
        }
        switch version {
        case QueueSchema.current:
            print("queue OK: \(settings.description) answers; job table at version \(version) (this build's)")
        case ..<QueueSchema.current:
            print("queue OK: \(settings.description) answers; job table at version \(version): pirecd migrates it "
                + "to \(QueueSchema.current) when it starts")
        default:
            Console.error("\(config): queue.postgres: " + SchemaError.newer(found: version, known: QueueSchema.current).description)
            throw ExitCode(1)
        }
    }
}

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "List the plugins found, with their slots and parameters.")

    @Option(name: .long, help: "Plugin folder (default: beside the executable).") var pluginDir: String?

    func run() throws {
        let catalog = PluginCatalog(directories: pluginDir.map { [$0] } ?? Console.defaultPluginDirectories)
        if catalog.libraries.isEmpty {
            Console.error("no plugins in \(catalog.directories.joined(separator: ", "))")
        }
        for library in catalog.sortedLibraries {
            print("\(library.id) \(library.version) (ABI \(library.abiDescription)) \(library.path)")
            print("  \(library.summary)")
            print("  reads: \(library.reads.joined(separator: ", "))  writes: \(library.writes.joined(separator: ", "))")
            for p in library.parameters.specs {
                let allowed = p.choices.isEmpty
                    ? (p.kind == .int || p.kind == .float ? "\(format(p.range.lowerBound))...\(format(p.range.upperBound))" : "")
                    : p.choices.joined(separator: "|")
                print("  with.\(p.name): \(p.kind) \(allowed) default \(p.defaultValue) - \(p.description)")
            }
        }
        for refusal in catalog.refusals { Console.error("refused \(refusal)") }
        if catalog.libraries.isEmpty || !catalog.refusals.isEmpty { throw ExitCode(1) }
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
