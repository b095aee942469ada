// PluginCatalog: the plugins found in the plugin folders, by id, plus the files that were
// refused and why. It resolves chain steps to libraries and checks each step's `with:`
// block against the plugin's parameter table, with the YAML position of every problem.
import Glibc
import Logging
import PirecParameters

public struct PluginCatalog: Sendable {
    public private(set) var libraries: [String: PluginLibrary] = [:]
    /// Files that looked like plugins but could not be loaded.
    public private(set) var refusals: [PluginError] = []
    public let directories: [String]
    /// Whether plugin and model files pass without FileTrust's check.
    public let insecure: Bool

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

    /// Loads every plugin file in `directories` (missing folders are skipped) that passes
    /// FileTrust unless `insecure`. The first folder wins when two hold the same id.
    public init(directories: [String], insecure: Bool = false) {
        self.directories = directories
        self.insecure = insecure
        for folder in directories where FileIO.isFolder(folder) {
            guard let names = try? FileIO.list(folder) else { continue }
            for name in names where PluginCatalog.isPluginFileName(name) {
                let path = folder + "/" + name
                do {
                    let library = try load(path)
                    if libraries[library.id] == nil { libraries[library.id] = library }
                } catch {
                    refusals.append(error)
                }
            }
        }
    }

    private func load(_ path: String) throws(PluginError) -> PluginLibrary {
        if !insecure, let problem = FileTrust.problem(path) { throw PluginError(path: path, pluginID: "", message: problem) }
        return try PluginLibrary.load(from: path)
    }

    public var sortedLibraries: [PluginLibrary] { libraries.values.sorted { $0.id < $1.id } }

    /// The library for a step: an id from the folders, or a .so path loaded directly.
    public func library(for plugin: String) throws(PluginError) -> PluginLibrary {
        if plugin.contains("/") || plugin.hasSuffix(".so") { return try load(plugin) }
        if let library = libraries[plugin] { return library }
        var message = "no plugin \"\(plugin)\" in \(directories.joined(separator: ", "))"
        if !libraries.isEmpty { message += " (found: \(libraries.keys.sorted().joined(separator: ", ")))" }
        if !refusals.isEmpty { message += "; refused: " + refusals.map(\.description).joined(separator: "; ") }
        throw PluginError(path: "", pluginID: "", message: message)
    }

    /// Every problem with the chains of `configuration`: unknown plugins, unknown
    /// parameters, wrong types and out-of-range values, each at its YAML position.
    public func validate(_ configuration: Configuration) -> [ConfigError] {
        var errors: [ConfigError] = []
        for pipeline in configuration.pipelines {
            for step in pipeline.chain {
                do { _ = try settings(for: step, in: configuration) } catch { errors += error.errors }
            }
        }
        return ConfigErrors(errors).errors
    }

    /// Creates every step's plugin once, as a worker would, and reports what `create`
    /// refuses (checks a plugin makes beyond its parameter table, files it cannot open).
    /// Run it after `validate` found nothing.
    public func startCheck(_ configuration: Configuration, logger: Logger) -> [ConfigError] {
        var errors: [ConfigError] = []
        for pipeline in configuration.pipelines {
            for step in pipeline.chain {
                do { _ = try step.start(catalog: self, configuration: configuration, logger: logger) } catch {
                    errors.append(error)
                }
            }
        }
        return ConfigErrors(errors).errors
    }

    /// The step's `with:` values as its plugin gets them: checked against the plugin's
    /// table (ParameterTable, the checker the plugin kit runs too), every parameter present
    /// with its default filled in, path parameters absolute. Throws each problem at its
    /// YAML position.
    public func settings(for step: Step, in configuration: Configuration) throws(ConfigErrors) -> StepSettings {
        let library: PluginLibrary
        do { library = try self.library(for: step.plugin) } catch {
            throw ConfigErrors([ConfigError(mark: step.pluginMark, path: step.path + ".plugin", message: error.description)])
        }
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        if case let .mapping(given) = step.parameters.value { pairs = given }
        let entries = pairs.map { (key: $0.key.scalarText ?? "", value: $0.value.raw) }
        let (given, problems) = library.parameters.check(entries, owner: library.id)
        guard problems.isEmpty else {
            throw ConfigErrors(problems.map { problem in
                let pair = pairs[problem.index]
                return ConfigError(mark: problem.subject == .key ? pair.key.mark : pair.value.mark,
                                   path: step.path + ".with." + problem.key, message: problem.message)
            })
        }
        var values = library.parameters.complete(given)
        var files: [String: String] = [:]
        let base = configuration.modelDirectory ?? FileIO.split(configuration.file).folder
        for spec in library.parameters.specs where spec.kind == .path {
            guard case let .string(path)? = values[spec.name], !path.isEmpty else { continue }
            let resolved = FileIO.resolve(path, against: base)
            if !insecure, let problem = FileTrust.problem(resolved) {
                let given = pairs.first { $0.key.scalarText == spec.name }
                throw ConfigErrors([ConfigError(mark: given?.value.mark ?? step.mark, path: step.path + ".with." + spec.name,
                                                message: problem)])
            }
            values[spec.name] = .string(resolved)
            files[spec.name] = resolved
        }
        return StepSettings(library: library, values: values, files: files)
    }
}

/// A step's plugin and the values `create` receives.
public struct StepSettings: Sendable {
    public var library: PluginLibrary
    /// Every declared parameter, checked and complete.
    public var values: [String: ParameterValue]
    /// Path parameters (files the plugin reads), key to absolute path.
    public var files: [String: String]

    /// What `create` receives and the sidecar records: keys sorted, no spaces.
    public var json: String { ParameterTable.json(values) }
}
