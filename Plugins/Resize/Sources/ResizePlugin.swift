// The resize plugin's entry: registration only. The work is in Resize.swift.
import CPirecPlugin
import PirecPluginKit

let resizeSpec = PluginSpec(
    id: "resize", version: "1.0.0",
    summary: "Scales the picture to the networks' working size (area average down, Lanczos up), optional square crop and padding",
    reads: ["source"], writes: ["source", "image"],
    parameters: [
        ParameterSpec("fit", .int, range: 1...16384, default: "128", "the longer side after scaling, in pixels"),
        ParameterSpec("cover", .bool, default: "false", "centre-crop to a square first, as PI-REC does"),
        ParameterSpec("enlarge", .bool, default: "true", "also scale up pictures smaller than fit"),
        ParameterSpec("pad_multiple", .int, range: 1...64, default: "1",
                      "pad right and bottom (repeating the edge) to a multiple of this"),
    ])

private let descriptor = resizeSpec.makeDescriptor(
    create: { json, host, state, err, errlen in
        PluginExport.create(json, host, state, err, errlen, spec: resizeSpec) { (parameters, _) throws(PluginFailure) in
            Resize(parameters: parameters)
        }
    },
    process: { state, frame, err, errlen in PluginExport.process(state, frame, err, errlen) },
    destroy: { state in PluginExport.destroy(state) })

@_cdecl("pirec_plugin_entry_v1")
public func pirecPluginEntryV1() -> UnsafePointer<pirec_plugin_descriptor> { descriptor.pointer }
