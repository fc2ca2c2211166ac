import Dispatch
import Foundation
import TFTCore
import Training

/// Cost and behaviour knobs of `/explain` (docs/explain.md).
public struct ExplainSettings: Sendable {
    /// Most model evaluations (perturbed windows) for the Shapley attributions.
    public var shapleyBudget = 512
    /// Windows per forward call.
    public var batchSize = 128
    /// Counterfactual changes apply to the newest `actionSteps` steps (12 × 5 min = the last hour), as if
    /// the action had been taken then and held.
    public var actionSteps = 12
    /// History (steps) the baseline medians are taken over (2016 × 5 min = 7 days, capped by the window).
    public var baselineSteps = 2016
    /// Reductions tried by the counterfactual search in the first pass (1/32 … 29/32).
    public var searchGrid = 29
    /// Points of the refinement pass between the last failing and first passing reduction.
    public var searchRefine = 8
    public init() {}
}

public enum ExplainError: Error, CustomStringConvertible {
    case warmingUp(server: String, have: Int, need: Int)
    public var description: String {
        switch self {
        case .warmingUp(let s, let have, let need): "Server \(s) is still warming up: \(have) of \(need) steps"
        }
    }
}

/// One `/explain` computation: re-runs the model on perturbed copies of one server's window.
public struct ExplainEngine: Sendable {
    public let model: TFTModel
    public let builder: FeatureBuilder
    public let scorer: RiskScorer
    public let settings: ExplainSettings

    public init(model: TFTModel, builder: FeatureBuilder, scorer: RiskScorer = RiskScorer(), settings: ExplainSettings = ExplainSettings()) {
        self.model = model; self.builder = builder; self.scorer = scorer; self.settings = settings
    }

    var spec: FeatureSpec { builder.spec }

    // MARK: Series helpers

    /// The newest `n` steps of `s`.
    static func suffix(_ s: ExplainSeries, _ n: Int) -> ExplainSeries {
        let k = min(n, s.count), drop = s.count - k, nM = s.values.count / max(s.count, 1)
        var values = [Float]()
        values.reserveCapacity(nM * k)
        for m in 0..<nM { values += s.values[(m * s.count + drop)..<((m + 1) * s.count)] }
        return ExplainSeries(name: s.name, profile: s.profile, startEpoch: s.epoch(ofStep: drop), stepSeconds: s.stepSeconds,
                            count: k, values: values, status: Array(s.status[drop...]))
    }

    static func median(_ x: ArraySlice<Float>) -> Float {
        let v = x.sorted()
        guard !v.isEmpty else { return 0 }
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }

    static func quantile(_ x: ArraySlice<Float>, _ q: Double) -> Float {
        let v = x.sorted()
        guard !v.isEmpty else { return 0 }
        return v[min(v.count - 1, max(0, Int((Double(v.count - 1) * q).rounded())))]
    }

    func metricIndex(source: String) -> Int? { spec.metrics.firstIndex { $0.source == source } }

    /// Applies `change` to the newest `steps` values of metric `m` (clamped to the metric's range).
    func modified(_ s: ExplainSeries, _ changes: [(Int, (Float) -> Float)], steps: Int) -> ExplainSeries {
        var out = s
        for (m, f) in changes {
            let metric = spec.metrics[m]
            for i in max(0, s.count - steps)..<s.count {
                var v = f(out.values[m * s.count + i])
                v = max(metric.lower, v)
                if let u = metric.upper { v = min(u, v) }
                out.values[m * s.count + i] = v
            }
        }
        return out
    }

    // MARK: Model + risk

    struct Run {
        var output: TFTOutput
        var risks: [ServerRisk]
    }

