// Configuration: the typed form of pirec.yaml. `Configuration.load` parses the YAML with
// libyaml and validates every key, reporting all problems at once with file:line:column.
// Plugin parameters (`with:`) are checked against each plugin's own table by
// `PluginCatalog.validate`, since only the loaded plugin knows them. Keys: etc/pirec/README.md.
import Glibc

public struct Configuration: Sendable {
    /// The file this came from, as given.
    public var file: String
    /// Where plugins are looked for; nil means the built-in default (see `PluginCatalog.defaultDirectories`).
    public var pluginDirectory: String?
    /// Where model files named by relative paths are found.
    public var modelDirectory: String?
    public var workers: Int
    public var maxPixels: Int
    public var maxFileBytes: Int
    public var pipelines: [Pipeline]
    /// pirecd: JSON-lines job log (one line per finished or failed job); nil for none.
    public var jobLog: String?
    /// pirecd: a claimed input that was running when the daemon died this many times goes
    /// to the failed folder instead of running again.
    public var maxAttempts: Int = 2
    /// pirecd: seconds running jobs get to finish after SIGTERM.
    public var stopTimeout: Int = 30
    /// Load plugins and models that others could have replaced (FileTrust); for
    /// development trees only.
    public var insecurePlugins = false
    /// pirecd: the job queue shared with other hosts in PostgreSQL; nil for the single-host
    /// queue on the inboxes themselves.
    public var queue: QueueSettings?
    /// pirecd: where to serve Prometheus metrics (`/metrics`); nil for none.
    public var metrics: MetricsAddress?

    public func pipeline(named name: String) -> Pipeline? { pipelines.first { $0.name == name } }

    public var pngCodec: PNGCodec { PNGCodec(maxPixels: maxPixels, maxFileBytes: maxFileBytes) }

    static let topKeys = ["plugin_dir", "model_dir", "workers", "max_pixels", "max_file_bytes", "pipelines",
                          "job_log", "max_attempts", "stop_timeout", "insecure_plugins", "queue", "metrics"]
    static let pipelineKeys = ["name", "watch", "output", "failed", "archive", "keep_inputs", "recursive",
                               "pair_timeout", "inputs", "pair_suffixes", "keep_intermediates", "output_slot", "chain"]

