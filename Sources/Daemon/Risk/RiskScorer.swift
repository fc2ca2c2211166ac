import TFTCore

/// What the scorer needs about one server: its profile, the current value of each graded metric and,
/// where the model forecasts it, the quantile forecast in the same units.
public struct RiskInput: Sendable {
    public var serverName: String
    public var profile: ServerProfile
    /// Current value per graded metric (CPU busy %, memory %, iowait %, swap %, disk %, load per core).
    public var current: [ThresholdMetric: Double]
    /// Per graded metric: `[quantile][step]`, same units as `current`.
    public var forecast: [ThresholdMetric: [[Float]]]
    public var quantileLevels: [Float]
    public var stepSeconds: Int

    public init(serverName: String, profile: ServerProfile, current: [ThresholdMetric: Double],
                forecast: [ThresholdMetric: [[Float]]], quantileLevels: [Float], stepSeconds: Int) {
        self.serverName = serverName; self.profile = profile; self.current = current; self.forecast = forecast
        self.quantileLevels = quantileLevels; self.stepSeconds = stepSeconds
    }
}

/// The earliest point at which a metric reaches a threshold level.
public struct ThresholdCrossing: Sendable, Equatable {
    public enum Severity: String, Sendable { case warning, critical }
    public var metric: ThresholdMetric
    public var severity: Severity
    /// 0 = already there now; k ≥ 1 = the k-th forecast step.
    public var steps: Int
    public var minutes: Int
    public var value: Double
    public var threshold: Double
}

/// One graded metric of one server.
public struct MetricRisk: Sendable {
    public var metric: ThresholdMetric
    public var current: Double
    public var currentScore: Double
    public var forecastScore: Double
    public var score: Double
    public var crossing: ThresholdCrossing?
    public var prob30m: Double
    public var prob8h: Double
}

/// A server's risk: the score (0–100), its level, the per-metric details and crossing probabilities.
public struct ServerRisk: Sendable {
    public var serverName: String
    public var profile: ServerProfile
    public var score: Double
    public var level: AlertLevel
    public var metrics: [MetricRisk]
    public var prob30m: Double
    public var prob8h: Double
    /// One per metric that reaches warning or critical (now or within the horizon), earliest crossing.
    public var crossings: [ThresholdCrossing]
}

/// Risk scoring from ONE table: profiles come from ``ServerProfile`` (prefix/keyword rules, feed
/// override), thresholds from ``ProfileThresholds``, levels from ``AlertLevel`` (80/60/50). Method
/// (docs/risk.md):
///
/// - each metric value is graded by a piecewise-linear map anchored on the profile's thresholds:
///   0 → 0, `degradedAt = warning − (critical − warning)/2` → 50, warning → 60, critical → 80,
///   `critical + (critical − warning)` → 100;
/// - current score = grade(current value); forecast score = max over horizon steps of
///   grade(p50 at the step) × lead discount (1.0 up to 30 min, falling linearly to 0.85 at 8 h);
/// - metric score = max(current, forecast); server risk = max over metrics;
/// - crossing probabilities per metric = max over steps of P(X ≥ critical) from the quantile forecast
///   (``QuantileDistribution``), 1 when already at critical; per server 1 − Π(1 − p_metric).
public struct RiskScorer: Sendable {
    /// Minutes within which a crossing counts for `prob_30m`.
    public var shortWindowMinutes = 30
    /// Minutes within which a crossing counts for `prob_8h` (capped by the model's horizon).
    public var longWindowMinutes = 480
    /// Lead discount at the far end of `longWindowMinutes`.
    public var farDiscount = 0.85

    public init() {}

    public static func grade(_ x: Double, _ levels: ThresholdLevels) -> Double {
        let w = levels.warning, c = levels.critical, span = c - w
        var d = w - span / 2
        if d <= 0 { d = w * 0.9 }
        if !(x > 0) { return 0 }
        if x < d { return 50 * x / d }
        if x < w { return 50 + 10 * (x - d) / (w - d) }
        if x < c { return 60 + 20 * (x - w) / span }
        return min(100, 80 + 20 * (x - c) / span)
    }

    func discount(minutes: Double) -> Double {
        if minutes <= Double(shortWindowMinutes) { return 1 }
        let t = min(1, (minutes - Double(shortWindowMinutes)) / Double(max(1, longWindowMinutes - shortWindowMinutes)))
        return 1 - (1 - farDiscount) * t
    }

