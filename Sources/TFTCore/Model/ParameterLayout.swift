/// How a fresh parameter is initialised (pytorch-forecasting's `init_weights` rules).
public enum ParameterInit: Sendable, Equatable {
    case zeros
    case ones
    /// `xavier_uniform_`: U(−a, a), a = sqrt(6 / (fanIn + fanOut)).
    case xavierUniform
    /// `kaiming_normal_(mode="fan_in", nonlinearity="leaky_relu", a=0)`: N(0, 2 / fanIn).
    case kaimingNormal
    /// PyTorch's default `nn.Linear`/`nn.LSTM` init: U(−1/sqrt(fanIn), 1/sqrt(fanIn)).
    case uniformFanIn(Int)
    /// `nn.Embedding` default: N(0, 1).
    case normal
}

/// Names, shapes and offsets of every parameter inside one flat buffer. Names are
/// pytorch-forecasting's `state_dict` keys, so models convert both ways.
public struct ParameterLayout: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
        public let initialiser: ParameterInit
    }

    public private(set) var entries: [Entry] = []
    public private(set) var count = 0
    private var index: [String: Int] = [:]
    /// Other names under which pytorch-forecasting's `state_dict` stores a shared parameter.
    public private(set) var aliases: [String: String] = [:]

    init() {}

    /// Registers a parameter and returns its offset in the flat buffer.
    mutating func add(_ name: String, _ shape: [Int], _ initialiser: ParameterInit) -> Int {
        precondition(index[name] == nil, "parameter \(name) registered twice")
        let entry = Entry(name: name, shape: shape, offset: count, initialiser: initialiser)
        index[name] = entries.count
        entries.append(entry)
        count += entry.count
        return entry.offset
    }

    mutating func addAlias(_ alias: String, for name: String) { aliases[alias] = name }

    public func entry(named name: String) -> Entry? {
        if let i = index[name] { return entries[i] }
        if let target = aliases[name], let i = index[target] { return entries[i] }
        return nil
    }
}

/// One forward (and optionally backward) pass on one worker thread: where the weights are, where
/// gradients go, scratch memory, and whether dropout is active.
final class Pass {
    let w: UnsafePointer<Float>
    let g: UnsafeMutablePointer<Float>?
    let arena: Arena
    /// Short-lived memory for tiles that are recomputed rather than stored (see `VariableSelectionNetwork`).
    let scratch: Arena
    /// Dropout probability; 0 in evaluation mode.
    let dropout: Float
    var rng: RNG
    /// Seed for dropout masks that must be redrawn identically when a tile is recomputed.
    let tileSeed: UInt64
    /// Whether attention weights are kept for all samples and heads (backward pass, interpretation).
    var keepsAttention = true

    init(weights: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>?, arena: Arena, scratch: Arena? = nil,
         dropout: Float, rng: RNG) {
        self.w = weights
        self.g = gradients
        self.arena = arena
        self.scratch = scratch ?? Arena(initialCapacity: 1 << 12)
        self.dropout = dropout
        var r = rng
        self.tileSeed = r.next()
        self.rng = r
    }

    /// A pass over one tile that allocates from `scratch` and draws dropout masks from a stream fixed
    /// by `(tag, tile)`, so a recomputation reproduces the forward pass exactly.
    /// `gradients: false` gives a pass that keeps no caches (a forward whose tile is recomputed later).
    func tilePass(tag: Int, tile: Int, gradients: Bool = true) -> Pass {
        scratch.reset()
        let seed = tileSeed ^ (UInt64(tag) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(tile) &* 0xC2B2_AE3D_27D4_EB4F)
        return Pass(weights: w, gradients: gradients ? g : nil, arena: scratch, scratch: scratch, dropout: dropout,
                    rng: RNG(seed: seed))
    }

    /// The same memory without gradients or dropout, for inference-only work inside a pass whose
    /// results must outlive a tile (unlike `tilePass`, it allocates from `arena`).
    func withoutGradients() -> Pass {
        Pass(weights: w, gradients: nil, arena: arena, scratch: scratch, dropout: 0, rng: RNG(seed: tileSeed))
    }

    var training: Bool { dropout > 0 }

    /// Inverted dropout in place: returns the mask (values 0 or 1/(1−p)) or nil when inactive.
    func dropoutForward(_ x: UnsafeMutablePointer<Float>, count: Int) -> UnsafeMutablePointer<Float>? {
        dropoutForward(from: x, into: x, count: count)
    }

    /// `y = x ⊙ mask` (`y` may be `x`). The mask is counter-based — element `i` keeps or drops by a
    /// 32-bit hash (murmur3's finaliser) of `i` and a per-call seed from `rng` — so the loop has no
    /// carried state and the compiler vectorises it; a sequential generator per element cost 5 % of a
    /// training step. Same seed, same mask (recomputed tiles rely on that).
    func dropoutForward(from x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) -> UnsafeMutablePointer<Float>? {
        guard dropout > 0 else { return nil }
        let mask = arena.alloc(count)
        let keep = 1 / (1 - dropout)
        let threshold = UInt32(min(Double(dropout) * 4_294_967_296, 4_294_967_295))
        let seed = UInt32(truncatingIfNeeded: rng.next() >> 17)
        for i in 0..<count {
            var h = UInt32(truncatingIfNeeded: i) &* 0x9E37_79B9 ^ seed
            h ^= h >> 16; h = h &* 0x85EB_CA6B; h ^= h >> 13; h = h &* 0xC2B2_AE35; h ^= h >> 16
            let m: Float = h < threshold ? 0 : keep
            mask[i] = m
            y[i] = x[i] * m
        }
        return mask
    }
}