    /// Reads and validates a configuration file.
    public static func load(path: String) throws(ConfigErrors) -> Configuration {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path: path, maxBytes: 1 << 20) } catch {
            throw ConfigErrors([ConfigError(mark: SourceMark(file: path, line: 1, column: 1), path: "",
                                            message: "cannot read configuration: \(error.reason)")])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigErrors([ConfigError(mark: SourceMark(file: path, line: 1, column: 1), path: "",
                                            message: "not UTF-8 text")])
        }
        return try parse(text, file: path)
    }

    /// Validates YAML text; relative paths in it are taken against the folder of `file`.
    public static func parse(_ text: String, file: String) throws(ConfigErrors) -> Configuration {
        let root: YAMLNode
        do { root = try YAMLParser.parse(text, file: file) } catch { throw ConfigErrors([error]) }
        var reader = ConfigReader()
        let base = FileIO.split(file).folder
        var config = Configuration(file: file, pluginDirectory: nil, modelDirectory: nil,
                                   workers: max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
                                   maxPixels: PNGCodec.defaultMaxPixels, maxFileBytes: PNGCodec.defaultMaxFileBytes,
                                   pipelines: [])
        guard let top = reader.mapping(root, "", known: topKeys) else { throw ConfigErrors(reader.errors) }
        if let node = top["plugin_dir"], let s = reader.string(node, "plugin_dir") {
            config.pluginDirectory = FileIO.resolve(s, against: base)
        }
        if let node = top["model_dir"], let s = reader.string(node, "model_dir") {
            config.modelDirectory = FileIO.resolve(s, against: base)
        }
        if let node = top["workers"], let n = reader.int(node, "workers", in: 1...256) { config.workers = n }
        if let node = top["max_pixels"], let n = reader.int(node, "max_pixels", in: 1...(1 << 32)) { config.maxPixels = n }
        if let node = top["max_file_bytes"], let n = reader.int(node, "max_file_bytes", in: 1...(1 << 34)) {
            config.maxFileBytes = n
        }
        if let node = top["job_log"], let s = reader.string(node, "job_log") { config.jobLog = FileIO.resolve(s, against: base) }
        if let node = top["max_attempts"], let n = reader.int(node, "max_attempts", in: 1...100) { config.maxAttempts = n }
        if let node = top["stop_timeout"], let n = reader.int(node, "stop_timeout", in: 0...3600) { config.stopTimeout = n }
        if let node = top["insecure_plugins"], let b = reader.bool(node, "insecure_plugins") { config.insecurePlugins = b }
        if let node = top["queue"] { config.queue = readQueue(node, reader: &reader) }
        if let node = top["metrics"], let text = reader.string(node, "metrics") {
            switch MetricsAddress.parse(text) {
            case let .success(address): config.metrics = address
            case let .failure(error): reader.fail(node, "metrics", error.message)
            }
        }
        if let node = top["pipelines"] {
            if let items = reader.list(node, "pipelines") {
                if items.isEmpty { reader.fail(node, "pipelines", "expected at least one pipeline") }
                for (index, item) in items.enumerated() {
                    if let pipeline = readPipeline(item, "pipelines[\(index)]", base: base, reader: &reader) {
                        if config.pipelines.contains(where: { $0.name == pipeline.name }) {
                            reader.fail(item, "pipelines[\(index)].name", "duplicate pipeline name \"\(pipeline.name)\"")
                        }
                        config.pipelines.append(pipeline)
                    }
                }
            }
        } else {
            reader.fail(root, "pipelines", "missing required key")
        }
        guard reader.errors.isEmpty else { throw ConfigErrors(reader.errors) }
        return config
    }

    private static func readQueue(_ node: YAMLNode, reader: inout ConfigReader) -> QueueSettings? {
        guard let map = reader.mapping(node, "queue", known: QueueSettings.keys) else { return nil }
        var settings: QueueSettings?
        if let address = map["postgres"] {
            if let text = reader.string(address, "queue.postgres") {
                switch QueueSettings.parseAddress(text, defaultUser: HostProcess.userName) {
                case let .success(parsed): settings = parsed
                case let .failure(error): reader.fail(address, "queue.postgres", error.message)
                }
            }
        } else {
            reader.fail(node, "queue.postgres", "missing required key (the database's address)")
        }
        settings?.host = HostProcess.hostName
        if let n = map["host"], let s = reader.string(n, "queue.host") {
            if s.isEmpty || s.count > 64 || !s.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
                reader.fail(n, "queue.host", "expected 1 to 64 letters, digits, '-', '_' or '.', got \(n.shortDescription)")
            }
            settings?.host = s
        }
        if let n = map["lease"], let t = reader.int(n, "queue.lease", in: 2...86400) { settings?.lease = t }
        if let n = map["poll"], let t = reader.int(n, "queue.poll", in: 1...3600) { settings?.poll = t }
        return settings
    }

    private static func readPipeline(_ node: YAMLNode, _ path: String, base: String,
                                     reader: inout ConfigReader) -> Pipeline? {
        guard let map = reader.mapping(node, path, known: pipelineKeys) else { return nil }
        let errorCount = reader.errors.count
        var pipeline = Pipeline(name: "", output: nil, inputs: .single, keepIntermediates: false, outputSlot: .image,
                                chain: [], mark: node.mark)
        if let n = map["name"] {
            if let name = reader.string(n, "\(path).name") {
                if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
                    reader.fail(n, "\(path).name", "expected letters, digits, '-' or '_', got \(n.shortDescription)")
                }
                pipeline.name = name
            }
        } else {
            reader.fail(node, "\(path).name", "missing required key")
        }
        var folders: [String: String] = [:]
        for key in ["watch", "output", "failed", "archive"] {
            guard let n = map[key], let s = reader.string(n, "\(path).\(key)") else { continue }
            folders[key] = FileIO.resolve(s, against: base)
        }
        pipeline.output = folders["output"]
        var watch: WatchSettings?
        if let w = map["watch"], let folder = folders["watch"] {
            // The daemon needs to know where results and failures go.
            for key in ["output", "failed"] where map[key] == nil {
                reader.fail(w, "\(path).\(key)", "missing required key (a pipeline with `watch` needs `output` and `failed`)")
            }
            watch = WatchSettings(folder: folder, output: folders["output"] ?? "", failed: folders["failed"] ?? "",
                                  archive: folders["archive"] ?? folder + "/.archive")
        }
        if let n = map["keep_inputs"], let b = reader.bool(n, "\(path).keep_inputs") { watch?.keepInputs = b }
        if let n = map["recursive"], let b = reader.bool(n, "\(path).recursive") { watch?.recursive = b }
        if let n = map["pair_timeout"], let t = reader.int(n, "\(path).pair_timeout", in: 1...(7 * 86400)) {
            watch?.pairTimeout = t
        }
        pipeline.watch = watch
        var naming = PairNaming()
        if let n = map["pair_suffixes"], let s = reader.mapping(n, "\(path).pair_suffixes", known: ["edge", "color"]) {
            if let e = s["edge"], let v = reader.string(e, "\(path).pair_suffixes.edge") { naming.edgeSuffix = v }
            if let c = s["color"], let v = reader.string(c, "\(path).pair_suffixes.color") { naming.colorSuffix = v }
            if let problem = naming.problem { reader.fail(n, "\(path).pair_suffixes", problem) }
        }
        if let n = map["inputs"], let kind = reader.choice(n, "\(path).inputs", ["single", "pair"]) {
            pipeline.inputs = kind == "pair" ? .pair(naming) : .single
        }
        if let n = map["keep_intermediates"], let b = reader.bool(n, "\(path).keep_intermediates") {
            pipeline.keepIntermediates = b
        }
        if let n = map["output_slot"], let s = reader.string(n, "\(path).output_slot") { pipeline.outputSlot = Slot(s) }
        if let n = map["chain"] {
            if let items = reader.list(n, "\(path).chain") {
                if items.isEmpty { reader.fail(n, "\(path).chain", "expected at least one step") }
                for (index, item) in items.enumerated() {
                    let stepPath = "\(path).chain[\(index)]"
                    guard let step = reader.mapping(item, stepPath, known: ["plugin", "with", "timeout"]) else { continue }
                    guard let p = step["plugin"] else {
                        reader.fail(item, "\(stepPath).plugin", "missing required key")
                        continue
                    }
                    guard let plugin = reader.string(p, "\(stepPath).plugin") else { continue }
                    var parameters = YAMLNode(value: .mapping([]), mark: item.mark)
                    if let w = step["with"] {
                        if case .mapping = w.value { parameters = w } else {
                            reader.fail(w, "\(stepPath).with", "expected a mapping of parameters, got \(w.shortDescription)")
                        }
                    }
                    let isPath = plugin.contains("/") || plugin.hasSuffix(".so")
                    var timeout: Int?
                    if let t = step["timeout"] { timeout = reader.int(t, "\(stepPath).timeout", in: 1...86400) }
                    pipeline.chain.append(Step(
                        plugin: isPath ? FileIO.resolve(plugin, against: base) : plugin,
                        parameters: parameters, mark: item.mark, pluginMark: p.mark, path: stepPath, timeout: timeout))
                }
            }
        } else {
            reader.fail(node, "\(path).chain", "missing required key")
        }
        return reader.errors.count == errorCount ? pipeline : nil
    }
}

