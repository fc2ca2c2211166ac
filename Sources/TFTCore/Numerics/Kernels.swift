#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// Element-wise and row-wise kernels. Loops are written over raw pointers with no bounds checks
/// in the hot path so the optimiser vectorises them.
enum Kernels {
    static let layerNormEpsilon: Float = 1e-5

    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// `y[r, :] += bias` for every row.
    static func addBias(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = y + r * cols
            for c in 0..<cols { row[c] += bias[c] }
        }
    }

    /// `g[c] += Σ_r dy[r, c]`.
    static func accumulateColumnSums(_ dy: UnsafePointer<Float>, rows: Int, cols: Int, into g: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = dy + r * cols
            for c in 0..<cols { g[c] += row[c] }
        }
    }

    /// `y += x` over `count` floats.
    @inline(__always)
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// `y += a·x` over `count` floats.
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += a * x[i] }
    }

    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var s: Float = 0
        for i in 0..<count { s += x[i] * y[i] }
        return s
    }

    /// LayerNorm over each row of `x` (biased variance, eps 1e-5). Writes `y`, and the normalised
    /// input `xhat` and `rstd` per row when the caller needs them for the backward pass.
    static func layerNormForward(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, xhat: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?
    ) {
        let inv = 1 / Float(cols)
        for r in 0..<rows {
            let xr = x + r * cols, yr = y + r * cols
            var mean: Float = 0
            for c in 0..<cols { mean += xr[c] }
            mean *= inv
            var variance: Float = 0
            for c in 0..<cols { let d = xr[c] - mean; variance += d * d }
            variance *= inv
            let rs = 1 / (variance + layerNormEpsilon).squareRoot()
            if let xhat {
                let hr = xhat + r * cols
                for c in 0..<cols { let h = (xr[c] - mean) * rs; hr[c] = h; yr[c] = h * gamma[c] + beta[c] }
            } else {
                for c in 0..<cols { yr[c] = (xr[c] - mean) * rs * gamma[c] + beta[c] }
            }
            rstd?[r] = rs
        }
    }

    /// LayerNorm backward: accumulates into `dx`, `dGamma`, `dBeta`.
    /// `dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂))` with `dx̂ = dy ⊙ γ`.
    static func layerNormBackward(
        dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>, dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?,
        dx: UnsafeMutablePointer<Float>
    ) {
        let inv = 1 / Float(cols)
        for r in 0..<rows {
            let dyr = dy + r * cols, hr = xhat + r * cols, dxr = dx + r * cols
            var sumD: Float = 0, sumDH: Float = 0
            for c in 0..<cols {
                let d = dyr[c] * gamma[c]
                sumD += d
                sumDH += d * hr[c]
            }
            let meanD = sumD * inv, meanDH = sumDH * inv, rs = rstd[r]
            for c in 0..<cols {
                dxr[c] += rs * (dyr[c] * gamma[c] - meanD - hr[c] * meanDH)
            }
            if let dGamma, let dBeta {
                for c in 0..<cols { dGamma[c] += dyr[c] * hr[c]; dBeta[c] += dyr[c] }
            }
        }
    }

    /// In-place softmax over each row.
    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let xr = x + r * cols
            var m = -Float.infinity
            for c in 0..<cols { m = max(m, xr[c]) }
            var s: Float = 0
            for c in 0..<cols { let e = expf(xr[c] - m); xr[c] = e; s += e }
            let inv = 1 / s
            for c in 0..<cols { xr[c] *= inv }
        }
    }

    /// Softmax backward for one row: `dz = p ⊙ (dp − Σ dp ⊙ p)`, written into `dz` (overwrites).
    @inline(__always)
    static func softmaxBackwardRow(p: UnsafePointer<Float>, dp: UnsafePointer<Float>, dz: UnsafeMutablePointer<Float>, cols: Int) {
        let s = dot(p, dp, count: cols)
        for c in 0..<cols { dz[c] = p[c] * (dp[c] - s) }
    }
}
