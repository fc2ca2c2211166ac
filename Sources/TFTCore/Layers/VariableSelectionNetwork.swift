/// Which rows of the batch's `(B, T, ·)` input tensors a block reads: `rows = B · length`, and row
/// `n` is source row `(n / length) · T + offset + n % length` (encoder: offset 0; decoder: Te;
/// static: length 1 at time 0).
struct RowMap {
    let batch: Int
    let length: Int
    let totalSteps: Int
    let offset: Int
    var rows: Int { batch * length }
    @inline(__always) func source(_ n: Int) -> Int { (n / length) * totalSteps + offset + n % length }

    /// `source(n)` for every row, without a division per row (Int32 storage carved from the arena).
    func sourceRows(_ arena: Arena) -> UnsafeMutablePointer<Int32> {
        let out = UnsafeMutableRawPointer(arena.alloc(max(rows, 1))).bindMemory(to: Int32.self, capacity: max(rows, 1))
        var n = 0
        for b in 0..<batch {
            for t in 0..<length { out[n] = Int32(b * totalSteps + offset + t); n += 1 }
        }
        return out
    }
}

/// How one input variable becomes a vector before variable selection.
enum VariableEmbedding {
    /// `Linear(1 → size)` on column `column` of the continuous input (the shared `prescalers.<name>`).
    case continuous(column: Int, weight: Int, bias: Int, size: Int)
    /// Row of an embedding table `(cardinality, dim)` indexed by column `column` of the categorical input.
    case categorical(column: Int, table: Int, cardinality: Int, dim: Int)

    var size: Int {
        switch self {
        case .continuous(_, _, _, let size): return size
        case .categorical(_, _, _, let dim): return dim
        }
    }
}

/// pytorch-forecasting's `VariableSelectionNetwork`: every variable is transformed to `hidden`
/// (GRN for continuous, ResampleNorm for categorical); a flattened GRN (with optional context)
/// produces softmax weights over variables; the output is the weighted sum.
struct VariableSelectionNetwork {
    enum Transform {
        case grn(GatedResidualNetwork)
        case resampleNorm(ResampleNorm)
    }

    let hidden: Int
    let embeddings: [VariableEmbedding]
    let transforms: [Transform]
    let flattened: GatedResidualNetwork?
    var count: Int { embeddings.count }

    init(_ layout: inout ParameterLayout, _ name: String, variables: [(name: String, embedding: VariableEmbedding)],
         hidden: Int, contextSize: Int?) {
        self.hidden = hidden
        embeddings = variables.map(\.embedding)
        let total = variables.reduce(0) { $0 + $1.embedding.size }
        flattened = variables.count > 1
            ? GatedResidualNetwork(&layout, name + ".flattened_grn", in: total, hidden: min(hidden, variables.count),
                                   out: variables.count, contextSize: contextSize)
            : nil
        var transforms: [Transform] = []
        for v in variables {
            let p = name + ".single_variable_grns." + v.name
            switch v.embedding {
            case .continuous(_, _, _, let size):
                transforms.append(.grn(GatedResidualNetwork(&layout, p, in: size, hidden: min(size, hidden), out: hidden)))
            case .categorical(_, _, _, let dim):
                transforms.append(.resampleNorm(ResampleNorm(&layout, p, in: dim, out: hidden)))
            }
        }
        self.transforms = transforms
    }

    /// Rows per tile of the per-variable transforms: their activations (≈ 10 × 32 floats per row) fit in L2.
    static let tileRows = 512

    struct Cache {
        let rows: Int
        let source: UnsafeMutablePointer<Int32>            // `map.source(n)` per row
        let embedded: [UnsafeMutablePointer<Float>?]     // per variable, rows × size (generic-path variables)
        let flat: UnsafeMutablePointer<Float>?
        let flatCache: GatedResidualNetwork.Cache?
        let weights: UnsafeMutablePointer<Float>          // rows × V (softmax)
        let output: UnsafeMutablePointer<Float>           // rows × hidden
    }

