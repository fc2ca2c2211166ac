/// pytorch-forecasting's `InterpretableMultiHeadAttention`: per-head query/key projections, ONE value
/// projection shared by all heads, heads averaged before a single output projection. Queries are the
/// decoder positions only; a decoder step attends to valid encoder steps and to strictly earlier
/// decoder steps (PTF's causal mask excludes the step itself); masked scores are −1e9.
struct InterpretableMultiHeadAttention {
    let heads: Int
    let model: Int
    let headSize: Int
    let value: Linear
    let query: Linear   // all heads stacked: (heads·headSize, model)
    let key: Linear
    let output: Linear  // w_h, no bias

    init(_ layout: inout ParameterLayout, _ name: String, heads: Int, model: Int) {
        self.heads = heads
        self.model = model
        headSize = model / heads
        value = Linear(&layout, name + ".v_layer", in: model, out: headSize, weightInit: .xavierUniform)
        // Register per-head weights back to back, then the biases, so the heads form one matrix.
        func stacked(_ kind: String) -> Linear {
            let first = (0..<heads).map {
                layout.add("\(name).\(kind).\($0).weight", [model / heads, model], .xavierUniform)
            }[0]
            let bias = (0..<heads).map { layout.add("\(name).\(kind).\($0).bias", [model / heads], .zeros) }[0]
            return Linear(inFeatures: model, outFeatures: model / heads * heads, weight: first, bias: bias)
        }
        query = stacked("q_layers")
        key = stacked("k_layers")
        output = Linear(&layout, name + ".w_h", in: headSize, out: model, bias: false, weightInit: .xavierUniform)
    }

    struct Cache {
        let batch: Int, encoder: Int, decoder: Int
        let input: UnsafePointer<Float>         // (B, T, model)
        let decoderInput: UnsafePointer<Float>  // (B, Td, model)
        let q: UnsafeMutablePointer<Float>      // (B, Td, heads·headSize)
        let k: UnsafeMutablePointer<Float>      // (B, T, heads·headSize)
        let v: UnsafeMutablePointer<Float>      // (B, T, headSize)
        let attention: UnsafeMutablePointer<Float>? // (B, heads, Td, T); nil when the pass did not keep it
        let headMasks: UnsafeMutablePointer<Float>? // (B, heads, Td, headSize) dropout masks
        let mean: UnsafeMutablePointer<Float>   // (B, Td, headSize) head average
        let outputMask: UnsafeMutablePointer<Float>?
        let y: UnsafeMutablePointer<Float>      // (B, Td, model)
    }

    func forward(input: UnsafePointer<Float>, decoderInput: UnsafePointer<Float>, batch: Int, encoder: Int,
                 decoder: Int, encoderLengths: [Int], _ pass: Pass) -> Cache {
        let arena = pass.arena, T = encoder + decoder, dh = headSize, hh = heads * headSize
        let v = arena.alloc(batch * T * dh), k = arena.alloc(batch * T * hh), q = arena.alloc(batch * decoder * hh)
        value.forward(input, rows: batch * T, into: v, pass)
        key.forward(input, rows: batch * T, into: k, pass)
        query.forward(decoderInput, rows: batch * decoder, into: q, pass)

        // Inference that reports no attention reuses one (Td, T) block for every sample and head, so the
        // scores stay in L2 instead of streaming 26 MB (batch 45) through memory.
        let attention: UnsafeMutablePointer<Float>? = pass.keepsAttention ? arena.alloc(batch * heads * decoder * T) : nil
        let block = attention == nil ? arena.alloc(decoder * T) : nil
        let mean = arena.alloc(batch * decoder * dh)
        let headMasks: UnsafeMutablePointer<Float>? = pass.training ? arena.alloc(batch * heads * decoder * dh) : nil
        let head = arena.alloc(decoder * dh)
        let scale = 1 / Float(dh).squareRoot(), invHeads = 1 / Float(heads)
        for b in 0..<batch {
            let length = encoderLengths[b]
            let meanB = mean + b * decoder * dh
            for h in 0..<heads {
                let a = attention.map { $0 + (b * heads + h) * decoder * T } ?? block!
                BLAS.gemm(transB: true, m: decoder, n: T, k: dh, alpha: scale, a: q + b * decoder * hh + h * dh, lda: hh,
                          b: k + b * T * hh + h * dh, ldb: hh, beta: 0, c: a, ldc: T)
                for i in 0..<decoder { maskedSoftmax(a + i * T, encoder: encoder, decoder: decoder, validEncoder: length, validDecoder: i) }
                if let headMasks {
                    BLAS.gemm(m: decoder, n: dh, k: T, a: a, lda: T, b: v + b * T * dh, ldb: dh, beta: 0, c: head, ldc: dh)
                    let mask = pass.dropoutForward(head, count: decoder * dh)!
                    (headMasks + (b * heads + h) * decoder * dh).update(from: mask, count: decoder * dh)
                    if h == 0 { meanB.update(repeating: 0, count: decoder * dh) }
                    Kernels.axpy(invHeads, head, into: meanB, count: decoder * dh)
                } else {
                    BLAS.gemm(m: decoder, n: dh, k: T, alpha: invHeads, a: a, lda: T, b: v + b * T * dh, ldb: dh,
                              beta: h == 0 ? 0 : 1, c: meanB, ldc: dh)
                }
            }
        }
        let y = arena.alloc(batch * decoder * model)
        output.forward(mean, rows: batch * decoder, into: y, pass)
        let outputMask = pass.dropoutForward(y, count: batch * decoder * model)
        return Cache(batch: batch, encoder: encoder, decoder: decoder, input: input, decoderInput: decoderInput,
                     q: q, k: k, v: v, attention: attention, headMasks: headMasks, mean: mean,
                     outputMask: outputMask, y: y)
    }

