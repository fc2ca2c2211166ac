import Foundation

/// JSON encoding of snapshots in the spec's shapes (spec/argus-api.md, "GET /predictions/current",
/// "GET /alerts/active"). Field order follows the spec's examples; extra fields come after.
enum SnapshotEncoder {
    static func nearest(_ level: Float, in quantiles: [Float]) -> Int {
        quantiles.enumerated().min { abs($0.element - level) < abs($1.element - level) }?.offset ?? 0
    }

    /// `"timestamps":[…]` per first forecast epoch. Every server whose last observation is the fleet's
    /// newest step shares one array, so it is encoded once per snapshot instead of once per server.
    struct TimestampCache: Sendable {
        struct Key: Hashable, Sendable { var first: Int64; var steps: Int; var step: Int64 }
        var encoded: [Key: [UInt8]] = [:]

        static func key(_ p: ServerPrediction) -> Key {
            Key(first: p.firstForecastEpoch, steps: p.forecast.first?.first?.count ?? 0, step: p.stepSeconds)
        }

        init(_ servers: [ServerPrediction]) {
            for p in servers where !p.forecast.isEmpty {
                let key = Self.key(p)
                if encoded[key] == nil { encoded[key] = Self.encode(key) }
            }
        }

        static func encode(_ key: Key) -> [UInt8] {
            var w = JSONWriter(capacity: 16 + key.steps * 22)
            w.raw("\"timestamps\":[")
            for k in 0..<key.steps {
                if k > 0 { w.comma() }
                w.timestamp(key.first + Int64(k) * key.step)
            }
            w.raw("]")
            return w.bytes
        }

        func timestamps(_ p: ServerPrediction) -> [UInt8] {
            let key = Self.key(p)
            return encoded[key] ?? Self.encode(key)
        }
    }

    /// One server's JSON value at `detail`.
    static func server(_ p: ServerPrediction, forecast detail: Snapshot.ForecastDetail,
                       timestamps: TimestampCache? = nil) -> [UInt8] {
        var w = JSONWriter(capacity: detail == .none ? 512 : 8192)
        head(p, &w)
        if detail != .none { forecast(p, bands: detail == .bands, timestamps: timestamps, &w) }
        tail(p, &w)
        return w.bytes
    }

    /// Both shapes of one server at once (`full` with the p50 forecast, `compact` without): the parts they
    /// share are encoded once.
    static func serverPair(_ p: ServerPrediction, timestamps: TimestampCache?) -> (full: [UInt8], compact: [UInt8]) {
        var w = JSONWriter(capacity: 8192)
        head(p, &w)
        let headEnd = w.bytes.count
        forecast(p, bands: false, timestamps: timestamps, &w)
        let tailStart = w.bytes.count
        tail(p, &w)
        var compact: [UInt8] = []
        compact.reserveCapacity(headEnd + w.bytes.count - tailStart)
        compact.append(contentsOf: w.bytes[..<headEnd])
        compact.append(contentsOf: w.bytes[tailStart...])
        return (w.bytes, compact)
    }

    /// Every server's fragments in both shapes, split across cores (each server is independent).
    static func serverFragments(_ servers: [ServerPrediction]) -> (full: [[UInt8]], compact: [[UInt8]]) {
        let timestamps = TimestampCache(servers)
        let pairs = Parallel.map(servers.count, grain: 8) { serverPair(servers[$0], timestamps: timestamps) }
        return (pairs.map(\.full), pairs.map(\.compact))
    }

