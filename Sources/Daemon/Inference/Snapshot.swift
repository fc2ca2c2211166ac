import Dispatch
import Foundation
import Synchronization
import TFTCore

/// One server's forecast and risk in a snapshot.
public struct ServerPrediction: Sendable {
    public var serverName: String
    public var profile: ServerProfile
    public var risk: ServerRisk
    /// Latest observed values (feed units): cpu busy, memory, iowait, swap, disk, load, net in/out.
    public var currentCPU, currentMemory, currentIowait, currentSwap, currentDisk, currentLoad, currentNetIn, currentNetOut: Double
    /// Start of the newest observed step (epoch seconds).
    public var lastObservationEpoch: Int64
    /// Start of the first forecast step = last observation + one step.
    public var firstForecastEpoch: Int64
    public var stepSeconds: Int64
    /// API key per target (`cpu_pct`, `mem_pct`, …), in model target order.
    public var forecastKeys: [String]
    /// Quantile levels of `forecast`'s middle index.
    public var quantiles: [Float]
    /// Per target: `[quantile][step]` (feed units, clamped to the metric's range).
    public var forecast: [[[Float]]]
}

/// Fleet summary of a snapshot (the spec's `summary`).
public struct FleetSummary: Sendable {
    public var totalServers = 0
    public var critical = 0, warning = 0, degraded = 0, healthy = 0
    public var fleetHealth = 100.0
    public var prob30m = 0.0, prob8h = 0.0
    public var averageRisk = 0.0, maxRisk = 0.0
    public var serversWarmingUp = 0
}

/// Where the wall time of one inference run went (milliseconds). `total` runs from reading the windows to
/// the snapshot's JSON being encoded, i.e. until it can be published.
public struct RunTimings: Sendable {
    /// Copying the windows out of the feed store.
    public var feed = 0.0
    /// Feature building (`FeatureBuilder.inferenceBatch`) and turning outputs into forecasts.
    public var features = 0.0
    /// `TFTModel.forward`.
    public var forward = 0.0
    /// Per-server band calibration (``BandCalibrationStore``).
    public var calibration = 0.0
    /// Risk scoring, alerts, summary.
    public var risk = 0.0
    /// Encoding the snapshot's JSON (fragments and bodies).
    public var encode = 0.0
    public var total = 0.0
    public init() {}
}

/// The result of one inference run: immutable, built once per tick, its JSON encoded once. GETs serve
/// these bytes (or splice per-server fragments for filters); they never run the model.
public final class Snapshot: Sendable {
    public let tick: Int64
    /// The data clock: start of the newest step seen in the fleet (epoch seconds).
    public let dataEpoch: Int64
    public let generatedAt: Date
    public let modelName: String
    public let horizonSteps: Int
    public let stepSeconds: Int64
    public let quantiles: [Float]
    public let servers: [ServerPrediction]
    public let index: [String: Int]
    public let alerts: [Alert]
    public let summary: FleetSummary
    /// Wall time of the run: feature building + forward + risk + encoding.
    public var inferenceMilliseconds: Double { timings.total }
    public var forwardMilliseconds: Double { timings.forward }
    public let timings: RunTimings
    /// `DispatchTime` uptime (ns) at which the snapshot was complete; the engine publishes it right after.
    public let readyUptimeNanoseconds: UInt64

    /// Per server JSON values (`{"risk_score":…}`), p50 forecast / compact (no forecast).
    let fragments: [[UInt8]]
    let compactFragments: [[UInt8]]
    /// Encoded alerts, one per alert (same order as `alerts`), in the two shapes.
    let predictionAlertFragments: [[UInt8]]
    let activeAlertFragments: [[UInt8]]
    let summaryJSON: [UInt8]
    /// `GET /predictions/current` with no options.
    public let fullBody: [UInt8]
    public let compactBody: [UInt8]
    /// `GET /alerts/active`.
    public let alertsBody: [UInt8]
    /// Forecast fragments with p10/p90, built on first request (once per snapshot).
    private let bandFragments = Mutex<[[UInt8]]?>(nil)

