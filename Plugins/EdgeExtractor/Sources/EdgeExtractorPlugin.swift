// The edge-extractor plugin's entry: registration only.
import CPirecPlugin
import PirecImaging
import PirecPluginKit

let edgeExtractorSpec = PluginSpec(
    id: "edge-extractor", version: "1.0.0",
    summary: "Binary edge map: Canny as scikit-image (photos) or a normalised user sketch; white lines on black",
    reads: ["source", "edge"], writes: ["edge"],
    parameters: [
        .choice("method", EdgeExtractor.MethodName.self, default: .canny,
                "canny: edges of the `source` photo; normalize: clean up the `edge` sketch of a pair"),
        ParameterSpec("sigma", .float, range: 0...20, default: "2.5", "canny: Gaussian smoothing (pixels); 0 is none"),
        ParameterSpec("low", .float, range: 0...10, default: "0.1", "canny: hysteresis low threshold (gradient magnitude)"),
        ParameterSpec("high", .float, range: 0...10, default: "0.2", "canny: hysteresis high threshold"),
        ParameterSpec("threshold", .float, range: 0...1, default: "0.27", "normalize: binarisation threshold (PI-REC: 69/255)"),
        .choice("lines", SketchNormalizer.Polarity.self, default: .auto,
                "normalize: line colour of the sketch; auto decides from the paper"),
        ParameterSpec("thin", .bool, default: "false", "thin lines to one pixel"),
        ParameterSpec("min_length", .int, range: 0...1_000_000, default: "0", "drop edge pieces of fewer pixels"),
    ])

private let descriptor = edgeExtractorSpec.makeDescriptor(
    create: { json, host, state, err, errlen in
        PluginExport.create(json, host, state, err, errlen, spec: edgeExtractorSpec) {
            (parameters, _) throws(PluginFailure) in try EdgeExtractor(parameters: parameters)
        }
    },
    process: { state, frame, err, errlen in PluginExport.process(state, frame, err, errlen) },
    destroy: { state in PluginExport.destroy(state) })

@_cdecl("pirec_plugin_entry_v1")
public func pirecPluginEntryV1() -> UnsafePointer<pirec_plugin_descriptor> { descriptor.pointer }
