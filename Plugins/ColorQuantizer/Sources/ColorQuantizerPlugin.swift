// The color-quantizer plugin's entry: registration only.
import CPirecPlugin
import PirecPluginKit

let colorQuantizerSpec = PluginSpec(
    id: "color-quantizer", version: "1.0.0",
    summary: "PI-REC colour domain: median blur, k-means to K flat colours, a final small median",
    reads: ["source"], writes: ["color"],
    parameters: [
        ParameterSpec("median", .int, range: 1...255, default: "25", "median blur window (odd), as cv2.medianBlur"),
        ParameterSpec("colors", .int, range: 1...64, default: "3", "K, the number of flat colours"),
        ParameterSpec("attempts", .int, range: 1...100, default: "8", "k-means runs; the most compact is kept"),
        ParameterSpec("iterations", .int, range: 1...1000, default: "10", "k-means iterations per run at most"),
        ParameterSpec("epsilon", .float, range: 0...255, default: "1.0", "stop when no centre moves further (8-bit units)"),
        ParameterSpec("seed", .int, range: 0...2_147_483_647, default: "1", "random seed: the same input gives the same output"),
        ParameterSpec("final_median", .int, range: 1...255, default: "3", "median window (odd) after quantizing; 1 is none"),
    ])

private let descriptor = colorQuantizerSpec.makeDescriptor(
    create: { json, host, state, err, errlen in
        PluginExport.create(json, host, state, err, errlen, spec: colorQuantizerSpec) {
            (parameters, _) throws(PluginFailure) in try ColorQuantizer(parameters: parameters)
        }
    },
    process: { state, frame, err, errlen in PluginExport.process(state, frame, err, errlen) },
    destroy: { state in PluginExport.destroy(state) })

@_cdecl("pirec_plugin_entry_v1")
public func pirecPluginEntryV1() -> UnsafePointer<pirec_plugin_descriptor> { descriptor.pointer }
