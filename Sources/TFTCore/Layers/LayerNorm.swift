/// `nn.LayerNorm(features)`: parameters `<name>.weight` (γ) and `<name>.bias` (β).
struct LayerNorm {
    let features: Int
    let gamma: Int
    let beta: Int

    init(_ layout: inout ParameterLayout, _ name: String, features: Int) {
        self.features = features
        gamma = layout.add(name + ".weight", [features], .ones)
        beta = layout.add(name + ".bias", [features], .zeros)
    }

    struct Cache { let xhat: UnsafeMutablePointer<Float>; let rstd: UnsafeMutablePointer<Float> }

    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, _ pass: Pass) -> Cache? {
        let keep = pass.g != nil
        let cache = keep ? Cache(xhat: pass.arena.alloc(rows * features), rstd: pass.arena.alloc(rows)) : nil
        Kernels.layerNormForward(x, rows: rows, cols: features, gamma: pass.w + gamma, beta: pass.w + beta,
                                 y: y, xhat: cache?.xhat, rstd: cache?.rstd)
        return cache
    }

    /// Accumulates into `dx` and the γ/β gradients.
    func backward(_ cache: Cache, dy: UnsafePointer<Float>, rows: Int, dx: UnsafeMutablePointer<Float>, _ pass: Pass) {
        Kernels.layerNormBackward(dy: dy, xhat: cache.xhat, rstd: cache.rstd, rows: rows, cols: features,
                                  gamma: pass.w + gamma, dGamma: pass.g.map { $0 + gamma },
                                  dBeta: pass.g.map { $0 + beta }, dx: dx)
    }
}
