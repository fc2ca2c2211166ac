import Dispatch
import Foundation
import HTTPServer
import Synchronization
import TFTCore
import Training

/// Runs the TFT once per tick over every warmed server and publishes the result as an immutable
/// ``Snapshot``.
///
/// - Trigger: the feed store's tick handler (a step closed). Ticks that arrive within `debounce` of the
///   first are coalesced into one run (a backfill of 100 steps → one run, not 100); runs always read the
///   newest windows, so nothing is lost by coalescing. A reload and start-up also request a run.
/// - Where: a private serial queue, never an HTTP thread; GETs only read the published snapshot.
/// - What: `FeedStore.snapshot(lastSteps: encoder length, onlyWarm: true)` → `FeatureBuilder.inferenceBatch`
///   (decoder rows = the true future: the `horizon` steps after each server's last observation, with
///   their calendar features) → `TFTModel.forward` in batches of `maxBatch` → quantile forecasts →
///   ``RiskScorer`` → alerts → snapshot (JSON encoded once).
public final class InferenceEngine: Sendable {
    public let store: FeedStore
    public let models: ModelRegistry
    public let scorer: RiskScorer
    public let debounce: DispatchTimeInterval
    /// Servers per forward call (bounds scratch memory for large fleets).
    public let maxBatch: Int
    /// Per-server online band calibration applied between the forward pass and risk scoring (nil: off).
    public let calibration: BandCalibrationStore?
    let logger: Logger
    private let queue = DispatchQueue(label: "argus.inference", qos: .userInitiated)

    private struct State {
        var scheduled = false
        var latest: Snapshot?
        var runs = 0
        var lastError: String?
        var lastRunAt: Date?
        var lastObserversMilliseconds = 0.0
    }
    private let state = Mutex(State())
    /// Called on the engine's queue with every published snapshot (the history recorder).
    private let snapshotObservers = Mutex<[@Sendable (Snapshot) -> Void]>([])
    public func onSnapshot(_ observer: @escaping @Sendable (Snapshot) -> Void) { snapshotObservers.withLock { $0.append(observer) } }

    public init(store: FeedStore, models: ModelRegistry, scorer: RiskScorer = RiskScorer(),
                debounceMilliseconds: Int = 200, maxBatch: Int = 256, calibration: BandCalibrationStore? = nil,
                logger: Logger = Logger(label: "inference")) {
        self.calibration = calibration
        self.store = store
        self.models = models
        self.scorer = scorer
        self.debounce = .milliseconds(debounceMilliseconds)
        self.maxBatch = max(1, maxBatch)
        self.logger = logger
    }

    /// The latest published snapshot (nil before the first successful run).
    public var latest: Snapshot? { state.withLock { $0.latest } }
    public var runCount: Int { state.withLock { $0.runs } }
    public var lastError: String? { state.withLock { $0.lastError } }
    /// Wall time the snapshot observers (the history recorder) took after the last publish.
    public var lastObserversMilliseconds: Double { state.withLock { $0.lastObserversMilliseconds } }

    /// Requests a run after the debounce delay (coalescing with any already requested).
    public func requestRun() {
        let shouldSchedule = state.withLock { s -> Bool in
            if s.scheduled { return false }
            s.scheduled = true
            return true
        }
        guard shouldSchedule else { return }
        queue.asyncAfter(deadline: .now() + debounce) { [self] in
            state.withLock { $0.scheduled = false }
            _ = runLocked()
        }
    }

    /// Tick handler for the feed store.
    public func tick(_ event: TickEvent) { requestRun() }

    /// Runs inference now on the engine's queue and waits for it (tests, start-up, reload).
    @discardableResult
    public func runNow() -> Snapshot? { queue.sync { runLocked() } }

    /// Waits until every run requested so far has finished.
    public func drain() {
        // Ticks of answered POSTs are announced just after their answers were written (docs/daemon.md);
        // they count as requested. Bounded: one whose connection vanished is announced when it is released.
        let deadline = DispatchTime.now().uptimeNanoseconds + 2_000_000_000
        while store.pendingTickNotifications > 0 && DispatchTime.now().uptimeNanoseconds < deadline { usleep(100) }
        queue.sync {}
        // A debounced run may have been scheduled after the sync started; wait for it as well.
        while state.withLock({ $0.scheduled }) { queue.sync {} ; usleep(1_000) }
        queue.sync {}
    }

