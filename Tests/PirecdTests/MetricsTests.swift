// pirecd's `/metrics` scraped while it works and parsed by the Prometheus project's own
// Python parser (prometheus_client.parser): the counters must agree with the job log, the
// histograms must have counted every done job's steps, and the process and build series
// must be there; over TCP and over a unix socket.
import Foundation
import PirecCore
import PirecTestKit
import Testing

/// Scrapes ADDRESS (HOST:PORT or a socket path) and prints each sample as a JSON line:
/// [name, labels, value]. Exit 2 with the reason when the text does not parse.
let scrapeScript = """
    import http.client, json, socket, sys
    from prometheus_client.parser import text_string_to_metric_families
    address = sys.argv[1]
    class UnixConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(address)
    if address.startswith("/"):
        conn = UnixConnection("localhost")
    else:
        host, port = address.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/metrics")
    response = conn.getresponse()
    body = response.read().decode()
    if response.status != 200 or not response.getheader("Content-Type", "").startswith("text/plain; version=0.0.4"):
        sys.exit(f"status {response.status}, type {response.getheader('Content-Type')}")
    try:
        for family in text_string_to_metric_families(body):
            for s in family.samples:
                print(json.dumps([s.name, s.labels, s.value]))
    except Exception as e:
        print(f"unparsable: {e}", file=sys.stderr)
        sys.exit(2)
    """

struct Sample {
    var name: String
    var labels: [String: String]
    var value: Double
}

func scrape(_ address: String) throws -> (samples: [Sample], error: String) {
    let run = try TestProcess.run("/usr/bin/env", ["python3", "-c", scrapeScript, address])
    let samples = run.stdout.split(separator: "\n").compactMap { line -> Sample? in
        guard let a = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any], a.count == 3,
              let name = a[0] as? String, let labels = a[1] as? [String: String], let value = a[2] as? Double
        else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }
    return (samples, run.status == 0 ? "" : "scrape failed (\(run.status)): \(run.stderr)")
}

extension [Sample] {
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }
}

@Suite(.serialized) struct MetricsTests {
    static func config(_ metrics: String) -> String {
        """
        metrics: \(metrics)
        job_log: ROOT/jobs.jsonl
        workers: 2
        pipelines:
          - name: up
            watch: ROOT/inbox
            output: ROOT/outbox
            failed: ROOT/failed
            chain:
              - plugin: upscaler
                with: { scale: 2 }
              - plugin: resize
                with: { fit: 16 }
          - name: pairs
            watch: ROOT/pairs
            output: ROOT/pairs-out
            failed: ROOT/pairs-failed
            inputs: pair
            chain:
              - plugin: upscaler

        """
    }

    /// A port nobody listens on now.
    static func freePort() -> Int { 20000 + Int(getpid() % 20000) }

