import Foundation
import TFTCore

/// Scores of one target at one horizon.
public struct HorizonScore: Codable, Sendable, Equatable {
    public var horizonSteps: Int
    public var minutes: Int
    public var modelMAE: Double
    public var modelQuantileLoss: Double
    /// Share of actual values inside the 10–90 % band (nominal 0.8).
    public var coverage80: Double
    public var lastValueMAE: Double
    public var yesterdayMAE: Double
    public var count: Int
    /// Standard error of `modelMAE − lastValueMAE`, from the per-series mean differences (windows of one
    /// series are correlated, so series are the independent units); nil with fewer than 2 series.
    public var vsLastValueSE: Double? = nil
    enum CodingKeys: String, CodingKey {
        case horizonSteps = "horizon_steps", minutes, count, vsLastValueSE = "p50_minus_last_value_se"
        case modelMAE = "p50_mae", modelQuantileLoss = "quantile_loss", coverage80 = "coverage_10_90"
        case lastValueMAE = "last_value_mae", yesterdayMAE = "same_time_yesterday_mae"
    }
    public var beatsBaselines: Bool { modelMAE < lastValueMAE && modelMAE < yesterdayMAE }
}

public struct TargetScore: Codable, Sendable, Equatable {
    public var target: String
    public var horizons: [HorizonScore]
}

/// Lead time of one simulated incident: how long before the real critical crossing a forecast first
/// reached the critical level (P50 and P90), or nil if none did.
public struct IncidentLead: Codable, Sendable, Equatable {
    public var incident: Int
    public var server: String
    public var kind: String
    public var target: String
    public var criticalLevel: Double
    public var p50LeadMinutes: Double?
    public var p90LeadMinutes: Double?
}

public struct EvaluationReport: Codable, Sendable {
    public var windows: Int
    public var servers: Int
    public var targets: [TargetScore]
    public var incidents: [IncidentLead]
    public var quantileLossNote = "quantile loss is pytorch-forecasting's (2·pinball, mean over the 7 quantiles) in feed units; for a point forecast it equals its MAE, so the baselines' MAE columns are also their quantile losses"

    enum CodingKeys: String, CodingKey { case windows, servers, targets, incidents, quantileLossNote = "quantile_loss_note" }

    /// A plain-text table.
    public func table() -> String {
        var out = "evaluation: \(windows) forecast windows over \(servers) series\n"
        out += "target           horizon   P50 MAE   last-value  yesterday   QL       cover10-90  beats both  P50 − last (±2 SE)\n"
        for t in targets {
            for h in t.horizons {
                let label = h.minutes >= 60 ? "\(h.minutes / 60) h" : "\(h.minutes) min"
                out += t.target.padding(toLength: 17, withPad: " ", startingAt: 0)
                out += label.padding(toLength: 10, withPad: " ", startingAt: 0)
                out += String(format: "%-10.3f%-12.3f%-12.3f%-9.3f%-12.3f", h.modelMAE, h.lastValueMAE, h.yesterdayMAE, h.modelQuantileLoss, h.coverage80)
                out += (h.beatsBaselines ? "yes" : "NO").padding(toLength: 12, withPad: " ", startingAt: 0)
                out += String(format: "%+.4f", h.modelMAE - h.lastValueMAE)
                out += h.vsLastValueSE.map { String(format: " (±%.4f)", 2 * $0) } ?? ""
                out += "\n"
            }
        }
        if !incidents.isEmpty {
            let p50 = incidents.compactMap(\.p50LeadMinutes).sorted(), p90 = incidents.compactMap(\.p90LeadMinutes).sorted()
            func median(_ a: [Double]) -> String { a.isEmpty ? "—" : String(format: "%.0f min", a[a.count / 2]) }
            out += "incidents: \(incidents.count) with a critical crossing; forecast reached critical before it: P50 \(p50.count) (median lead \(median(p50))), P90 \(p90.count) (median lead \(median(p90))); persistence: 0 (lead 0)\n"
        }
        return out
    }
}

/// Scores a model on series it did not train on: per target P50 MAE and quantile loss at 30 min and 8 h,
/// coverage of the 10–90 % band, next to last-value and same-time-yesterday baselines; and, given the
/// simulator's ground truth, the lead time at which forecasts first cross each incident's critical level.
public struct Evaluator {
    public let model: TFTModel
    public let builder: FeatureBuilder
    public var horizons: [Int] = [6, 96]
    public var stride: Int = 12
    public var batchSize: Int = 64