    /// Forecasts every variant (all of encoder length `s.count`) in batches and scores each forecast with
    /// the daemon's risk scorer, exactly as the inference engine does.
    func run(_ variants: [ExplainSeries], window: ServerWindow, include: TFTOutputOptions = []) throws -> Run {
        precondition(!variants.isEmpty)
        let Te = variants[0].count
        var risks: [ServerRisk] = []
        var last: TFTOutput?
        var start = 0
        while start < variants.count {
            let chunk = Array(variants[start..<min(variants.count, start + settings.batchSize)])
            let assembler = BatchAssembler(builder: builder, batchSize: chunk.count, encoderLength: Te)
            let refs = chunk.indices.map { WindowRef(series: $0, start: Te, encoderLength: Te) }
            let batch = assembler.assemble(refs, series: chunk, mode: .raw, withTargets: false)
            let output = try model.forward(batch, include: include)
            for (b, s) in chunk.enumerated() { risks.append(risk(output, sample: b, series: s, window: window)) }
            last = output
            start += settings.batchSize
        }
        return Run(output: last!, risks: risks)
    }

    /// The `RiskInput` the inference engine would build for this forecast (current = the series' newest step).
    func risk(_ output: TFTOutput, sample b: Int, series s: ExplainSeries, window: ServerWindow) -> ServerRisk {
        let cores = Double(s.profile.nominalCores)
        func current(_ source: String, complement: Bool = false) -> Double {
            if let m = metricIndex(source: source) { return Double(s.values[m * s.count + s.count - 1]) }
            let f = FeedMetric.names.firstIndex(of: source)!
            let raw = Double(window.feedValues[f * window.count + window.count - 1])
            return complement ? 100 - raw : raw
        }
        var cur: [ThresholdMetric: Double] = [
            .memory: current("mem_used_pct"), .iowait: current("cpu_iowait_pct"), .swap: current("swap_used_pct"),
            .disk: current("disk_usage_pct"), .loadPerCore: current("load_average") / cores,
        ]
        cur[.cpu] = metricIndex(source: "cpu_idle_pct").map { m in
            spec.metrics[m].transform == "complement100" ? Double(s.values[m * s.count + s.count - 1]) : 100 - Double(s.values[m * s.count + s.count - 1])
        } ?? current("cpu_idle_pct", complement: true)
        let mapping = TargetMapping(spec: spec)
        var graded: [ThresholdMetric: [[Float]]] = [:]
        let Q = output.quantiles.count, Td = output.decoderLength
        for (t, target) in spec.targets.enumerated() {
            guard let metric = mapping.graded[target] else { continue }
            graded[metric] = (0..<Q).map { q in
                (0..<Td).map { k in
                    let v = builder.clamp(output.value(sample: b, target: t, step: k, quantile: q), target: t)
                    return metric == .loadPerCore ? v / Float(cores) : v
                }
            }
        }
        return scorer.score(RiskInput(serverName: s.name, profile: s.profile, current: cur, forecast: graded,
                                      quantileLevels: output.quantiles, stepSeconds: s.stepSeconds))
    }

    // MARK: Explain

