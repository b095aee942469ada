// `pirec report` on what a real pirecd did: the page is opened in a real browser (Debian's
// headless Chromium), which must load it with every picture drawn and no script error, one
// card per job; the selection flags and the refusals a user meets.
import Foundation
import PirecCore
import PirecTestKit
import Testing

let reportConfig = """
    job_log: ROOT/jobs.jsonl
    model_dir: REPO/models
    workers: 2
    pipelines:
      - name: photo
        watch: ROOT/inbox
        output: ROOT/outbox
        failed: ROOT/failed
        archive: ROOT/archive
        keep_intermediates: true
        chain:
          - plugin: resize
            with: { fit: 64 }
          - plugin: edge-extractor
            with: { sigma: 2.5 }
          - plugin: color-quantizer
            with: { median: 25, colors: 6 }
          - plugin: generator
            with: { model: emoji/generator.safetensors }
          - plugin: refiner
            with: { model: emoji/refiner.safetensors }

    """

/// What headless Chromium made of a page: its DOM after the load event, and its log.
struct BrowserView {
    var dom: String
    var log: String

    static let chromium = "/usr/bin/chromium"

    static func open(_ page: String) throws -> BrowserView {
        let run = try TestProcess.run(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=5000", "--dump-dom", URL(fileURLWithPath: page).absoluteString,
        ])
        #expect(run.status == 0, "chromium: \(run.stderr.suffix(2000))")
        return BrowserView(dom: run.stdout, log: run.stderr)
    }

    func count(_ text: String) -> Int { dom.components(separatedBy: text).count - 1 }

    /// The value of `name="..."` on the body, which the page's script sets after loading.
    func bodyAttribute(_ name: String) -> String? {
        guard let start = dom.range(of: name + "=\"") else { return nil }
        return String(dom[start.upperBound...].prefix { $0 != "\"" })
    }

    /// Console messages the page's scripts raised (uncaught errors, console.error).
    var scriptErrors: [String] {
        log.split(separator: "\n").map(String.init).filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
    }
}

@Suite(.serialized) struct ReportTests {
    @Test func theReportShowsEveryJobWithItsPicturesInARealBrowser() throws {
        let d = try DaemonHarness(config: reportConfig)
        #expect(try d.startAndWait(), "\(d.log)")
        for name in ["1f30a", "1f3a9", "1f405"] {
            let png = try FileIO.readAll(path: TestPaths.repository + "/examples/emoji/\(name).png", maxBytes: 1 << 24)
            DaemonHarness.put(png, d.root + "/inbox/\(name).png")
        }
        DaemonHarness.put(Array("not a png at all".utf8), d.root + "/inbox/corrupt.png")
        DaemonHarness.put(try DaemonHarness.png(width: 20, height: 20), d.root + "/inbox/tiny <b>&.png")
        #expect(d.waitUntil(timeout: 60) { d.jobLog().count == 5 }, "\(d.files("outbox"))\n\(d.log)")
        #expect(d.stop() == 0)

        let page = d.root + "/report.html"
        let run = try TestProcess.pirec("report", "--config", d.configPath, "-o", page)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("5 jobs (1 failed)"), "\(run.stdout)")
        let view = try BrowserView.open(page)
        #expect(view.count("<article class=\"job done\"") == 4, "\(view.dom.prefix(3000))")
        #expect(view.count("<article class=\"job failed\"") == 1)
        // Each done job: its input, edge, colour domain, the generator's picture and the
        // result; the corrupt input is shown as "not a picture". All drawn by the browser.
        #expect(view.bodyAttribute("data-images") == "20", "\(view.log.suffix(2000))")
        #expect(view.bodyAttribute("data-broken-images") == "0")
        #expect(view.scriptErrors.isEmpty, "\(view.scriptErrors)")
        #expect(view.dom.contains("not a PNG file (bad signature)"), "the failure's reason is on its card")
        #expect(view.dom.contains("tiny &lt;b&gt;&amp;"), "names are escaped")
        // Newest first: the job log's last line is the first card.
        let lastName = ((d.jobLog().last?["inputs"] as? [String: String])?["source"] as NSString?)?.lastPathComponent ?? "?"
        let firstCard = view.dom.range(of: "<h2>").map { String(view.dom[$0.upperBound...].prefix(200)) } ?? ""
        let shown = lastName.hasSuffix(".png") && lastName != "corrupt.png" ? String(lastName.dropLast(4)) : lastName
        let escaped = shown.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        #expect(firstCard.contains(escaped), "\(firstCard) vs \(lastName)")
        // Milliseconds per step from the sidecars: every step of the chain on a done card.
        for plugin in ["resize", "edge-extractor", "color-quantizer", "generator", "refiner"] {
            #expect(view.dom.contains("<td>\(plugin)</td>"), "\(plugin)")
        }

        // --last keeps the newest; a torn last line (a crash mid-write) is skipped and said.
        let log = FileHandle(forWritingAtPath: d.root + "/jobs.jsonl")!
        log.seekToEndOfFile()
        log.write(Data("{\"time\": \"2026-12-".utf8))
        try log.close()
        let two = try TestProcess.pirec("report", "--config", d.configPath, "--last", "2", "--since", "1h", "-o", page)
        #expect(two.status == 0 && two.stdout.contains("2 jobs") && two.stdout.contains("1 unreadable"), "\(two.stdout) \(two.stderr)")
        let small = try BrowserView.open(page)
        #expect(small.count("<article class=\"job") == 2)
        #expect(small.scriptErrors.isEmpty, "\(small.scriptErrors)")
    }

    @Test func badRequestsAreRefusedWithTheReason() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let since = try TestProcess.pirec("report", "--job-log", root + "/jobs.jsonl", "--since", "yesterday")
        #expect(since.status != 0 && since.stderr.contains("--since"), "\(since.stderr)")
        let missing = try TestProcess.pirec("report", "--job-log", root + "/jobs.jsonl", "-o", root + "/r.html")
        #expect(missing.status == 1 && missing.stderr.contains(root + "/jobs.jsonl: cannot open the job log: no such file"),
                "\(missing.stderr)")
        try TestPaths.write("pipelines:\n  - name: a\n    chain:\n      - plugin: resize\n", to: root + "/pirec.yaml")
        let noLog = try TestProcess.pirec("report", "--config", root + "/pirec.yaml", "-o", root + "/r.html")
        #expect(noLog.status == 1 && noLog.stderr.contains("no `job_log:`"), "\(noLog.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/r.html"), "no page written on a refusal")
    }
}
