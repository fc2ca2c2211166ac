extension GatedResidualNetwork {
    /// Inference-only forward for a variable-selection GRN whose input is a prescaled scalar,
    /// `e = x·w + b` (a continuous variable). Because `e` is affine in `x`, so are the residual's
    /// interpolation and gate and `fc1`: the residual LayerNorm has a closed form per row
    /// (`mean`/`variance` of `x·U + V` from three precomputed dot products) and `fc1` is one
    /// multiply-add, which removes two small-K matrix products and a LayerNorm pass per row.
    /// Exactly the same function as `forward`; the parity tests run both paths.
    func forwardScalarInput(_ x: UnsafePointer<Float>, rows: Int, prescalerWeight: UnsafePointer<Float>,
                            prescalerBias: UnsafePointer<Float>, _ pass: Pass) -> UnsafeMutablePointer<Float> {
        precondition(pass.g == nil && context == nil, "the scalar-input path is for inference without context")
        let arena = pass.arena, w = pass.w, k = inFeatures, H = outFeatures
        // Residual: LayerNorm(gate ⊙ R(x·w + b)) = γ ⊙ (x·U + V)·rstd(x) + β.
        let residual = arena.alloc(rows * H)
        if let rn = resampleNorm {
            var u = [Float](repeating: 0, count: H), v = [Float](repeating: 0, count: H)
            for c in 0..<H {
                var su: Float = 0, sv: Float = 0
                for i in 0..<k {
                    let m = rn.resample.map { $0.map[i * H + c] } ?? (i == c ? 1 : 0)
                    su += prescalerWeight[i] * m
                    sv += prescalerBias[i] * m
                }
                let gate = 2 * Kernels.sigmoid(w[rn.mask + c])
                u[c] = su * gate; v[c] = sv * gate
            }
            let meanU = u.reduce(0, +) / Float(H), meanV = v.reduce(0, +) / Float(H)
            var a: Float = 0, b: Float = 0, c2: Float = 0
            let gamma = w + rn.norm.gamma, beta = w + rn.norm.beta
            let uGamma = arena.alloc(H), vGamma = arena.alloc(H)
            for c in 0..<H {
                let U = u[c] - meanU, V = v[c] - meanV
                a += U * U; b += U * V; c2 += V * V
                uGamma[c] = U * gamma[c]; vGamma[c] = V * gamma[c]
            }
            a /= Float(H); b /= Float(H); c2 /= Float(H)
            for r in 0..<rows {
                let xr = x[r]
                let rs = 1 / ((xr * xr * a + 2 * xr * b + c2) + Kernels.layerNormEpsilon).squareRoot()
                let out = residual + r * H
                for c in 0..<H { out[c] = (xr * uGamma[c] + vGamma[c]) * rs + beta[c] }
            }
        } else {
            for r in 0..<rows { for c in 0..<H { residual[r * H + c] = x[r] * prescalerWeight[c] + prescalerBias[c] } }
        }
        // fc1(x·w + b) = x·(W₁w) + (W₁b + b₁), then ELU.
        let h = hidden
        let p = arena.alloc(h), q = arena.alloc(h)
        for j in 0..<h {
            var sp: Float = 0, sq: Float = w[fc1.bias! + j]
            for i in 0..<k { sp += w[fc1.weight + j * k + i] * prescalerWeight[i]; sq += w[fc1.weight + j * k + i] * prescalerBias[i] }
            p[j] = sp; q[j] = sq
        }
        if h == 8 && H == 32 && resampleNorm != nil && !pass.training {
            return fusedRows8x32(x, rows: rows, p: p, q: q, residual: residual, pass)
        }
        let activated = arena.alloc(rows * h)
        for r in 0..<rows {
            let xr = x[r], out = activated + r * h
            for j in 0..<h { out[j] = Kernels.elu(xr * p[j] + q[j]) }
        }
        let f = arena.alloc(rows * h)
        fc2.forward(activated, rows: rows, into: f, pass)
        return gateNorm.forward(f, skip: residual, rows: rows, pass).y
    }

    /// Config A's shape (hidden 8, output 32): ELU(x·p + q), then the GLU's 8→64 product with `fc2`
    /// folded in (no nonlinearity or dropout sits between them at inference), then gate, residual and
    /// LayerNorm — in blocks of 64 rows so the 64-wide gate rows stay in L1.
    private func fusedRows8x32(_ x: UnsafePointer<Float>, rows: Int, p: UnsafePointer<Float>, q: UnsafePointer<Float>,
                               residual: UnsafePointer<Float>, _ pass: Pass) -> UnsafeMutablePointer<Float> {
        let arena = pass.arena, w = pass.w
        let glu = gateNorm.fc
        // Mᵀ[i, c] = Σⱼ W_glu[c, j]·W₂[j, i];  m[c] = b_glu[c] + Σⱼ W_glu[c, j]·b₂[j].
        let mt = arena.alloc(8 * 64), m = arena.alloc(64)
        for c in 0..<64 {
            var bias = w[glu.bias! + c]
            for j in 0..<8 { bias += w[glu.weight + c * 8 + j] * w[fc2.bias! + j] }
            m[c] = bias
            for i in 0..<8 {
                var sum: Float = 0
                for j in 0..<8 { sum += w[glu.weight + c * 8 + j] * w[fc2.weight + j * 8 + i] }
                mt[i * 64 + c] = sum
            }
        }
        let y = arena.alloc(rows * 32)
        let block = 64
        let gates = arena.alloc(block * 64), h = arena.alloc(block * 8)
        let gamma = w + gateNorm.norm.gamma, beta = w + gateNorm.norm.beta
        var start = 0
        while start < rows {
            let count = min(block, rows - start)
            Kernels.eluAffineTimes8x64(x + start, rows: count, p: p, q: q, mt: mt, bias: m, h: h, into: gates)
            Kernels.gateAddNormRows32(gates, skip: residual + start * 32, rows: count, gamma: gamma, beta: beta,
                                      y: y + start * 32)
            start += count
        }
        return y
    }
}