    private func runLocked() -> Snapshot? {
        guard let model = models.current else { return nil }
        do {
            let snapshot = try run(model: model)
            state.withLock { s in
                s.runs += 1
                s.lastRunAt = Date()
                s.lastError = nil
                if let snapshot { s.latest = snapshot }
            }
            if let snapshot {
                let t0 = DispatchTime.now().uptimeNanoseconds
                for observer in snapshotObservers.withLock({ $0 }) { observer(snapshot) }
                let observersMs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                state.withLock { $0.lastObserversMilliseconds = observersMs }
                func ms(_ v: Double) -> JSONValue { .double((v * 100).rounded() / 100) }
                let t = snapshot.timings
                logger.info("inference_tick", ["tick": .int(Int(snapshot.tick)), "servers": .int(snapshot.servers.count),
                                               "alerts": .int(snapshot.alerts.count),
                                               "feed_ms": ms(t.feed), "features_ms": ms(t.features), "forward_ms": ms(t.forward),
                                               "calibration_ms": ms(t.calibration), "risk_ms": ms(t.risk), "encode_ms": ms(t.encode), "total_ms": ms(t.total),
                                               "observers_ms": ms(observersMs), "model": .string(model.name)])
            }
            return snapshot
        } catch {
            state.withLock { $0.lastError = String(describing: error) }
            logger.error("inference_failed", ["error": .string(String(describing: error)), "model": .string(model.name)])
            return nil
        }
    }

