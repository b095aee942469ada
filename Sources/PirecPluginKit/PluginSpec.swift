// PluginSpec: a Swift plugin's declaration, made once: id, version, slots and parameters.
// The same values build the C descriptor the host reads and read the JSON parameters the
// plugin receives, so the docs, the host's YAML checks and the plugin cannot disagree.
import CPirecPlugin
import Glibc

public struct PluginSpec: Sendable {
    public var id: String
    public var version: String
    public var summary: String
    public var reads: [String]
    public var writes: [String]
    public var parameters: [ParameterSpec]

    public var table: ParameterTable { ParameterTable(parameters) }

    public init(id: String, version: String, summary: String, reads: [String], writes: [String],
                parameters: [ParameterSpec]) {
        self.id = id
        self.version = version
        self.summary = summary
        self.reads = reads
        self.writes = writes
        self.parameters = parameters
    }
}

public typealias CreateFunction = @convention(c) (
    UnsafePointer<CChar>?, UnsafePointer<pirec_host>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    UnsafeMutablePointer<CChar>?, Int) -> Int32
public typealias ProcessFunction = @convention(c) (
    UnsafeMutableRawPointer?, OpaquePointer?, UnsafeMutablePointer<CChar>?, Int) -> Int32
public typealias DestroyFunction = @convention(c) (UnsafeMutableRawPointer?) -> Void

extension PluginSpec {
    /// Builds the static C descriptor. Its strings and tables are allocated once and never
    /// freed: the host never unloads a plugin, so they live as long as the process.
    public func makeDescriptor(create: CreateFunction, process: ProcessFunction,
                               destroy: DestroyFunction) -> ExportedDescriptor {
        func cString(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(s)!) }
        func list(_ items: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
            let table = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: items.count + 1)
            for (i, item) in items.enumerated() { table[i] = cString(item) }
            table[items.count] = nil
            return UnsafePointer(table)
        }
        let params = UnsafeMutablePointer<pirec_param>.allocate(capacity: max(parameters.count, 1))
        for (i, p) in parameters.enumerated() {
            let type: Int32
            switch p.kind {
            case .int: type = PIREC_PARAM_INT
            case .float: type = PIREC_PARAM_FLOAT
            case .bool: type = PIREC_PARAM_BOOL
            case .string: type = PIREC_PARAM_STRING
            case .path: type = PIREC_PARAM_PATH
            }
            params[i] = pirec_param(
                name: cString(p.name), type: UInt32(type), reserved: 0, minimum: p.range.lowerBound,
                maximum: p.range.upperBound, choices: p.choices.isEmpty ? nil : cString(p.choices.joined(separator: "|")),
                default_value: cString(p.defaultValue), description: cString(p.description))
        }
        let descriptor = UnsafeMutablePointer<pirec_plugin_descriptor>.allocate(capacity: 1)
        descriptor.initialize(to: pirec_plugin_descriptor(
            struct_size: UInt32(MemoryLayout<pirec_plugin_descriptor>.size),
            abi_version: UInt32(PIREC_ABI_MAJOR << 16 | PIREC_ABI_MINOR),
            id: cString(id), version: cString(version), description: cString(summary),
            reads: list(reads), writes: list(writes), params: UnsafePointer(params),
            param_count: UInt32(parameters.count), reserved: 0,
            create: create, process: process, destroy: destroy))
        return ExportedDescriptor(pointer: UnsafePointer(descriptor))
    }
}

/// The descriptor returned by the entry symbol: immutable once built, so safe to share.
public struct ExportedDescriptor: @unchecked Sendable {
    public let pointer: UnsafePointer<pirec_plugin_descriptor>
}
