#if canImport(Glibc)
import Glibc
#endif

/// One-layer `nn.LSTM(batch_first=True)` with per-sample lengths, as pytorch-forecasting runs it
/// through packed sequences: past a sample's length its state is frozen and its output is zero.
/// Gate order i, f, g, o; parameters `<p>.weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`.
struct LSTM {
    let inputSize: Int
    let hidden: Int
    let weightIH: Int
    let weightHH: Int
    let biasIH: Int
    let biasHH: Int

    init(_ layout: inout ParameterLayout, _ name: String, input: Int, hidden: Int) {
        inputSize = input
        self.hidden = hidden
        weightIH = layout.add(name + ".weight_ih_l0", [4 * hidden, input], .uniformFanIn(hidden))
        weightHH = layout.add(name + ".weight_hh_l0", [4 * hidden, hidden], .uniformFanIn(hidden))
        biasIH = layout.add(name + ".bias_ih_l0", [4 * hidden], .uniformFanIn(hidden))
        biasHH = layout.add(name + ".bias_hh_l0", [4 * hidden], .uniformFanIn(hidden))
    }

    struct Cache {
        let batch: Int
        let length: Int
        let lengths: [Int]
        let input: UnsafePointer<Float>
        let gates: UnsafeMutablePointer<Float>    // (B, L, 4H) activated i, f, g, o
        let cells: UnsafeMutablePointer<Float>    // (B, L, H) c_t
        let previousH: UnsafeMutablePointer<Float> // (B, L, H) h_{t−1} (zero where masked)
        let previousC: UnsafeMutablePointer<Float> // (B, L, H) c_{t−1}
        let output: UnsafeMutablePointer<Float>   // (B, L, H), zero past each length
        let finalH: UnsafeMutablePointer<Float>   // (B, H) state at each sample's last valid step
        let finalC: UnsafeMutablePointer<Float>
    }

    /// `x` is `(B, L, input)`; `lengths[b] ≤ L` valid steps per sample; `h0`, `c0` are `(B, H)`.
    func forward(_ x: UnsafePointer<Float>, batch: Int, length: Int, lengths: [Int],
                 h0: UnsafePointer<Float>, c0: UnsafePointer<Float>, _ pass: Pass) -> Cache {
        let arena = pass.arena, h4 = 4 * hidden, n = batch * length
        let gates = arena.alloc(n * h4)
        // Start from both biases and accumulate the input projection onto them (β = 1: no zeroing pass).
        let bias = arena.alloc(h4)
        for j in 0..<h4 { bias[j] = pass.w[biasIH + j] + pass.w[biasHH + j] }
        Kernels.fillRows(gates, rows: n, cols: h4, with: bias)
        BLAS.gemm(transB: true, m: n, n: h4, k: inputSize, a: x, lda: inputSize,
                  b: pass.w + weightIH, ldb: inputSize, beta: 1, c: gates, ldc: h4)

        let cells = arena.alloc(n * hidden), prevH = arena.alloc(n * hidden), prevC = arena.alloc(n * hidden)
        let output = arena.alloc(n * hidden)
        let h = arena.alloc(batch * hidden), c = arena.alloc(batch * hidden)
        h.update(from: h0, count: batch * hidden)
        c.update(from: c0, count: batch * hidden)
        let H = hidden
        // At H = 32 the recurrent product runs per sample inside the step (`Kernels.addRecurrent32`):
        // W_hhᵀ stays in L1 and no library call is paid 2 × L times per forward.
        let recurrentT: UnsafeMutablePointer<Float>? = H == 32 ? arena.alloc(32 * 128) : nil
        if let recurrentT {
            for r in 0..<128 { for k in 0..<32 { recurrentT[k * 128 + r] = pass.w[weightHH + r * 32 + k] } }
        }
        for t in 0..<length {
            // z_t += h_{t−1} W_hhᵀ, written straight into the (B, L, 4H) gate rows of step t.
            if recurrentT == nil {
                BLAS.gemm(transB: true, m: batch, n: h4, k: H, a: h, lda: H, b: pass.w + weightHH, ldb: H,
                          beta: 1, c: gates + t * h4, ldc: length * h4)
            }
            for b in 0..<batch {
                let row = b * length + t
                let z = gates + row * h4, hb = h + b * H, cb = c + b * H
                let ph = prevH + row * H, pc = prevC + row * H, cell = cells + row * H, out = output + row * H
                if t >= lengths[b] {
                    ph.update(repeating: 0, count: H); pc.update(repeating: 0, count: H)
                    cell.update(repeating: 0, count: H); out.update(repeating: 0, count: H)
                    z.update(repeating: 0, count: h4)
                    continue
                }
                ph.update(from: hb, count: H)
                pc.update(from: cb, count: H)
                if let recurrentT { Kernels.addRecurrent32(z, h: hb, transposedWeights: recurrentT) }
                var j = 0
                while j + 8 <= H {
                    let i = Kernels.sigmoid(Kernels.load(z + j)), f = Kernels.sigmoid(Kernels.load(z + H + j))
                    let g = Kernels.tanh(Kernels.load(z + 2 * H + j)), o = Kernels.sigmoid(Kernels.load(z + 3 * H + j))
                    Kernels.store(i, z + j); Kernels.store(f, z + H + j); Kernels.store(g, z + 2 * H + j); Kernels.store(o, z + 3 * H + j)
                    let cNew = f * Kernels.load(cb + j) + i * g
                    let hNew = o * Kernels.tanh(cNew)
                    Kernels.store(cNew, cell + j); Kernels.store(hNew, out + j)
                    Kernels.store(cNew, cb + j); Kernels.store(hNew, hb + j)
                    j += 8
                }
                while j < H {
                    let i = Kernels.sigmoid(z[j]), f = Kernels.sigmoid(z[H + j])
                    let g = Kernels.tanh(z[2 * H + j]), o = Kernels.sigmoid(z[3 * H + j])
                    z[j] = i; z[H + j] = f; z[2 * H + j] = g; z[3 * H + j] = o
                    let cNew = f * cb[j] + i * g
                    let hNew = o * Kernels.tanh(cNew)
                    cell[j] = cNew; out[j] = hNew
                    cb[j] = cNew; hb[j] = hNew
                    j += 1
                }
            }
        }
        return Cache(batch: batch, length: length, lengths: lengths, input: x, gates: gates, cells: cells,
                     previousH: prevH, previousC: prevC, output: output, finalH: h, finalC: c)
    }