    func forward(cont: UnsafePointer<Float>, contColumns: Int, cat: UnsafePointer<Int32>, catColumns: Int,
                 map: RowMap, context: BroadcastContext?, _ pass: Pass) -> Cache {
        let arena = pass.arena, rows = map.rows, v = count
        let source = map.sourceRows(arena)
        // Each variable's embedding goes straight into the flattened GRN's input (row stride `total`);
        // variables on the generic transform path also get a contiguous copy, which that path reads.
        let total = flattened?.inFeatures ?? 0
        let f: UnsafeMutablePointer<Float>? = flattened != nil ? arena.alloc(rows * total) : nil
        var embedded: [UnsafeMutablePointer<Float>?] = []
        var column = 0
        for (i, e) in embeddings.enumerated() {
            let own: UnsafeMutablePointer<Float>? = usesScalarPath(i) && f != nil ? nil : arena.alloc(rows * e.size)
            for (out, stride) in [(f.map { $0 + column }, total), (own, e.size)] {
                guard let out else { continue }
                switch e {
                case .continuous(let col, let weight, let bias, let size):
                    let w = pass.w + weight, b = pass.w + bias
                    for n in 0..<rows {
                        let x = cont[Int(source[n]) * contColumns + col]
                        let o = out + n * stride
                        for j in 0..<size { o[j] = x * w[j] + b[j] }
                    }
                case .categorical(let col, let table, _, let dim):
                    for n in 0..<rows {
                        let t = pass.w + table + Int(cat[Int(source[n]) * catColumns + col]) * dim
                        let o = out + n * stride
                        for j in 0..<dim { o[j] = t[j] }
                    }
                }
            }
            embedded.append(own)
            column += e.size
        }
        let weights = arena.alloc(rows * max(v, 1))
        var flat: UnsafeMutablePointer<Float>? = nil
        var flatCache: GatedResidualNetwork.Cache? = nil
        if let flattened, let f {
            let fc = flattened.forward(f, rows: rows, context: context, pass)
            weights.update(from: fc.y, count: rows * v)
            Kernels.softmaxRows(weights, rows: rows, cols: v)
            flat = f
            flatCache = fc
        } else {
            weights.update(repeating: 1, count: rows)
        }
        // Per-variable transforms, tile by tile: a tile's intermediate activations stay in cache and are
        // recomputed in the backward pass instead of being stored (they dominate memory traffic).
        let output = arena.zeros(rows * hidden)
        // Inference evaluates a continuous variable's GRN once per distinct value: calendar inputs (hour,
        // weekday, relative time) repeat across every series of a batch. Exact — the GRN is a function of
        // the one scalar. Training never does this (each row draws its own dropout mask), and a variable
        // with more than a quarter of its rows distinct gives up after scanning that many.
        var shared = [(index: UnsafeMutablePointer<Int32>, y: UnsafeMutablePointer<Float>)?](repeating: nil, count: v)
        if !pass.training && rows >= 64 {   // fewer rows: too little to share
            for (i, t) in transforms.enumerated() {
                guard case .grn(let grn) = t, grn.supportsScalarInput(training: false),
                      case .continuous(let column, let weight, let bias, _) = embeddings[i] else { continue }
                let x = arena.alloc(rows)
                for r in 0..<rows { x[r] = cont[Int(source[r]) * contColumns + column] }
                guard let d = DistinctValues(x, count: rows, limit: rows / 4, arena) else { continue }
                // Without gradients even under `lossAndGradients(training: false)`: the backward pass
                // recomputes every tile on its own.
                let y = grn.forwardScalarInput(d.values, rows: d.count, prescalerWeight: pass.w + weight,
                                               prescalerBias: pass.w + bias, pass.withoutGradients())!
                shared[i] = (d.index, y)
            }
        }
        var tile = 0
        for start in stride(from: 0, to: rows, by: Self.tileRows) {
            let n = min(Self.tileRows, rows - start)
            for (i, t) in transforms.enumerated() {
                if let (index, y) = shared[i] {
                    for r in 0..<n {
                        Kernels.axpy(weights[(start + r) * v + i], y + Int(index[start + r]) * hidden,
                                     into: output + (start + r) * hidden, count: hidden)
                    }
                    continue
                }
                // No caches here: training recomputes the tile (same dropout stream) in the backward pass.
                let tp = pass.tilePass(tag: i, tile: tile, gradients: false)
                let y: UnsafeMutablePointer<Float>
                if case .grn(let grn) = t, grn.supportsScalarInput(training: false),
                   case .continuous(let column, let weight, let bias, _) = embeddings[i] {
                    let x = tp.arena.alloc(n)
                    for r in 0..<n { x[r] = cont[Int(source[start + r]) * contColumns + column] }
                    let sum = WeightedRowSum(output: output + start * hidden, weights: weights + start * v + i, stride: v)
                    guard let rows = grn.forwardScalarInput(x, rows: n, prescalerWeight: pass.w + weight,
                                                            prescalerBias: pass.w + bias, into: sum, tp) else { continue }
                    y = rows
                } else {
                    y = t.forward(embedded[i]! + start * embeddings[i].size, rows: n, tp).y
                }
                for r in 0..<n {
                    Kernels.axpy(weights[(start + r) * v + i], y + r * hidden, into: output + (start + r) * hidden, count: hidden)
                }
            }
            tile += 1
        }
        return Cache(rows: rows, source: source, embedded: embedded, flat: flat, flatCache: flatCache, weights: weights,
                     output: output)
    }

