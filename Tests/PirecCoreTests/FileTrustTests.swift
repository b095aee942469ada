// FileTrust through the plugin catalog: plugins and models others could have replaced are
// refused, naming the path and the mode, unless the configuration says
// `insecure_plugins: true`.
import Foundation
import Glibc
import PirecCore
import PirecTestKit
import Testing

@Suite struct FileTrustTests {
    @Test func pluginsOthersCouldReplaceAreRefused() throws {
        let folder = TestPaths.temporaryFolder()
        let plugin = folder + "/libpirec-upscaler.so"
        try FileManager.default.copyItem(atPath: TestPaths.plugin("upscaler"), toPath: plugin)
        #expect(PluginCatalog(directories: [folder]).libraries["upscaler"] != nil)
        chmod(plugin, 0o664)
        let refused = PluginCatalog(directories: [folder])
        #expect(refused.libraries.isEmpty && refused.refusals.count == 1)
        #expect(refused.refusals.first?.description == "\(plugin): refusing a group-writable file (\(plugin), mode 664): "
            + "plugins, models and their folders must be writable only by their owner (insecure_plugins: true allows it)")
        #expect(PluginCatalog(directories: [folder], insecure: true).libraries["upscaler"] != nil)
        chmod(plugin, 0o644)
        chmod(folder, 0o777)
        #expect(PluginCatalog(directories: [folder]).refusals.first?.message.contains("world-writable folder") == true)
        chmod(folder, 0o1777)  // sticky, as /tmp: others cannot rename over the plugin
        #expect(PluginCatalog(directories: [folder]).libraries["upscaler"] != nil)
        chmod(folder, 0o700)
        if getuid() == 0 {
            chown(plugin, 65534, 65534)
            #expect(PluginCatalog(directories: [folder]).refusals.first?.message.contains("owned by uid 65534") == true)
        }
    }

    @Test func aModelOthersCouldReplaceIsRefusedAtItsKey() throws {
        let folder = TestPaths.temporaryFolder()
        let model = folder + "/small.safetensors"
        try FileManager.default.copyItem(atPath: TestPaths.fixture("network/small.safetensors"), toPath: model)
        chmod(model, 0o666)
        let text = """
            model_dir: \(folder)
            pipelines:
              - name: p
                chain:
                  - plugin: generator
                    with: { model: small.safetensors }

            """
        let catalog = PluginCatalog(directories: [TestPaths.build])
        let errors = catalog.validate(try Configuration.parse(text, file: folder + "/pirec.yaml"))
        #expect(errors.map(\.description) == ["\(folder)/pirec.yaml:6:24: pipelines[0].chain[0].with.model: refusing a "
            + "world-writable file (\(model), mode 666): plugins, models and their folders must be writable only by their "
            + "owner (insecure_plugins: true allows it)"])
        let insecure = try Configuration.parse("insecure_plugins: true\n" + text, file: folder + "/pirec.yaml")
        #expect(PluginCatalog(directories: [TestPaths.build], insecure: insecure.insecurePlugins).validate(insecure).isEmpty)
    }
}
