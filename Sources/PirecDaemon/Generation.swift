// Generation: one configuration in force and what is made from it once (the inboxes, what
// the sidecars say about each step, the job log). Immutable, so the dispatcher and every
// worker share it; the plugin states are not here but in the workers, each made on the
// thread that uses it (WorkerPool).
import Logging
import PirecCore

final class Generation: Sendable {
    let configuration: Configuration
    let catalog: PluginCatalog
    let inboxes: [Inbox]
    /// Pipeline index to the sidecar's description of its chain.
    let steps: [Int: [StepRecord]]
    let jobLog: JobLog?
    /// This host's name in sidecars, logs and claims (`queue.host`, else the machine's).
    let hostName: String

    /// Checks `configuration` against the plugins' parameter tables and opens the job log.
    init(configuration: Configuration, catalog: PluginCatalog) throws(ConfigErrors) {
        self.configuration = configuration
        self.catalog = catalog
        hostName = configuration.queue?.host ?? HostProcess.hostName
        inboxes = configuration.pipelines.enumerated().compactMap { i, p in Inbox(pipeline: p, index: i) }
        let problems = catalog.validate(configuration)
        guard problems.isEmpty else { throw ConfigErrors(problems) }
        if inboxes.isEmpty {
            throw ConfigErrors([ConfigError(mark: SourceMark(file: configuration.file, line: 1, column: 1), path: "pipelines",
                                            message: "no pipeline has a `watch` folder: pirecd has nothing to do")])
        }
        var steps: [Int: [StepRecord]] = [:]
        for inbox in inboxes {
            steps[inbox.index] = try inbox.pipeline.chain.map { step throws(ConfigErrors) in
                let settings = try catalog.settings(for: step, in: configuration)
                return StepRecord(plugin: settings.library.id, version: settings.library.version, parametersJSON: settings.json,
                                  files: settings.files.mapValues { ($0, (try? SHA256.file($0)) ?? "unreadable") })
            }
        }
        self.steps = steps
        do { jobLog = try configuration.jobLog.map { path throws(FileError) in try JobLog(path: path) } } catch {
            throw ConfigErrors([ConfigError(mark: SourceMark(file: configuration.file, line: 1, column: 1),
                                            path: "job_log", message: error.description)])
        }
    }

    /// Reads the configuration file and the plugins it names.
    static func load(_ options: DaemonOptions) throws(ConfigErrors) -> Generation {
        let configuration = try Configuration.load(path: options.configPath)
        let directories = options.pluginDirectories ?? configuration.pluginDirectory.map { [$0] }
            ?? options.defaultPluginDirectories
        return try Generation(configuration: configuration,
                              catalog: PluginCatalog(directories: directories, insecure: configuration.insecurePlugins))
    }

    func inbox(_ index: Int) -> Inbox? { inboxes.first { $0.index == index } }

    /// Every model file the chains load (path parameters), once each, with the pipelines
    /// that load it, by path: what `pirec status` and the metrics show.
    var models: [DaemonStatus.Model] {
        var byPath: [String: DaemonStatus.Model] = [:]
        for inbox in inboxes {
            for step in steps[inbox.index] ?? [] {
                for (path, sha256) in step.files.values {
                    byPath[path, default: DaemonStatus.Model(file: path, sha256: sha256, pipelines: [])].pipelines
                        .append(inbox.pipeline.name)
                }
            }
        }
        return byPath.values.map { m in var m = m; m.pipelines = Array(Set(m.pipelines)).sorted(); return m }
            .sorted { $0.file < $1.file }
    }

    /// One worker's plugin states for every watched pipeline, by pipeline index. Call it on
    /// the thread that will use them.
    func makeChains(logger: Logger) throws(ConfigErrors) -> [Int: ChainWorker] {
        var chains: [Int: ChainWorker] = [:]
        var problems: [ConfigError] = []
        for inbox in inboxes {
            do {
                chains[inbox.index] = try ChainWorker(pipeline: inbox.pipeline, configuration: configuration,
                                                      catalog: catalog, logger: logger)
            } catch {
                problems.append(error)
            }
        }
        guard problems.isEmpty else { throw ConfigErrors(problems) }
        return chains
    }
}
