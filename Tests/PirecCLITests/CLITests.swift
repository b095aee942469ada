// The `pirec` command as a user runs it: outputs, messages on bad input, exit codes, and
// no partial files left behind.
import Foundation
import PirecCore
import PirecTestKit
import Testing

@Suite struct CLITests {
    let example = TestPaths.repository + "/etc/pirec/example.yaml"

    func files(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    @Test func upscalesAFileWithTheExampleConfiguration() throws {
        let out = TestPaths.temporaryFolder() + "/out"
        let input = TestPaths.fixture("upscale/photo.png")
        let result = try TestProcess.pirec("run", "--config", example, "--pipeline", "upscale2", input, "-o", out)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("1 done, 0 failed"))
        let image = try PNGCodec().read(path: out + "/photo.png")
        #expect(image.width == 122 && image.height == 86 && image.channels == 3)
        #expect(files(in: out) == ["photo.png"])
    }

    @Test func makesPIRECInputsFromAPhoto() throws {
        let out = TestPaths.temporaryFolder()
        let result = try TestProcess.pirec("run", "--config", example, "--pipeline", "domains",
                                           TestPaths.repository + "/examples/coffee_97x61.png", "-o", out)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(files(in: out) == ["coffee_97x61.color.png", "coffee_97x61.edge.png", "coffee_97x61.png"])
        let codec = PNGCodec()
        let resized = try codec.read(path: out + "/coffee_97x61.png")
        let edges = try codec.read(path: out + "/coffee_97x61.edge.png")
        let colors = try codec.read(path: out + "/coffee_97x61.color.png")
        #expect(resized.width == 128 && resized.height == 80)
        #expect(edges.width == 128 && edges.height == 80 && edges.channels == 1)
        #expect(colors.width == 128 && colors.height == 80 && colors.channels == 3)
        var lines = 0
        var palette: Set<[Float]> = []
        for y in 0..<80 {
            for x in 0..<128 {
                #expect(edges[x, y, 0] == 0 || edges[x, y, 0] == 1)
                if edges[x, y, 0] == 1 { lines += 1 }
                palette.insert([colors[x, y, 0], colors[x, y, 1], colors[x, y, 2]])
            }
        }
        // Sparse white lines on black, and a handful of flat colours.
        #expect(lines > 100 && lines < 128 * 80 / 5)
        #expect(palette.count >= 2 && palette.count <= 5)
    }

