import Foundation

/// Online calibration of one series' forecast bands from its own recent errors (adaptive conformal
/// inference, Gibbs & Candès 2021), one width factor per scored horizon.
///
/// Every tick: ``observe(step:actual:)`` scores the forecasts issued `h` steps earlier for the step that
/// just closed (raw P10/P50/P90 kept for horizons 1, 6, 24 and 96), then ``apply(to:quantiles:)`` widens
/// or narrows the new forecast's quantiles around its P50 by the factors, then ``record(lastStep:...)``
/// keeps the new raw forecast for scoring later. A forecast's score is how far the actual value fell from
/// the P50 in units of the raw half band on its side (`r ≤ 1` = inside the raw P10–P90); a miss is
/// `r > factor`. Each score moves `ln factor` by `rate · (miss − 0.2)`: the long-run miss rate of the
/// served band goes to 0.2 (coverage 0.8) whatever the model's noise assumption was. Cost per series per
/// tick: four comparisons and a multiply-add per served value; memory: 127 pending forecasts.
public struct BandCalibration: Codable, Sendable, Equatable {
    public static let horizons = [1, 6, 24, 96]
    public static let targetCoverage: Float = 0.8
    public static let rate: Float = 0.05
    public static let logFactorRange: ClosedRange<Float> = log(0.25)...log(8)

    /// `ln` of the width factor per horizon in ``horizons``.
    public var logFactors: [Float]
    /// Forecasts scored, inside the raw band, inside the served (calibrated) band.
    public var scored = 0
    public var insideRaw = 0
    public var insideServed = 0

    struct Pending: Sendable, Equatable { var due: Int64 = .min; var low: Float = 0, mid: Float = 0, high: Float = 0 }
    /// Per horizon `h`, a ring of `h` slots indexed by `due mod h` (not persisted: a restart only delays scoring).
    var pending: [[Pending]]

    enum CodingKeys: String, CodingKey { case logFactors = "log_factors", scored, insideRaw = "inside_raw", insideServed = "inside_served" }

    public init() {
        logFactors = [Float](repeating: 0, count: Self.horizons.count)
        pending = Self.horizons.map { [Pending](repeating: Pending(), count: $0) }
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let factors = try c.decode([Float].self, forKey: .logFactors)
        if factors.count == Self.horizons.count { logFactors = factors.map { min(max($0, Self.logFactorRange.lowerBound), Self.logFactorRange.upperBound) } }
        scored = try c.decode(Int.self, forKey: .scored)
        insideRaw = try c.decode(Int.self, forKey: .insideRaw)
        insideServed = try c.decode(Int.self, forKey: .insideServed)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(logFactors, forKey: .logFactors)
        try c.encode(scored, forKey: .scored)
        try c.encode(insideRaw, forKey: .insideRaw)
        try c.encode(insideServed, forKey: .insideServed)
    }

    /// Width factor per horizon in ``horizons``.
    public var factors: [Float] { logFactors.map { exp($0) } }

    /// Width factor for forecast step `k` (1-based): linear in `ln k` between the scored horizons.
    public func factor(step k: Int) -> Float {
        let hs = Self.horizons
        if k <= hs[0] { return exp(logFactors[0]) }
        for i in 1..<hs.count where k <= hs[i] {
            let w = (log(Float(k)) - log(Float(hs[i - 1]))) / (log(Float(hs[i])) - log(Float(hs[i - 1])))
            return exp(logFactors[i - 1] + w * (logFactors[i] - logFactors[i - 1]))
        }
        return exp(logFactors[hs.count - 1])
    }

    /// Scores the forecasts that were due at `step` (absolute step number: epoch / step seconds).
    public mutating func observe(step: Int64, actual: Float) {
        guard actual.isFinite else { return }
        for (i, h) in Self.horizons.enumerated() {
            let slot = Int(step % Int64(h))
            let p = pending[i][slot]
            guard p.due == step else { continue }
            pending[i][slot].due = .min
            let r: Float
            if actual >= p.mid { r = p.high > p.mid ? (actual - p.mid) / (p.high - p.mid) : (actual == p.mid ? 0 : .infinity) }
            else { r = p.mid > p.low ? (p.mid - actual) / (p.mid - p.low) : .infinity }
            let miss = r > exp(logFactors[i])
            scored += 1
            if r <= 1 { insideRaw += 1 }
            if !miss { insideServed += 1 }
            let next = logFactors[i] + Self.rate * ((miss ? 1 : 0) - (1 - Self.targetCoverage))
            logFactors[i] = min(max(next, Self.logFactorRange.lowerBound), Self.logFactorRange.upperBound)
        }
    }

    /// Keeps the raw band of a forecast issued after `lastStep` (`low/mid/high[k]` = step `lastStep + k + 1`).
    public mutating func record(lastStep: Int64, low: [Float], mid: [Float], high: [Float]) {
        for (i, h) in Self.horizons.enumerated() where h <= mid.count {
            let due = lastStep + Int64(h)
            pending[i][Int(due % Int64(h))] = Pending(due: due, low: low[h - 1], mid: mid[h - 1], high: high[h - 1])
        }
    }

    /// Rescales `values[quantile][step]` around the median row by the per-step factor.
    public func apply(to values: inout [[Float]], medianRow m: Int) {
        guard m < values.count else { return }
        let steps = values[m].count
        for k in 0..<steps {
            let s = factor(step: k + 1), mid = values[m][k]
            for q in values.indices where q != m { values[q][k] = mid + s * (values[q][k] - mid) }
        }
    }

    /// Index of the quantile nearest `level`.
    public static func row(_ level: Float, in quantiles: [Float]) -> Int {
        quantiles.indices.min { abs(quantiles[$0] - level) < abs(quantiles[$1] - level) } ?? 0
    }

    /// The whole tick for one series: scores what was due at `lastStep`, keeps the new raw forecast,
    /// and returns it calibrated (before clamping to the metric's range).
    public mutating func update(lastStep: Int64, actual: Float, forecast values: [[Float]], quantiles: [Float]) -> [[Float]] {
        observe(step: lastStep, actual: actual)
        let lo = Self.row(0.1, in: quantiles), m = Self.row(0.5, in: quantiles), hi = Self.row(0.9, in: quantiles)
        record(lastStep: lastStep, low: values[lo], mid: values[m], high: values[hi])
        var out = values
        apply(to: &out, medianRow: m)
        return out
    }
}

extension FeatureSpec {
    /// The newest observed value of model metric `name` in `window` (feed units, the metric's transform
    /// applied; the last finite value, as the forward fill sees it), or nil if none is observed.
    public func lastValue(of name: String, in window: ServerWindow) -> Float? {
        guard let m = metrics.firstIndex(where: { $0.name == name }) else { return nil }
        let src = metricSources[m], base = src.feed * window.count
        for i in stride(from: window.count - 1, through: 0, by: -1) where window.feedValues[base + i].isFinite {
            return src.complement ? 100 - window.feedValues[base + i] : window.feedValues[base + i]
        }
        return nil
    }
}
