// PluginExport: the bodies of a Swift plugin's C entry points. A plugin's entry file keeps
// three one-line @convention(c) closures that call these, plus its `@_cdecl` entry symbol.
import CPirecPlugin
import Glibc

/// A plugin's per-worker state. `process` is never called concurrently on one state.
public protocol PluginState: AnyObject {
    func process(_ frame: PluginFrame) throws(PluginFailure)
}

private final class StateBox {
    let state: any PluginState
    let host: PluginHost

    init(state: any PluginState, host: PluginHost) {
        self.state = state
        self.host = host
    }
}

public enum PluginExport {
    /// Body of `create`: checks the JSON against `spec`, then calls `make`.
    public static func create(
        _ json: UnsafePointer<CChar>?, _ host: UnsafePointer<pirec_host>?,
        _ state: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int,
        spec: PluginSpec, make: (PluginParameters, PluginHost) throws(PluginFailure) -> any PluginState
    ) -> Int32 {
        guard let host, let state else {
            report("create called without a host or a state pointer", err, errlen)
            return Int32(PIREC_ERROR)
        }
        guard host.pointee.struct_size >= UInt32(MemoryLayout<pirec_host>.size),
              host.pointee.abi_version >> 16 == UInt32(PIREC_ABI_MAJOR) else {
            report("host table too old (ABI \(host.pointee.abi_version >> 16).\(host.pointee.abi_version & 0xffff))",
                   err, errlen)
            return Int32(PIREC_ERROR)
        }
        let pluginHost = PluginHost(table: host)
        do {
            let parameters = try PluginParameters(json: json.map { String(cString: $0) } ?? "{}", table: spec.table,
                                                  owner: spec.id)
            let made = try make(parameters, pluginHost)
            state.pointee = Unmanaged.passRetained(StateBox(state: made, host: pluginHost)).toOpaque()
            return Int32(PIREC_OK)
        } catch {
            // The host table is this ABI's (checked above), so it has refuse_parameter.
            if let key = error.key, let refuse = host.pointee.refuse_parameter {
                refuse(host.pointee.context, key)
                report(error.message, err, errlen)
            } else {
                report(error.description, err, errlen)
            }
            return error.status
        }
    }

    /// Body of `process`.
    public static func process(_ state: UnsafeMutableRawPointer?, _ frame: OpaquePointer?,
                               _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int) -> Int32 {
        guard let state, let frame else {
            report("process called without a state or a frame", err, errlen)
            return Int32(PIREC_ERROR)
        }
        let box = Unmanaged<StateBox>.fromOpaque(state).takeUnretainedValue()
        do {
            try box.state.process(PluginFrame(host: box.host, handle: frame))
            return Int32(PIREC_OK)
        } catch {
            report(error.message, err, errlen)
            return error.status
        }
    }

    /// Body of `destroy`.
    public static func destroy(_ state: UnsafeMutableRawPointer?) {
        guard let state else { return }
        Unmanaged<StateBox>.fromOpaque(state).release()
    }

    private static func report(_ message: String, _ err: UnsafeMutablePointer<CChar>?, _ errlen: Int) {
        guard let err, errlen > 0 else { return }
        let bytes = Array(message.utf8.prefix(errlen - 1))
        for (i, byte) in bytes.enumerated() { err[i] = CChar(bitPattern: byte) }
        err[bytes.count] = 0
    }
}
