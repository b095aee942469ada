// The one checker of `with:` values: what it accepts and how it says what it refuses, the
// same for YAML (scalars with their quoting) and for JSON (what a plugin receives), and the
// complete values it hands a plugin.
import PirecParameters
import Testing

@Suite struct ParameterTableTests {
    enum Filter: String, CaseIterable { case lanczos3, bicubic }

    let table = ParameterTable([
        ParameterSpec("scale", .int, range: 2...4, choices: ["2", "4"], default: "2", "factor"),
        .choice("filter", Filter.self, default: .lanczos3, "kernel"),
        ParameterSpec("sigma", .float, range: 0...20, default: "2.5", "smoothing"),
        ParameterSpec("thin", .bool, default: "false", "thin lines"),
        ParameterSpec("model", .path, default: "", "weights"),
    ])

    func problems(_ entries: [(key: String, value: RawParameter)]) -> [String] {
        table.check(entries, owner: "up").problems.map { "\($0.key) \($0.subject): \($0.message)" }
    }

    @Test func typedValuesFromYAMLScalars() {
        let (values, problems) = table.check([("scale", .scalar("4", plain: true)), ("filter", .scalar("bicubic", plain: false)),
                                              ("sigma", .scalar("1", plain: true)), ("thin", .scalar("yes", plain: true))],
                                             owner: "up")
        #expect(problems.isEmpty)
        #expect(values == ["scale": .int(4), "filter": .string("bicubic"), "sigma": .float(1), "thin": .bool(true)])
    }

    @Test func everyRefusalSaysWhatWasExpectedAndWhatCame() {
        #expect(problems([("scale", .scalar("3", plain: true))]) == ["scale value: expected 2 or 4, got 3"])
        #expect(problems([("scale", .scalar("2", plain: false))]) == ["scale value: expected 2 or 4, got \"2\""])
        #expect(problems([("filter", .scalar("box", plain: true))]) == ["filter value: expected lanczos3 or bicubic, got \"box\""])
        #expect(problems([("sigma", .scalar("21", plain: true))]) == ["sigma value: expected a number in 0...20, got 21"])
        #expect(problems([("sigma", .list)]) == ["sigma value: expected a number in 0...20, got a list"])
        #expect(problems([("thin", .scalar("maybe", plain: true))]) == ["thin value: expected true or false, got \"maybe\""])
        #expect(problems([("model", .scalar("~", plain: true))]) == ["model value: expected a string, got null"])
        #expect(problems([("colour", .scalar("red", plain: true))])
            == ["colour key: unknown parameter for plugin up (known: scale, filter, sigma, thin, model)"])
        #expect(problems([("thin", .scalar("no", plain: true)), ("thin", .scalar("no", plain: true))]) == ["thin key: duplicate key"])
    }

    @Test func completeValuesAsThePluginGetsThem() throws {
        let all = table.complete(["sigma": .float(1)])
        let json = ParameterTable.json(all)
        #expect(json == #"{"filter":"lanczos3","model":"","scale":2,"sigma":1.0,"thin":false}"#)
        // The plugin kit reads that JSON back through the same checks: nothing changes.
        let entries = try #require(ParameterTable.entries(json: json))
        let (again, problems) = table.check(entries, owner: "up")
        #expect(problems.isEmpty && again == all)
        #expect(ParameterTable.entries(json: "[1, 2]") == nil)
    }

    @Test func jsonTextEscapesWhatJSONMust() {
        #expect(JSONText.string("a \"b\"\\\n\t\u{1}é") == #""a \"b\"\\\n\t\u0001é""#)
        #expect(JSONText.object(["b": "1", "a": "\"x\""], spaced: true) == #"{"a": "x", "b": 1}"#)
    }
}
