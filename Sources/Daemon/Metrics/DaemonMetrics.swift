import Foundation
import HTTPServer
import Synchronization
import Training

/// Everything `GET /metrics` exposes, gathered the way each source allows without slowing it down:
///
/// - requests and feed batches: lock-free counters bumped by the request path (``HTTPMetrics``,
///   ``IngestMetrics``);
/// - inference runs: a ``DaemonEvents`` subscriber records each tick's ``RunTimings`` into per-phase
///   histograms and keeps the tick's per-server picture (top-N by risk) for the next scrape — nothing
///   polls the tick;
/// - feed, model, training and process state: read when scraped (cheap reads of state the daemon keeps).
public final class DaemonMetrics: Sendable {
    /// Inference phases of ``RunTimings``, in pipeline order.
    public static let phases = ["feed", "features", "forward", "risk", "encode", "total"]

    public let http: HTTPMetrics
    public let ingest = IngestMetrics()
    /// Per phase (``phases``) wall time of each published inference run.
    let phaseDurations: [DurationHistogram] = phases.map { _ in DurationHistogram(bounds: DurationHistogram.phaseBounds) }
    let ticks = MetricCounter()
    let modelLoads = MetricCounter()
    /// How many servers get per-server series (the riskiest first).
    public let topServers: Int
    private let latest = Mutex<TickPicture?>(nil)
    private let subscription = Mutex<DaemonEventSubscription?>(nil)

    /// What one tick leaves for scrapes (built on the inference queue, once per tick).
    struct TickPicture: Sendable {
        var tick: Int64
        var dataEpoch: Int64
        var servers: Int
        var alertsByLevel: [String: Int]
        var serversByLevel: [String: Int]
        var top: [ServerPicture]
    }

    struct ServerPicture: Sendable {
        var name: String
        var score: Double
        var level: String
        var prob30m: Double
        var prob8h: Double
        /// Per forecast key (`cpu_pct` …): the current value and the p50 / p90 peak over the horizon.
        var forecasts: [(key: String, current: Double?, p50Peak: Double, p90Peak: Double)]
    }

    public init(topServers: Int, routes: @escaping @Sendable () -> [RouteDescription]) {
        self.topServers = max(0, topServers)
        http = HTTPMetrics(routes: routes)
    }

    /// Subscribes to ticks and model loads (idempotent per instance; cancel with ``stop()``).
    public func start(events: DaemonEvents) {
        let handle = events.subscribe { [weak self] event in
            switch event {
            case .tick(let snapshot): self?.record(snapshot)
            case .modelLoaded: self?.modelLoads.increment()
            default: break
            }
        }
        subscription.withLock { $0?.cancel(); $0 = handle }
    }

    public func stop() { subscription.withLock { $0?.cancel(); $0 = nil } }

    /// Runs on the inference queue right after a publish: histograms plus a small picture of the top-N.
    func record(_ snapshot: Snapshot) {
        ticks.increment()
        let t = snapshot.timings
        for (histogram, ms) in zip(phaseDurations, [t.feed, t.features, t.forward, t.risk, t.encode, t.total]) {
            histogram.observe(seconds: ms / 1000)
        }
        var alertsByLevel: [String: Int] = [:]
        for alert in snapshot.alerts { alertsByLevel[alert.level, default: 0] += 1 }
        let s = snapshot.summary
        let serversByLevel = ["critical": s.critical, "warning": s.warning, "degraded": s.degraded, "healthy": s.healthy]
        // Top-N by risk (score, then name): one sort of the fleet's indices per tick, off the request path.
        let ranked = snapshot.servers.indices.sorted {
            let a = snapshot.servers[$0].risk.score, b = snapshot.servers[$1].risk.score
            return a != b ? a > b : snapshot.servers[$0].serverName < snapshot.servers[$1].serverName
        }.prefix(topServers)
        let top = ranked.map { Self.picture(snapshot.servers[$0]) }
        let picture = TickPicture(tick: snapshot.tick, dataEpoch: snapshot.dataEpoch, servers: snapshot.servers.count,
                                  alertsByLevel: alertsByLevel, serversByLevel: serversByLevel, top: top)
        latest.withLock { $0 = picture }
    }

