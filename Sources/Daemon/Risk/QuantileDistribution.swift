/// Exceedance probabilities from a handful of forecast quantiles.
///
/// The quantile forecast `(τᵢ, vᵢ)` (τ = 0.02 … 0.98) is read as a piecewise-linear CDF through the
/// points `(vᵢ, τᵢ)`; below the lowest and above the highest quantile the CDF continues with the slope of
/// the outermost segment until it reaches 0 and 1 (bounded tails, no invented heavy tail). Crossed
/// quantiles are sorted first. `P(X ≥ c) = 1 − F(c)`. Method and rationale: docs/risk.md.
public enum QuantileDistribution {
    public static func exceedance(_ threshold: Double, values: [Double], levels: [Double]) -> Double {
        precondition(values.count == levels.count && !values.isEmpty)
        let n = values.count
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * n + 2) { scratch in
            let v = UnsafeMutableBufferPointer(rebasing: scratch[0..<n])
            _ = v.initialize(from: values)
            return levels.withUnsafeBufferPointer { levels in
                exceedance(threshold, sorting: v, levels: levels,
                           scratch: UnsafeMutableBufferPointer(rebasing: scratch[n..<(2 * n + 2)]))
            }
        }
    }

    /// The same as ``exceedance(_:values:levels:)`` without allocating (the risk scorer calls it for every
    /// metric and forecast step of every server): sorts `v` in place and uses `scratch` (≥ `v.count + 2`).
    static func exceedance(_ threshold: Double, sorting values: UnsafeMutableBufferPointer<Double>, levels: UnsafeBufferPointer<Double>,
                           scratch xs: UnsafeMutableBufferPointer<Double>) -> Double {
        var v = values
        let n = v.count
        precondition(n == levels.count && n > 0 && xs.count >= n + 2)
        v.sort()
        if n == 1 { return threshold <= v[0] ? 1 - levels[0] : 0 }
        // Tail anchors.
        let lowSlope = max(v[1] - v[0], 1e-9) / max(levels[1] - levels[0], 1e-9)
        let lower = v[0] - levels[0] * lowSlope
        let highSlope = max(v[n - 1] - v[n - 2], 1e-9) / max(levels[n - 1] - levels[n - 2], 1e-9)
        let upper = v[n - 1] + (1 - levels[n - 1]) * highSlope
        if threshold <= lower { return 1 }
        if threshold >= upper { return 0 }
        // xs = [lower] + v + [upper], fs = [0] + levels + [1].
        let count = n + 2
        xs[0] = lower
        for i in 0..<n { xs[i + 1] = v[i] }
        xs[n + 1] = upper
        @inline(__always) func fs(_ i: Int) -> Double { i == 0 ? 0 : i == n + 1 ? 1 : levels[i - 1] }
        // Keep x strictly increasing for interpolation.
        for i in 1..<count where xs[i] < xs[i - 1] { xs[i] = xs[i - 1] }
        var i = 1
        while i < count && xs[i] < threshold { i += 1 }
        if i >= count { return 0 }
        let x0 = xs[i - 1], x1 = xs[i]
        let f = x1 > x0 ? fs(i - 1) + (fs(i) - fs(i - 1)) * (threshold - x0) / (x1 - x0) : fs(i)
        return min(1, max(0, 1 - f))
    }
}