    /// Explains the latest forecast of `window` (feed units, oldest first; may be longer than the encoder —
    /// the extra history only feeds the baseline).
    public func explain(_ window: ServerWindow) throws -> Explanation {
        let started = DispatchTime.now().uptimeNanoseconds
        let fullSeries = try spec.series(from: window)
        guard fullSeries.count >= spec.minEncoderLength else {
            throw ExplainError.warmingUp(server: window.serverName, have: fullSeries.count, need: spec.minEncoderLength)
        }
        let Te = min(fullSeries.count, builder.config.maxEncoderLength)
        let actual = Self.suffix(fullSeries, Te)
        let history = Self.suffix(fullSeries, max(Te, settings.baselineSteps))
        let nM = spec.metrics.count
        var evaluations = 0

        // 1. The forecast itself, with attention and variable-selection weights.
        let base = try run([actual], window: window, include: .all)
        evaluations += 1
        let before = base.risks[0]

        // 2. Shapley attributions over the metrics + status, against the server's own typical values.
        let baseline = (0..<nM).map { m in Self.median(history.values[(m * history.count)..<((m + 1) * history.count)]) }
        var statusCounts = [Int](repeating: 0, count: 256)
        for st in history.status { statusCounts[Int(st)] += 1 }
        let baselineStatus = UInt8(statusCounts.indices.max { statusCounts[$0] < statusCounts[$1] } ?? 0)
        let players = nM + 1
        var seed: UInt64 = 1469598103934665603
        for byte in window.serverName.utf8 { seed = (seed ^ UInt64(byte)) &* 1099511628211 }
        seed ^= UInt64(bitPattern: window.lastEpoch)
        let shapley = try ShapleySampler.attribute(players: players, budget: settings.shapleyBudget, seed: seed,
                                                   batchSize: settings.batchSize) { masks in
            let variants = masks.map { mask -> ExplainSeries in
                var s = actual
                for m in 0..<nM where mask & (1 << UInt64(m)) == 0 {
                    for i in 0..<Te { s.values[m * Te + i] = baseline[m] }
                }
                if mask & (1 << UInt64(nM)) == 0 { s.status = [UInt8](repeating: baselineStatus, count: Te) }
                return s
            }
            return try run(variants, window: window).risks.map(\.score)
        }
        evaluations += shapley.evaluations
        var attributions: [Explanation.Attribution] = []
        for p in 0..<players {
            let isStatus = p == nM
            let source = isStatus ? "status" : spec.metrics[p].source
            let name = isStatus ? "Reported status" : ExplainVariables.humanName(source: source, transform: spec.metrics[p].transform)
            let currentValue: Double? = isStatus ? nil : Double(actual.values[p * Te + Te - 1])
            attributions.append(Explanation.Attribution(
                variable: isStatus ? "status" : spec.metrics[p].name, source: source, feature: name, contribution: shapley.values[p],
                current: currentValue, baseline: isStatus ? nil : Double(baseline[p]),
                currentStatus: isStatus ? TFTCore.ServerStatus(index: Int(actual.status[Te - 1]))?.rawValue : nil,
                baselineStatus: isStatus ? TFTCore.ServerStatus(index: Int(baselineStatus))?.rawValue : nil))
        }
        attributions.sort { abs($0.contribution) > abs($1.contribution) }

        // 3. Attention: mean over forecast steps of the heads-averaged attention on each encoder step.
        var attention = [Double](repeating: 0, count: Te)
        let Td = base.output.decoderLength
        for k in 0..<Td {
            let row = base.output.interpret(maxEncoderLength: Te, reduction: .none, horizon: k).attention
            for i in 0..<Te { attention[i] += Double(row[i]) / Double(Td) }
        }
        let interpretation = base.output.interpret(maxEncoderLength: Te, reduction: .mean)
        let focus = ExplainAttention.focusPeriods(attention, stepSeconds: actual.stepSeconds)
        let Ve = builder.config.encoderVariables.count
        var focusVariables: [(variable: String, weight: Double)] = []
        for f in focus {
            var w = [Double](repeating: 0, count: Ve)
            for t in f.first...f.last { for v in 0..<Ve { w[v] += Double(base.output.encoderWeights[t * Ve + v]) } }
            let total = w.reduce(0, +)
            // Calendar features share a human name; add them up per name.
            var byName: [String: Double] = [:]
            for (v, name) in builder.config.encoderVariables.enumerated() { byName[name, default: 0] += w[v] / max(total, 1e-12) }
            let best = byName.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!
            focusVariables.append((best.key, best.value))
        }

        // 4. Counterfactuals.
        let counterfactuals = try counterfactuals(actual: actual, history: history, window: window, before: before,
                                                  attributions: attributions, evaluations: &evaluations)

        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        return Explanation(
            serverName: window.serverName, profile: actual.profile, lastEpoch: window.lastEpoch, stepSeconds: actual.stepSeconds,
            encoderSteps: Te, decoderSteps: Td, risk: before, attributions: attributions, shapley: shapley, attention: attention, focus: focus,
            focusVariables: focusVariables, series: actual, spec: spec,
            encoderImportance: zip(builder.config.encoderVariables, interpretation.encoderVariables).map { ($0, Double($1)) },
            staticImportance: zip(builder.config.staticVariables, interpretation.staticVariables).map { ($0, Double($1)) },
            decoderImportance: zip(builder.config.decoderVariables, interpretation.decoderVariables).map { ($0, Double($1)) },
            counterfactuals: counterfactuals, evaluations: evaluations, milliseconds: elapsed)
    }
}