    /// `P(X ≥ threshold)` at forecast step `k` of `q` (`[quantile][step]`), without allocating.
    func exceedance(_ threshold: Double, column k: Int, of q: [[Float]], levels: [Double]) -> Double {
        let n = q.count
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * n + 2) { scratch in
            for j in 0..<n { scratch[j] = Double(q[j][k]) }
            return levels.withUnsafeBufferPointer { levels in
                QuantileDistribution.exceedance(threshold, sorting: UnsafeMutableBufferPointer(rebasing: scratch[0..<n]), levels: levels,
                                                scratch: UnsafeMutableBufferPointer(rebasing: scratch[n..<(2 * n + 2)]))
            }
        }
    }

    public func score(_ input: RiskInput) -> ServerRisk {
        let table = ProfileThresholds.for(input.profile)
        let levels = input.quantileLevels.map(Double.init)
        let medianIndex = levels.enumerated().min { abs($0.element - 0.5) < abs($1.element - 0.5) }?.offset ?? 0
        let stepMinutes = Double(input.stepSeconds) / 60
        var metrics: [MetricRisk] = []
        var crossings: [ThresholdCrossing] = []
        for metric in ThresholdMetric.allCases {
            guard let current = input.current[metric] else { continue }
            let t = table[metric]
            let currentScore = Self.grade(current, t)
            var forecastScore = 0.0
            var crossing: ThresholdCrossing?
            if current >= t.critical {
                crossing = ThresholdCrossing(metric: metric, severity: .critical, steps: 0, minutes: 0, value: current, threshold: t.critical)
            }
            var p30 = current >= t.critical ? 1.0 : 0, p8 = p30
            if let q = input.forecast[metric], !q.isEmpty, medianIndex < q.count {
                let p50 = q[medianIndex]
                var firstWarning: ThresholdCrossing?
                for k in 0..<p50.count {
                    let minutes = Double(k + 1) * stepMinutes
                    if minutes > Double(longWindowMinutes) + 1e-9 { break }
                    let v = Double(p50[k])
                    forecastScore = max(forecastScore, Self.grade(v, t) * discount(minutes: minutes))
                    if crossing == nil && v >= t.critical {
                        crossing = ThresholdCrossing(metric: metric, severity: .critical, steps: k + 1, minutes: Int(minutes.rounded()),
                                                     value: v, threshold: t.critical)
                    }
                    if firstWarning == nil && v >= t.warning {
                        firstWarning = ThresholdCrossing(metric: metric, severity: .warning, steps: k + 1, minutes: Int(minutes.rounded()),
                                                         value: v, threshold: t.warning)
                    }
                    if p8 < 1 && q.count == levels.count {
                        let p = exceedance(t.critical, column: k, of: q, levels: levels)
                        p8 = max(p8, p)
                        if minutes <= Double(shortWindowMinutes) + 1e-9 { p30 = max(p30, p) }
                    }
                }
                if crossing == nil {
                    if current >= t.warning {
                        crossing = ThresholdCrossing(metric: metric, severity: .warning, steps: 0, minutes: 0, value: current, threshold: t.warning)
                    } else {
                        crossing = firstWarning
                    }
                }
            } else if crossing == nil && current >= t.warning {
                crossing = ThresholdCrossing(metric: metric, severity: .warning, steps: 0, minutes: 0, value: current, threshold: t.warning)
            }
            let score = max(currentScore, forecastScore)
            metrics.append(MetricRisk(metric: metric, current: current, currentScore: currentScore, forecastScore: forecastScore,
                                      score: score, crossing: crossing, prob30m: p30, prob8h: p8))
            if let crossing { crossings.append(crossing) }
        }
        let score = ((metrics.map(\.score).max() ?? 0) * 10).rounded() / 10
        let p30 = 1 - metrics.reduce(1.0) { $0 * (1 - $1.prob30m) }
        let p8 = 1 - metrics.reduce(1.0) { $0 * (1 - $1.prob8h) }
        return ServerRisk(serverName: input.serverName, profile: input.profile, score: score, level: AlertLevel(score: score),
                          metrics: metrics, prob30m: p30, prob8h: p8, crossings: crossings)
    }
}