    /// Accumulates into `dinput` (keys and values, all T rows) and `ddecoderInput` (queries).
    func backward(_ cache: Cache, dy: UnsafePointer<Float>, dinput: UnsafeMutablePointer<Float>,
                  ddecoderInput: UnsafeMutablePointer<Float>, _ pass: Pass) {
        let arena = pass.arena, batch = cache.batch, decoder = cache.decoder, T = cache.encoder + cache.decoder
        let dh = headSize, hh = heads * headSize
        var dout = dy
        if let mask = cache.outputMask {
            let masked = arena.alloc(batch * decoder * model)
            for i in 0..<(batch * decoder * model) { masked[i] = dy[i] * mask[i] }
            dout = UnsafePointer(masked)
        }
        let dmean = arena.zeros(batch * decoder * dh)
        output.backward(x: cache.mean, dy: dout, rows: batch * decoder, dx: dmean, pass)

        let dv = arena.zeros(batch * T * dh), dk = arena.zeros(batch * T * hh), dq = arena.zeros(batch * decoder * hh)
        let dhead = arena.alloc(decoder * dh), da = arena.alloc(decoder * T)
        let scale = 1 / Float(dh).squareRoot(), invHeads = 1 / Float(heads)
        for b in 0..<batch {
            for h in 0..<heads {
                let a = cache.attention! + (b * heads + h) * decoder * T
                let dmeanB = dmean + b * decoder * dh
                if let masks = cache.headMasks {
                    let m = masks + (b * heads + h) * decoder * dh
                    for i in 0..<(decoder * dh) { dhead[i] = dmeanB[i] * invHeads * m[i] }
                } else {
                    for i in 0..<(decoder * dh) { dhead[i] = dmeanB[i] * invHeads }
                }
                let vB = cache.v + b * T * dh
                BLAS.gemm(transB: true, m: decoder, n: T, k: dh, a: dhead, lda: dh, b: vB, ldb: dh, beta: 0, c: da, ldc: T)
                BLAS.gemm(transA: true, m: T, n: dh, k: decoder, a: a, lda: T, b: dhead, ldb: dh, beta: 1,
                          c: dv + b * T * dh, ldc: dh)
                for i in 0..<decoder {
                    Kernels.softmaxBackwardRow(p: a + i * T, dp: da + i * T, dz: da + i * T, cols: T)
                }
                let qBH = cache.q + b * decoder * hh + h * dh, kBH = cache.k + b * T * hh + h * dh
                BLAS.gemm(m: decoder, n: dh, k: T, alpha: scale, a: da, lda: T, b: kBH, ldb: hh, beta: 1,
                          c: dq + b * decoder * hh + h * dh, ldc: hh)
                BLAS.gemm(transA: true, m: T, n: dh, k: decoder, alpha: scale, a: da, lda: T, b: qBH, ldb: hh, beta: 1,
                          c: dk + b * T * hh + h * dh, ldc: hh)
            }
        }
        value.backward(x: cache.input, dy: dv, rows: batch * T, dx: dinput, pass)
        key.backward(x: cache.input, dy: dk, rows: batch * T, dx: dinput, pass)
        query.backward(x: cache.decoderInput, dy: dq, rows: batch * decoder, dx: ddecoderInput, pass)
    }

    /// Softmax over one score row where only encoder keys `< validEncoder` and decoder keys
    /// `< validDecoder` count. Identical to PTF's `masked_fill(-1e9)` + softmax (the masked terms
    /// underflow to exactly 0 there), without spending exponentials on them.
    @inline(__always)
    private func maskedSoftmax(_ row: UnsafeMutablePointer<Float>, encoder: Int, decoder: Int, validEncoder: Int, validDecoder: Int) {
        let decoderRow = row + encoder
        let m = max(Kernels.maximum(row, validEncoder), Kernels.maximum(decoderRow, validDecoder))
        let sum = Kernels.expShiftedSum(row, validEncoder, shift: m) + Kernels.expShiftedSum(decoderRow, validDecoder, shift: m)
        Kernels.scale(row, validEncoder, by: 1 / sum)
        Kernels.scale(decoderRow, validDecoder, by: 1 / sum)
        (row + validEncoder).update(repeating: 0, count: encoder - validEncoder)
        (decoderRow + validDecoder).update(repeating: 0, count: decoder - validDecoder)
    }
}
