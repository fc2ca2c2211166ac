import HTTPServer
import TFTCore
import Training

/// The result of one `/explain` computation (see `json`).
public struct Explanation: Sendable {
    public struct Attribution: Sendable {
        public var variable: String
        public var source: String
        public var feature: String
        /// φ: risk points this variable's history adds (+) or removes (−) versus its baseline.
        public var contribution: Double
        public var current: Double?
        public var baseline: Double?
        public var currentStatus: String?
        public var baselineStatus: String?
    }

    public struct Counterfactual: Sendable {
        public var scenario: String
        public var impact: String
        public var recommendation: String
        public var riskBefore: Double
        public var riskAfter: Double
        public var levelAfter: AlertLevel
        public var foundBy: String
        public var reduction: Double?
        public var metric: String?
    }

    public var serverName: String
    public var profile: ServerProfile
    public var lastEpoch: Int64
    public var stepSeconds: Int
    public var encoderSteps: Int
    public var decoderSteps: Int
    /// Risk of the re-run forecast of the unmodified window (equals the snapshot's for the same window).
    public var risk: ServerRisk
    /// Sorted by |contribution|, largest first.
    public var attributions: [Attribution]
    public var shapley: ShapleySampler.Result
    /// Mean attention per encoder step (oldest first).
    public var attention: [Double]
    var focus: [ExplainAttention.Focus]
    var focusVariables: [(variable: String, weight: Double)]
    var series: ExplainSeries
    var spec: FeatureSpec
    public var encoderImportance: [(String, Double)]
    public var staticImportance: [(String, Double)]
    public var decoderImportance: [(String, Double)]
    public var counterfactuals: [Counterfactual]
    public var evaluations: Int
    public var milliseconds: Double

    static func r(_ x: Double, _ p: Double = 1000) -> JSONValue { .double((x * p).rounded() / p) }

    /// The analysis sentence: where the model looked, what it weighted there and how that variable moved.
    public var analysis: String {
        guard let main = focus.first else { return "Attention is spread evenly over the history: no period stands out" }
        var text = "Model focused on \(main.label.prefix(1).lowercased() + main.label.dropFirst()) (\(Int((main.share * 100).rounded()))% of its attention)"
        if let v = focusVariables.first {
            let human = ExplainVariables.humanName(variable: v.variable, spec: spec)
            text += ", weighting \(human) most (\(Int((v.weight * 100).rounded()))% of variable selection there)"
            if let m = spec.metrics.firstIndex(where: { $0.name == v.variable }) {
                let a = Double(series.values[m * series.count + main.first]), b = Double(series.values[m * series.count + main.last])
                let src = spec.metrics[m].source
                let verb = abs(b - a) < 1e-6 ? "held at \(ExplainVariables.format(b, source: src))"
                    : (b > a ? "rose from" : "fell from") + " \(ExplainVariables.format(a, source: src)) to \(ExplainVariables.format(b, source: src))"
                text += abs(b - a) < 1e-6 ? ", which \(verb)" : ", which \(verb)"
            }
        }
        if focus.count > 1 {
            text += "; secondary focus: " + focus.dropFirst().map { "\($0.label.prefix(1).lowercased() + $0.label.dropFirst()) (\(Int(($0.share * 100).rounded()))%)" }.joined(separator: ", ")
        }
        if let top = attributions.first, abs(top.contribution) >= 0.05 {
            text += ". Largest driver of the risk: \(top.feature) (\(top.contribution >= 0 ? "+" : "")\(ExplainEngine.fmt(top.contribution)) points)"
        }
        return text
    }

    func importanceList(_ items: [(String, Double)]) -> JSONValue {
        .array(items.sorted { $0.1 > $1.1 }.map { name, w in
            .object([("variable", .string(name)), ("feature", .string(ExplainVariables.humanName(variable: name, spec: spec))),
                     ("importance", Self.r(w))])
        })
    }

