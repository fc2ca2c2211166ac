/// pytorch-forecasting's `TimeDistributedInterpolation`: `F.interpolate(mode="linear",
/// align_corners=True)` along the feature axis, i.e. a fixed map with ≤ 2 taps per output. Stored
/// as a dense `(in, out)` matrix so a whole batch of rows is one GEMM (the maps are at most a few
/// thousand entries).
struct Interpolation {
    let inFeatures: Int
    let outFeatures: Int
    /// `(in, out)` row-major: `y = x · map`.
    let map: [Float]
    /// The same map as two taps per output: `y[j] = x[lower[j]]·(1 − λ[j]) + x[lower[j] + 1]·λ[j]`.
    /// Wide inputs use these (the flattened variable-selection GRN resamples 112 → 14: 28 multiply-adds
    /// per row instead of a 1,568-term product); narrow ones keep the GEMM, which is as fast there.
    private let lower: [Int]
    private let upper: [Int]
    private let lambda: [Float]
    private var usesTaps: Bool { inFeatures > 16 }

    init(in inFeatures: Int, out outFeatures: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        // PyTorch: scale = (in − 1)/(out − 1) in float; src = j·scale; i0 = ⌊src⌋; λ = src − i0.
        let scale: Float = outFeatures > 1 ? Float(inFeatures - 1) / Float(outFeatures - 1) : 0
        var map = [Float](repeating: 0, count: inFeatures * outFeatures)
        var lower = [Int](), upper = [Int](), lambda = [Float]()
        for j in 0..<outFeatures {
            let src = scale * Float(j)
            let i0 = min(Int(src), inFeatures - 1)
            let i1 = min(i0 + 1, inFeatures - 1)
            let w = src - Float(i0)
            map[i0 * outFeatures + j] += 1 - w
            map[i1 * outFeatures + j] += w
            lower.append(i0); upper.append(i1); lambda.append(w)
        }
        self.map = map
        self.lower = lower; self.upper = upper; self.lambda = lambda
    }

    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        if usesTaps {
            let n = inFeatures, m = outFeatures
            lower.withUnsafeBufferPointer { lo in upper.withUnsafeBufferPointer { hi in lambda.withUnsafeBufferPointer { l in
                for r in 0..<rows {
                    let xr = x + r * n, yr = y + r * m
                    for j in 0..<m { yr[j] = xr[lo[j]] * (1 - l[j]) + xr[hi[j]] * l[j] }
                }
            } } }
            return
        }
        map.withUnsafeBufferPointer { m in
            BLAS.gemm(m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures, b: m.baseAddress!, ldb: outFeatures,
                      beta: 0, c: y, ldc: outFeatures)
        }
    }

    /// Transpose of the map: accumulates into `dx`.
    func backward(dy: UnsafePointer<Float>, rows: Int, dx: UnsafeMutablePointer<Float>) {
        if usesTaps {
            let n = inFeatures, m = outFeatures
            lower.withUnsafeBufferPointer { lo in upper.withUnsafeBufferPointer { hi in lambda.withUnsafeBufferPointer { l in
                for r in 0..<rows {
                    let dyr = dy + r * m, dxr = dx + r * n
                    for j in 0..<m {
                        dxr[lo[j]] += dyr[j] * (1 - l[j])
                        dxr[hi[j]] += dyr[j] * l[j]
                    }
                }
            } } }
            return
        }
        map.withUnsafeBufferPointer { m in
            BLAS.gemm(transB: true, m: rows, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures, b: m.baseAddress!,
                      ldb: outFeatures, beta: 1, c: dx, ldc: inFeatures)
        }
    }
}

/// `ResampleNorm(in→out, trainable_add=True)`: interpolate (if sizes differ), scale by `2σ(mask)`,
/// then LayerNorm. Names `<p>.mask`, `<p>.norm.weight`, `<p>.norm.bias`.
struct ResampleNorm {
    let inFeatures: Int
    let outFeatures: Int
    let resample: Interpolation?
    let mask: Int
    let norm: LayerNorm