public struct Pipeline: Sendable {
    public enum Inputs: Equatable, Sendable {
        /// One PNG per job, placed in the `source` and `image` slots.
        case single
        /// `NAME<edge suffix>.png` into `edge` and `NAME<color suffix>.png` into `color`.
        case pair(PairNaming)
    }

    public var name: String
    /// Where `pirec run` writes when no `-o` is given (and pirecd's results, in `watch`).
    public var output: String?
    /// pirecd's folders and rules; nil for a pipeline only `pirec run` uses.
    public var watch: WatchSettings?
    public var inputs: Inputs
    public var keepIntermediates: Bool
    /// The slot written to the output PNG.
    public var outputSlot: Slot
    public var chain: [Step]
    public var mark: SourceMark
}

/// What pirecd needs of a watched pipeline, all of it present (configuration checking
/// refuses a `watch` without `output` and `failed`).
public struct WatchSettings: Sendable, Equatable {
    /// The inbox.
    public var folder: String
    public var output: String
    public var failed: String
    /// Where finished inputs go (default: `.archive` inside the inbox).
    public var archive: String
    /// Keep finished inputs (in `archive`) or delete them.
    public var keepInputs = true
    /// Also watch subfolders (and mirror them in the outputs).
    public var recursive = false
    /// Seconds a half pair may wait for its other half.
    public var pairTimeout = 600
}

public struct Step: Sendable {
    /// A plugin id, or an absolute path to a .so.
    public var plugin: String
    /// The `with:` mapping (empty when absent), kept as YAML for checking and for JSON.
    public var parameters: YAMLNode
    public var mark: SourceMark
    public var pluginMark: SourceMark
    /// Key path, e.g. `pipelines[0].chain[2]`.
    public var path: String
    /// Seconds the step may take on one job before it is cancelled (`timeout:`); nil: no limit.
    public var timeout: Int?
}