    static func picture(_ p: ServerPrediction) -> ServerPicture {
        func nearest(_ level: Float) -> Int? {
            p.quantiles.indices.min { abs(p.quantiles[$0] - level) < abs(p.quantiles[$1] - level) }
        }
        let current: [String: Double] = ["cpu_pct": p.currentCPU, "mem_pct": p.currentMemory, "iowait_pct": p.currentIowait,
                                         "swap_pct": p.currentSwap, "disk_pct": p.currentDisk, "load_average": p.currentLoad]
        var forecasts: [(String, Double?, Double, Double)] = []
        if let q50 = nearest(0.5), let q90 = nearest(0.9) {
            for (key, values) in zip(p.forecastKeys, p.forecast) where values.count > max(q50, q90) {
                forecasts.append((key, current[key], Double(values[q50].max() ?? .nan), Double(values[q90].max() ?? .nan)))
            }
        }
        return ServerPicture(name: p.serverName, score: p.risk.score, level: p.risk.level.rawValue, prob30m: p.risk.prob30m,
                             prob8h: p.risk.prob8h, forecasts: forecasts)
    }

    /// The exposition text: `daemon` supplies the state read at scrape time.
    public func render(_ state: ScrapeState) -> String {
        var out = PrometheusText()
        out.family("argus_build_info", "gauge", "Build of the running argusd (always 1).")
        out.sample("argus_build_info", [("version", ArgusBuild.version), ("swift", ArgusBuild.swiftVersion)], 1)
        out.family("argus_up_seconds", "gauge", "Seconds since the daemon started.")
        out.sample("argus_up_seconds", [], state.uptimeSeconds)

        http.write(to: &out)
        out.family("argus_http_rejections_total", "counter",
                   "Connections the server refused or ended for a client's misbehaviour, by kind (logged once per interval).")
        for (kind, count) in state.httpRejections {
            out.sampleCount("argus_http_rejections_total", [("kind", kind.rawValue)], count)
        }
        ingest.write(to: &out)

        out.family("argus_servers_tracked", "gauge", "Servers with a rolling window in memory.")
        out.sample("argus_servers_tracked", [], Double(state.feed.serversTracked))
        out.family("argus_feed_tick", "gauge", "The feed's tick (steps closed so far).")
        out.sample("argus_feed_tick", [], Double(state.feed.tick))
        out.family("argus_feed_stored_records", "gauge", "Records stored since the database was created (survives restarts).")
        out.sample("argus_feed_stored_records", [], Double(state.feed.totalRecords))
        out.family("argus_feed_warmup_complete", "gauge", "1 once every live server has enough steps to be forecast.")
        out.sample("argus_feed_warmup_complete", [], state.feed.warmup.complete ? 1 : 0)

        out.family("argus_model_loaded", "gauge", "1 while a verified model serves (mode tft), 0 without a model.")
        out.sample("argus_model_loaded", state.modelName.map { [("model", $0)] } ?? [], state.modelName == nil ? 0 : 1)
        out.family("argus_model_loads_total", "counter", "Models loaded into service since start (start-up, reload, training).")
        out.sampleCount("argus_model_loads_total", [], modelLoads.count)

        out.family("argus_inference_runs_total", "counter", "Inference runs published (ticks of the snapshot).")
        out.sampleCount("argus_inference_runs_total", [], ticks.count)
        out.family("argus_inference_phase_duration_seconds", "histogram",
                   "Wall time of each inference run by phase (feed copy, features, TFT forward, risk, JSON encode, total).")
        for (phase, histogram) in zip(Self.phases, phaseDurations) {
            out.histogram("argus_inference_phase_duration_seconds", [("phase", phase)], histogram)
        }
        writeTick(to: &out)
        writeForecastQuality(state, to: &out)
        writeTraining(state.training, to: &out)
        writeProcess(state.process, startedAt: state.startedAt, to: &out)
        return out.text
    }