    init(_ layout: inout ParameterLayout, _ name: String, in inFeatures: Int, out outFeatures: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        resample = inFeatures != outFeatures ? Interpolation(in: inFeatures, out: outFeatures) : nil
        mask = layout.add(name + ".mask", [outFeatures], .zeros)
        norm = LayerNorm(&layout, name + ".norm", features: outFeatures)
    }

    struct Cache {
        let input: UnsafePointer<Float>
        let resampled: UnsafePointer<Float>
        let ln: LayerNorm.Cache?
        let y: UnsafeMutablePointer<Float>
    }

    func forward(_ x: UnsafePointer<Float>, rows: Int, _ pass: Pass) -> Cache {
        let arena = pass.arena, n = outFeatures
        var resampled = x
        if let resample {
            let r = arena.alloc(rows * n)
            resample.forward(x, rows: rows, into: r)
            resampled = UnsafePointer(r)
        }
        let gate = arena.alloc(n)
        for c in 0..<n { gate[c] = 2 * Kernels.sigmoid(pass.w[mask + c]) }
        if n == 32 {
            // Scale and normalise each row in registers.
            let y = arena.alloc(rows * n)
            let ln = pass.g != nil ? LayerNorm.Cache(xhat: arena.alloc(rows * n), rstd: arena.alloc(rows)) : nil
            let g0 = Kernels.load(gate), g1 = Kernels.load(gate + 8), g2 = Kernels.load(gate + 16), g3 = Kernels.load(gate + 24)
            for r in 0..<rows {
                let xr = resampled + r * 32
                Kernels.layerNormRow32(Kernels.load(xr) * g0, Kernels.load(xr + 8) * g1, Kernels.load(xr + 16) * g2,
                                       Kernels.load(xr + 24) * g3, gamma: pass.w + norm.gamma, beta: pass.w + norm.beta,
                                       y: y + r * 32, xhat: ln.map { $0.xhat + r * 32 }, rstd: ln.map { $0.rstd + r })
            }
            return Cache(input: x, resampled: resampled, ln: ln, y: y)
        }
        let scaled = arena.alloc(rows * n)
        for r in 0..<rows {
            let sr = scaled + r * n, xr = resampled + r * n
            for c in 0..<n { sr[c] = xr[c] * gate[c] }
        }
        let y = arena.alloc(rows * n)
        let ln = norm.forward(scaled, rows: rows, into: y, pass)
        return Cache(input: x, resampled: resampled, ln: ln, y: y)
    }

    /// Accumulates into `dx` (when given) and the parameter gradients.
    func backward(_ cache: Cache, dy: UnsafePointer<Float>, rows: Int, dx: UnsafeMutablePointer<Float>?, _ pass: Pass) {
        let arena = pass.arena, n = outFeatures
        let dscaled = arena.zeros(rows * n)
        norm.backward(cache.ln!, dy: dy, rows: rows, dx: dscaled, pass)
        // Scratch from the arena, not heap arrays: this runs per tile and variable in training.
        let dgate = arena.zeros(n), sig = arena.alloc(n)
        for c in 0..<n { sig[c] = Kernels.sigmoid(pass.w[mask + c]) }
        let dres = arena.alloc(rows * n)
        for r in 0..<rows {
            let ds = dscaled + r * n, xr = cache.resampled + r * n, dr = dres + r * n
            for c in 0..<n {
                dgate[c] += ds[c] * xr[c]
                dr[c] = ds[c] * 2 * sig[c]
            }
        }
        if let g = pass.g {
            for c in 0..<n { g[mask + c] += dgate[c] * 2 * sig[c] * (1 - sig[c]) }
        }
        guard let dx else { return }
        if let resample {
            resample.backward(dy: dres, rows: rows, dx: dx)
        } else {
            Kernels.add(dres, into: dx, count: rows * n)
        }
    }
}
