// The plugin kit on its own: the C descriptor one PluginSpec builds (what the host reads),
// typed parameter values from the host's JSON, and failures that name their key.
import CPirecPlugin
import PirecPluginKit
import Testing

@Suite struct PluginKitTests {
    enum Mode: String, CaseIterable { case fast, exact }

    let spec = PluginSpec(
        id: "kit-test", version: "0.1.0", summary: "a test", reads: ["image"], writes: ["image", "mask"],
        parameters: [
            ParameterSpec("size", .int, range: 1...9, default: "3", "a size"),
            .choice("mode", Mode.self, default: .exact, "how"),
            ParameterSpec("weights", .path, default: "", "a file"),
        ])

    @Test func theDescriptorCarriesTheDeclaration() {
        let descriptor = spec.makeDescriptor(create: { _, _, _, _, _ in 1 }, process: { _, _, _, _ in 1 }, destroy: { _ in })
        let d = descriptor.pointer.pointee
        #expect(d.struct_size == UInt32(MemoryLayout<pirec_plugin_descriptor>.size))
        #expect(d.abi_version == UInt32(PIREC_ABI_MAJOR << 16 | PIREC_ABI_MINOR))
        #expect(String(cString: d.id) == "kit-test" && d.param_count == 3)
        #expect(String(cString: d.writes[1]!) == "mask" && d.writes[2] == nil)
        let params = d.params!
        #expect(params[0].type == UInt32(PIREC_PARAM_INT) && params[0].minimum == 1 && params[0].maximum == 9)
        #expect(params[1].type == UInt32(PIREC_PARAM_STRING) && String(cString: params[1].choices) == "fast|exact")
        #expect(String(cString: params[1].default_value) == "exact")
        #expect(params[2].type == UInt32(PIREC_PARAM_PATH) && params[2].choices == nil)
    }

    @Test func typedValuesWithDefaults() throws {
        let values = try PluginParameters(json: #"{"size": 5, "weights": "/m/w.safetensors"}"#, table: spec.table, owner: spec.id)
        #expect(values.int("size") == 5 && values.double("size") == 5)
        #expect(values.choice("mode", as: Mode.self) == .exact)
        #expect(values.string("weights") == "/m/w.safetensors")
    }

    @Test func aBadValueFromAnUncheckingCallerNamesItsKey() {
        #expect { _ = try PluginParameters(json: #"{"mode": "slow"}"#, table: spec.table, owner: spec.id) } throws: {
            let failure = $0 as? PluginFailure
            return failure?.key == "mode" && failure?.message == "expected fast or exact, got \"slow\""
                && "\(failure!)" == "mode: expected fast or exact, got \"slow\""
        }
        #expect { _ = try PluginParameters(json: "[]", table: spec.table, owner: spec.id) } throws: {
            ($0 as? PluginFailure)?.message.hasPrefix("parameters are not a JSON object") == true
        }
    }
}
