// ChainWorker: one worker's plugin states for one pipeline's chain, created once and reused
// for every job that worker runs (models load once, not per file).
import Glibc
import Logging

/// How long one step took.
public struct StepTiming: Sendable, Equatable {
    public var plugin: String
    public var milliseconds: Double
}

public final class ChainWorker {
    public let pipeline: Pipeline
    private let instances: [PluginInstance]

    /// Creates a state for every step; the first refusal is thrown with its place in the
    /// configuration (the `with:` key it concerns when the plugin names one).
    public init(pipeline: Pipeline, configuration: Configuration, catalog: PluginCatalog, logger: Logger)
        throws(ConfigError)
    {
        self.pipeline = pipeline
        instances = try pipeline.chain.map { step throws(ConfigError) in
            try step.start(catalog: catalog, configuration: configuration, logger: logger)
        }
    }

    /// Runs every step on `frame` in order. Throws naming the failing step.
    public func run(_ frame: Frame) throws(JobError) -> [StepTiming] {
        var timings: [StepTiming] = []
        for (index, instance) in instances.enumerated() {
            let start = monotonicSeconds()
            do { try instance.process(frame) } catch {
                throw JobError(input: "", step: "step \(index + 1) (\(instance.library.id))", message: error.message)
            }
            timings.append(StepTiming(plugin: instance.library.id, milliseconds: (monotonicSeconds() - start) * 1000))
        }
        return timings
    }
}

extension Step {
    /// The step's plugin, created from its checked, complete `with:` values.
    public func start(catalog: PluginCatalog, configuration: Configuration, logger: Logger) throws(ConfigError)
        -> PluginInstance
    {
        let settings: StepSettings
        do { settings = try catalog.settings(for: self, in: configuration) } catch { throw error.errors[0] }
        do {
            return try PluginInstance(library: settings.library, configJSON: settings.json,
                                      modelDirectory: configuration.modelDirectory, logger: logger)
        } catch {
            throw startError(error)
        }
    }

    /// Where a plugin's `create` failure belongs: at the `with:` key the plugin named (its
    /// value when given, else the step: a default it refused), else at the step.
    func startError(_ error: PluginError) -> ConfigError {
        if let name = error.parameter {
            let given: (key: YAMLNode, value: YAMLNode)? = {
                guard case let .mapping(pairs) = parameters.value else { return nil }
                return pairs.first { $0.key.scalarText == name }
            }()
            return ConfigError(mark: given?.key.mark ?? mark, path: "\(path).with.\(name)",
                               message: "plugin \(error.pluginID): " + error.message)
        }
        return ConfigError(mark: mark, path: path, message: "plugin \(error.pluginID) cannot start: \(error.message)")
    }
}

/// A job that failed: which input, which step, what happened.
public struct JobError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Whose fault it is, which decides what becomes of the input.
    public enum Cause: Equatable, Sendable {
        /// The input's (or the chain's on it): the input goes to the failed folder.
        case input
        /// The results could not be written into `folder` (full, not writable, gone): not
        /// the input's fault, so it stays claimed and the job is retried.
        case output(folder: String)
    }

    public var input: String
    public var step: String?
    public var message: String
    public var cause: Cause

    public init(input: String, step: String? = nil, message: String, cause: Cause = .input) {
        self.input = input
        self.step = step
        self.message = message
        self.cause = cause
    }

    /// The step name of failures to write the results.
    public static let writingStep = "writing the outputs"

    public var description: String {
        [input.isEmpty ? nil : input, step, message].compactMap { $0 }.joined(separator: ": ")
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
