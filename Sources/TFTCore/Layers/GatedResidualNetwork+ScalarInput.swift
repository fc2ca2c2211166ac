/// A variable-selection GRN whose input is a prescaled scalar, `e = x·w + b` (a continuous variable).
/// Because `e` is affine in `x`, so are the residual's interpolation and gate and `fc1`:
/// - `fc1(e) = x·(W₁w) + (W₁b + b₁)`: one multiply-add per hidden unit instead of a product;
/// - the residual is `LayerNorm(x·U + V)` with closed-form statistics per row (see `ScalarResidual`);
/// - in the backward pass every gradient that flows into `e` — of `fc1`, of the resample gate and of
///   the prescaler itself — is a sum over rows of `x·d` and `d`, so no product with `e` is needed.
/// Exactly the same function as the generic `forward`/`backward` on `e`; `ScalarInputPathTests`
/// compare them, and the model's gradient and parity tests run through this path.
extension GatedResidualNetwork {
    /// Whether the scalar-input paths apply (vector kernels need hidden and output sizes in lanes of 8).
    func supportsScalarInput(training: Bool) -> Bool {
        context == nil && (!training || outFeatures % 8 == 0)
    }

    /// `fc1(x·w + b) = x·p + q`.
    private func foldedFC1(prescalerWeight: UnsafePointer<Float>, prescalerBias: UnsafePointer<Float>,
                           _ pass: Pass) -> (p: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>) {
        let w = pass.w, k = inFeatures
        let p = pass.arena.alloc(hidden), q = pass.arena.alloc(hidden)
        for j in 0..<hidden {
            var sp: Float = 0, sq: Float = w[fc1.bias! + j]
            for i in 0..<k { sp += w[fc1.weight + j * k + i] * prescalerWeight[i]; sq += w[fc1.weight + j * k + i] * prescalerBias[i] }
            p[j] = sp; q[j] = sq
        }
        return (p, q)
    }

    /// The residual branch for every row: `ResampleNorm(x·w + b)`, or `x·w + b` itself when the
    /// sizes agree. Writes the LayerNorm's `rstd` per row when `rstd` is given (training).
    private func scalarResidual(_ x: UnsafePointer<Float>, rows: Int, prescalerWeight: UnsafePointer<Float>,
                                prescalerBias: UnsafePointer<Float>, rstd: UnsafeMutablePointer<Float>?,
                                _ pass: Pass) -> (residual: UnsafeMutablePointer<Float>, form: ScalarResidual?) {
        let H = outFeatures
        let residual = pass.arena.alloc(rows * H)
        guard let rn = resampleNorm else {
            for r in 0..<rows { for c in 0..<H { residual[r * H + c] = x[r] * prescalerWeight[c] + prescalerBias[c] } }
            return (residual, nil)
        }
        let form = ScalarResidual(rn, in: inFeatures, prescalerWeight: prescalerWeight, prescalerBias: prescalerBias, pass)
        let gamma = pass.w + rn.norm.gamma, beta = pass.w + rn.norm.beta
        let uGamma = pass.arena.alloc(H), vGamma = pass.arena.alloc(H)
        for c in 0..<H { uGamma[c] = form.u[c] * gamma[c]; vGamma[c] = form.v[c] * gamma[c] }
        for r in 0..<rows {
            let xr = x[r], rs = form.rstd(xr)
            rstd?[r] = rs
            let out = residual + r * H
            for c in 0..<H { out[c] = (xr * uGamma[c] + vGamma[c]) * rs + beta[c] }
        }
        return (residual, form)
    }

