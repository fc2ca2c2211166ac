/// `LayerNorm(skip + GLU(Dropout(x)))`, fused: one GEMM, then gate + residual + LayerNorm per row.
///
/// Covers pytorch-forecasting's `GateAddNorm` (names `<p>.glu.fc.*`, `<p>.add_norm.norm.*`) and the
/// post-LSTM pair `GatedLinearUnit` + `AddNorm` (names given separately). Skip and output sizes are
/// equal everywhere this is used in the TFT, so `AddNorm` never resamples here.
struct GateAddNorm {
    let inFeatures: Int
    let outFeatures: Int
    let fc: Linear
    let norm: LayerNorm
    let usesDropout: Bool

    init(_ layout: inout ParameterLayout, glu gluName: String, norm normName: String,
         in inFeatures: Int, out outFeatures: Int, dropout: Bool) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        fc = Linear(&layout, gluName + ".fc", in: inFeatures, out: 2 * outFeatures, weightInit: .xavierUniform)
        norm = LayerNorm(&layout, normName + ".norm", features: outFeatures)
        usesDropout = dropout
    }

    init(_ layout: inout ParameterLayout, _ name: String, in inFeatures: Int, out outFeatures: Int, dropout: Bool) {
        self.init(&layout, glu: name + ".glu", norm: name + ".add_norm", in: inFeatures, out: outFeatures, dropout: dropout)
    }

    struct Cache {
        let input: UnsafePointer<Float>          // after dropout
        let mask: UnsafeMutablePointer<Float>?
        let gates: UnsafeMutablePointer<Float>   // rows × 2·out: [a | σ(b)]
        let ln: LayerNorm.Cache?
        let y: UnsafeMutablePointer<Float>
    }

    /// `y = LayerNorm(skip + a ⊙ σ(b))` with `[a | b] = fc(dropout(x))`.
    func forward(_ x: UnsafePointer<Float>, skip: UnsafePointer<Float>, rows: Int, _ pass: Pass) -> Cache {
        let arena = pass.arena
        var input = x
        var mask: UnsafeMutablePointer<Float>? = nil
        if usesDropout && pass.training {
            let copy = arena.alloc(rows * inFeatures)
            mask = pass.dropoutForward(from: x, into: copy, count: rows * inFeatures)
            input = UnsafePointer(copy)
        }
        let n = outFeatures
        let gates = arena.alloc(rows * 2 * n)
        fc.forward(input, rows: rows, into: gates, pass)
        // Gate, residual and LayerNorm row by row (other sizes) or in two passes over the rows (n = 32).
        let y = arena.alloc(rows * n)
        let ln = pass.g != nil ? LayerNorm.Cache(xhat: arena.alloc(rows * n), rstd: arena.alloc(rows)) : nil
        let gamma = pass.w + norm.gamma, beta = pass.w + norm.beta
        if n == 32 {
            guard let ln else {
                Kernels.gateAddNormRows32(gates, skip: skip, rows: rows, gamma: gamma, beta: beta, y: y)
                return Cache(input: input, mask: mask, gates: gates, ln: nil, y: y)
            }
            // Training keeps σ(b) for the backward pass. Gate first, normalise in a second loop: see
            // `Kernels.gateAddNormRows32` for why the split is faster.
            for r in 0..<rows {
                let gr = gates + r * 64, kr = skip + r * 32, yr = y + r * 32
                for c in 0..<32 {
                    let s = Kernels.sigmoidFMA(gr[32 + c])
                    gr[32 + c] = s
                    yr[c] = gr[c] * s + kr[c]
                }
            }
            for r in 0..<rows {
                let yr = y + r * 32
                Kernels.layerNormRow32(Kernels.load(yr), Kernels.load(yr + 8), Kernels.load(yr + 16), Kernels.load(yr + 24),
                                       gamma: gamma, beta: beta, y: yr, xhat: ln.xhat + r * 32, rstd: ln.rstd + r)
            }
            return Cache(input: input, mask: mask, gates: gates, ln: ln, y: y)
        }
        // Gate all rows into `y` (a loop the compiler vectorises), then normalise `y` in place.
        for r in 0..<rows {
            let gr = gates + r * 2 * n, kr = skip + r * n, yr = y + r * n
            for c in 0..<n {
                let s = Kernels.sigmoidFMA(gr[n + c])
                gr[n + c] = s
                yr[c] = gr[c] * s + kr[c]
            }
        }
        Kernels.layerNormForward(y, rows: rows, cols: n, gamma: gamma, beta: beta, y: y, xhat: ln?.xhat, rstd: ln?.rstd)
        return Cache(input: input, mask: mask, gates: gates, ln: ln, y: y)
    }

    /// Accumulates into `dx` and `dskip`.
    func backward(_ cache: Cache, dy: UnsafePointer<Float>, rows: Int,
                  dx: UnsafeMutablePointer<Float>?, dskip: UnsafeMutablePointer<Float>?, _ pass: Pass) {
        let arena = pass.arena, n = outFeatures
        if n == 32, let ln = cache.ln {
            backward32(cache, ln: ln, dy: dy, rows: rows, dx: dx, dskip: dskip, pass)
            return
        }
        let dsum = arena.zeros(rows * n)
        norm.backward(cache.ln!, dy: dy, rows: rows, dx: dsum, pass)
        if let dskip { Kernels.add(dsum, into: dskip, count: rows * n) }
        let dgates = arena.alloc(rows * 2 * n)
        for r in 0..<rows {
            let gr = cache.gates + r * 2 * n, dg = dgates + r * 2 * n, ds = dsum + r * n
            for c in 0..<n {
                let a = gr[c], s = gr[n + c]
                dg[c] = ds[c] * s
                dg[n + c] = ds[c] * a * s * (1 - s)
            }
        }
        backwardThroughGLU(cache, dgates: dgates, rows: rows, dx: dx, pass)
    }

    /// Width 32: LayerNorm backward, residual and gate gradients without the intermediate `dsum`
    /// buffer. The first loop only reduces (per-row means, γ/β gradients in registers); the second
    /// is element-wise, so neither carries a long dependency chain from one row to the next.
    private func backward32(_ cache: Cache, ln: LayerNorm.Cache, dy: UnsafePointer<Float>, rows: Int,
                            dx: UnsafeMutablePointer<Float>?, dskip: UnsafeMutablePointer<Float>?, _ pass: Pass) {
        let arena = pass.arena
        let gamma = pass.w + norm.gamma
        let g0 = Kernels.load(gamma), g1 = Kernels.load(gamma + 8), g2 = Kernels.load(gamma + 16), g3 = Kernels.load(gamma + 24)
        let means = arena.alloc(2 * rows)
        var dg0 = Vec8(), dg1 = Vec8(), dg2 = Vec8(), dg3 = Vec8()
        var db0 = Vec8(), db1 = Vec8(), db2 = Vec8(), db3 = Vec8()
        for r in 0..<rows {
            let d = dy + r * 32, h = ln.xhat + r * 32
            let d0 = Kernels.load(d), d1 = Kernels.load(d + 8), d2 = Kernels.load(d + 16), d3 = Kernels.load(d + 24)
            let h0 = Kernels.load(h), h1 = Kernels.load(h + 8), h2 = Kernels.load(h + 16), h3 = Kernels.load(h + 24)
            let e0 = d0 * g0, e1 = d1 * g1, e2 = d2 * g2, e3 = d3 * g3
            means[2 * r] = Kernels.hsum((e0 + e1) + (e2 + e3)) * (1 / 32)
            means[2 * r + 1] = Kernels.hsum((e0 * h0 + e1 * h1) + (e2 * h2 + e3 * h3)) * (1 / 32)
            dg0 += d0 * h0; dg1 += d1 * h1; dg2 += d2 * h2; dg3 += d3 * h3
            db0 += d0; db1 += d1; db2 += d2; db3 += d3
        }
        if let g = pass.g {
            let gg = g + norm.gamma, gb = g + norm.beta
            Kernels.store(Kernels.load(gg) + dg0, gg); Kernels.store(Kernels.load(gg + 8) + dg1, gg + 8)
            Kernels.store(Kernels.load(gg + 16) + dg2, gg + 16); Kernels.store(Kernels.load(gg + 24) + dg3, gg + 24)
            Kernels.store(Kernels.load(gb) + db0, gb); Kernels.store(Kernels.load(gb + 8) + db1, gb + 8)
            Kernels.store(Kernels.load(gb + 16) + db2, gb + 16); Kernels.store(Kernels.load(gb + 24) + db3, gb + 24)
        }
        // dsum = rstd·(dy⊙γ − mean − x̂·mean(dy⊙γ⊙x̂)); dskip += dsum; d[a | b] = [dsum⊙σ | dsum⊙a⊙σ(1−σ)].
        let dgates = arena.alloc(rows * 64)
        for r in 0..<rows {
            let d = dy + r * 32, h = ln.xhat + r * 32, gr = cache.gates + r * 64, dg = dgates + r * 64
            let m = Vec8(repeating: means[2 * r]), mh = Vec8(repeating: means[2 * r + 1]), rs = Vec8(repeating: ln.rstd[r])
            @inline(__always) func lanes(_ j: Int, _ gj: Vec8) {
                let ds = rs * (Kernels.load(d + j) * gj - m - Kernels.load(h + j) * mh)
                if let dskip { Kernels.store(Kernels.load(dskip + r * 32 + j) + ds, dskip + r * 32 + j) }
                let a = Kernels.load(gr + j), s = Kernels.load(gr + 32 + j)
                Kernels.store(ds * s, dg + j)
                Kernels.store(ds * a * s * (1 - s), dg + 32 + j)
            }
            lanes(0, g0); lanes(8, g1); lanes(16, g2); lanes(24, g3)
        }
        backwardThroughGLU(cache, dgates: dgates, rows: rows, dx: dx, pass)
    }

    /// From the gate gradients back through the GLU's linear layer and the input dropout into `dx`.
    private func backwardThroughGLU(_ cache: Cache, dgates: UnsafePointer<Float>, rows: Int,
                                    dx: UnsafeMutablePointer<Float>?, _ pass: Pass) {
        if let mask = cache.mask, let dx {
            let dinput = pass.arena.zeros(rows * inFeatures)
            fc.backward(x: cache.input, dy: dgates, rows: rows, dx: dinput, pass)
            for i in 0..<(rows * inFeatures) { dx[i] += dinput[i] * mask[i] }
        } else {
            fc.backward(x: cache.input, dy: dgates, rows: rows, dx: dx, pass)
        }
    }
}
