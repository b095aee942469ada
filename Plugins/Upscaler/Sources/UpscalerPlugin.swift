// The upscaler plugin's entry: registration only. The work is in Upscaler.swift.
import CPirecPlugin
import PirecPluginKit

let upscalerSpec = PluginSpec(
    id: "upscaler", version: "1.0.0",
    summary: "Enlarges the image 2x or 4x with Lanczos-3 or bicubic resampling (Pillow-compatible)",
    reads: ["image"], writes: ["image"],
    parameters: [
        ParameterSpec("scale", .int, range: 2...4, choices: ["2", "4"], default: "2", "enlargement factor"),
        .choice("filter", Upscaler.Filter.self, default: .lanczos3, "resampling kernel"),
    ])

private let descriptor = upscalerSpec.makeDescriptor(
    create: { json, host, state, err, errlen in
        PluginExport.create(json, host, state, err, errlen, spec: upscalerSpec) { (parameters, _) throws(PluginFailure) in
            Upscaler(parameters: parameters)
        }
    },
    process: { state, frame, err, errlen in PluginExport.process(state, frame, err, errlen) },
    destroy: { state in PluginExport.destroy(state) })

@_cdecl("pirec_plugin_entry_v1")
public func pirecPluginEntryV1() -> UnsafePointer<pirec_plugin_descriptor> { descriptor.pointer }