    private func writeTick(to out: inout PrometheusText) {
        let picture = latest.withLock { $0 }
        out.family("argus_snapshot_tick", "gauge", "Tick of the latest published snapshot.")
        out.family("argus_servers_predicted", "gauge", "Servers in the latest snapshot.")
        out.family("argus_servers_by_level", "gauge", "Servers per risk level in the latest snapshot.")
        out.family("argus_alerts_active", "gauge", "Active alerts per level in the latest snapshot.")
        guard let picture else { return }
        out.sample("argus_snapshot_tick", [], Double(picture.tick))
        out.sample("argus_servers_predicted", [], Double(picture.servers))
        for level in ["critical", "warning", "degraded", "healthy"] {
            out.sample("argus_servers_by_level", [("level", level)], Double(picture.serversByLevel[level] ?? 0))
        }
        for level in ["critical", "warning", "degraded"] {
            out.sample("argus_alerts_active", [("level", level)], Double(picture.alertsByLevel[level] ?? 0))
        }
        out.family("argus_server_risk_score", "gauge",
                   "Risk score 0-100 of the \(topServers) riskiest servers (--metrics-top-servers bounds the series).")
        for s in picture.top { out.sample("argus_server_risk_score", [("server", s.name)], s.score) }
        out.family("argus_server_incident_probability", "gauge", "Probability of a threshold crossing within 30 min / 8 h (top-N servers).")
        for s in picture.top {
            out.sample("argus_server_incident_probability", [("server", s.name), ("window", "30m")], s.prob30m)
            out.sample("argus_server_incident_probability", [("server", s.name), ("window", "8h")], s.prob8h)
        }
        out.family("argus_server_metric_current", "gauge", "Latest observed value per forecast target (top-N servers).")
        for s in picture.top {
            for f in s.forecasts { if let c = f.current { out.sample("argus_server_metric_current", [("server", s.name), ("target", f.key)], c) } }
        }
        out.family("argus_server_forecast_peak", "gauge", "Highest forecast over the horizon per target and quantile (top-N servers).")
        for s in picture.top {
            for f in s.forecasts {
                out.sample("argus_server_forecast_peak", [("server", s.name), ("target", f.key), ("quantile", "0.5")], f.p50Peak)
                out.sample("argus_server_forecast_peak", [("server", s.name), ("target", f.key), ("quantile", "0.9")], f.p90Peak)
            }
        }
    }

    /// The online calibration's fleet figures per target (read at scrape time): the live skill against the last
    /// value per horizon, and the served band's coverage. A median ratio creeping toward 1 is a model that stopped
    /// paying on this fleet: the alert for a retrain.
    private func writeForecastQuality(_ state: ScrapeState, to out: inout PrometheusText) {
        guard !state.calibration.isEmpty else { return }
        let horizons = BandCalibration.reportedHorizons.map { Self.horizonLabel(steps: $0, stepSeconds: state.feed.stepSeconds) }
        let targets = state.calibration.map { (state.forecastKeys[$0.target] ?? $0.target, $0) }
        // Each family's samples follow its own HELP/TYPE (the exposition format groups them).
        out.family("argus_forecast_error_vs_last_value", "gauge",
                   "Fleet median of the served forecast's mean absolute error over about the last day divided by the last value's (below 1: better than repeating the last value).")
        for (target, t) in targets {
            for (i, horizon) in horizons.enumerated() {
                if let r = t.medianErrorVsLastValue[i] { out.sample("argus_forecast_error_vs_last_value", [("target", target), ("horizon", horizon)], Double(r)) }
            }
        }
        out.family("argus_forecast_servers_beating_last_value_ratio", "gauge",
                   "Share of servers whose served forecast error is below the last value's over about the last day.")
        for (target, t) in targets {
            for (i, horizon) in horizons.enumerated() {
                if let share = t.shareBeatingLastValue[i] {
                    out.sample("argus_forecast_servers_beating_last_value_ratio", [("target", target), ("horizon", horizon)], Double(share))
                }
            }
        }
        out.family("argus_forecast_band_coverage_ratio", "gauge", "Share of scored values inside the served P10-P90 band (nominal 0.8).")
        for (target, t) in targets where t.scored > 0 {
            out.sample("argus_forecast_band_coverage_ratio", [("target", target)], Double(t.insideServed) / Double(t.scored))
        }
    }