    public init(model: TFTModel, builder: FeatureBuilder) {
        self.model = model
        self.builder = builder
    }

    public func evaluate(series: [ServerSeries], truth: FleetGroundTruth? = nil) throws -> EvaluationReport {
        let cfg = model.config, H = cfg.maxPredictionLength, Te = cfg.maxEncoderLength
        let day = 86_400 / builder.spec.stepSeconds
        let Q = cfg.quantiles
        let q50 = Q.indices.min { abs(Q[$0] - 0.5) < abs(Q[$1] - 0.5) }!
        let q10 = Q.indices.min { abs(Q[$0] - 0.1) < abs(Q[$1] - 0.1) }!
        let q90 = Q.indices.min { abs(Q[$0] - 0.9) < abs(Q[$1] - 0.9) }!
        let hs = horizons.filter { $0 <= H }
        var refs: [WindowRef] = []
        for (si, s) in series.enumerated() {
            var t0 = max(Te, day)
            while t0 + H <= s.count { refs.append(WindowRef(series: si, start: t0, encoderLength: Te)); t0 += stride }
        }
        guard !refs.isEmpty else {
            throw TrainingError.insufficientData("evaluation needs series of at least \(max(Te, day) + H) steps (\(Double((max(Te, day) + H) * builder.spec.stepSeconds) / 3600) h): a full encoder, a day back for the same-time-yesterday baseline, and the horizon")
        }
        let nT = cfg.targets.count, tIdx = builder.spec.targetMetricIndices
        struct Acc { var mae = 0.0, ql = 0.0, cover = 0.0, last = 0.0, yday = 0.0, n = 0 }
        var acc = [[Acc]](repeating: [Acc](repeating: Acc(), count: hs.count), count: nT)
        // Per series: Σ (|model error| − |last-value error|) and count, for the paired standard error.
        var diff = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: series.count), count: hs.count), count: nT)
        var diffN = [Int](repeating: 0, count: series.count)
        let assembler = BatchAssembler(builder: builder, batchSize: batchSize, encoderLength: Te)
        var i = 0
        while i < refs.count {
            let chunk = refs[i..<min(refs.count, i + batchSize)]
            let batch = assembler.assemble(chunk, series: series, mode: .raw)
            let out = try model.forward(batch, include: [])
            for (b, w) in chunk.enumerated() {
                let s = series[Int(w.series)], t0 = Int(w.start)
                diffN[Int(w.series)] += 1
                for t in 0..<nT {
                    let m = tIdx[t]
                    let last = Double(s.value(metric: m, step: t0 - 1))
                    for h in hs {
                        let k = h - 1
                        let y = Double(s.value(metric: m, step: t0 + k))
                        let yd = Double(s.value(metric: m, step: t0 + k - day))
                        var ql = 0.0
                        for (qi, q) in Q.enumerated() {
                            let p = Double(builder.clamp(out.value(sample: b, target: t, step: k, quantile: qi), target: t))
                            let e = y - p
                            ql += 2 * max((Double(q) - 1) * e, Double(q) * e)
                        }
                        let p50 = Double(builder.clamp(out.value(sample: b, target: t, step: k, quantile: q50), target: t))
                        let lo = Double(builder.clamp(out.value(sample: b, target: t, step: k, quantile: q10), target: t))
                        let hi = Double(builder.clamp(out.value(sample: b, target: t, step: k, quantile: q90), target: t))
                        var a = acc[t][hs.firstIndex(of: h)!]
                        a.mae += abs(y - p50); a.ql += ql / Double(Q.count)
                        a.cover += (y >= lo && y <= hi) ? 1 : 0
                        a.last += abs(y - last); a.yday += abs(y - yd); a.n += 1
                        acc[t][hs.firstIndex(of: h)!] = a
                        diff[t][hs.firstIndex(of: h)!][Int(w.series)] += abs(y - p50) - abs(y - last)
                    }
                }
            }
            i += batchSize
        }
        let step = builder.spec.stepSeconds
        let targets = (0..<nT).map { t in
            TargetScore(target: cfg.targets[t], horizons: hs.enumerated().map { hi, h in
                let a = acc[t][hi], n = Double(max(1, a.n))
                // SE of the window-weighted mean difference, treating series as independent clusters.
                let total = Double(a.n), md = (a.mae - a.last) / n
                let used = series.indices.filter { diffN[$0] > 0 }
                var se: Double? = nil
                if used.count >= 2 {
                    var v = 0.0
                    for i in used { let r = diff[t][hi][i] - Double(diffN[i]) * md; v += r * r }
                    se = (v * Double(used.count) / Double(used.count - 1)).squareRoot() / total
                }
                return HorizonScore(horizonSteps: h, minutes: h * step / 60, modelMAE: a.mae / n, modelQuantileLoss: a.ql / n,
                                    coverage80: a.cover / n, lastValueMAE: a.last / n, yesterdayMAE: a.yday / n, count: a.n,
                                    vsLastValueSE: se)
            })
        }
        let incidents = try truth.map { try leadTimes(series: series, truth: $0) } ?? []
        return EvaluationReport(windows: refs.count, servers: series.count, targets: targets, incidents: incidents)
    }

    /// For every incident with a critical crossing: forecasts issued at each step of the horizon before
    /// the crossing; the lead is the time from the earliest forecast whose P50 (P90) reaches the
    /// critical level to the real crossing.
    public func leadTimes(series: [ServerSeries], truth: FleetGroundTruth) throws -> [IncidentLead] {
        let cfg = model.config, H = cfg.maxPredictionLength
        guard let truthStart = FleetTimestamp.parse(truth.start) else { return [] }
        let Q = cfg.quantiles
        let q50 = Q.indices.min { abs(Q[$0] - 0.5) < abs(Q[$1] - 0.5) }!
        let q90 = Q.indices.min { abs(Q[$0] - 0.9) < abs(Q[$1] - 0.9) }!
        let metricTarget: [ThresholdMetric: String] = [.cpu: "cpu_pct", .memory: "mem_used_pct", .iowait: "cpu_iowait_pct",
                                                       .swap: "swap_used_pct", .disk: "disk_usage_pct"]
        var out: [IncidentLead] = []
        let assembler = BatchAssembler(builder: builder, batchSize: 1, encoderLength: cfg.maxEncoderLength)
        for inc in truth.incidents {
            guard let crit = inc.criticalStep, let tname = metricTarget[inc.metric],
                  let t = cfg.targets.firstIndex(of: tname) else { continue }
            let epoch = truthStart + Int64(crit) * Int64(truth.stepSeconds)
            guard let si = series.firstIndex(where: { $0.name == inc.server && $0.startEpoch <= epoch && epoch < $0.epoch(ofStep: $0.count) }) else { continue }
            let s = series[si]
            let critIndex = Int((epoch - s.startEpoch) / Int64(s.stepSeconds))
            let first = max(builder.spec.minEncoderLength, critIndex - H + 1)
            guard first <= critIndex else { continue }
            let refs = (first...critIndex).map { WindowRef(series: si, start: $0, encoderLength: min($0, cfg.maxEncoderLength)) }
            var leadP50: Double? = nil, leadP90: Double? = nil
            var i = 0
            while i < refs.count, leadP50 == nil || leadP90 == nil {
                let chunk = refs[i..<min(refs.count, i + batchSize)]
                let batch = assembler.assemble(chunk, series: series, mode: .raw, withTargets: false)
                let o = try model.forward(batch, include: [])
                for (b, w) in chunk.enumerated() {
                    let issued = Int(w.start) - 1   // last observed step
                    let reach = critIndex - Int(w.start)   // forecast step index of the real crossing
                    var hit50 = false, hit90 = false
                    for k in 0..<H {
                        if Double(o.value(sample: b, target: t, step: k, quantile: q50)) >= inc.criticalLevel { hit50 = true }
                        if Double(o.value(sample: b, target: t, step: k, quantile: q90)) >= inc.criticalLevel { hit90 = true }
                    }
                    _ = reach
                    let lead = Double((critIndex - issued) * s.stepSeconds) / 60
                    if hit50 && leadP50 == nil { leadP50 = lead }
                    if hit90 && leadP90 == nil { leadP90 = lead }
                }
                i += batchSize
            }
            out.append(IncidentLead(incident: inc.id, server: inc.server, kind: inc.kind.rawValue, target: tname,
                                    criticalLevel: inc.criticalLevel, p50LeadMinutes: leadP50, p90LeadMinutes: leadP90))
        }
        return out
    }
}
