/// `y = x Wᵀ + b` over the last axis; `W` is stored (out, in) as in PyTorch.
struct Linear {
    let inFeatures: Int
    let outFeatures: Int
    let weight: Int
    let bias: Int?

    init(_ layout: inout ParameterLayout, _ name: String, in inFeatures: Int, out outFeatures: Int,
         bias: Bool = true, weightInit: ParameterInit? = nil) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = layout.add(name + ".weight", [outFeatures, inFeatures], weightInit ?? .uniformFanIn(inFeatures))
        self.bias = bias ? layout.add(name + ".bias", [outFeatures], weightInit == nil ? .uniformFanIn(inFeatures) : .zeros) : nil
    }

    /// A view onto parameters registered elsewhere (e.g. several heads stacked into one matrix).
    init(inFeatures: Int, outFeatures: Int, weight: Int, bias: Int?) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = weight
        self.bias = bias
    }

    /// `y(rows×out) = x(rows×in) Wᵀ + b` (or `+=` when `accumulate`).
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, _ pass: Pass, accumulate: Bool = false) {
        if let bias, !accumulate {
            // Start from the bias and let the GEMM accumulate onto it: with β = 0 OpenBLAS first zeroes
            // `y` in a separate pass, which for these small-K products costs as much as adding the bias.
            Kernels.fillRows(y, rows: rows, cols: outFeatures, with: pass.w + bias)
            BLAS.gemm(transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                      b: pass.w + weight, ldb: inFeatures, beta: 1, c: y, ldc: outFeatures)
            return
        }
        BLAS.gemm(transB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                  b: pass.w + weight, ldb: inFeatures, beta: accumulate ? 1 : 0, c: y, ldc: outFeatures)
        if let bias { Kernels.addBias(y, rows: rows, cols: outFeatures, bias: pass.w + bias) }
    }

    /// Accumulates `dx += dy W` (when `dx` is given) and the weight/bias gradients.
    func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, dx: UnsafeMutablePointer<Float>?, _ pass: Pass) {
        if let dx {
            BLAS.gemm(m: rows, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures,
                      b: pass.w + weight, ldb: inFeatures, beta: 1, c: dx, ldc: inFeatures)
        }
        guard let g = pass.g else { return }
        BLAS.gemm(transA: true, m: outFeatures, n: inFeatures, k: rows, a: dy, lda: outFeatures,
                  b: x, ldb: inFeatures, beta: 1, c: g + weight, ldc: inFeatures)
        if let bias { Kernels.accumulateColumnSums(dy, rows: rows, cols: outFeatures, into: g + bias) }
    }
}