    /// Inference forward (no gradients, no context). With `sum`, the fused config-A path adds its rows
    /// into the weighted sum directly and returns nil; otherwise the output rows are returned.
    func forwardScalarInput(_ x: UnsafePointer<Float>, rows: Int, prescalerWeight: UnsafePointer<Float>,
                            prescalerBias: UnsafePointer<Float>, into sum: WeightedRowSum? = nil,
                            _ pass: Pass) -> UnsafeMutablePointer<Float>? {
        precondition(pass.g == nil && context == nil, "the scalar-input forward is for inference without context")
        let residual = scalarResidual(x, rows: rows, prescalerWeight: prescalerWeight, prescalerBias: prescalerBias,
                                      rstd: nil, pass).residual
        let (p, q) = foldedFC1(prescalerWeight: prescalerWeight, prescalerBias: prescalerBias, pass)
        if hidden == 8 && outFeatures == 32 && resampleNorm != nil && !pass.training {
            return fusedRows8x32(x, rows: rows, p: p, q: q, residual: residual, into: sum, pass)
        }
        return gated(x, rows: rows, p: p, q: q, residual: residual, pass).gate.y
    }

    struct ScalarInputCache {
        let x: UnsafePointer<Float>
        let residualRstd: UnsafeMutablePointer<Float>
        let form: ScalarResidual?
        let activated: UnsafeMutablePointer<Float>
        let gate: GateAddNorm.Cache
        var y: UnsafeMutablePointer<Float> { gate.y }
    }

    /// Training forward that keeps what `backwardScalarInput` needs (dropout as in `forward`).
    func forwardScalarInputForTraining(_ x: UnsafePointer<Float>, rows: Int, prescalerWeight: UnsafePointer<Float>,
                                       prescalerBias: UnsafePointer<Float>, _ pass: Pass) -> ScalarInputCache {
        precondition(supportsScalarInput(training: true), "scalar-input training path on an unsupported shape")
        let rstd = pass.arena.alloc(rows)
        let (residual, form) = scalarResidual(x, rows: rows, prescalerWeight: prescalerWeight, prescalerBias: prescalerBias,
                                              rstd: rstd, pass)
        let (p, q) = foldedFC1(prescalerWeight: prescalerWeight, prescalerBias: prescalerBias, pass)
        let (activated, gate) = gated(x, rows: rows, p: p, q: q, residual: residual, pass)
        return ScalarInputCache(x: x, residualRstd: rstd, form: form, activated: activated, gate: gate)
    }

    /// `ELU(x·p + q)` → `fc2` → gate, residual and LayerNorm (dropout and caches as the pass asks).
    private func gated(_ x: UnsafePointer<Float>, rows: Int, p: UnsafePointer<Float>, q: UnsafePointer<Float>,
                       residual: UnsafePointer<Float>, _ pass: Pass) -> (activated: UnsafeMutablePointer<Float>, gate: GateAddNorm.Cache) {
        let h = hidden
        let activated = pass.arena.alloc(rows * h)
        for r in 0..<rows {
            let xr = x[r], out = activated + r * h
            for j in 0..<h { out[j] = Kernels.elu(xr * p[j] + q[j]) }
        }
        let f = pass.arena.alloc(rows * h)
        fc2.forward(activated, rows: rows, into: f, pass)
        return (activated, gateNorm.forward(f, skip: residual, rows: rows, pass))
    }

