// PluginInstance: one plugin state made by `create`, owned by one worker thread. It owns
// the `pirec_host` table handed to the plugin and calls `destroy` when released.
import CPirecPlugin
import Glibc
import Logging

/// What the host's log callback needs; kept alive by the instance.
private final class HostContext {
    let pluginID: String
    let logger: Logger
    /// The key `create` refused, when it named one.
    var refusedParameter: String?

    init(pluginID: String, logger: Logger) {
        self.pluginID = pluginID
        self.logger = logger
    }
}

private let hostLog: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = {
    context, level, message in
    guard let context, let message else { return }
    let host = Unmanaged<HostContext>.fromOpaque(context).takeUnretainedValue()
    let logLevel: Logger.Level
    switch level {
    case ...Int32(PIREC_LOG_ERROR): logLevel = .error
    case Int32(PIREC_LOG_WARNING): logLevel = .warning
    case Int32(PIREC_LOG_WARNING + 1)...Int32(PIREC_LOG_INFO): logLevel = .info
    default: logLevel = .debug
    }
    host.logger.log(level: logLevel, "\(String(cString: message))", metadata: ["plugin": "\(host.pluginID)"])
}

private let hostRefuseParameter: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void = {
    context, key in
    guard let context, let key else { return }
    Unmanaged<HostContext>.fromOpaque(context).takeUnretainedValue().refusedParameter = String(cString: key)
}

public final class PluginInstance {
    public let library: PluginLibrary
    private let state: UnsafeMutableRawPointer?
    private let host: UnsafeMutablePointer<pirec_host>
    private let context: Unmanaged<HostContext>
    private let modelDirectory: UnsafeMutablePointer<CChar>?

    static let messageBytes = 1024

    /// Calls the plugin's `create` with the JSON of the step's parameters (the host hands
    /// over StepSettings.json). `modelDirectory` is the configuration's `model_dir`.
    public init(library: PluginLibrary, configJSON: String, modelDirectory: String? = nil, logger: Logger)
        throws(PluginError)
    {
        self.library = library
        context = Unmanaged.passRetained(HostContext(pluginID: library.id, logger: logger))
        self.modelDirectory = modelDirectory.map { strdup($0) }
        host = .allocate(capacity: 1)
        host.initialize(to: pirec_host(
            struct_size: UInt32(MemoryLayout<pirec_host>.size), abi_version: UInt32(PIREC_ABI_MAJOR << 16 | PIREC_ABI_MINOR),
            context: context.toOpaque(), log: hostLog, frame_get: Frame.cGet, image_new: Frame.cNew,
            frame_set: Frame.cSet, is_cancelled: Frame.cCancelled, model_dir: UnsafePointer(self.modelDirectory),
            refuse_parameter: hostRefuseParameter))
        var created: UnsafeMutableRawPointer?
        var message = [CChar](repeating: 0, count: PluginInstance.messageBytes)
        let status = library.descriptor.pointee.create(configJSON, host, &created, &message, message.count)
        guard status == PIREC_OK else {
            let parameter = context.takeUnretainedValue().refusedParameter
            host.deallocate()
            context.release()
            free(self.modelDirectory)
            throw PluginError(path: "", pluginID: library.id, message: PluginInstance.text(message, status: status),
                              parameter: parameter)
        }
        state = created
    }

    deinit {
        library.descriptor.pointee.destroy(state)
        host.deallocate()
        context.release()
        free(modelDirectory)
    }

    /// Runs the plugin on `frame`. Throws with the plugin's message on failure.
    public func process(_ frame: Frame) throws(PluginError) {
        var message = [CChar](repeating: 0, count: PluginInstance.messageBytes)
        frame.beginStep()
        defer { frame.endStep() }
        let status = library.descriptor.pointee.process(state, frame.handle, &message, message.count)
        switch status {
        case Int32(PIREC_OK): return
        case Int32(PIREC_CANCELLED): throw PluginError(path: "", pluginID: library.id, message: "cancelled")
        default: throw PluginError(path: "", pluginID: library.id, message: PluginInstance.text(message, status: status))
        }
    }

    private static func text(_ buffer: [CChar], status: Int32) -> String {
        let text = String(cBuffer: buffer)
        return text.isEmpty ? "failed with status \(status) and no message" : text
    }
}
