#if canImport(Glibc)
import Glibc
#endif

/// A per-batch context broadcast over `group` consecutive rows (the static context expanded over
/// time): row `r` of the input uses context row `r / group`.
struct BroadcastContext {
    let values: UnsafePointer<Float>
    let group: Int
}

/// pytorch-forecasting's `GatedResidualNetwork`:
/// `LayerNorm(residual + GLU(Dropout(fc2(ELU(fc1(x) + context(c))))))`, residual resampled when
/// input and output sizes differ.
struct GatedResidualNetwork {
    let inFeatures: Int
    let hidden: Int
    let outFeatures: Int
    let resampleNorm: ResampleNorm?
    let fc1: Linear
    let context: Linear?
    let fc2: Linear
    let gateNorm: GateAddNorm

    init(_ layout: inout ParameterLayout, _ name: String, in inFeatures: Int, hidden: Int, out outFeatures: Int,
         contextSize: Int? = nil) {
        self.inFeatures = inFeatures
        self.hidden = hidden
        self.outFeatures = outFeatures
        resampleNorm = inFeatures != outFeatures
            ? ResampleNorm(&layout, name + ".resample_norm", in: inFeatures, out: outFeatures) : nil
        fc1 = Linear(&layout, name + ".fc1", in: inFeatures, out: hidden, weightInit: .kaimingNormal)
        context = contextSize.map {
            Linear(&layout, name + ".context", in: $0, out: hidden, bias: false, weightInit: .xavierUniform)
        }
        fc2 = Linear(&layout, name + ".fc2", in: hidden, out: hidden, weightInit: .kaimingNormal)
        gateNorm = GateAddNorm(&layout, name + ".gate_norm", in: hidden, out: outFeatures, dropout: true)
    }

    struct Cache {
        let input: UnsafePointer<Float>
        let resample: ResampleNorm.Cache?
        let context: BroadcastContext?
        let activated: UnsafeMutablePointer<Float>   // ELU output
        let gate: GateAddNorm.Cache
        var y: UnsafeMutablePointer<Float> { gate.y }
    }

    func forward(_ x: UnsafePointer<Float>, rows: Int, context c: BroadcastContext? = nil, _ pass: Pass) -> Cache {
        let arena = pass.arena
        let resample = resampleNorm?.forward(x, rows: rows, pass)
        let residual = resample.map { UnsafePointer($0.y) } ?? x
        let a = arena.alloc(rows * hidden)
        fc1.forward(x, rows: rows, into: a, pass)
        if let context, let c {
            let contextRows = rows / c.group
            let projected = arena.alloc(contextRows * hidden)
            context.forward(c.values, rows: contextRows, into: projected, pass)
            for g in 0..<contextRows {
                let p = projected + g * hidden
                for r in (g * c.group)..<((g + 1) * c.group) { Kernels.add(p, into: a + r * hidden, count: hidden) }
            }
        }
        // ELU(α = 1) in place, in a loop the compiler vectorises with FMAs (`Kernels.expFMA`).
        for i in 0..<(rows * hidden) { let v = a[i]; a[i] = v > 0 ? v : Kernels.expFMA(v) - 1 }
        let f = arena.alloc(rows * hidden)
        fc2.forward(a, rows: rows, into: f, pass)
        let gate = gateNorm.forward(f, skip: residual, rows: rows, pass)
        return Cache(input: x, resample: resample, context: c, activated: a, gate: gate)
    }

    /// Accumulates into `dx` and `dcontext` (one row per context row) when given.
    func backward(_ cache: Cache, dy: UnsafePointer<Float>, rows: Int,
                  dx: UnsafeMutablePointer<Float>?, dcontext: UnsafeMutablePointer<Float>?, _ pass: Pass) {
        let arena = pass.arena
        let df = arena.zeros(rows * hidden)
        let dresidual = arena.zeros(rows * outFeatures)
        gateNorm.backward(cache.gate, dy: dy, rows: rows, dx: df, dskip: dresidual, pass)
        let da = arena.zeros(rows * hidden)
        fc2.backward(x: cache.activated, dy: df, rows: rows, dx: da, pass)
        // ELU': 1 for x > 0, else exp(x) = y + 1.
        // A select and a full store: a conditional store here becomes a microcoded masked store (`vmaskmovps`).
        for i in 0..<(rows * hidden) { let y = cache.activated[i]; da[i] *= y > 0 ? 1 : y + 1 }
        if let context, let c = cache.context {
            let contextRows = rows / c.group
            let dprojected = arena.zeros(contextRows * hidden)
            for r in 0..<rows { Kernels.add(da + r * hidden, into: dprojected + (r / c.group) * hidden, count: hidden) }
            context.backward(x: c.values, dy: dprojected, rows: contextRows, dx: dcontext, pass)
        }
        fc1.backward(x: cache.input, dy: da, rows: rows, dx: dx, pass)
        if let resample = cache.resample {
            resampleNorm!.backward(resample, dy: dresidual, rows: rows, dx: dx, pass)
        } else if let dx {
            Kernels.add(dresidual, into: dx, count: rows * outFeatures)
        }
    }
}
