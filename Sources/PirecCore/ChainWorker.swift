// ChainWorker: one worker's plugin states for one pipeline's chain, created once and reused
// for every job that worker runs (models load once, not per file).
import Dispatch
import Glibc
import Logging
import Synchronization

/// How long one step took.
public struct StepTiming: Sendable, Equatable {
    public var plugin: String
    public var milliseconds: Double
}

public final class ChainWorker {
    public let pipeline: Pipeline
    private let instances: [PluginInstance]
    private let logger: Logger

    /// Seconds a step that ignores its cancellation after its `timeout:` gets before it is
    /// taken for hung.
    public static let hangGrace = 10.0

    /// Creates a state for every step; the first refusal is thrown with its place in the
    /// configuration (the `with:` key it concerns when the plugin names one).
    public init(pipeline: Pipeline, configuration: Configuration, catalog: PluginCatalog, logger: Logger)
        throws(ConfigError)
    {
        self.pipeline = pipeline
        self.logger = logger
        instances = try pipeline.chain.map { step throws(ConfigError) in
            try step.start(catalog: catalog, configuration: configuration, logger: logger)
        }
    }

    /// Runs every step on `frame` in order, calling `entering` with each step's index and
    /// plugin id before it starts (pirecd's status shows it). Throws naming the failing step.
    public func run(_ frame: Frame, entering: (Int, String) -> Void = { _, _ in }) throws(JobError) -> [StepTiming] {
        var timings: [StepTiming] = []
        for (index, instance) in instances.enumerated() {
            entering(index, instance.library.id)
            let start = monotonicSeconds()
            let name = "step \(index + 1) (\(instance.library.id))"
            let timer = pipeline.chain[index].timeout.map { StepTimer(seconds: Double($0), step: name, frame: frame, logger: logger) }
            defer { timer?.disarm() }
            do { try instance.process(frame) } catch {
                if let timer, timer.fired {
                    throw JobError(input: "", step: name, message: "timed out after \(timer.seconds) s (timeout) and was cancelled")
                }
                throw JobError(input: "", step: name, message: error.message)
            }
            timings.append(StepTiming(plugin: instance.library.id, milliseconds: (monotonicSeconds() - start) * 1000))
        }
        return timings
    }
}

/// A step's `timeout:`: when it passes, the frame is cancelled (plugins see `is_cancelled`);
/// a plugin that still has not returned `hangGrace` seconds later is hung, and since a thread
/// cannot be stopped from outside, the process ends (SIGABRT) so that its supervisor restarts
/// it: the job's start was counted, so the input ends in `failed` after `max_attempts`.
final class StepTimer: Sendable {
    let seconds: Double
    private let state = Mutex<State>(.armed)

    private enum State { case armed, fired, disarmed }

    init(seconds: Double, step: String, frame: Frame, logger: Logger) {
        self.seconds = seconds
        let cancellation = frame.cancellation
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
            guard fire() else { return }
            logger.error("step timed out; cancelling it", metadata: ["step": "\(step)", "timeout_s": "\(Int(seconds))"])
            cancellation.cancel()
            DispatchQueue.global().asyncAfter(deadline: .now() + ChainWorker.hangGrace) { [self] in
                guard fired else { return }
                logger.critical("step hung: it ignored its cancellation; ending the process so that it is restarted",
                                metadata: ["step": "\(step)", "timeout_s": "\(Int(seconds))"])
                abort()
            }
        }
    }

    private func fire() -> Bool {
        state.withLock { state in
            guard state == .armed else { return false }
            state = .fired
            return true
        }
    }

    /// Whether the timeout passed while the step ran.
    var fired: Bool { state.withLock { $0 == .fired } }

    /// The step returned: no cancellation, no hang.
    func disarm() { state.withLock { $0 = .disarmed } }
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
