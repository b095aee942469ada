// PluginLibrary: one loaded plugin .so and its checked descriptor. Loading refuses, with
// the path, the plugin id and both versions, anything the host cannot safely call.
// Libraries are never unloaded (RTLD_NODELETE): Swift's runtime keeps pointers into them.
import CPirecPlugin
import Glibc
import PirecParameters

public struct PluginError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The .so path, when the problem is tied to one.
    public var path: String
    /// The plugin id, when known.
    public var pluginID: String
    public var message: String
    /// The `with:` key a refusing `create` named (ABI 1.2's refuse_parameter).
    public var parameter: String?

    public init(path: String, pluginID: String, message: String, parameter: String? = nil) {
        self.path = path
        self.pluginID = pluginID
        self.message = message
        self.parameter = parameter
    }

    public var description: String {
        let who = (pluginID.isEmpty ? "" : "plugin \(pluginID): ") + (parameter.map { "\($0): " } ?? "")
        return path.isEmpty ? who + message : "\(path): \(who)\(message)"
    }
}

public final class PluginLibrary: @unchecked Sendable {  // lets only; the descriptor is static in a library never unloaded
    public let path: String
    public let id: String
    public let version: String
    public let summary: String
    public let abiVersion: UInt32
    public let reads: [String]
    public let writes: [String]
    /// The descriptor's `params` table.
    public let parameters: ParameterTable
    /// Static, owned by the library, which is never unloaded.
    let descriptor: UnsafePointer<pirec_plugin_descriptor>

    public static var hostABI: String { "\(PIREC_ABI_MAJOR).\(PIREC_ABI_MINOR)" }

    public var abiDescription: String { "\(abiVersion >> 16).\(abiVersion & 0xffff)" }

    /// Loads and checks a plugin library.
    public static func load(from path: String) throws(PluginError) -> PluginLibrary {
        guard FileIO.exists(path) else { throw PluginError(path: path, pluginID: "", message: "no such file") }
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw PluginError(path: path, pluginID: "", message: "not a loadable shared library: \(reason)")
        }
        guard let symbol = dlsym(handle, "pirec_plugin_entry_v1") else {
            if dlsym(handle, "pirec_plugin_entry_v2") != nil {
                throw PluginError(path: path, pluginID: "",
                                  message: "built for plugin ABI 2.x; this host speaks ABI \(hostABI)")
            }
            throw PluginError(path: path, pluginID: "",
                              message: "not a pirec plugin: no symbol pirec_plugin_entry_v1 (host ABI \(hostABI))")
        }
        let entry = unsafeBitCast(symbol, to: pirec_plugin_entry_v1_fn.self)
        guard let descriptor = entry() else {
            throw PluginError(path: path, pluginID: "", message: "pirec_plugin_entry_v1 returned NULL")
        }
        return try PluginLibrary(path: path, descriptor: descriptor)
    }

    private init(path: String, descriptor: UnsafePointer<pirec_plugin_descriptor>) throws(PluginError) {
        self.path = path
        self.descriptor = descriptor
        let raw = UnsafeRawPointer(descriptor)
        let size = Int(raw.load(as: UInt32.self))
        let abi = raw.load(fromByteOffset: 4, as: UInt32.self)
        abiVersion = abi
        // The id is read only when the descriptor is big enough to hold it.
        let idOffset = MemoryLayout<pirec_plugin_descriptor>.offset(of: \.id)!
        let idValue: String = size >= idOffset + MemoryLayout<UnsafePointer<CChar>>.size
            ? raw.load(fromByteOffset: idOffset, as: UnsafePointer<CChar>?.self).map { String(cString: $0) } ?? "" : ""
        let abiText = "\(abi >> 16).\(abi & 0xffff)"
        let refuse = { (message: String) in PluginError(path: path, pluginID: idValue, message: message) }
        guard abi >> 16 == PIREC_ABI_MAJOR else {
            throw refuse("built for plugin ABI \(abiText); this host speaks ABI \(PluginLibrary.hostABI)")
        }
        guard abi & 0xffff <= PIREC_ABI_MINOR else {
            throw refuse("built for plugin ABI \(abiText), newer than this host's ABI \(PluginLibrary.hostABI); update pirec")
        }
        guard size >= MemoryLayout<pirec_plugin_descriptor>.size else {
            throw refuse("descriptor is \(size) bytes, smaller than the \(MemoryLayout<pirec_plugin_descriptor>.size) "
                + "bytes of ABI \(abiText) (plugin ABI \(abiText), host ABI \(PluginLibrary.hostABI))")
        }
        let d = descriptor.pointee
        guard !idValue.isEmpty, idValue.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw refuse("invalid plugin id \"\(idValue)\" (expected [a-z0-9-]+)")
        }
        guard d.create != nil, d.process != nil, d.destroy != nil else {
            throw refuse("descriptor lacks create, process or destroy (plugin ABI \(abiText), host ABI \(PluginLibrary.hostABI))")
        }
        id = idValue
        version = d.version.map { String(cString: $0) } ?? "?"
        summary = d.description.map { String(cString: $0) } ?? ""
        reads = PluginLibrary.strings(d.reads)
        writes = PluginLibrary.strings(d.writes)
        var parameters: [ParameterSpec] = []
        for i in 0..<Int(d.param_count) {
            guard let table = d.params else { throw refuse("param_count is \(d.param_count) but params is NULL") }
            let p = table[i]
            let kind: ParameterSpec.Kind
            switch p.type {
            case UInt32(PIREC_PARAM_INT): kind = .int
            case UInt32(PIREC_PARAM_FLOAT): kind = .float
            case UInt32(PIREC_PARAM_BOOL): kind = .bool
            case UInt32(PIREC_PARAM_STRING): kind = .string
            case UInt32(PIREC_PARAM_PATH) where abi & 0xffff >= 2: kind = .path
            default: throw refuse("parameter \(i) has unknown type \(p.type) (plugin ABI \(abiText))")
            }
            guard let name = p.name.map({ String(cString: $0) }), !name.isEmpty else {
                throw refuse("parameter \(i) has no name")
            }
            let choices = p.choices.map { String(cString: $0).split(separator: "|").map(String.init) } ?? []
            let low = p.minimum, high = p.maximum
            parameters.append(ParameterSpec(
                name, kind, range: low <= high ? low...high : high...low, choices: choices,
                default: p.default_value.map { String(cString: $0) } ?? "", p.description.map { String(cString: $0) } ?? ""))
        }
        self.parameters = ParameterTable(parameters)
    }

    private static func strings(_ list: UnsafePointer<UnsafePointer<CChar>?>?) -> [String] {
        guard var item = list else { return [] }
        var out: [String] = []
        while let s = item.pointee, out.count < 64 {
            out.append(String(cString: s))
            item += 1
        }
        return out
    }
}
