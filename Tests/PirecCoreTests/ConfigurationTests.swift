// Configuration parsing: typed values, and every error reported at file:line:column with
// its key path, all of them in one run.
import PirecCore
import PirecTestKit
import Testing

@Suite struct ConfigurationTests {
    @Test func readsAFullConfiguration() throws {
        let text = """
            plugin_dir: plugins
            model_dir: /models
            workers: 3
            max_pixels: 1000
            pipelines:
              - name: photo
                watch: in
                output: /out
                failed: failed
                inputs: pair
                pair_suffixes: { edge: -sketch, color: -flat }
                keep_intermediates: yes
                chain:
                  - plugin: upscaler
                    with: { scale: 4, filter: "bicubic" }
                  - plugin: ./my.so
            """
        let config = try Configuration.parse(text, file: "/etc/pirec/pirec.yaml")
        #expect(config.pluginDirectory == "/etc/pirec/plugins")
        #expect(config.modelDirectory == "/models")
        #expect(config.workers == 3)
        #expect(config.maxPixels == 1000)
        let p = try #require(config.pipeline(named: "photo"))
        let watch = try #require(p.watch)
        #expect(watch.folder == "/etc/pirec/in" && watch.output == "/out" && watch.failed == "/etc/pirec/failed")
        #expect(watch.archive == "/etc/pirec/in/.archive" && p.output == "/out")
        #expect(p.inputs == .pair(PairNaming(edgeSuffix: "-sketch", colorSuffix: "-flat")))
        #expect(p.keepIntermediates)
        #expect(p.chain.map(\.plugin) == ["upscaler", "/etc/pirec/my.so"])
        guard case let .mapping(with) = p.chain[0].parameters.value else { Issue.record("with: is not a mapping"); return }
        #expect(with.map { [$0.key.scalarText, $0.value.scalarText] } == [["scale", "4"], ["filter", "bicubic"]])
        guard case let .mapping(none) = p.chain[1].parameters.value else { Issue.record("no with: is not a mapping"); return }
        #expect(none.isEmpty)
        #expect(p.chain[0].mark == SourceMark(file: "/etc/pirec/pirec.yaml", line: 14, column: 9))
    }

