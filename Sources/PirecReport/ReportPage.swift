// ReportPage: a JobHistory as one self-contained HTML page (`pirec report`): a card per job,
// newest first, with its inputs, intermediates and result as pictures inlined as data URIs
// (the page can be mailed or opened anywhere), milliseconds per step, and for a failed job
// the step and the reason. No script or style is fetched from anywhere.
import Foundation

public struct ReportPage: Sendable {
    /// Pictures larger than this are linked (file://) instead of inlined, so a page of
    /// 4096-pixel results stays openable.
    public var inlineLimitBytes = 4 << 20
    public var title = "pirec: recent jobs"

    public init() {}

    public func html(_ history: JobHistory, source: String, generated: Date = Date()) -> String {
        let done = history.jobs.filter { $0.status == .done }.count
        let failed = history.jobs.count - done
        var summary = "\(history.jobs.count) job\(history.jobs.count == 1 ? "" : "s") (\(done) done, \(failed) failed)"
        if history.totalJobs > history.jobs.count { summary += " of \(history.totalJobs) in the log" }
        if history.skippedLines > 0 {
            summary += "; \(history.skippedLines) unreadable line\(history.skippedLines == 1 ? "" : "s") skipped"
        }
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>\(Self.style)</style>
            </head><body>
            <header><h1>\(escape(title))</h1>
            <p class="summary">\(escape(summary)), newest first. Job log: <code>\(escape(source))</code>;
            written \(escape(Self.timestamp(generated))).</p></header>
            <main>

            """
        if history.jobs.isEmpty { page += "<p class=\"empty\">No jobs in this selection.</p>\n" }
        for job in history.jobs { page += card(job) }
        page += "</main>\n<script>\(Self.script)</script>\n</body></html>\n"
        return page
    }

    func card(_ job: ReportedJob) -> String {
        var html = "<article class=\"job \(job.status.rawValue)\" data-status=\"\(job.status.rawValue)\">\n"
        html += "<h2><span class=\"status\">\(job.status.rawValue)</span> \(escape(job.name))</h2>\n"
        html += "<p class=\"meta\">pipeline <b>\(escape(job.pipeline))</b> &middot; \(escape(job.timeText))"
            + " &middot; \(escape(job.host)) &middot; \(Self.milliseconds(job.milliseconds))</p>\n"
        html += "<div class=\"pictures\">\n"
        for picture in job.inputs { html += figure(picture, kind: "input") }
        for picture in job.outputs { html += figure(picture, kind: picture.label == "result" ? "result" : "intermediate") }
        html += "</div>\n"
        if job.status == .failed {
            html += "<p class=\"error\">failed at <b>\(escape(job.failedStep ?? "before the chain"))</b>: "
                + "\(escape(job.error ?? "no reason recorded"))</p>\n"
        }
        if !job.steps.isEmpty {
            html += "<table class=\"steps\"><tr><th>step</th><th>ms</th></tr>\n"
            for step in job.steps {
                html += "<tr><td>\(escape(step.plugin))</td><td>\(Self.number(step.milliseconds))</td></tr>\n"
            }
            html += "</table>\n"
        }
        return html + "</article>\n"
    }

    func figure(_ picture: ReportedJob.Picture, kind: String) -> String {
        let caption = "<figcaption>\(escape(picture.label))</figcaption>"
        let title = escape(picture.path)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: picture.path),
              (attributes[.type] as? FileAttributeType) == .typeRegular
        else {
            return "<figure class=\"\(kind) gone\" title=\"\(title)\"><div class=\"missing\">gone</div>\(caption)</figure>\n"
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let source: String
        if size <= inlineLimitBytes, let data = FileManager.default.contents(atPath: picture.path),
           data.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            source = "data:image/png;base64," + data.base64EncodedString()
        } else if size <= inlineLimitBytes {
            // Not a PNG (a corrupt input in the failed folder): nothing to draw.
            return "<figure class=\"\(kind) gone\" title=\"\(title)\"><div class=\"missing\">not a picture</div>\(caption)</figure>\n"
        } else {
            source = URL(fileURLWithPath: picture.path).absoluteString
        }
        return "<figure class=\"\(kind)\" title=\"\(title)\"><img alt=\"\(escape(picture.label))\" src=\"\(source)\">\(caption)</figure>\n"
    }

    func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func milliseconds(_ ms: Double) -> String { ms >= 10_000 ? number(ms / 1000) + " s" : number(ms) + " ms" }

    static func number(_ v: Double) -> String { v >= 100 ? String(Int(v.rounded())) : String(format: "%.1f", v) }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static let style = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; background: #fafafa; color: #222; }
        h1 { font-size: 1.4em; margin: 0 0 .2em; } .summary { color: #555; margin: 0 0 1em; }
        main { display: grid; grid-template-columns: repeat(auto-fill, minmax(46em, 1fr)); gap: 1em; }
        article { background: #fff; border: 1px solid #ddd; border-left: 6px solid #2a8; border-radius: 4px; padding: .6em .9em; }
        article.failed { border-left-color: #c33; }
        h2 { font-size: 1.05em; margin: 0; word-break: break-all; }
        .status { font-size: .8em; text-transform: uppercase; padding: 0 .4em; border-radius: 3px; color: #fff; background: #2a8; }
        .failed .status { background: #c33; }
        .meta { color: #666; margin: .2em 0 .5em; font-size: .9em; }
        .pictures { display: flex; flex-wrap: wrap; gap: .5em; }
        figure { margin: 0; text-align: center; font-size: .8em; color: #555; }
        figure img, .missing { display: block; width: 128px; height: 128px; object-fit: contain;
          image-rendering: pixelated; background: repeating-conic-gradient(#eee 0 25%, #fff 0 50%) 0 0 / 16px 16px;
          border: 1px solid #ddd; }
        figure.result img { border-color: #2a8; }
        .missing { line-height: 128px; color: #999; }
        .error { color: #a22; background: #fdeeee; padding: .3em .5em; border-radius: 3px; white-space: pre-wrap; }
        table.steps { border-collapse: collapse; margin-top: .5em; font-size: .85em; }
        table.steps td, table.steps th { padding: 0 .8em 0 0; text-align: left; } table.steps td + td { text-align: right; }
        """

    /// Marks the body with how many pictures loaded and how many did not, once all have
    /// settled (the browser test reads it; a reader sees broken ones outlined in red).
    static let script = """
        window.addEventListener("load", function () {
          var images = document.querySelectorAll("img"), broken = 0;
          images.forEach(function (img) {
            if (!img.complete || img.naturalWidth === 0) { broken += 1; img.style.outline = "2px solid red"; }
          });
          document.body.setAttribute("data-images", String(images.length));
          document.body.setAttribute("data-broken-images", String(broken));
        });
        """
}
