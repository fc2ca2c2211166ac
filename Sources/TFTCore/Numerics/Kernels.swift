#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// Element-wise and row-wise kernels. Loops are written over raw pointers with no bounds checks
/// in the hot path so the optimiser vectorises them.
enum Kernels {
    static let layerNormEpsilon: Float = 1e-5

    /// `exp(x)` without a libm call, so loops that use it vectorise: Cody–Waite range reduction and
    /// Cephes' degree-6 polynomial (≈ 1 ulp on [−87, 88]; inputs are clamped to that range).
    @inline(__always) static func exp(_ x: Float) -> Float {
        let x = min(max(x, -87.3), 88.3)
        let t = x * 1.442_695_04 + 12_582_912      // 1.5·2²³: rounds to nearest integer in the mantissa
        let k = t - 12_582_912
        let r = x - k * 0.693_359_375 + k * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * r * r + r + 1
        // 2^k from t's bits (its low mantissa bits hold k), not `Int32(k)`: that traps on NaN in debug builds,
        // and a diverged training run feeds NaN through here (the result is NaN either way).
        let scale = Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) << 23)
        return p * scale
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    @inline(__always) static func tanh(_ x: Float) -> Float { 2 / (1 + exp(-2 * x)) - 1 }

    /// ELU with α = 1.
    @inline(__always) static func elu(_ x: Float) -> Float { x > 0 ? x : exp(x) - 1 }

    /// `y[r, :] = row` for every row. Vector stores, not `update(from:)`: that is a `memmove` call per row.
    static func fillRows(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, with row: UnsafePointer<Float>) {
        if cols % 8 == 0 {
            for r in 0..<rows {
                let yr = y + r * cols
                var c = 0
                while c < cols { store(load(row + c), yr + c); c += 8 }
            }
            return
        }
        for r in 0..<rows {
            let yr = y + r * cols
            for c in 0..<cols { yr[c] = row[c] }
        }
    }

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
        dotProduct(x, y, count)
    }

    /// LayerNorm over each row of `x` (biased variance, eps 1e-5). Writes `y` (which may be `x`), and the
    /// normalised input `xhat` and `rstd` per row when the caller needs them for the backward pass.
    static func layerNormForward(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, xhat: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?
    ) {
        if cols == 32 {
            for r in 0..<rows {
                let xr = x + r * 32
                layerNormRow32(load(xr), load(xr + 8), load(xr + 16), load(xr + 24), gamma: gamma, beta: beta,
                               y: y + r * 32, xhat: xhat.map { $0 + r * 32 }, rstd: rstd.map { $0 + r })
            }
            return
        }
        let inv = 1 / Float(cols)
        for r in 0..<rows {
            let xr = x + r * cols, yr = y + r * cols
            let mean = sum(xr, cols) * inv
            var variance: Float = 0
            var acc = Vec8(), c = 0
            let m8 = Vec8(repeating: mean)
            while c + 8 <= cols { let d = load(xr + c) - m8; acc += d * d; c += 8 }
            variance = hsum(acc)
            while c < cols { let d = xr[c] - mean; variance += d * d; c += 1 }
            variance *= inv
            let rs = 1 / (variance + layerNormEpsilon).squareRoot()
            // Two loops rather than `hr?[c] = h`: LLVM turns that optional store into a masked store
            // (`vmaskmovps`), which is microcoded and costs ~50 cycles on AMD cores.
            if let xhat {
                let hr = xhat + r * cols
                for c in 0..<cols { hr[c] = (xr[c] - mean) * rs }
            }
            c = 0
            let rs8 = Vec8(repeating: rs)
            while c + 8 <= cols {
                store((load(xr + c) - m8) * rs8 * load(gamma + c) + load(beta + c), yr + c)
                c += 8
            }
            while c < cols { yr[c] = (xr[c] - mean) * rs * gamma[c] + beta[c]; c += 1 }
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
            var aD = Vec8(), aDH = Vec8(), c = 0
            while c + 8 <= cols {
                let d = load(dyr + c) * load(gamma + c)
                aD += d; aDH += d * load(hr + c); c += 8
            }
            var sumD = hsum(aD), sumDH = hsum(aDH)
            while c < cols { let d = dyr[c] * gamma[c]; sumD += d; sumDH += d * hr[c]; c += 1 }
            let meanD = sumD * inv, meanDH = sumDH * inv, rs = rstd[r]
            c = 0
            let md = Vec8(repeating: meanD), mdh = Vec8(repeating: meanDH), rs8 = Vec8(repeating: rs)
            while c + 8 <= cols {
                store(load(dxr + c) + rs8 * (load(dyr + c) * load(gamma + c) - md - load(hr + c) * mdh), dxr + c)
                c += 8
            }
            while c < cols { dxr[c] += rs * (dyr[c] * gamma[c] - meanD - hr[c] * meanDH); c += 1 }
            if let dGamma, let dBeta {
                for c in 0..<cols { dGamma[c] += dyr[c] * hr[c]; dBeta[c] += dyr[c] }
            }
        }
    }

    /// In-place softmax over each row.
    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let xr = x + r * cols
            let total = expShiftedSum(xr, cols, shift: maximum(xr, cols))
            scale(xr, cols, by: 1 / total)
        }
    }

    /// Softmax backward for one row: `dz = p ⊙ (dp − Σ dp ⊙ p)`, written into `dz` (overwrites).
    @inline(__always)
    static func softmaxBackwardRow(p: UnsafePointer<Float>, dp: UnsafePointer<Float>, dz: UnsafeMutablePointer<Float>, cols: Int) {
        let s = dotProduct(p, dp, cols)
        for c in 0..<cols { dz[c] = p[c] * (dp[c] - s) }
    }

    /// `z[r, :] = bias + ELU(x[r]·p + q) · Mᵀ` for a scalar per row, 8 hidden units and 64 outputs;
    /// `h` is scratch for rows × 8 activations. Two loops, so the ELU's latency chain of one row is not
    /// in front of the products of the next. The product is written as plain scalar loops with
    /// `addingProduct`: LLVM vectorises the column loop into FMAs with the 8 activations broadcast once
    /// per row (it does not for `SIMD8.addingProduct`).
    @inline(never)
    static func eluAffineTimes8x64(_ x: UnsafePointer<Float>, rows: Int, p: UnsafePointer<Float>, q: UnsafePointer<Float>,
                                   mt: UnsafePointer<Float>, bias: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                                   into z: UnsafeMutablePointer<Float>) {
        let p8 = load(p), q8 = load(q)
        for r in 0..<rows { store(Vec8(repeating: x[r]) * p8 + q8, h + r * 8) }
        for i in 0..<(rows * 8) { let a = h[i]; h[i] = a > 0 ? a : expFMA(a) - 1 }
        for r in 0..<rows {
            let hr = h + r * 8
            let h0 = hr[0], h1 = hr[1], h2 = hr[2], h3 = hr[3], h4 = hr[4], h5 = hr[5], h6 = hr[6], h7 = hr[7]
            let zr = z + r * 64
            for c in 0..<64 {
                var s = bias[c]
                s = s.addingProduct(h0, mt[c]); s = s.addingProduct(h1, mt[64 + c])
                s = s.addingProduct(h2, mt[128 + c]); s = s.addingProduct(h3, mt[192 + c])
                s = s.addingProduct(h4, mt[256 + c]); s = s.addingProduct(h5, mt[320 + c])
                s = s.addingProduct(h6, mt[384 + c]); s = s.addingProduct(h7, mt[448 + c])
                zr[c] = s
            }
        }
    }

    /// Inference rows of `GateAddNorm` at width 32: `y = LayerNorm(skip + a ⊙ σ(b))` for gate rows `[a | b]`.
    /// Gating and normalising run as two loops: each row's LayerNorm is a long dependency chain
    /// (two horizontal sums, a square root, a division), and with the gate's `exp` in the same loop
    /// body the out-of-order window cannot reach the next row; split, it overlaps several rows.
    /// With `sum`, row `r`'s result is not stored but added, times `sum.weights[r·stride]`, into `sum.output`
    /// row `r` (`y` is then scratch).
    @inline(never)
    static func gateAddNormRows32(_ gates: UnsafePointer<Float>, skip: UnsafePointer<Float>, rows: Int,
                                  gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                  sum: WeightedRowSum? = nil) {
        for r in 0..<rows {
            let gr = gates + r * 64, kr = skip + r * 32, yr = y + r * 32
            for c in 0..<32 { yr[c] = gr[c] * (1 / (1 + expFMA(-gr[32 + c]))) + kr[c] }
        }
        // 16-lane halves: one register each where the CPU has 512-bit vectors, two elsewhere.
        typealias V16 = SIMD16<Float>
        let g0 = UnsafeRawPointer(gamma).loadUnaligned(as: V16.self), g1 = UnsafeRawPointer(gamma + 16).loadUnaligned(as: V16.self)
        let b0 = UnsafeRawPointer(beta).loadUnaligned(as: V16.self), b1 = UnsafeRawPointer(beta + 16).loadUnaligned(as: V16.self)
        for r in 0..<rows {
            let yr = y + r * 32
            let x0 = UnsafeRawPointer(yr).loadUnaligned(as: V16.self), x1 = UnsafeRawPointer(yr + 16).loadUnaligned(as: V16.self)
            let mean = V16(repeating: hsum(x0 + x1) * (1 / 32))
            let d0 = x0 - mean, d1 = x1 - mean
            let rs = V16(repeating: 1 / (hsum(d0 * d0 + d1 * d1) * (1 / 32) + layerNormEpsilon).squareRoot())
            let out0 = d0 * rs * g0 + b0, out1 = d1 * rs * g1 + b1
            if let sum {
                let w = V16(repeating: sum.weights[r * sum.stride]), o = sum.output + r * 32
                let o0 = UnsafeRawPointer(o).loadUnaligned(as: V16.self), o1 = UnsafeRawPointer(o + 16).loadUnaligned(as: V16.self)
                UnsafeMutableRawPointer(o).storeBytes(of: o0 + w * out0, as: V16.self)
                UnsafeMutableRawPointer(o + 16).storeBytes(of: o1 + w * out1, as: V16.self)
            } else {
                UnsafeMutableRawPointer(yr).storeBytes(of: out0, as: V16.self)
                UnsafeMutableRawPointer(yr + 16).storeBytes(of: out1, as: V16.self)
            }
        }
    }

    /// Horizontal sum of 16 lanes by halving.
    @inline(__always) static func hsum(_ v: SIMD16<Float>) -> Float { hsum(v.lowHalf + v.highHalf) }

    /// `z[0..<128] += h[0..<32] · Wᵀ` for one LSTM step of one sample at hidden 32 (`Wᵀ` is (32, 128)),
    /// with the 128 sums in eight 16-lane registers.
    @inline(__always)
    static func addRecurrent32(_ z: UnsafeMutablePointer<Float>, h: UnsafePointer<Float>, transposedWeights w: UnsafePointer<Float>) {
        typealias V = SIMD16<Float>
        @inline(__always) func ld(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var a0 = ld(z), a1 = ld(z + 16), a2 = ld(z + 32), a3 = ld(z + 48)
        var a4 = ld(z + 64), a5 = ld(z + 80), a6 = ld(z + 96), a7 = ld(z + 112)
        for k in 0..<32 {
            let s = V(repeating: h[k]), wk = w + k * 128
            a0 += s * ld(wk); a1 += s * ld(wk + 16); a2 += s * ld(wk + 32); a3 += s * ld(wk + 48)
            a4 += s * ld(wk + 64); a5 += s * ld(wk + 80); a6 += s * ld(wk + 96); a7 += s * ld(wk + 112)
        }
        let out = UnsafeMutableRawPointer(z)
        out.storeBytes(of: a0, toByteOffset: 0, as: V.self); out.storeBytes(of: a1, toByteOffset: 64, as: V.self)
        out.storeBytes(of: a2, toByteOffset: 128, as: V.self); out.storeBytes(of: a3, toByteOffset: 192, as: V.self)
        out.storeBytes(of: a4, toByteOffset: 256, as: V.self); out.storeBytes(of: a5, toByteOffset: 320, as: V.self)
        out.storeBytes(of: a6, toByteOffset: 384, as: V.self); out.storeBytes(of: a7, toByteOffset: 448, as: V.self)
    }
}

/// `output[r, :] += weights[r·stride] · y[r, :]`: the variable-selection network's weighted sum over
/// variables, for kernels that can add their rows straight into it instead of storing them.
struct WeightedRowSum {
    let output: UnsafeMutablePointer<Float>
    let weights: UnsafePointer<Float>
    let stride: Int

    func advanced(by rows: Int, width: Int) -> WeightedRowSum {
        WeightedRowSum(output: output + rows * width, weights: weights + rows * stride, stride: stride)
    }
}