    @Test func reportsEveryErrorWithItsPlace() {
        let text = """
            workers: many
            colour: red
            pipelines:
              - name: a
                inputs: triple
                chain:
                  - plugin: upscaler
                    with: [1, 2]
              - name: a
                chain: []
              - chain:
                  - with: {}
            """
        #expect {
            _ = try Configuration.parse(text, file: "c.yaml")
        } throws: { error in
            let lines = "\(error)".split(separator: "\n").map(String.init)
            return lines == [
                "c.yaml:1:10: workers: expected an integer in 1...256, got \"many\"",
                "c.yaml:2:1: colour: unknown key (known keys: plugin_dir, model_dir, workers, max_pixels, max_file_bytes, pipelines, job_log, max_attempts, stop_timeout, insecure_plugins, queue, metrics)",
                "c.yaml:5:13: pipelines[0].inputs: expected single or pair, got \"triple\"",
                "c.yaml:8:15: pipelines[0].chain[0].with: expected a mapping of parameters, got a list",
                "c.yaml:10:12: pipelines[1].chain: expected at least one step",
                "c.yaml:11:5: pipelines[2].name: missing required key",
                "c.yaml:12:9: pipelines[2].chain[0].plugin: missing required key",
            ]
        }
    }

    @Test func readsTheSharedQueueBlockAndRefusesAPasswordInIt() throws {
        let pipeline = "pipelines:\n  - name: a\n    chain:\n      - plugin: upscaler\n"
        let url = try Configuration.parse("""
            queue:
              postgres: "postgresql://pirec@db.example:6543/jobs"
              host: render-02
              lease: 30
            \(pipeline)
            """, file: "c.yaml").queue
        #expect(url == QueueSettings(address: .tcp(host: "db.example", port: 6543), user: "pirec", database: "jobs",
                                     host: "render-02", lease: 30, poll: 2))
        let socket = try Configuration.parse("queue: { postgres: \"host=/run/postgresql dbname=pirec\" }\n" + pipeline,
                                             file: "c.yaml").queue
        #expect(socket?.socketPath == "/run/postgresql/.s.PGSQL.5432" && socket?.database == "pirec")
        #expect(socket?.host == HostProcess.hostName && socket?.user == HostProcess.userName, "libpq's defaults")
        #expect {
            _ = try Configuration.parse("""
                queue:
                  postgres: "postgresql://pirec:s3cret@db/pirec"
                  lease: 1
                  host: "two words"
                  poll: often
                \(pipeline)
                """, file: "c.yaml")
        } throws: { error in
            let text = "\(error)"
            let lines = text.split(separator: "\n").map(String.init)
            return !text.contains("s3cret") && lines.count == 4
                && lines[0].hasPrefix("c.yaml:2:13: queue.postgres: a password in the configuration is refused")
                && lines[0].contains("~/.pgpass")
                && Set(lines.dropFirst()) == [
                    "c.yaml:3:10: queue.lease: expected an integer in 2...86400, got 1",
                    "c.yaml:4:9: queue.host: expected 1 to 64 letters, digits, '-', '_' or '.', got \"two words\"",
                    "c.yaml:5:9: queue.poll: expected an integer in 1...3600, got \"often\"",
                ]
        }
        #expect { _ = try Configuration.parse("queue: { host: x }\n" + pipeline, file: "c.yaml") } throws: {
            "\($0)" == "c.yaml:1:8: queue.postgres: missing required key (the database's address)"
        }
        #expect { _ = try Configuration.parse("queue: { postgres: \"host=db password=x\" }\n" + pipeline, file: "c.yaml") } throws: {
            "\($0)".contains("a password in the configuration is refused")
        }
    }

    /// Suffixes that would let one file be either half, or name no file (seen while writing the fuzz target for
    /// pair names: with `e` and `_e`, "x_e.png" was the sketch of "x_" and never the colour of "x").
    @Test(arguments: [("e", "_e", "must differ and neither may end with the other"),
                      ("_s", "_s", "must differ"), ("", "_c", "must not be empty"),
                      ("_e", "a/c", "must not contain \"/\" or \".\""), ("_e.x", "_c", "must not contain")])
    func refusesPairSuffixesThatCannotNameEachHalf(edge: String, color: String, problem: String) {
        let text = "pipelines:\n  - name: s\n    inputs: pair\n    pair_suffixes: { edge: \"\(edge)\", color: \"\(color)\" }\n"
            + "    chain: [{ plugin: generator }]\n"
        #expect { _ = try Configuration.parse(text, file: "p.yaml") } throws: {
            "\($0)".hasPrefix("p.yaml:4:20: pipelines[0].pair_suffixes: ") && "\($0)".contains(problem)
        }
    }

    /// The configuration fuzzer's find: aliases that expand exponentially (here to 2 million
    /// nodes; an alias to its own ancestor did the same) took minutes; now a clear error.
    @Test func refusesAnAliasBomb() {
        var text = "a: &a [x, x]\n"
        for (name, previous) in zip(["b", "c", "d", "e", "f"], ["a", "b", "c", "d", "e"]) {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect { _ = try Configuration.parse(text, file: "bomb.yaml") } throws: {
            "\($0)".hasPrefix("bomb.yaml:") && "\($0)".contains("expands to more than 100000 nodes through its aliases")
        }
    }

    @Test func aSuffixAloneIsNoHalf() {
        let naming = PairNaming()
        #expect(naming.half("_e.png") == nil && naming.half("dir/_c.png") == nil)
        let half = naming.half("a_e.png")
        #expect(half?.stem == "a" && half?.slot == .edge && half?.partner == "a_c.png")
        // U+0602 joins the next letter into one Character; the suffix is still found.
        let joined = naming.half("a\u{602}_c.png")
        #expect(joined?.stem == "a\u{602}" && joined?.slot == .color && joined?.partner == "a\u{602}_e.png")
    }

    @Test func reportsSyntaxErrorsWithLineAndColumn() {
        #expect {
            _ = try Configuration.parse("pipelines:\n  - name: a\n   chain: [\n", file: "bad.yaml")
        } throws: { "\($0)".hasPrefix("bad.yaml:3:") && "\($0)".contains("YAML syntax error") }
    }

    @Test func reportsAMissingFile() {
        #expect { _ = try Configuration.load(path: "/nonexistent/pirec.yaml") } throws: {
            "\($0)" == "/nonexistent/pirec.yaml:1:1: cannot read configuration: no such file"
        }
    }

    @Test func checksPluginParametersAgainstThePlugin() throws {
        let text = """
            pipelines:
              - name: up
                chain:
                  - plugin: upscaler
                    with:
                      scale: big
                      filter: nearest
                      sharpen: 1
                  - plugin: missing-one
            """
        let config = try Configuration.parse(text, file: "etc/pirec/pirec.yaml")
        let catalog = PluginCatalog(directories: [TestPaths.build])
        let lines = catalog.validate(config).map(\.description)
        #expect(lines.count == 4)
        #expect(lines[0] == "etc/pirec/pirec.yaml:6:18: pipelines[0].chain[0].with.scale: expected 2 or 4, got \"big\"")
        #expect(lines[1] == "etc/pirec/pirec.yaml:7:19: pipelines[0].chain[0].with.filter: expected lanczos3 or bicubic, got \"nearest\"")
        #expect(lines[2].hasPrefix("etc/pirec/pirec.yaml:8:11: pipelines[0].chain[0].with.sharpen: unknown parameter for plugin upscaler"))
        #expect(lines[3].hasPrefix("etc/pirec/pirec.yaml:9:17: pipelines[0].chain[1].plugin: no plugin \"missing-one\""))
    }
}
