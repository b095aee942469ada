// Every committed fuzz input replayed through its target, as libFuzzer runs it: the seed
// corpora (Tests/Fuzz/corpus/TARGET) and the inputs of crashes found and fixed
// (Tests/Fuzz/regressions/TARGET). A broken property traps the test process.
import Foundation
import PirecCore
import PirecFuzzTargets
import PirecTestKit
import Testing

@Suite struct FuzzCorpusTests {
    static let fuzz = TestPaths.repository + "/Tests/Fuzz"
    let context = FuzzContext(plugins: [TestPaths.build])

    static func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { folder + "/" + $0 }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everySeedAndRegressionRunsClean(target: FuzzTarget) throws {
        let seeds = FuzzCorpusTests.files("\(FuzzCorpusTests.fuzz)/corpus/\(target.rawValue)")
        #expect(seeds.count >= 3, "the \(target.rawValue) corpus is a start, not empty")
        #expect(context.catalog.libraries["generator"] != nil, "the fixed catalog holds the shipped plugins")
        for path in seeds + FuzzCorpusTests.files("\(FuzzCorpusTests.fuzz)/regressions/\(target.rawValue)") {
            let bytes = try #require(FileManager.default.contents(atPath: path), "\(path)")
            target.run([UInt8](bytes), in: context)
        }
    }
}