    /// `{"risk_score":… ,"display_metrics":{…}`
    static func head(_ p: ServerPrediction, _ w: inout JSONWriter) {
        let level = p.risk.level
        w.raw("{\"risk_score\":"); w.number(p.risk.score, decimals: 1)
        w.raw(",\"profile\":"); w.string(p.profile.displayName)
        w.raw(",\"alert\":{\"level\":"); w.string(level.rawValue)
        w.raw(",\"score\":"); w.number(p.risk.score, decimals: 1)
        w.raw(",\"color\":"); w.string(level.color)
        w.raw(",\"emoji\":"); w.string(level.emoji)
        w.raw(",\"label\":"); w.string(level.label)
        w.raw("}")
        w.raw(",\"display_metrics\":{\"cpu\":"); w.displayNumber(p.currentCPU, decimals: 1, suffix: "%")
        w.raw(",\"memory\":"); w.displayNumber(p.currentMemory, decimals: 1, suffix: "%")
        // The feed has no disk throughput; disk_io shows the I/O wait share (docs/daemon.md).
        w.raw(",\"disk_io\":"); w.displayNumber(p.currentIowait, decimals: 1, suffix: "% iowait")
        w.raw(",\"iowait\":"); w.displayNumber(p.currentIowait, decimals: 1, suffix: "%")
        w.raw(",\"swap\":"); w.displayNumber(p.currentSwap, decimals: 1, suffix: "%")
        w.raw(",\"disk\":"); w.displayNumber(p.currentDisk, decimals: 1, suffix: "%")
        w.raw(",\"load\":"); w.displayNumber(p.currentLoad, decimals: 2)
        w.raw(",\"net_in\":"); w.displayNumber(p.currentNetIn, decimals: 1, suffix: " MB/s")
        w.raw(",\"net_out\":"); w.displayNumber(p.currentNetOut, decimals: 1, suffix: " MB/s")
        w.raw("}")
    }

    /// `,"forecast":{…}` (nothing when the server has no forecast).
    static func forecast(_ p: ServerPrediction, bands: Bool, timestamps: TimestampCache?, _ w: inout JSONWriter) {
        guard !p.forecast.isEmpty else { return }
        let quantiles = p.quantiles
        let q50 = nearest(0.5, in: quantiles)
        w.raw(",\"forecast\":{")
        for (t, key) in p.forecastKeys.enumerated() {
            w.key(key); w.numbers(p.forecast[t][q50])
            w.comma()
        }
        w.raw(timestamps?.timestamps(p) ?? TimestampCache.encode(TimestampCache.key(p)))
        if bands {
            for (name, level) in [("p10", Float(0.1)), ("p90", Float(0.9))] {
                let qi = nearest(level, in: quantiles)
                w.raw(","); w.key(name); w.raw("{")
                for (t, key) in p.forecastKeys.enumerated() {
                    if t > 0 { w.comma() }
                    w.key(key); w.numbers(p.forecast[t][qi])
                }
                w.raw("}")
            }
        }
        w.raw("}")
    }

    /// `,"prob_30m":…,"last_observation":"…"}`
    static func tail(_ p: ServerPrediction, _ w: inout JSONWriter) {
        w.raw(",\"prob_30m\":"); w.number(p.risk.prob30m, decimals: 4)
        w.raw(",\"prob_8h\":"); w.number(p.risk.prob8h, decimals: 4)
        w.raw(",\"profile_key\":"); w.string(p.profile.rawValue)
        w.raw(",\"last_observation\":"); w.timestamp(p.lastObservationEpoch)
        w.raw("}")
    }