    /// BPTT. `doutput` is `(B, L, H)`; `dfinalH`/`dfinalC` are gradients of the final state (from a
    /// decoder that starts there). Accumulates into `dx`, `dh0`, `dc0` and the parameter gradients.
    func backward(_ cache: Cache, doutput: UnsafePointer<Float>?, dfinalH: UnsafePointer<Float>?,
                  dfinalC: UnsafePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                  dh0: UnsafeMutablePointer<Float>?, dc0: UnsafeMutablePointer<Float>?, _ pass: Pass) {
        let arena = pass.arena, H = hidden, h4 = 4 * hidden
        let batch = cache.batch, length = cache.length, n = batch * length
        let dh = arena.zeros(batch * H), dc = arena.zeros(batch * H)
        if let dfinalH { dh.update(from: dfinalH, count: batch * H) }
        if let dfinalC { dc.update(from: dfinalC, count: batch * H) }
        let dz = arena.zeros(n * h4)
        let dhNext = arena.alloc(batch * H)
        for t in stride(from: length - 1, through: 0, by: -1) {
            for b in 0..<batch where t < cache.lengths[b] {
                let row = b * length + t
                let z = cache.gates + row * h4, d = dz + row * h4
                let dhb = dh + b * H, dcb = dc + b * H
                let cell = cache.cells + row * H, pc = cache.previousC + row * H
                let dout = doutput.map { $0 + row * H }
                var j = 0
                if let dout {
                    while j + 8 <= H {
                        let i = Kernels.load(z + j), f = Kernels.load(z + H + j)
                        let g = Kernels.load(z + 2 * H + j), o = Kernels.load(z + 3 * H + j)
                        let tc = Kernels.tanh(Kernels.load(cell + j))
                        let dhj = Kernels.load(dhb + j) + Kernels.load(dout + j)
                        let dcj = Kernels.load(dcb + j) + dhj * o * (1 - tc * tc)
                        Kernels.store(dcj * g * i * (1 - i), d + j)
                        Kernels.store(dcj * Kernels.load(pc + j) * f * (1 - f), d + H + j)
                        Kernels.store(dcj * i * (1 - g * g), d + 2 * H + j)
                        Kernels.store(dhj * tc * o * (1 - o), d + 3 * H + j)
                        Kernels.store(dcj * f, dcb + j)
                        j += 8
                    }
                }
                while j < H {
                    let i = z[j], f = z[H + j], g = z[2 * H + j], o = z[3 * H + j]
                    let tc = Kernels.tanh(cell[j])
                    let dhj = dhb[j] + (dout?[j] ?? 0)
                    let dcj = dcb[j] + dhj * o * (1 - tc * tc)
                    d[j] = dcj * g * i * (1 - i)
                    d[H + j] = dcj * pc[j] * f * (1 - f)
                    d[2 * H + j] = dcj * i * (1 - g * g)
                    d[3 * H + j] = dhj * tc * o * (1 - o)
                    dcb[j] = dcj * f
                    j += 1
                }
            }
            // dh_{t−1} = dz_t W_hh for samples still inside their sequence; the others carry dh unchanged.
            BLAS.gemm(m: batch, n: H, k: h4, a: dz + t * h4, lda: length * h4, b: pass.w + weightHH, ldb: H,
                      beta: 0, c: dhNext, ldc: H)
            for b in 0..<batch where t < cache.lengths[b] {
                (dh + b * H).update(from: dhNext + b * H, count: H)
            }
        }
        if let dh0 { Kernels.add(dh, into: dh0, count: batch * H) }
        if let dc0 { Kernels.add(dc, into: dc0, count: batch * H) }
        if let dx {
            BLAS.gemm(m: n, n: inputSize, k: h4, a: dz, lda: h4, b: pass.w + weightIH, ldb: inputSize,
                      beta: 1, c: dx, ldc: inputSize)
        }
        guard let g = pass.g else { return }
        BLAS.gemm(transA: true, m: h4, n: inputSize, k: n, a: dz, lda: h4, b: cache.input, ldb: inputSize,
                  beta: 1, c: g + weightIH, ldc: inputSize)
        BLAS.gemm(transA: true, m: h4, n: H, k: n, a: dz, lda: h4, b: cache.previousH, ldb: H,
                  beta: 1, c: g + weightHH, ldc: H)
        Kernels.accumulateColumnSums(dz, rows: n, cols: h4, into: g + biasIH)
        Kernels.accumulateColumnSums(dz, rows: n, cols: h4, into: g + biasHH)
    }
}