    /// The spec's shape plus additions (docs/explain.md). `snapshotRisk`: the score the snapshot published.
    public func json(snapshotRisk: Double?, snapshotLevel: AlertLevel?, tick: Int64?, model: String?, cached: Bool,
                     maxFeatures: Int = 10) -> JSONValue {
        let total = attributions.map { abs($0.contribution) }.reduce(0, +)
        let maxAbs = attributions.map { abs($0.contribution) }.max() ?? 0
        let features: [JSONValue] = attributions.prefix(maxFeatures).map { a in
            let share = total > 1e-9 ? abs(a.contribution) / total : 0
            let stars = maxAbs > 1e-9 && total >= 0.05 ? Int((5 * abs(a.contribution) / maxAbs).rounded()) : 0
            var members: [(String, JSONValue)] = [
                ("feature", .string(a.feature)), ("importance", Self.r(share)), ("stars", .string(ExplainVariables.stars(stars))),
                ("variable", .string(a.variable)), ("contribution", Self.r(a.contribution, 100)),
                ("direction", .string(a.contribution > 0.005 ? "raises risk" : (a.contribution < -0.005 ? "lowers risk" : "no effect"))),
            ]
            if let c = a.current { members.append(("current_value", Self.r(c, 100))) }
            if let b = a.baseline { members.append(("baseline_value", Self.r(b, 100))) }
            if let c = a.currentStatus { members.append(("current_value", .string(c))) }
            if let b = a.baselineStatus { members.append(("baseline_value", .string(b))) }
            return .object(members)
        }
        let stepMinutes = Double(stepSeconds) / 60
        let details: [JSONValue] = focus.map { f in
            .object([("period", .string(f.label)), ("attention_share", Self.r(f.share)),
                     ("from_minutes_ago", .int(Int((Double(encoderSteps - 1 - f.first) * stepMinutes).rounded()))),
                     ("to_minutes_ago", .int(Int((Double(encoderSteps - 1 - f.last) * stepMinutes).rounded()))),
                     ("peak_minutes_ago", .int(f.peakAgeMinutes))])
        }
        let recent = attention.suffix(max(1, Int(30 / stepMinutes) + 1)).reduce(0, +)
        let score = snapshotRisk ?? risk.score
        return .object([
            ("server_name", .string(serverName)),
            ("prediction", .object([
                ("risk_score", Self.r(score, 10)), ("alert_level", .string((snapshotLevel ?? risk.level).rawValue)),
                ("profile", .string(profile.displayName)), ("recomputed_risk_score", Self.r(risk.score, 10)),
                ("tick", tick.map { .int(Int($0)) } ?? .null), ("model", model.map { .string($0) } ?? .null),
                ("last_observation", .string(ISO8601Timestamp.format(lastEpoch))),
            ])),
            ("shap", .object([
                ("top_features", .array(features)),
                ("method", .string(shapley.exact ? "exact Shapley values (all coalitions)" : "Shapley permutation sampling (antithetic pairs)")),
                ("explained_quantity", "risk_score"),
                ("baseline", "per-variable median of the server's own recent history (status: its most frequent value); whole encoder history replaced"),
                ("baseline_risk_score", Self.r(shapley.baselineValue, 10)),
                ("model_evaluations", .int(shapley.evaluations)),
                ("permutations", .int(shapley.permutations)),
            ])),
            ("attention", .object([
                ("focus_periods", .array(focus.map { .string($0.label) })),
                ("analysis", .string(analysis)),
                ("focus_details", .array(details)),
                ("last_30_minutes_share", Self.r(recent)),
                ("source", .string("model attention weights (heads averaged, mean over \(decoderSteps) forecast steps) over \(encoderSteps) history steps")),
                // The whole curve, for charts: the attention on each history step, oldest first.
                ("encoder_weights", .array(attention.map { Self.r($0, 100_000) })),
                ("step_minutes", .double(stepMinutes)),
            ])),
            ("counterfactuals", .array(counterfactuals.map { c in
                var m: [(String, JSONValue)] = [("scenario", .string(c.scenario)), ("impact", .string(c.impact)),
                                                 ("recommendation", .string(c.recommendation)),
                                                 ("risk_before", Self.r(c.riskBefore, 10)), ("risk_after", Self.r(c.riskAfter, 10)),
                                                 ("level_after", .string(c.levelAfter.rawValue)), ("found_by", .string(c.foundBy))]
                if let red = c.reduction { m.append(("reduction_pct", Self.r(red * 100, 10))) }
                if let metric = c.metric { m.append(("variable", .string(metric))) }
                return .object(m)
            })),
            ("model_variable_importance", .object([
                ("encoder", importanceList(encoderImportance)), ("static", importanceList(staticImportance)),
                ("decoder", importanceList(decoderImportance)),
                ("source", "mean variable-selection weights of this forecast (pytorch-forecasting interpret_output)"),
            ])),
            ("cost", .object([("model_evaluations", .int(evaluations)), ("milliseconds", Self.r(milliseconds, 10)), ("cached", .bool(cached))])),
        ])
    }

}