    static func summary(_ s: FleetSummary) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.raw("{\"total_servers\":"); w.int(s.totalServers)
        w.raw(",\"critical\":"); w.int(s.critical)
        w.raw(",\"warning\":"); w.int(s.warning)
        w.raw(",\"degraded\":"); w.int(s.degraded)
        w.raw(",\"healthy\":"); w.int(s.healthy)
        w.raw(",\"fleet_health\":"); w.number(s.fleetHealth, decimals: 1)
        w.raw(",\"prob_30m\":"); w.number(s.prob30m, decimals: 4)
        w.raw(",\"prob_8h\":"); w.number(s.prob8h, decimals: 4)
        w.raw(",\"avg_risk_score\":"); w.number(s.averageRisk, decimals: 1)
        w.raw(",\"max_risk_score\":"); w.number(s.maxRisk, decimals: 1)
        w.raw(",\"servers_warming_up\":"); w.int(s.serversWarmingUp)
        w.raw("}")
        return w.bytes
    }

    static func predictionAlert(_ a: Alert) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.raw("{\"server_name\":"); w.string(a.serverName)
        w.raw(",\"level\":"); w.string(a.level)
        w.raw(",\"risk_score\":"); w.number(a.riskScore, decimals: 1)
        w.raw(",\"message\":"); w.string(a.messageWithTime)
        alertExtras(a, &w)
        w.raw("}")
        return w.bytes
    }

    static func activeAlert(_ a: Alert) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.raw("{\"server_name\":"); w.string(a.serverName)
        w.raw(",\"level\":"); w.string(a.level)
        w.raw(",\"risk_score\":"); w.number(a.riskScore, decimals: 1)
        w.raw(",\"profile\":"); w.string(a.profile.displayName)
        w.raw(",\"message\":"); w.string(a.message)
        w.raw(",\"time_to_issue\":"); w.string(a.timeToIssue)
        alertExtras(a, &w)
        w.raw("}")
        return w.bytes
    }

    static func alertExtras(_ a: Alert, _ w: inout JSONWriter) {
        w.raw(",\"metric\":"); w.string(a.metric.rawValue)
        w.raw(",\"minutes_to_issue\":"); w.int(a.minutesToIssue)
        w.raw(",\"predicted_value\":"); w.number(a.predictedValue, decimals: 2)
        w.raw(",\"threshold\":"); w.number(a.threshold, decimals: 2)
        w.raw(",\"expected_at\":"); w.string(a.expectedAt)
    }

    typealias Meta = (tick: Int64, dataEpoch: Int64, generatedAt: Date, model: String, horizon: Int, step: Int64)

    static func predictionsBody(snapshot: Snapshot?, names: [String], fragments: [[UInt8]], indices: [Int],
                                summary: [UInt8], alerts: [[UInt8]], meta: Meta) -> [UInt8] {
        var w = JSONWriter(capacity: indices.reduce(512) { $0 + fragments[$1].count + names[$1].utf8.count + 4 }
                           + alerts.reduce(0) { $0 + $1.count + 1 })
        w.raw("{\"predictions\":{")
        for (n, i) in indices.enumerated() {
            if n > 0 { w.comma() }
            w.key(names[i]); w.raw(fragments[i])
        }
        w.raw("},\"summary\":"); w.raw(summary)
        w.raw(",\"alerts\":[")
        for (n, a) in alerts.enumerated() {
            if n > 0 { w.comma() }
            w.raw(a)
        }
        w.raw("],\"timestamp\":"); w.timestamp(meta.dataEpoch)
        w.raw(",\"tick\":"); w.int(meta.tick)
        w.raw(",\"model\":"); w.string(meta.model)
        w.raw(",\"mode\":\"tft\"")
        w.raw(",\"horizon_steps\":"); w.int(meta.horizon)
        w.raw(",\"step_seconds\":"); w.int(meta.step)
        w.raw(",\"generated_at\":"); w.timestamp(Int64(meta.generatedAt.timeIntervalSince1970))
        w.raw("}")
        return w.bytes
    }

    static func activeAlertsBody(timestamp: Int64, fragments: [[UInt8]]) -> [UInt8] {
        var w = JSONWriter(capacity: fragments.reduce(128) { $0 + $1.count + 1 })
        w.raw("{\"timestamp\":"); w.timestamp(timestamp)
        w.raw(",\"count\":"); w.int(fragments.count)
        w.raw(",\"alerts\":[")
        for (n, a) in fragments.enumerated() {
            if n > 0 { w.comma() }
            w.raw(a)
        }
        w.raw("]}")
        return w.bytes
    }
}