    /// Backward of `forwardScalarInputForTraining`: accumulates every parameter gradient, including the
    /// prescaler's (`prescalerWeight`/`prescalerBias` are its offsets in the parameter layout).
    func backwardScalarInput(_ cache: ScalarInputCache, dy: UnsafePointer<Float>, rows: Int, prescalerWeight: Int,
                             prescalerBias: Int, _ pass: Pass) {
        guard let g = pass.g else { return }
        let arena = pass.arena, w = pass.w, k = inFeatures, h = hidden, H = outFeatures
        let df = arena.zeros(rows * h), dresidual = arena.zeros(rows * H)
        gateNorm.backward(cache.gate, dy: dy, rows: rows, dx: df, dskip: dresidual, pass)
        let da = arena.zeros(rows * h)
        fc2.backward(x: cache.activated, dy: df, rows: rows, dx: da, pass)
        // ELU' and fc1: with a = x·p + q, only Σ x·da and Σ da over the rows are needed.
        let xda = arena.zeros(h), sda = arena.zeros(h)
        for r in 0..<rows {
            let xr = cache.x[r], ar = cache.activated + r * h, dr = da + r * h
            for j in 0..<h {
                let d = dr[j] * (ar[j] > 0 ? 1 : ar[j] + 1)
                xda[j] += xr * d; sda[j] += d
            }
        }
        // de (summed as Σx·de and Σde) accumulates the prescaler's gradient.
        let dw = arena.zeros(k), db = arena.zeros(k)
        for j in 0..<h {
            for i in 0..<k {
                let wji = w[fc1.weight + j * k + i]
                g[fc1.weight + j * k + i] += xda[j] * w[prescalerWeight + i] + sda[j] * w[prescalerBias + i]
                dw[i] += xda[j] * wji; db[i] += sda[j] * wji
            }
            g[fc1.bias! + j] += sda[j]
        }
        if let rn = resampleNorm, let form = cache.form {
            form.backward(rn, x: cache.x, rstd: cache.residualRstd, dy: dresidual, rows: rows, dw: dw, db: db, pass)
        } else {
            for r in 0..<rows {
                let xr = cache.x[r], dr = dresidual + r * H
                for c in 0..<H { dw[c] += xr * dr[c]; db[c] += dr[c] }
            }
        }
        for i in 0..<k { g[prescalerWeight + i] += dw[i]; g[prescalerBias + i] += db[i] }
    }

    /// Config A's shape (hidden 8, output 32): ELU(x·p + q), then the GLU's 8→64 product with `fc2`
    /// folded in (no nonlinearity or dropout sits between them at inference), then gate, residual and
    /// LayerNorm — in blocks of 64 rows so the 64-wide gate rows stay in L1.
    private func fusedRows8x32(_ x: UnsafePointer<Float>, rows: Int, p: UnsafePointer<Float>, q: UnsafePointer<Float>,
                               residual: UnsafePointer<Float>, into sum: WeightedRowSum?,
                               _ pass: Pass) -> UnsafeMutablePointer<Float>? {
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
        let block = 64
        // Adding into a weighted sum needs only one block of scratch rows, which stays in L1.
        let y = arena.alloc((sum == nil ? rows : block) * 32)
        let gates = arena.alloc(block * 64), h = arena.alloc(block * 8)
        let gamma = w + gateNorm.norm.gamma, beta = w + gateNorm.norm.beta
        var start = 0
        while start < rows {
            let count = min(block, rows - start)
            Kernels.eluAffineTimes8x64(x + start, rows: count, p: p, q: q, mt: mt, bias: m, h: h, into: gates)
            Kernels.gateAddNormRows32(gates, skip: residual + start * 32, rows: count, gamma: gamma, beta: beta,
                                      y: sum == nil ? y + start * 32 : y, sum: sum?.advanced(by: start, width: 32))
            start += count
        }
        return sum == nil ? y : nil
    }
}

/// `ResampleNorm(x·w + b)` in closed form. With `Iw = interp(w)`, `Ib = interp(b)` and the gate
/// `s = 2σ(mask)`, the normalised input is `z = x·U + V` where `U = Iw ⊙ s`, `V = Ib ⊙ s`; centred over
/// the features (`u`, `v`), `mean(z) = x·mean(U) + mean(V)` and
/// `var(z) = x²·mean(u²) + 2x·mean(uv) + mean(v²)`, so each row's LayerNorm is
/// `γ ⊙ (x·u + v)·rstd(x) + β` — no interpolation, no second pass over the row.
struct ScalarResidual {
    let features: Int
    let u: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    let iw: UnsafeMutablePointer<Float>, ib: UnsafeMutablePointer<Float>
    let sigma: UnsafeMutablePointer<Float>
    let uu: Float, uv: Float, vv: Float

