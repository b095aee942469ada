// The refiner plugin's entry: registration only. PI-REC's second stage: edge map + the
// generator's picture in (and the colour domain, for a 7-input model), a refined picture
// out (the same network, other weights).
import CPirecPlugin
import PirecNetworkPlugin
import PirecPluginKit

let refinerSpec = PluginSpec(
    id: "refiner", version: "1.0.0",
    summary: "PI-REC refiner: edge map + the generator's picture in, a refined picture out",
    reads: ["edge", "image", "color"], writes: ["image"], parameters: NetworkStep.parameters)

private let descriptor = refinerSpec.makeDescriptor(
    create: { json, host, state, err, errlen in
        PluginExport.create(json, host, state, err, errlen, spec: refinerSpec) {
            (parameters, host) throws(PluginFailure) in try NetworkStep(parameters: parameters, host: host, rgbSlot: "image")
        }
    },
    process: { state, frame, err, errlen in PluginExport.process(state, frame, err, errlen) },
    destroy: { state in PluginExport.destroy(state) })

@_cdecl("pirec_plugin_entry_v1")
public func pirecPluginEntryV1() -> UnsafePointer<pirec_plugin_descriptor> { descriptor.pointer }