    @Test func theCountersAgreeWithTheJobLogAndEveryStepIsTimed() throws {
        let address = "127.0.0.1:\(Self.freePort())"
        let d = try DaemonHarness(config: Self.config(address))
        #expect(try d.startAndWait(), "\(d.log)")
        #expect(d.log.contains("serving metrics address=\(address)"), "\(d.log)")
        let png = try DaemonHarness.png()
        for i in 0..<5 { DaemonHarness.put(png, d.root + "/inbox/p\(i).png") }
        DaemonHarness.put(Array("not a png".utf8), d.root + "/inbox/bad.png")
        DaemonHarness.put(png, d.root + "/pairs/nosuffix.png")
        #expect(d.waitUntil(timeout: 20) { d.jobLog().count == 7 }, "\(d.log)")
        // The gauges are set on the loop's next turn (at most a second).
        var scraped: (samples: [Sample], error: String) = ([], "")
        #expect(d.waitUntil(timeout: 5) {
            scraped = (try? scrape(address)) ?? ([], "no scrape")
            return scraped.samples.value("pirec_jobs_queued", ["pipeline": "up"]) != nil
        }, "\(scraped.error)")
        let (samples, error) = scraped
        #expect(error.isEmpty, "\(error)")
        let log = d.jobLog()
        for pipeline in ["up", "pairs"] {
            for status in ["done", "failed"] {
                let expected = log.filter { $0["pipeline"] as? String == pipeline && $0["status"] as? String == status }.count
                let refused = status == "failed" ? samples.value("pirec_jobs_total", ["pipeline": pipeline, "status": "refused"]) ?? 0 : 0
                let counted = (samples.value("pirec_jobs_total", ["pipeline": pipeline, "status": status]) ?? 0) + refused
                #expect(counted == Double(expected), "\(pipeline) \(status): \(counted) against the job log's \(expected)")
            }
        }
        #expect(samples.value("pirec_jobs_total", ["pipeline": "up", "status": "done"]) == 5)
        #expect(samples.value("pirec_job_failures_total", ["pipeline": "up", "reason": "input"]) == 1)
        #expect(samples.value("pirec_jobs_total", ["pipeline": "pairs", "status": "refused"]) == 1)
        #expect(samples.value("pirec_job_failures_total", ["pipeline": "pairs", "reason": "refused"]) == 1)
        for (step, plugin) in [("1", "upscaler"), ("2", "resize")] {
            #expect(samples.value("pirec_step_duration_seconds_count", ["pipeline": "up", "step": step, "plugin": plugin]) == 5)
        }
        #expect(samples.value("pirec_job_latency_seconds_count", ["pipeline": "up"]) == 5)
        #expect(samples.value("pirec_jobs_queued", ["pipeline": "up"]) == 0)
        #expect(samples.value("pirec_jobs_running", ["pipeline": "up"]) == 0)
        #expect((samples.value("pirec_process_resident_memory_bytes") ?? 0) > 1e6)
        #expect((samples.value("pirec_process_open_fds") ?? 0) > 3)
        #expect(samples.value("pirec_build_info", ["version": PirecVersion.current, "abi": PirecVersion.abi]) == 1)
        // A reload is counted; a reload that moves the metrics elsewhere is refused.
        #expect(try TestProcess.pirec("reload", "--control", d.root + "/run").status == 0)
        try TestPaths.write(Self.config("127.0.0.1:1").replacingOccurrences(of: "ROOT", with: d.root), to: d.configPath)
        #expect(try TestProcess.pirec("reload", "--control", d.root + "/run").status == 1)
        let after = try scrape(address).samples
        #expect(after.value("pirec_reloads_total", ["result": "ok"]) == 1)
        #expect(after.value("pirec_reloads_total", ["result": "failed"]) == 1)
        #expect(d.stop() == 0)
    }

    @Test func overAUnixSocketAndRefusedWhenTheAddressIsTaken() throws {
        let root = TestPaths.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let d = try DaemonHarness(config: Self.config("ROOT/metrics.sock"))
        #expect(try d.startAndWait(), "\(d.log)")
        DaemonHarness.put(try DaemonHarness.png(), d.root + "/inbox/one.png")
        #expect(d.waitUntil(timeout: 10) { d.jobLog().count == 1 })
        let (samples, error) = try scrape(d.root + "/metrics.sock")
        #expect(error.isEmpty && samples.value("pirec_jobs_total", ["pipeline": "up", "status": "done"]) == 1, "\(error)")
        // A second daemon on the same TCP port cannot start, and says why.
        let address = "127.0.0.1:\(Self.freePort() + 1)"
        let first = try DaemonHarness(config: Self.config(address))
        #expect(try first.startAndWait(), "\(first.log)")
        let second = try DaemonHarness(config: Self.config(address))
        #expect(try !second.startAndWait(timeout: 10))
        #expect(second.log.contains("<3>cannot serve metrics address=\(address)"), "\(second.log)")
        #expect(first.stop() == 0 && d.stop() == 0)
        // A bad address is a configuration error at its place.
        try TestPaths.write("metrics: localhost\npipelines:\n  - name: a\n    chain:\n      - plugin: resize\n", to: root + "/bad.yaml")
        let check = try TestProcess.pirec("check", "--config", root + "/bad.yaml")
        #expect(check.status == 1 && check.stderr.contains("bad.yaml:1:10: metrics: expected HOST:PORT"), "\(check.stderr)")
    }
}