    init(tick: Int64, dataEpoch: Int64, generatedAt: Date, modelName: String, horizonSteps: Int, stepSeconds: Int64,
         quantiles: [Float], servers: [ServerPrediction], alerts: [Alert], summary: FleetSummary,
         timings partial: RunTimings, started: UInt64) {
        self.tick = tick; self.dataEpoch = dataEpoch; self.generatedAt = generatedAt; self.modelName = modelName
        self.horizonSteps = horizonSteps; self.stepSeconds = stepSeconds; self.quantiles = quantiles
        self.servers = servers; self.alerts = alerts; self.summary = summary
        let encodeStart = DispatchTime.now().uptimeNanoseconds
        var index: [String: Int] = [:]
        for (i, s) in servers.enumerated() { index[s.serverName] = i }
        self.index = index
        (fragments, compactFragments) = SnapshotEncoder.serverFragments(servers)
        predictionAlertFragments = alerts.map { SnapshotEncoder.predictionAlert($0) }
        activeAlertFragments = alerts.map { SnapshotEncoder.activeAlert($0) }
        summaryJSON = SnapshotEncoder.summary(summary)
        let all = Array(servers.indices)
        fullBody = SnapshotEncoder.predictionsBody(snapshot: nil, names: servers.map(\.serverName), fragments: fragments,
                                                   indices: all, summary: summaryJSON, alerts: predictionAlertFragments,
                                                   meta: (tick, dataEpoch, generatedAt, modelName, horizonSteps, stepSeconds))
        compactBody = SnapshotEncoder.predictionsBody(snapshot: nil, names: servers.map(\.serverName), fragments: compactFragments,
                                                      indices: all, summary: summaryJSON, alerts: predictionAlertFragments,
                                                      meta: (tick, dataEpoch, generatedAt, modelName, horizonSteps, stepSeconds))
        alertsBody = SnapshotEncoder.activeAlertsBody(timestamp: dataEpoch, fragments: activeAlertFragments)
        let end = DispatchTime.now().uptimeNanoseconds
        var timings = partial
        timings.encode = Double(end - encodeStart) / 1e6
        timings.total = Double(end - started) / 1e6
        self.timings = timings
        readyUptimeNanoseconds = end
    }

    public enum ForecastDetail: Sendable { case median, bands, none }

    /// The opaque part of the entity tag of `predictionsBody(servers:detail:)`: it names this snapshot (tick and
    /// generation time in ms, so a restarted daemon whose ticks count from 1 again gets new tags) and the variant
    /// (detail level and, for a subset, an FNV-1a hash of the names as asked). Same snapshot and query → same
    /// bytes → same tag; built without touching the body.
    public func entityTag(servers names: [String]?, detail: ForecastDetail) -> String {
        let millis = UInt64(max(0, generatedAt.timeIntervalSince1970 * 1_000))
        var tag = "\(tick)-\(String(millis, radix: 16))-"
        switch detail {
        case .median: tag += "full"
        case .none: tag += "compact"
        case .bands: tag += "bands"
        }
        if let names {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for (i, name) in names.enumerated() {
                if i > 0 { hash = (hash ^ 0x0A) &* 0x100_0000_01b3 }   // "\n" between names
                for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            }
            tag += "-s\(names.count)-" + String(hash, radix: 16)
        }
        return tag
    }

    /// `GET /predictions/current` bytes for a subset of servers (nil = all) at a detail level.
    public func predictionsBody(servers names: [String]?, detail: ForecastDetail) -> [UInt8] {
        if names == nil {
            switch detail {
            case .median: return fullBody
            case .none: return compactBody
            case .bands: break
            }
        }
        let indices = names.map { $0.compactMap { index[$0] } } ?? Array(servers.indices)
        let chosen: [[UInt8]]
        switch detail {
        case .median: chosen = fragments
        case .none: chosen = compactFragments
        case .bands: chosen = bands()
        }
        var alertFragments = predictionAlertFragments
        if let names {
            let wanted = Set(names)
            alertFragments = zip(alerts, predictionAlertFragments).filter { wanted.contains($0.0.serverName) }.map(\.1)
        }
        return SnapshotEncoder.predictionsBody(snapshot: self, names: servers.map(\.serverName), fragments: chosen,
                                               indices: indices, summary: summaryJSON, alerts: alertFragments,
                                               meta: (tick, dataEpoch, generatedAt, modelName, horizonSteps, stepSeconds))
    }

    /// `GET /alerts/active` bytes for a subset (nil = all) and minimum level.
    public func activeAlertsBody(servers names: Set<String>?, level: String?) -> [UInt8] {
        if names == nil && level == nil { return alertsBody }
        let chosen = zip(alerts, activeAlertFragments).filter { pair in
            (names?.contains(pair.0.serverName) ?? true) && (level == nil || pair.0.level == level)
        }.map(\.1)
        return SnapshotEncoder.activeAlertsBody(timestamp: dataEpoch, fragments: chosen)
    }

    private func bands() -> [[UInt8]] {
        bandFragments.withLock { cached in
            if let cached { return cached }
            let timestamps = SnapshotEncoder.TimestampCache(servers)
            let built = Parallel.map(servers.count) { SnapshotEncoder.server(servers[$0], forecast: .bands, timestamps: timestamps) }
            cached = built
            return built
        }
    }
}
