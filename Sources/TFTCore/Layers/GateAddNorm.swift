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
            copy.update(from: x, count: rows * inFeatures)
            mask = pass.dropoutForward(copy, count: rows * inFeatures)
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
                for j in stride(from: 0, to: 32, by: 8) {
                    let s = Kernels.sigmoid(Kernels.load(gr + 32 + j))
                    Kernels.store(s, gr + 32 + j)
                    Kernels.store(Kernels.load(gr + j) * s + Kernels.load(kr + j), yr + j)
                }
            }
            for r in 0..<rows {
                let yr = y + r * 32
                Kernels.layerNormRow32(Kernels.load(yr), Kernels.load(yr + 8), Kernels.load(yr + 16), Kernels.load(yr + 24),
                                       gamma: gamma, beta: beta, y: yr, xhat: ln.xhat + r * 32, rstd: ln.rstd + r)
            }
            return Cache(input: input, mask: mask, gates: gates, ln: ln, y: y)
        }
        let sum = arena.alloc(n)
        for r in 0..<rows {
            let gr = gates + r * 2 * n, kr = skip + r * n
            for c in 0..<n {
                let s = Kernels.sigmoid(gr[n + c])
                gr[n + c] = s
                sum[c] = gr[c] * s + kr[c]
            }
            Kernels.layerNormForward(sum, rows: 1, cols: n, gamma: gamma, beta: beta, y: y + r * n,
                                     xhat: ln.map { $0.xhat + r * n }, rstd: ln.map { $0.rstd + r })
        }
        return Cache(input: input, mask: mask, gates: gates, ln: ln, y: y)
    }

    /// Accumulates into `dx` and `dskip`.
    func backward(_ cache: Cache, dy: UnsafePointer<Float>, rows: Int,
                  dx: UnsafeMutablePointer<Float>?, dskip: UnsafeMutablePointer<Float>?, _ pass: Pass) {
        let arena = pass.arena, n = outFeatures
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
        if let mask = cache.mask, let dx {
            let dinput = arena.zeros(rows * inFeatures)
            fc.backward(x: cache.input, dy: dgates, rows: rows, dx: dinput, pass)
            for i in 0..<(rows * inFeatures) { dx[i] += dinput[i] * mask[i] }
        } else {
            fc.backward(x: cache.input, dy: dgates, rows: rows, dx: dx, pass)
        }
    }
}