    /// Backpropagates `doutput`; accumulates into `dcontext` and the parameter gradients.
    func backward(_ cache: Cache, doutput: UnsafePointer<Float>, cont: UnsafePointer<Float>, contColumns: Int,
                  cat: UnsafePointer<Int32>, catColumns: Int,
                  dcontext: UnsafeMutablePointer<Float>?, _ pass: Pass) {
        let arena = pass.arena, rows = cache.rows, v = count
        // Continuous variables take the scalar-input path (their prescaler's gradient included); the
        // others the generic one, with the gradient of their embedding in `dembedded`.
        let dembedded = embeddings.indices.map { usesScalarPath($0) ? nil : arena.zeros(rows * embeddings[$0].size) }
        let source = cache.source
        // Weighted sum: dξ_v = w_v · dout, dw_v = ⟨dout, ξ_v⟩, recomputing each tile's ξ_v.
        let dweights = arena.alloc(rows * max(v, 1))
        let dy = arena.alloc(min(rows, Self.tileRows) * hidden)
        var tile = 0
        for start in stride(from: 0, to: rows, by: Self.tileRows) {
            let n = min(Self.tileRows, rows - start)
            for (i, t) in transforms.enumerated() {
                let tp = pass.tilePass(tag: i, tile: tile)
                let size = embeddings[i].size
                var scalar: (cache: GatedResidualNetwork.ScalarInputCache, grn: GatedResidualNetwork, weight: Int, bias: Int)? = nil
                var generic: Transform.Cache? = nil
                if usesScalarPath(i), case .grn(let grn) = t, case .continuous(let column, let weight, let bias, _) = embeddings[i] {
                    let x = tp.arena.alloc(n)
                    for r in 0..<n { x[r] = cont[Int(source[start + r]) * contColumns + column] }
                    let c = grn.forwardScalarInputForTraining(x, rows: n, prescalerWeight: pass.w + weight,
                                                              prescalerBias: pass.w + bias, tp)
                    scalar = (c, grn, weight, bias)
                } else {
                    generic = t.forward(cache.embedded[i]! + start * size, rows: n, tp)
                }
                let y = scalar?.cache.y ?? generic!.y
                for r in 0..<n {
                    let row = start + r
                    let d = doutput + row * hidden, yr = y + r * hidden, dr = dy + r * hidden
                    let w = cache.weights[row * v + i]
                    for c in 0..<hidden { dr[c] = w * d[c] }
                    dweights[row * v + i] = Kernels.dotProduct(d, yr, hidden)
                }
                if let scalar {
                    scalar.grn.backwardScalarInput(scalar.cache, dy: dy, rows: n, prescalerWeight: scalar.weight,
                                                   prescalerBias: scalar.bias, tp)
                } else {
                    t.backward(generic!, dy: dy, rows: n, dx: dembedded[i]! + start * size, tp)
                }
            }
            tile += 1
        }
        if let flattened, let flatCache = cache.flatCache {
            let dlogits = arena.alloc(rows * v)
            for n in 0..<rows {
                Kernels.softmaxBackwardRow(p: cache.weights + n * v, dp: dweights + n * v, dz: dlogits + n * v, cols: v)
            }
            let total = flattened.inFeatures
            let dflat = arena.zeros(rows * total)
            flattened.backward(flatCache, dy: dlogits, rows: rows, dx: dflat, dcontext: dcontext, pass)
            var column = 0
            for (i, e) in embeddings.enumerated() {
                accumulateEmbeddingGradient(i, dflat + column, stride: total, rows: rows, cont: cont, contColumns: contColumns,
                                            cat: cat, catColumns: catColumns, source: source, pass)
                column += e.size
            }
        }
        for (i, e) in embeddings.enumerated() {
            guard let de = dembedded[i] else { continue }
            accumulateEmbeddingGradient(i, de, stride: e.size, rows: rows, cont: cont, contColumns: contColumns,
                                        cat: cat, catColumns: catColumns, source: source, pass)
        }
    }

    /// Whether variable `i` is continuous and its GRN takes the scalar-input path in training as well
    /// (then it needs no materialised embedding of its own, nor a buffer for that embedding's gradient).
    private func usesScalarPath(_ i: Int) -> Bool {
        guard case .grn(let grn) = transforms[i], case .continuous = embeddings[i] else { return false }
        return grn.supportsScalarInput(training: true)
    }

