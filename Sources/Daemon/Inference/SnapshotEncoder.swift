import Foundation

/// JSON encoding of snapshots in the spec's shapes (spec/argus-api.md, "GET /predictions/current",
/// "GET /alerts/active"). Field order follows the spec's examples; extra fields come after.
enum SnapshotEncoder {
    static func nearest(_ level: Float, in quantiles: [Float]) -> Int {
        quantiles.enumerated().min { abs($0.element - level) < abs($1.element - level) }?.offset ?? 0
    }

    static func percent(_ v: Double) -> String { format(v, 1) + "%" }

    static func format(_ v: Double, _ decimals: Int) -> String {
        var w = JSONWriter(capacity: 16)
        w.number(v, decimals: decimals)
        var s = String(decoding: w.bytes, as: UTF8.self)
        if decimals > 0 && !s.contains(".") && s != "null" { s += "." + String(repeating: "0", count: decimals) }
        return s
    }

    static func server(_ p: ServerPrediction, forecast detail: Snapshot.ForecastDetail) -> [UInt8] {
        var w = JSONWriter(capacity: detail == .none ? 512 : 8192)
        let level = p.risk.level
        w.raw("{\"risk_score\":"); w.number(p.risk.score, decimals: 1)
        w.raw(",\"profile\":"); w.string(p.profile.displayName)
        w.raw(",\"alert\":{\"level\":"); w.string(level.rawValue)
        w.raw(",\"score\":"); w.number(p.risk.score, decimals: 1)
        w.raw(",\"color\":"); w.string(level.color)
        w.raw(",\"emoji\":"); w.string(level.emoji)
        w.raw(",\"label\":"); w.string(level.label)
        w.raw("}")
        w.raw(",\"display_metrics\":{\"cpu\":"); w.string(percent(p.currentCPU))
        w.raw(",\"memory\":"); w.string(percent(p.currentMemory))
        // The feed has no disk throughput; disk_io shows the I/O wait share (docs/daemon.md).
        w.raw(",\"disk_io\":"); w.string(percent(p.currentIowait) + " iowait")
        w.raw(",\"iowait\":"); w.string(percent(p.currentIowait))
        w.raw(",\"swap\":"); w.string(percent(p.currentSwap))
        w.raw(",\"disk\":"); w.string(percent(p.currentDisk))
        w.raw(",\"load\":"); w.string(format(p.currentLoad, 2))
        w.raw(",\"net_in\":"); w.string(format(p.currentNetIn, 1) + " MB/s")
        w.raw(",\"net_out\":"); w.string(format(p.currentNetOut, 1) + " MB/s")
        w.raw("}")
        if detail != .none, !p.forecast.isEmpty {
            let quantiles = p.quantiles
            let q50 = nearest(0.5, in: quantiles)
            w.raw(",\"forecast\":{")
            for (t, key) in p.forecastKeys.enumerated() {
                w.key(key); w.numbers(p.forecast[t][q50])
                w.comma()
            }
            w.raw("\"timestamps\":[")
            let steps = p.forecast.first?.first?.count ?? 0
            for k in 0..<steps {
                if k > 0 { w.comma() }
                w.string(ISO8601Timestamp.format(p.firstForecastEpoch + Int64(k) * p.stepSeconds))
            }
            w.raw("]")
            if detail == .bands {
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
        w.raw(",\"prob_30m\":"); w.number(p.risk.prob30m, decimals: 4)
        w.raw(",\"prob_8h\":"); w.number(p.risk.prob8h, decimals: 4)
        w.raw(",\"profile_key\":"); w.string(p.profile.rawValue)
        w.raw(",\"last_observation\":"); w.string(ISO8601Timestamp.format(p.lastObservationEpoch))
        w.raw("}")
        return w.bytes
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
        w.raw("],\"timestamp\":"); w.string(ISO8601Timestamp.format(meta.dataEpoch))
        w.raw(",\"tick\":"); w.int(meta.tick)
        w.raw(",\"model\":"); w.string(meta.model)
        w.raw(",\"mode\":\"tft\"")
        w.raw(",\"horizon_steps\":"); w.int(meta.horizon)
        w.raw(",\"step_seconds\":"); w.int(meta.step)
        w.raw(",\"generated_at\":"); w.string(ISO8601Timestamp.format(Int64(meta.generatedAt.timeIntervalSince1970)))
        w.raw("}")
        return w.bytes
    }

    static func activeAlertsBody(timestamp: Int64, fragments: [[UInt8]]) -> [UInt8] {
        var w = JSONWriter(capacity: fragments.reduce(128) { $0 + $1.count + 1 })
        w.raw("{\"timestamp\":"); w.string(ISO8601Timestamp.format(timestamp))
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