    /// `5m`, `30m`, `2h`, `8h` for 1, 6, 24 and 96 steps of 300 s.
    static func horizonLabel(steps: Int, stepSeconds: Int64) -> String {
        let minutes = Int64(steps) * stepSeconds / 60
        return minutes % 60 == 0 ? "\(minutes / 60)h" : "\(minutes)m"
    }

    private func writeTraining(_ t: TrainingService.Status, to out: inout PrometheusText) {
        out.family("argus_training_active", "gauge", "1 while a training job runs.")
        out.sample("argus_training_active", [], t.active ? 1 : 0)
        out.family("argus_training_progress_ratio", "gauge", "Progress of the current or last training job, 0-1.")
        out.sample("argus_training_progress_ratio", [], t.percent / 100)
        out.family("argus_training_epoch", "gauge", "Epoch of the current or last training job.")
        out.sample("argus_training_epoch", [], Double(t.epoch))
        if let loss = t.loss {
            out.family("argus_training_loss", "gauge", "Latest training loss.")
            out.sample("argus_training_loss", [], loss)
        }
        if let loss = t.validationLoss {
            out.family("argus_training_validation_loss", "gauge", "Latest validation loss.")
            out.sample("argus_training_validation_loss", [], loss)
        }
    }

    private func writeProcess(_ p: ProcessStats, startedAt: Date, to out: inout PrometheusText) {
        // The standard process_* names, so stock dashboards work.
        if let rss = p.residentBytes {
            out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
            out.sample("process_resident_memory_bytes", [], Double(rss))
        }
        if let cpu = p.cpuSeconds {
            out.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.")
            out.sample("process_cpu_seconds_total", [], cpu)
        }
        if let fds = p.openFileDescriptors {
            out.family("process_open_fds", "gauge", "Number of open file descriptors.")
            out.sample("process_open_fds", [], Double(fds))
        }
        if let threads = p.threads {
            out.family("process_threads", "gauge", "Number of OS threads in the process.")
            out.sample("process_threads", [], Double(threads))
        }
        out.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.")
        out.sample("process_start_time_seconds", [], startedAt.timeIntervalSince1970.rounded())
    }
}

/// State read when `/metrics` is scraped.
public struct ScrapeState: Sendable {
    public var startedAt: Date
    public var uptimeSeconds: Double
    public var feed: FeedStatus
    public var modelName: String?
    public var training: TrainingService.Status
    public var process: ProcessStats
    /// The API listener's ``ConnectionRejection`` counts (slowloris, oversize, slow WebSocket readers …).
    public var httpRejections: [(kind: ConnectionRejection, count: UInt64)] = []
    /// The online calibration's fleet figures per target (empty when it is off), and the served model's
    /// target → forecast key map for their labels.
    public var calibration: [BandCalibrationStore.TargetSummary] = []
    public var forecastKeys: [String: String] = [:]
}

/// What `argus_build_info` reports.
public enum ArgusBuild {
    public static let version = "1.0.0"
    public static var swiftVersion: String {
        #if compiler(>=6.3)
        "6.3+"
        #elseif compiler(>=6.2)
        "6.2"
        #elseif compiler(>=6.1)
        "6.1"
        #else
        "6.0"
        #endif
    }
}