    init(_ rn: ResampleNorm, in k: Int, prescalerWeight: UnsafePointer<Float>, prescalerBias: UnsafePointer<Float>, _ pass: Pass) {
        let H = rn.outFeatures, arena = pass.arena
        features = H
        u = arena.alloc(H); v = arena.alloc(H); iw = arena.alloc(H); ib = arena.alloc(H); sigma = arena.alloc(H)
        var meanU: Float = 0, meanV: Float = 0
        for c in 0..<H {
            var sw: Float = 0, sb: Float = 0
            for i in 0..<k {
                let m = rn.resample.map { $0.map[i * H + c] } ?? (i == c ? 1 : 0)
                sw += prescalerWeight[i] * m
                sb += prescalerBias[i] * m
            }
            sigma[c] = Kernels.sigmoid(pass.w[rn.mask + c])
            iw[c] = sw; ib[c] = sb
            u[c] = sw * 2 * sigma[c]; v[c] = sb * 2 * sigma[c]
            meanU += u[c]; meanV += v[c]
        }
        meanU /= Float(H); meanV /= Float(H)
        var a: Float = 0, b: Float = 0, c2: Float = 0
        for c in 0..<H {
            u[c] -= meanU; v[c] -= meanV
            a += u[c] * u[c]; b += u[c] * v[c]; c2 += v[c] * v[c]
        }
        uu = a / Float(H); uv = b / Float(H); vv = c2 / Float(H)
    }

    @inline(__always) func rstd(_ x: Float) -> Float {
        1 / ((x * x * uu + 2 * x * uv + vv) + Kernels.layerNormEpsilon).squareRoot()
    }

    /// LayerNorm backward per row (`x̂ = (x·u + v)·rstd` recomputed), then everything upstream of the
    /// normalised input as sums over rows: the mask's gradient here, the prescaler's into `dw`/`db`.
    func backward(_ rn: ResampleNorm, x: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                  rows: Int, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>, _ pass: Pass) {
        guard let g = pass.g else { return }
        let H = features, arena = pass.arena, inv = 1 / Float(H)
        let gamma = pass.w + rn.norm.gamma, dGamma = g + rn.norm.gamma, dBeta = g + rn.norm.beta
        // Σ x·dz and Σ dz over rows, in lanes of 8.
        let z1 = arena.zeros(H), z0 = arena.zeros(H)
        for r in 0..<rows {
            let xr = x[r], rs = rstd[r], dr = dy + r * H
            let x8 = Vec8(repeating: xr), rs8 = Vec8(repeating: rs)
            var sD = Vec8(), sDH = Vec8()
            var c = 0
            while c < H {
                let xh = (x8 * Kernels.load(u + c) + Kernels.load(v + c)) * rs8
                let d = Kernels.load(dr + c)
                let dxh = d * Kernels.load(gamma + c)
                sD += dxh; sDH += dxh * xh
                Kernels.store(Kernels.load(dGamma + c) + d * xh, dGamma + c)
                Kernels.store(Kernels.load(dBeta + c) + d, dBeta + c)
                c += 8
            }
            let mD = Vec8(repeating: Kernels.hsum(sD) * inv), mDH = Vec8(repeating: Kernels.hsum(sDH) * inv)
            c = 0
            while c < H {
                let xh = (x8 * Kernels.load(u + c) + Kernels.load(v + c)) * rs8
                let dz = rs8 * (Kernels.load(dr + c) * Kernels.load(gamma + c) - mD - xh * mDH)
                Kernels.store(Kernels.load(z1 + c) + x8 * dz, z1 + c)
                Kernels.store(Kernels.load(z0 + c) + dz, z0 + c)
                c += 8
            }
        }
        // z = (x·Iw + Ib) ⊙ 2σ(mask): the mask's gradient, then back through the interpolation map.
        let k = rn.inFeatures
        for c in 0..<H {
            let s = sigma[c]
            g[rn.mask + c] += (z1[c] * iw[c] + z0[c] * ib[c]) * 2 * s * (1 - s)
            let dIw = z1[c] * 2 * s, dIb = z0[c] * 2 * s
            for i in 0..<k {
                let m = rn.resample.map { $0.map[i * H + c] } ?? (i == c ? 1 : 0)
                dw[i] += m * dIw; db[i] += m * dIb
            }
        }
    }
}
