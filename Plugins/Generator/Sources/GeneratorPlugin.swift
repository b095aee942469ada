// The generator plugin's entry: registration only. PI-REC's first stage: edge map + colour
// domain in, picture out. The work is in Sources/PirecNetworkPlugin and Sources/PirecInference.
import CPirecPlugin
import PirecNetworkPlugin
import PirecPluginKit

let generatorSpec = PluginSpec(
    id: "generator", version: "1.0.0",
    summary: "PI-REC generator: edge map + flat colour domain in, a picture out",
    reads: ["edge", "color"], writes: ["image", "stage1"], parameters: NetworkStep.parameters)

private let descriptor = generatorSpec.makeDescriptor(
    create: { json, host, state, err, errlen in
        PluginExport.create(json, host, state, err, errlen, spec: generatorSpec) {
            (parameters, host) throws(PluginFailure) in try NetworkStep(parameters: parameters, host: host, rgbSlot: "color")
        }
    },
    process: { state, frame, err, errlen in PluginExport.process(state, frame, err, errlen) },
    destroy: { state in PluginExport.destroy(state) })

@_cdecl("pirec_plugin_entry_v1")
public func pirecPluginEntryV1() -> UnsafePointer<pirec_plugin_descriptor> { descriptor.pointer }
