// The upscaler plugin's entry: registration only. The work is in Upscaler.swift.
import CPirecPlugin
import PirecPluginKit

let upscalerSpec = PluginSpec(
    id: "upscaler", version: "1.1.0",
    summary: "Enlarges the image 2x or 4x with Lanczos-3 or bicubic resampling (Pillow-compatible) or a learned network",
    reads: ["image"], writes: ["image"],
    parameters: [
        ParameterSpec("scale", .int, range: 2...4, choices: ["2", "4"], default: "2", "enlargement factor"),
        .choice("method", Upscaler.Method.self, default: .resample,
                "resample (with filter) or learned (with model)"),
        .choice("filter", Upscaler.Filter.self, default: .lanczos3, "resampling kernel (method resample)"),
        ParameterSpec("model", .path, default: "",
                      "method learned: the upscaler's safetensors file (its scale must be scale); relative paths are taken against model_dir"),
        ParameterSpec("threads", .int, range: 1...64, default: "1", "threads for the network (per worker; method learned)"),
    ])

private let descriptor = upscalerSpec.makeDescriptor(
    create: { json, host, state, err, errlen in
        PluginExport.create(json, host, state, err, errlen, spec: upscalerSpec) { (parameters, host) throws(PluginFailure) in
            try Upscaler(parameters: parameters, host: host)
        }
    },
    process: { state, frame, err, errlen in PluginExport.process(state, frame, err, errlen) },
    destroy: { state in PluginExport.destroy(state) })

@_cdecl("pirec_plugin_entry_v1")
public func pirecPluginEntryV1() -> UnsafePointer<pirec_plugin_descriptor> { descriptor.pointer }