    /// Gradient of variable `i`'s embedding (prescaler or table) from `de`, row `n` at `de + n·stride`.
    private func accumulateEmbeddingGradient(_ i: Int, _ de: UnsafePointer<Float>, stride: Int, rows: Int,
                                             cont: UnsafePointer<Float>, contColumns: Int, cat: UnsafePointer<Int32>,
                                             catColumns: Int, source: UnsafePointer<Int32>, _ pass: Pass) {
        guard let g = pass.g else { return }
        switch embeddings[i] {
        case .continuous(let column, let weight, let bias, let size):
            let gw = g + weight, gb = g + bias
            if size == 8 {
                var aw = Vec8(), ab = Vec8()
                for n in 0..<rows {
                    let d = Kernels.load(de + n * stride)
                    aw += d * Vec8(repeating: cont[Int(source[n]) * contColumns + column]); ab += d
                }
                Kernels.store(Kernels.load(gw) + aw, gw); Kernels.store(Kernels.load(gb) + ab, gb)
                return
            }
            for n in 0..<rows {
                let x = cont[Int(source[n]) * contColumns + column]
                let d = de + n * stride
                for j in 0..<size { gw[j] += d[j] * x; gb[j] += d[j] }
            }
        case .categorical(let column, let table, _, let dim):
            for n in 0..<rows {
                let index = Int(cat[Int(source[n]) * catColumns + column])
                Kernels.add(de + n * stride, into: g + table + index * dim, count: dim)
            }
        }
    }
}

extension VariableSelectionNetwork.Transform {
    enum Cache {
        case grn(GatedResidualNetwork.Cache)
        case resampleNorm(ResampleNorm.Cache)
        var y: UnsafeMutablePointer<Float> {
            switch self {
            case .grn(let c): return c.y
            case .resampleNorm(let c): return c.y
            }
        }
    }

    func forward(_ x: UnsafePointer<Float>, rows: Int, _ pass: Pass) -> Cache {
        switch self {
        case .grn(let grn): return .grn(grn.forward(x, rows: rows, pass))
        case .resampleNorm(let rn): return .resampleNorm(rn.forward(x, rows: rows, pass))
        }
    }

    func backward(_ cache: Cache, dy: UnsafePointer<Float>, rows: Int, dx: UnsafeMutablePointer<Float>, _ pass: Pass) {
        switch (self, cache) {
        case (.grn(let grn), .grn(let c)): grn.backward(c, dy: dy, rows: rows, dx: dx, dcontext: nil, pass)
        case (.resampleNorm(let rn), .resampleNorm(let c)): rn.backward(c, dy: dy, rows: rows, dx: dx, pass)
        default: preconditionFailure("variable transform and cache disagree")
        }
    }
}

/// The distinct values of a column and, per row, the index of its value. Built with a small
/// open-addressing table on the values' bit patterns (so `-0` and `0` count as two values, which is
/// harmless); gives up (`nil`) as soon as more than `limit` values are distinct.
struct DistinctValues {
    let values: UnsafeMutablePointer<Float>
    let index: UnsafeMutablePointer<Int32>
    let count: Int

    init?(_ x: UnsafePointer<Float>, count n: Int, limit: Int, _ arena: Arena) {
        var size = 16
        while size < 2 * (limit + 1) { size <<= 1 }
        let shift = UInt32(32 - size.trailingZeroBitCount)
        // Int32 storage carved from the Float arena (same size and alignment).
        let table = UnsafeMutableRawPointer(arena.alloc(size)).bindMemory(to: Int32.self, capacity: size)
        table.update(repeating: -1, count: size)
        let index = UnsafeMutableRawPointer(arena.alloc(n)).bindMemory(to: Int32.self, capacity: n)
        let values = arena.alloc(limit + 1)
        var distinct = 0
        for r in 0..<n {
            let bits = x[r].bitPattern
            var slot = Int((bits &* 0x9E37_79B1) >> shift)
            while true {
                let k = table[slot]
                if k < 0 {
                    if distinct == limit { return nil }
                    table[slot] = Int32(distinct)
                    values[distinct] = x[r]
                    index[r] = Int32(distinct)
                    distinct += 1
                    break
                }
                if values[Int(k)].bitPattern == bits { index[r] = k; break }
                slot = (slot + 1) & (size - 1)
            }
        }
        self.values = values
        self.index = index
        self.count = distinct
    }
}
