// DaemonMetrics: pirecd's Prometheus series (swift-prometheus's registry), fed from the
// places the daemon already learns each fact: JobCounters.count (every job's end, with its
// record), the loop's status turn (queue depth, jobs running), reloads, and the scrape
// itself (memory and descriptors). The names, help texts and units are declared once, here
// (computed: swift-prometheus's descriptor is not Sendable, so it cannot be a stored static).
import Glibc
import PirecCore
import Prometheus
import Synchronization

final class DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    static var jobs: MetricNameDescriptor { MetricNameDescriptor(namespace: "pirec", metricName: "jobs", unitName: "total",
                                           helpText: "Jobs ended, by pipeline and status (done, failed, refused)") }
    static var failures: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "pirec", metricName: "job_failures", unitName: "total",
        helpText: "Failed or refused jobs by reason class: input (unreadable), step (a plugin failed), timeout, crashed, refused") }
    static var queued: MetricNameDescriptor { MetricNameDescriptor(namespace: "pirec", metricName: "jobs_queued", unitName: "",
                                             helpText: "Jobs waiting to start, by pipeline") }
    static var running: MetricNameDescriptor { MetricNameDescriptor(namespace: "pirec", metricName: "jobs_running", unitName: "",
                                              helpText: "Jobs running now, by pipeline") }
    static var stepDuration: MetricNameDescriptor { MetricNameDescriptor(namespace: "pirec", metricName: "step_duration", unitName: "seconds",
                                                   helpText: "Time each step of a done job took") }
    static var latency: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "pirec", metricName: "job_latency", unitName: "seconds",
        helpText: "From the input's last write (its drop) to the job's end, for done jobs") }
    static var reloads: MetricNameDescriptor { MetricNameDescriptor(namespace: "pirec", metricName: "reloads", unitName: "total",
                                              helpText: "Configuration reloads by result (ok, failed)") }
    static var resident: MetricNameDescriptor { MetricNameDescriptor(namespace: "pirec", metricName: "process_resident_memory", unitName: "bytes",
                                               helpText: "pirecd's resident memory") }
    static var descriptors: MetricNameDescriptor { MetricNameDescriptor(namespace: "pirec", metricName: "process_open_fds", unitName: "",
                                                  helpText: "pirecd's open file descriptors") }
    static var build: MetricNameDescriptor { MetricNameDescriptor(namespace: "pirec", metricName: "build", unitName: "info",
                                            helpText: "pirec's version and plugin ABI (always 1)") }
    static var model: MetricNameDescriptor { MetricNameDescriptor(namespace: "pirec", metricName: "model", unitName: "info",
                                            helpText: "Model files loaded, with their SHA-256 (always 1)") }

    static let stepBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    static let latencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]

    init() {
        registry.makeGauge(descriptor: Self.build, labels: [("version", PirecVersion.current), ("abi", PirecVersion.abi)])
            .set(to: 1)
    }

    /// A job's end, from the record its job-log line is written from.
    func count(_ record: JobRecord) {
        let pipeline = ("pipeline", record.pipeline)
        let status = record.refused ? "refused" : record.error == nil ? "done" : "failed"
        registry.makeCounter(descriptor: Self.jobs, labels: [pipeline, ("status", status)]).increment()
        guard let error = record.error else {
            for (index, timing) in record.timings.enumerated() {
                registry.makeValueHistogram(descriptor: Self.stepDuration,
                                            labels: [pipeline, ("step", String(index + 1)), ("plugin", timing.plugin)],
                                            buckets: Self.stepBuckets).record(timing.milliseconds / 1000)
            }
            if let dropped = record.dropped {
                registry.makeValueHistogram(descriptor: Self.latency, labels: [pipeline], buckets: Self.latencyBuckets)
                    .record(max(0, record.finished - dropped))
            }
            return
        }
        let reason = record.refused ? "refused"
            : error.message.hasPrefix("crashed the daemon") ? "crashed"
            : error.message.contains("timed out") ? "timeout"
            : error.step == nil ? "input" : "step"
        registry.makeCounter(descriptor: Self.failures, labels: [pipeline, ("reason", reason)]).increment()
    }

    /// Queue depth and jobs running per pipeline, from the loop's status turn.
    func gauges(queued: [String: Int], running: [String: Int]) {
        for (name, count) in queued {
            registry.makeGauge(descriptor: Self.queued, labels: [("pipeline", name)]).set(to: Double(count))
        }
        for (name, count) in running {
            registry.makeGauge(descriptor: Self.running, labels: [("pipeline", name)]).set(to: Double(count))
        }
    }

    func reloaded(ok: Bool) {
        registry.makeCounter(descriptor: Self.reloads, labels: [("result", ok ? "ok" : "failed")]).increment()
    }

    /// The model files in force (a reload replaces the set).
    func models(_ files: [DaemonStatus.Model]) {
        modelGauges.withLock { gauges in
            for gauge in gauges { registry.unregisterGauge(gauge) }
            gauges = files.map { file in
                let gauge = registry.makeGauge(descriptor: Self.model, labels: [("file", file.file), ("sha256", file.sha256)])
                gauge.set(to: 1)
                return gauge
            }
        }
    }

    private let modelGauges = Mutex<[Gauge]>([])

    /// The exposition text, with memory and descriptors read now.
    func scrape() -> [UInt8] {
        registry.makeGauge(descriptor: Self.resident, labels: []).set(to: Double(HostProcess.residentBytes()))
        registry.makeGauge(descriptor: Self.descriptors, labels: []).set(to: Double(HostProcess.openDescriptors()))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
