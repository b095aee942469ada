// PluginCatalog: the plugins found in the plugin folders, by id, plus the files that were
// refused and why. It resolves chain steps to libraries and checks each step's `with:`
// block against the plugin's parameter table, with the YAML position of every problem.
import Glibc
import Logging

public struct PluginCatalog: Sendable {
    public private(set) var libraries: [String: PluginLibrary] = [:]
    /// Files that looked like plugins but could not be loaded.
    public private(set) var refusals: [PluginError] = []
    public let directories: [String]

    /// A plugin file is named `pirec-ID.so` or `libpirec-ID.so`.
    public static func isPluginFileName(_ name: String) -> Bool {
        name.hasSuffix(".so") && (name.hasPrefix("pirec-") || name.hasPrefix("libpirec-"))
    }

    /// Where plugins are looked for when the configuration names no `plugin_dir`: the
    /// installed location beside the executable (`../lib/pirec/plugins`), then the
    /// executable's own folder (a `swift build` tree).
    public static func defaultDirectories(executable: String) -> [String] {
        let folder = FileIO.split(executable).folder
        return [FileIO.split(folder).folder + "/lib/pirec/plugins", folder]
    }

    /// Loads every plugin file in `directories` (missing folders are skipped). The first
    /// folder wins when two hold the same id.
    public init(directories: [String]) {
        self.directories = directories
        for folder in directories where FileIO.isFolder(folder) {
            guard let names = try? FileIO.list(folder) else { continue }
            for name in names where PluginCatalog.isPluginFileName(name) {
                let path = folder + "/" + name
                do {
                    let library = try PluginLibrary.load(from: path)
                    if libraries[library.id] == nil { libraries[library.id] = library }
                } catch {
                    refusals.append(error)
                }
            }
        }
    }

    public var sortedLibraries: [PluginLibrary] { libraries.values.sorted { $0.id < $1.id } }

    /// The library for a step: an id from the folders, or a .so path loaded directly.
    public func library(for plugin: String) throws(PluginError) -> PluginLibrary {
        if plugin.contains("/") || plugin.hasSuffix(".so") { return try PluginLibrary.load(from: plugin) }
        if let library = libraries[plugin] { return library }
        var message = "no plugin \"\(plugin)\" in \(directories.joined(separator: ", "))"
        if !libraries.isEmpty { message += " (found: \(libraries.keys.sorted().joined(separator: ", ")))" }
        if !refusals.isEmpty { message += "; refused: " + refusals.map(\.description).joined(separator: "; ") }
        throw PluginError(path: "", pluginID: "", message: message)
    }

    /// Every problem with the chains of `configuration`: unknown plugins, unknown
    /// parameters, wrong types and out-of-range values, each at its YAML position.
    public func validate(_ configuration: Configuration) -> [ConfigError] {
        var reader = ConfigReader()
        for pipeline in configuration.pipelines {
            for step in pipeline.chain {
                let library: PluginLibrary
                do { library = try self.library(for: step.plugin) } catch {
                    reader.errors.append(ConfigError(mark: step.pluginMark, path: step.path + ".plugin",
                                                     message: error.description))
                    continue
                }
                PluginCatalog.check(step, against: library, reader: &reader)
            }
        }
        return ConfigErrors(reader.errors).errors
    }

    /// Creates every step's plugin once, as a worker would, and reports what `create`
    /// refuses (checks a plugin makes beyond its parameter table, files it cannot open).
    /// Run it after `validate` found nothing.
    public func startCheck(_ configuration: Configuration, logger: Logger) -> [ConfigError] {
        var errors: [ConfigError] = []
        for pipeline in configuration.pipelines {
            for step in pipeline.chain {
                do { _ = try step.start(catalog: self, modelDirectory: configuration.modelDirectory, logger: logger) } catch {
                    errors.append(error)
                }
            }
        }
        return ConfigErrors(errors).errors
    }

    static func check(_ step: Step, against library: PluginLibrary, reader: inout ConfigReader) {
        let withPath = step.path + ".with"
        guard case let .mapping(pairs) = step.parameters.value else { return }
        let known = library.parameters.map(\.name)
        var seen: Set<String> = []
        for (key, value) in pairs {
            let name = key.scalarText ?? ""
            let path = withPath + "." + name
            guard let parameter = library.parameters.first(where: { $0.name == name }) else {
                let list = known.isEmpty ? "it takes none" : "known: " + known.joined(separator: ", ")
                reader.fail(key, path, "unknown parameter for plugin \(library.id) (\(list))")
                continue
            }
            if !seen.insert(name).inserted {
                reader.fail(key, path, "duplicate key")
                continue
            }
            check(value, path, parameter, reader: &reader)
        }
    }

    private static func check(_ node: YAMLNode, _ path: String, _ parameter: PluginParameter,
                              reader: inout ConfigReader) {
        let got = node.shortDescription
        let text: String? = { if case let .scalar(t, _) = node.value { return t } else { return nil } }()
        let plain: Bool = { if case .scalar(_, false) = node.value { return true } else { return false } }()
        if !parameter.choices.isEmpty {
            let isNumber = parameter.kind == .int || parameter.kind == .float
            guard let text, parameter.choices.contains(text), !isNumber || plain else {
                reader.fail(node, path, "expected \(ConfigReader.alternatives(parameter.choices)), got \(got)")
                return
            }
            return
        }
        let low = parameter.range.lowerBound, high = parameter.range.upperBound
        switch parameter.kind {
        case .int:
            let bounds = "an integer in \(format(low))...\(format(high))"
            guard plain, let text, let value = Int(text) else { return reader.fail(node, path, "expected \(bounds), got \(got)") }
            if Double(value) < low || Double(value) > high { reader.fail(node, path, "expected \(bounds), got \(value)") }
        case .float:
            let bounds = "a number in \(format(low))...\(format(high))"
            guard plain, let text, let value = Double(text), value.isFinite else {
                return reader.fail(node, path, "expected \(bounds), got \(got)")
            }
            if value < low || value > high { reader.fail(node, path, "expected \(bounds), got \(text)") }
        case .bool:
            _ = reader.bool(node, path)
        case .string:
            _ = reader.string(node, path)
        }
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