    /// One inference run with `model`; nil when no server is warm yet.
    func run(model: ServedModel) throws -> Snapshot? {
        let started = DispatchTime.now().uptimeNanoseconds
        func since(_ t: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6 }
        var timings = RunTimings()
        let encoder = model.config.maxEncoderLength
        let feed = store.snapshot(lastSteps: encoder, onlyWarm: true)
        let minimum = model.spec.minEncoderLength
        let usable = feed.servers.filter { $0.length >= minimum }
        let warming = store.status().serversTracked - usable.count
        guard !usable.isEmpty else { return nil }
        let step = feed.stepSeconds
        let windows: [ServerWindow] = usable.map { s in
            ServerWindow(serverName: s.serverName, profile: ServerProfile.resolve(serverName: s.serverName, override: s.profile),
                         firstEpoch: s.firstStepTimestamp, stepSeconds: Int(step), feedValues: s.values, status: s.status)
        }
        timings.feed = since(started)
        var forecasts: [ServerForecast] = []
        forecasts.reserveCapacity(windows.count)
        // Feature building and reading the forecasts are single-threaded per chunk: as many chunks at a time
        // as `Parallel` has threads, one each (~10 % of a 10,000-server tick otherwise); the forward between
        // them uses the cores by itself. The same chunks in the same order: the results are unchanged.
        let chunks = stride(from: 0, to: windows.count, by: maxBatch).map { Array(windows[$0..<min(windows.count, $0 + maxBatch)]) }
        let builder = model.builder
        for groupStart in stride(from: 0, to: chunks.count, by: Parallel.threads) {
            let group = Array(chunks[groupStart..<min(chunks.count, groupStart + Parallel.threads)])
            var t0 = DispatchTime.now().uptimeNanoseconds
            let inputs = try Parallel.map(group.count, grain: 1) { i in Result { try builder.inferenceBatch(for: group[i]) } }
                .map { try $0.get() }
            timings.features += since(t0)
            t0 = DispatchTime.now().uptimeNanoseconds
            let outputs = try inputs.map { try model.model.forward($0.batch, include: []) }
            timings.forward += since(t0)
            t0 = DispatchTime.now().uptimeNanoseconds
            forecasts += Parallel.map(group.count, grain: 1) { i in builder.forecasts(outputs[i], for: inputs[i]) }.joined()
            timings.features += since(t0)
        }
        if let calibration {
            let t0 = DispatchTime.now().uptimeNanoseconds
            calibration.calibrate(&forecasts, windows: windows, spec: model.spec, builder: model.builder, model: model.name)
            timings.calibration = since(t0)
        }
        let riskStart = DispatchTime.now().uptimeNanoseconds
        let mapping = TargetMapping(spec: model.spec)
        let scorer = self.scorer
        // Per server and independent: split across the cores (the forward is done, they are idle).
        let scored = Parallel.map(usable.count, grain: 8) { i -> (ServerPrediction, [Alert]) in
            let s = usable[i], window = windows[i], f = forecasts[i]
            func last(_ m: MetricField) -> Double { Double(s.values[m.index * s.length + s.length - 1]) }
            let profile = window.profile
            let cores = Double(profile.nominalCores)
            let current: [ThresholdMetric: Double] = [
                .cpu: 100 - last(.cpuIdlePct), .memory: last(.memUsedPct), .iowait: last(.cpuIowaitPct),
                .swap: last(.swapUsedPct), .disk: last(.diskUsagePct), .loadPerCore: last(.loadAverage) / cores,
            ]
            var graded: [ThresholdMetric: [[Float]]] = [:]
            var keys: [String] = []
            var values: [[[Float]]] = []
            for target in model.spec.targets {
                guard let v = f.values[target] else { continue }
                keys.append(mapping.apiKey[target] ?? target)
                values.append(v)
                if let metric = mapping.graded[target], let r = f.riskValues(target) {
                    // Risk reads the model's own median where calibration serves another (see ServerForecast).
                    graded[metric] = metric == .loadPerCore ? r.map { $0.map { $0 / Float(cores) } } : r
                }
            }
            let risk = scorer.score(RiskInput(serverName: s.serverName, profile: profile, current: current, forecast: graded,
                                              quantileLevels: f.quantiles, stepSeconds: Int(step)))
            let alerts = AlertBuilder.alerts(for: risk, referenceEpoch: s.lastStepTimestamp)
            let prediction = ServerPrediction(
                serverName: s.serverName, profile: profile, risk: risk,
                currentCPU: current[.cpu]!, currentMemory: current[.memory]!, currentIowait: current[.iowait]!,
                currentSwap: current[.swap]!, currentDisk: current[.disk]!, currentLoad: last(.loadAverage),
                currentNetIn: last(.netInMbS), currentNetOut: last(.netOutMbS),
                lastObservationEpoch: s.lastStepTimestamp, firstForecastEpoch: f.firstEpoch, stepSeconds: step,
                forecastKeys: keys, quantiles: f.quantiles, forecast: values)
            return (prediction, alerts)
        }
        let predictions = scored.map(\.0)
        let alerts = scored.flatMap(\.1)
        var summary = FleetSummary()
        summary.totalServers = predictions.count
        summary.serversWarmingUp = max(0, warming)
        var keep30 = 1.0, keep8 = 1.0, health = 0.0, riskSum = 0.0
        for p in predictions {
            switch p.risk.level {
            case .critical: summary.critical += 1
            case .warning: summary.warning += 1
            case .degraded: summary.degraded += 1
            case .healthy: summary.healthy += 1
            }
            keep30 *= 1 - p.risk.prob30m
            keep8 *= 1 - p.risk.prob8h
            health += p.risk.level.healthWeight
            riskSum += p.risk.score
            summary.maxRisk = max(summary.maxRisk, p.risk.score)
        }
        summary.prob30m = 1 - keep30
        summary.prob8h = 1 - keep8
        summary.fleetHealth = (1000 * health / Double(predictions.count)).rounded() / 10
        summary.averageRisk = riskSum / Double(predictions.count)
        timings.risk = since(riskStart)
        return Snapshot(tick: feed.tick, dataEpoch: feed.fleetStepTimestamp ?? 0, generatedAt: Date(), modelName: model.name,
                        horizonSteps: model.horizon, stepSeconds: step, quantiles: model.config.quantiles,
                        servers: predictions, alerts: AlertBuilder.sorted(alerts), summary: summary,
                        timings: timings, started: started)
    }
}

/// Model targets ↔ graded metrics and API forecast keys, derived from each metric's feed source (so a
/// model that names its targets differently still maps correctly).
struct TargetMapping {
    var graded: [String: ThresholdMetric] = [:]
    var apiKey: [String: String] = [:]

    init(spec: FeatureSpec) {
        for m in spec.metrics where spec.targets.contains(m.name) {
            switch (m.source, m.transform) {
            case ("cpu_idle_pct", "complement100"): graded[m.name] = .cpu; apiKey[m.name] = "cpu_pct"
            case ("mem_used_pct", _): graded[m.name] = .memory; apiKey[m.name] = "mem_pct"
            case ("cpu_iowait_pct", _): graded[m.name] = .iowait; apiKey[m.name] = "iowait_pct"
            case ("swap_used_pct", _): graded[m.name] = .swap; apiKey[m.name] = "swap_pct"
            case ("disk_usage_pct", _): graded[m.name] = .disk; apiKey[m.name] = "disk_pct"
            case ("load_average", _): graded[m.name] = .loadPerCore; apiKey[m.name] = "load_average"
            default: apiKey[m.name] = m.name
            }
        }
    }
}
