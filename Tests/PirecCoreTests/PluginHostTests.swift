// The plugin host: loading Swift and C plugins through the one ABI, and refusing, with the
// path, the plugin id and both versions, every library it cannot safely call.
import Logging
import PirecCore
import PirecTestKit
import Testing

@Suite struct PluginHostTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test func loadsTheUpscaler() throws {
        let library = try PluginLibrary.load(from: TestPaths.plugin("upscaler"))
        #expect(library.id == "upscaler")
        #expect(library.abiDescription == PluginLibrary.hostABI)
        #expect(library.reads == ["image"] && library.writes == ["image"])
        #expect(library.parameters.specs.map(\.name) == ["scale", "method", "filter", "model", "threads"])
        #expect(library.parameters.specs[0].choices == ["2", "4"])
    }

    @Test func runsAPluginWrittenInC() throws {
        let folder = TestPaths.temporaryFolder()
        try TestProcess.buildCPlugin(folder + "/libpirec-invert.so")
        let catalog = PluginCatalog(directories: [folder])
        let library = try catalog.library(for: "invert")
        #expect(library.summary.contains("written in C"))
        #expect(library.parameters.specs.map(\.name) == ["amount"])

        // 13 RGB pixels a row: 39 floats, padded to a 48-float stride the plugin must honour.
        let input = try Image(width: 13, height: 3, channels: 3)
        #expect(input.rowStride == 48)
        for y in 0..<3 { for x in 0..<13 { for c in 0..<3 { input[x, y, c] = Float(x + y + c) / 20 } } }
        let frame = Frame()
        frame["image"] = input
        let instance = try PluginInstance(library: library, configJSON: #"{"amount": 1}"#, logger: logger)
        try instance.process(frame)
        let output = try #require(frame["image"])
        #expect(output !== input)
        for y in 0..<3 { for x in 0..<13 { for c in 0..<3 { #expect(abs(output[x, y, c] - (1 - input[x, y, c])) < 1e-6) } } }
        // The input image is never modified.
        #expect(input[4, 1, 2] == Float(7) / 20)
    }

    @Test func reportsAPluginsCreateError() throws {
        let folder = TestPaths.temporaryFolder()
        try TestProcess.buildCPlugin(folder + "/libpirec-invert.so")
        let library = try PluginLibrary.load(from: folder + "/libpirec-invert.so")
        #expect(throws: PluginError(path: "", pluginID: "invert", message: "expected a number in 0...1", parameter: "amount")) {
            _ = try PluginInstance(library: library, configJSON: #"{"amount": 5}"#, logger: logger)
        }
        let instance = try PluginInstance(library: library, configJSON: "{}", logger: logger)
        #expect(throws: PluginError(path: "", pluginID: "invert", message: "input slot \"image\" is empty")) {
            try instance.process(Frame())
        }
    }

    @Test(arguments: [
        (["TEST_ABI_MAJOR=2", "TEST_ABI_MINOR=0"], ["plugin invert", "built for plugin ABI 2.0", "this host speaks ABI 1.2"]),
        (["TEST_ABI_MINOR=7"], ["plugin invert", "built for plugin ABI 1.7", "host's ABI 1.2"]),
        (["TEST_SMALL_STRUCT"], ["plugin invert", "descriptor is 16 bytes", "plugin ABI 1.2, host ABI 1.2"]),
        (["TEST_NO_ENTRY"], ["not a pirec plugin: no symbol pirec_plugin_entry_v1", "host ABI 1.2"]),
    ])
    func refusesIncompatiblePlugins(defines: [String], expected: [String]) throws {
        let path = TestPaths.temporaryFolder() + "/libpirec-broken.so"
        try TestProcess.buildCPlugin(path, defines: defines)
        #expect {
            _ = try PluginLibrary.load(from: path)
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix(path + ": ") && expected.allSatisfy { text.contains($0) }
        }
        // The catalog records the refusal and goes on.
        let catalog = PluginCatalog(directories: [FileIO.split(path).folder, TestPaths.build])
        #expect(catalog.refusals.count == 1 && catalog.libraries["upscaler"] != nil)
    }

    @Test func loadsAPluginBuiltForAnOlderMinorABI() throws {
        let path = TestPaths.temporaryFolder() + "/libpirec-invert.so"
        try TestProcess.buildCPlugin(path, defines: ["TEST_ABI_MINOR=0"])
        let library = try PluginLibrary.load(from: path)
        #expect(library.abiDescription == "1.0" && PluginLibrary.hostABI == "1.2")
    }

    @Test func refusesFilesThatAreNotLibraries() throws {
        let path = TestPaths.temporaryFolder() + "/libpirec-junk.so"
        try TestPaths.write("not an ELF file\n", to: path)
        #expect { _ = try PluginLibrary.load(from: path) } throws: {
            "\($0)".hasPrefix(path + ": not a loadable shared library")
        }
        #expect(throws: PluginError(path: "/nonexistent.so", pluginID: "", message: "no such file")) {
            _ = try PluginLibrary.load(from: "/nonexistent.so")
        }
    }
}
