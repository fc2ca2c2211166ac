import TFTCore
/// Shapley values of `n` players for a value function evaluated in batches of coalitions.
///
/// - **Exact** when all `2ⁿ` coalitions fit in the budget: φᵢ = Σ_S |S|!(n−|S|−1)!/n! · (v(S∪{i}) − v(S)).
/// - Otherwise **antithetic permutation sampling** (Castro et al. 2009; pairs π and reverse(π)): each
///   permutation adds players one at a time and credits each with its marginal change. Every permutation
///   telescopes to v(all) − v(∅), so the estimates always satisfy efficiency (Σφ = v(all) − v(∅)) exactly.
///   Permutations: ⌊(budget − 2) / (n − 1)⌋ rounded down to even; coalitions shared between permutations
///   are evaluated once.
/// Deterministic for a given `seed`.
public enum ShapleySampler {
    public struct Result: Sendable, Equatable {
        /// φᵢ per player.
        public var values: [Double]
        /// v(∅): every player at its baseline.
        public var baselineValue: Double
        /// v(all): the actual input.
        public var fullValue: Double
        /// Distinct coalitions evaluated (model runs).
        public var evaluations: Int
        public var exact: Bool
        public var permutations: Int
    }

    /// - Parameters:
    ///   - evaluate: values of the given coalitions (bit i set = player i takes its actual value), in order.
    ///     Called with at most `batchSize` coalitions at a time.
    public static func attribute(players n: Int, budget: Int, seed: UInt64, batchSize: Int = 128,
                                 evaluate: ([UInt64]) throws -> [Double]) rethrows -> Result {
        precondition(n >= 1 && n <= 62, "1...62 players")
        let full: UInt64 = (1 << UInt64(n)) - 1
        var cache: [UInt64: Double] = [:]
        func run(_ masks: [UInt64]) throws {
            var pending: [UInt64] = []
            var seen = Set<UInt64>()
            for m in masks where cache[m] == nil && seen.insert(m).inserted { pending.append(m) }
            var i = 0
            while i < pending.count {
                let chunk = Array(pending[i..<min(pending.count, i + batchSize)])
                let values = try evaluate(chunk)
                precondition(values.count == chunk.count, "one value per coalition")
                for (m, v) in zip(chunk, values) { cache[m] = v }
                i += batchSize
            }
        }
        if n < 20, (1 << n) <= budget {
            try run((0...full).map { $0 })
            var phi = [Double](repeating: 0, count: n)
            var factorial = [Double](repeating: 1, count: n + 1)
            for k in 1...n { factorial[k] = factorial[k - 1] * Double(k) }
            for s in 0...full {
                let size = s.nonzeroBitCount
                for i in 0..<n where s & (1 << UInt64(i)) == 0 {
                    let w = factorial[size] * factorial[n - size - 1] / factorial[n]
                    phi[i] += w * (cache[s | (1 << UInt64(i))]! - cache[s]!)
                }
            }
            return Result(values: phi, baselineValue: cache[0]!, fullValue: cache[full]!, evaluations: cache.count,
                          exact: true, permutations: 0)
        }
        var pairs = max(1, (budget - 2) / max(n - 1, 1) / 2)
        if n == 1 { pairs = 1 }
        var rng = RNG(seed: seed)
        var permutations: [[Int]] = []
        for _ in 0..<pairs {
            var p = Array(0..<n)
            for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            permutations.append(p)
            permutations.append(p.reversed())
        }
        var masks: [UInt64] = [0, full]
        for p in permutations {
            var m: UInt64 = 0
            for i in p.dropLast() { m |= 1 << UInt64(i); masks.append(m) }
        }
        try run(masks)
        var phi = [Double](repeating: 0, count: n)
        for p in permutations {
            var m: UInt64 = 0
            for i in p {
                let next = m | (1 << UInt64(i))
                phi[i] += cache[next]! - cache[m]!
                m = next
            }
        }
        let count = Double(permutations.count)
        return Result(values: phi.map { $0 / count }, baselineValue: cache[0]!, fullValue: cache[full]!,
                      evaluations: cache.count, exact: false, permutations: permutations.count)
    }
}