    @Test func runsTheWholePIRECChainWithAFixtureModel() throws {
        let folder = TestPaths.temporaryFolder()
        let config = folder + "/pirec.yaml"
        try TestPaths.write("""
            model_dir: \(TestPaths.fixture("network"))
            pipelines:
              - name: pirec
                keep_intermediates: true
                chain:
                  - plugin: edge-extractor
                    with: { sigma: 2 }
                  - plugin: color-quantizer
                    with: { median: 7, colors: 4 }
                  - plugin: generator
                    with: { model: small.safetensors }
                  - plugin: refiner
                    with: { model: small_f16.safetensors }
            """, to: config)
        let check = try TestProcess.pirec("check", "--config", config, "--plugin-dir", TestPaths.build)
        #expect(check.status == 0 && check.stdout == "configuration OK\n", "\(check.stderr)")
        let out = folder + "/out"
        let result = try TestProcess.pirec("run", "--config", config, "--pipeline", "pirec", "--plugin-dir", TestPaths.build,
                                           TestPaths.repository + "/examples/coffee_97x61.png", "-o", out)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(files(in: out) == [
            "coffee_97x61.color.png", "coffee_97x61.edge.png", "coffee_97x61.png", "coffee_97x61.stage1.png"])
        let image = try PNGCodec().read(path: out + "/coffee_97x61.png")
        #expect(image.width == 97 && image.height == 61 && image.channels == 3)

        // A bad model is a configuration error at the step's `model` key.
        try TestPaths.write(try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "small_f16.safetensors", with: "nope.safetensors"), to: config)
        let bad = try TestProcess.pirec("check", "--config", config, "--plugin-dir", TestPaths.build)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("\(config):13:17: pipelines[0].chain[3].with.model: plugin refiner: "
            + "\(TestPaths.fixture("network"))/nope.safetensors: no such model file"), "\(bad.stderr)")
    }

    @Test func runsEveryPNGInAFolder() throws {
        let out = TestPaths.temporaryFolder()
        let result = try TestProcess.pirec("run", "--config", example, "--pipeline", "upscale4",
                                           TestPaths.fixture("upscale"), "-o", out)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(files(in: out).count == files(in: TestPaths.fixture("upscale")).count)
        #expect(try PNGCodec().read(path: out + "/one.png").width == 4)
    }

    @Test func listsSwiftAndCPlugins() throws {
        let folder = TestPaths.temporaryFolder()
        try TestProcess.buildCPlugin(folder + "/libpirec-invert.so")
        try FileManager.default.copyItem(atPath: TestPaths.plugin("upscaler"), toPath: folder + "/libpirec-upscaler.so")
        let result = try TestProcess.pirec("plugins", "--plugin-dir", folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("invert 1.0.0 (ABI 1.2) \(folder)/libpirec-invert.so"))
        #expect(result.stdout.contains("upscaler 1.1.0 (ABI 1.2)"))
        #expect(result.stdout.contains("reads: image  writes: image"))
        #expect(result.stdout.contains("with.scale: int 2|4 default 2"))
        #expect(result.stdout.contains("with.method: string resample|learned default resample"))
    }

    @Test func plugInsThatAreNotPluginsAreNamed() throws {
        let folder = TestPaths.temporaryFolder()
        try TestPaths.write("junk", to: folder + "/libpirec-junk.so")
        try TestProcess.buildCPlugin(folder + "/libpirec-old.so", defines: ["TEST_ABI_MAJOR=2", "TEST_ABI_MINOR=0"])
        let result = try TestProcess.pirec("plugins", "--plugin-dir", folder)
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(folder)/libpirec-junk.so: not a loadable shared library"))
        #expect(result.stderr.contains("\(folder)/libpirec-old.so: plugin invert: built for plugin ABI 2.0; this host speaks ABI 1.2"))

        // Named directly in a chain, each is an error at the step's line and column.
        let config = folder + "/pirec.yaml"
        try TestPaths.write("""
            pipelines:
              - name: p
                chain:
                  - plugin: ./libpirec-junk.so
                  - plugin: ./libpirec-old.so
                  - plugin: nothing-here
            """, to: config)
        let check = try TestProcess.pirec("check", "--config", config, "--plugin-dir", TestPaths.build)
        #expect(check.status == 1)
        #expect(check.stderr.contains("\(config):4:17: pipelines[0].chain[0].plugin: \(folder)/libpirec-junk.so: not a loadable"))
        #expect(check.stderr.contains("\(config):5:17: pipelines[0].chain[1].plugin: \(folder)/libpirec-old.so: plugin invert: built for plugin ABI 2.0"))
        #expect(check.stderr.contains("\(config):6:17: pipelines[0].chain[2].plugin: no plugin \"nothing-here\""))
    }

    @Test func checkSaysOKOrListsEveryError() throws {
        let ok = try TestProcess.pirec("check", "--config", example)
        #expect(ok.status == 0 && ok.stdout == "configuration OK\n", "\(ok.stderr)")

        let config = TestPaths.temporaryFolder() + "/pirec.yaml"
        try TestPaths.write("""
            workers: 0
            pipelines:
              - name: up
                chain:
                  - plugin: upscaler
                    with: { scale: big }
            """, to: config)
        let bad = try TestProcess.pirec("check", "--config", config)
        #expect(bad.status == 1)
        #expect(bad.stderr == "error: \(config):1:10: workers: expected an integer in 1...256, got 0\n")
        try TestPaths.write(String((try String(contentsOfFile: config, encoding: .utf8)).dropFirst(11)), to: config)
        let bad2 = try TestProcess.pirec("check", "--config", config)
        #expect(bad2.stderr == "error: \(config):5:24: pipelines[0].chain[0].with.scale: expected 2 or 4, got \"big\"\n")

        try TestPaths.write("pipelines:\n  - name: [unclosed\n", to: config)
        let syntax = try TestProcess.pirec("check", "--config", config)
        #expect(syntax.status == 1 && syntax.stderr.contains("\(config):3:1: YAML syntax error"))

        let missing = try TestProcess.pirec("check", "--config", "/nonexistent.yaml")
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent.yaml:1:1: cannot read configuration: no such file"))
    }

    @Test func badInputsAreNamedAndLeaveNoOutput() throws {
        let out = TestPaths.temporaryFolder() + "/out"
        let bad = ["empty.png", "not_png.png", "truncated.png", "huge_header.png", "bad_crc.png"]
            .map { TestPaths.fixture("bad/" + $0) }
        let result = try TestProcess.pirec(
            "run", "--config", example, "--pipeline", "upscale2", "-o", out, "/nonexistent/x.png", bad[0], bad[1], bad[2],
            bad[3], bad[4])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains("error: /nonexistent/x.png: no such file"))
        #expect(lines.contains("error: \(bad[0]): cannot read PNG: empty file (0 bytes)"))
        #expect(lines.contains("error: \(bad[1]): cannot read PNG: not a PNG file (bad signature)"))
        #expect(lines.contains { $0.hasPrefix("error: \(bad[2]): cannot read PNG: file is truncated") })
        #expect(lines.contains { $0.hasPrefix("error: \(bad[3]): cannot read PNG: image is 100000x100000") })
        #expect(lines.contains { $0.hasPrefix("error: \(bad[4]): cannot read PNG:") })
        #expect(result.stdout.contains("0 done, 6 failed"))
        #expect(files(in: out).isEmpty)
    }

    @Test func unreadableInputIsNamed() throws {
        // Readable by nobody, the outputs' folder writable by nobody; the folder itself stays
        // writable by its owner only, as a plugin's folder must be.
        let folder = TestPaths.temporaryFolder()
        chmod(folder, 0o755)
        try FileManager.default.createDirectory(atPath: folder + "/out", withIntermediateDirectories: false)
        chmod(folder + "/out", 0o777)
        let locked = folder + "/locked.png"
        try FileManager.default.copyItem(atPath: TestPaths.fixture("upscale/one.png"), toPath: locked)
        chmod(locked, 0)
        // Root reads any file, so as root the command runs as nobody (setpriv, util-linux). The
        // binary, its plugin and the configuration are copied beside the input, so nobody can
        // reach them wherever the repository lives.
        let pirec = folder + "/pirec", config = folder + "/pirec.yaml"
        try FileManager.default.copyItem(atPath: TestPaths.pirec, toPath: pirec)
        try FileManager.default.copyItem(atPath: TestPaths.plugin("upscaler"), toPath: folder + "/libpirec-upscaler.so")
        try TestPaths.write("pipelines:\n  - name: up\n    chain:\n      - plugin: upscaler\n", to: config)
        for path in [pirec, folder + "/libpirec-upscaler.so", config] { chmod(path, 0o755) }
        let arguments = ["run", "--config", config, "--pipeline", "up", locked, "-o", folder + "/out"]
        let result = getuid() == 0
            ? try TestProcess.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", pirec] + arguments)
            : try TestProcess.run(pirec, arguments)
        #expect(result.status == 1)
        #expect(result.stderr == "error: \(locked): permission denied\n")
        #expect(files(in: folder + "/out").isEmpty)
    }

    @Test func unknownPipelineAndMissingPlugin() throws {
        let wrong = try TestProcess.pirec("run", "--config", example, "--pipeline", "nope", "x.png", "-o", "/tmp")
        #expect(wrong.status == 1 && wrong.stderr.contains("no pipeline named \"nope\" (pipelines: upscale2, upscale4, domains, photo, sketch)"))

        let folder = TestPaths.temporaryFolder()
        let missing = try TestProcess.pirec("run", "--config", example, "--pipeline", "upscale2", "--plugin-dir", folder,
                                            TestPaths.fixture("upscale/one.png"), "-o", folder)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("\(example):10:17: pipelines[0].chain[0].plugin: no plugin \"upscaler\" in \(folder)"))
    }

    @Test func neverOverwritesAnInput() throws {
        let folder = TestPaths.temporaryFolder()
        let input = folder + "/photo.png"
        try FileManager.default.copyItem(atPath: TestPaths.fixture("upscale/photo.png"), toPath: input)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        let result = try TestProcess.pirec("run", "--config", example, "--pipeline", "upscale2", input, "-o", folder)
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(input): refusing to overwrite the input"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
        #expect(files(in: folder) == ["photo.png"])
    }

    @Test func pairsAreMatchedAndHalfPairsReported() throws {
        let folder = TestPaths.temporaryFolder()
        let config = folder + "/pirec.yaml"
        try TestPaths.write("""
            plugin_dir: \(TestPaths.build)
            pipelines:
              - name: pair
                inputs: pair
                output_slot: color
                chain:
                  - plugin: upscaler
            """, to: config)
        let photo = TestPaths.fixture("upscale/photo.png"), gray = TestPaths.fixture("upscale/gray.png")
        for (name, source) in [("cat_e.png", gray), ("cat_c.png", photo), ("dog_e.png", gray), ("stray.png", gray)] {
            try FileManager.default.copyItem(atPath: source, toPath: folder + "/" + name)
        }
        let out = folder + "/out"
        let result = try TestProcess.pirec("run", "--config", config, "--pipeline", "pair", folder, "-o", out)
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(folder)/dog_e.png: half a pair: dog_c.png is missing"))
        #expect(result.stderr.contains("\(folder)/stray.png: not part of a pair"))
        // The chain reads `image`, which pairs do not fill: a clear step error, no output.
        #expect(result.stderr.contains("step 1 (upscaler): input slot \"image\" is empty"))
        #expect(files(in: out).isEmpty)
    }
}
