// `pirec bench`: times one plugin's `process` on one image, for the benchmark scripts that
// compare our plugins with reference libraries in the same run (bench/*.py).
import ArgumentParser
import Foundation
import Logging
import PirecCore

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time a plugin on one image; prints JSON with the median milliseconds.")

    @Option(name: .long, help: "Plugin id (or a path to its .so).") var plugin: String
    @Option(name: .long, help: "The step's parameters as JSON.") var with: String = "{}"
    @Option(name: .long, help: "Plugin folder (default: beside the executable).") var pluginDir: String?
    @Option(name: .customLong("repeat"), help: "Timed runs after one warm-up run.") var repetitions: Int = 10
    @Option(name: .long, help: "Input PNG: goes into `source` and `image` (and `edge` and `color`).") var input: String
    @Option(name: .long, help: "Write the last run's `image` here (PNG), to compare settings' outputs.") var output: String?

    func run() throws {
        let catalog = PluginCatalog(directories: pluginDir.map { [$0] } ?? Console.defaultPluginDirectories)
        do {
            let library = try catalog.library(for: plugin)
            let instance = try PluginInstance(library: library, configJSON: with, logger: Console.logger(verbose: false))
            let image = try PNGCodec().read(path: input)
            var times: [Double] = []
            var last = Frame()
            for run in 0...max(repetitions, 1) {
                let frame = Frame()
                last = frame
                frame[.source] = image
                frame[.image] = image
                frame[.edge] = try image.converted(toChannels: 1)
                frame[.color] = try image.converted(toChannels: 3)
                let start = Date()
                try instance.process(frame)
                if run > 0 { times.append(Date().timeIntervalSince(start) * 1000) }
            }
            if let output, let result = last[.image] { try PNGCodec().write(result, to: output) }
            times.sort()
            let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
            // VmHWM, not getrusage: ru_maxrss survives exec, so a child of a big process
            // (the Python benchmark) would report its parent's peak.
            let status = (try? FileIO.readAll(path: "/proc/self/status", maxBytes: 1 << 16)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let peakKB = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
                .flatMap { Double($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
            let core = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? ""
            print(#"{"plugin": "\#(library.id)", "width": \#(image.width), "height": \#(image.height), "runs": \#(times.count), "median_ms": \#(median), "min_ms": \#(times[0]), "peak_rss_mb": \#(peakKB / 1024), "openblas_coretype": "\#(core)"}"#)
        } catch {
            throw Console.fail("\(error)")
        }
    }
}
