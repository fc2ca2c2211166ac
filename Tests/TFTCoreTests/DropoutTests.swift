import Testing
@testable import TFTCore

@Suite struct DropoutTests {
    /// Inverted dropout: drops the configured fraction, scales the rest by 1/(1−p), same mask for a seed.
    @Test(arguments: [Float(0.1), 0.3])
    func dropsTheConfiguredFractionAndKeepsTheMean(p: Float) {
        let count = 100_003   // not a multiple of the four elements decided per draw
        let x = [Float](repeating: 2, count: count)
        func run(seed: UInt64) -> [Float] {
            let pass = Pass(weights: UnsafePointer(bitPattern: 64)!, gradients: nil, arena: Arena(), dropout: p, rng: RNG(seed: seed))
            let y = pass.arena.alloc(count)
            let mask = x.withUnsafeBufferPointer { pass.dropoutForward(from: $0.baseAddress!, into: y, count: count)! }
            for i in 0..<count { #expect(y[i] == x[i] * mask[i]) }
            return Array(UnsafeBufferPointer(start: y, count: count))
        }
        let y = run(seed: 1)
        let dropped = Float(y.filter { $0 == 0 }.count) / Float(count)
        #expect(abs(dropped - p) < 0.006, "dropped \(dropped) for p = \(p)")
        #expect(y.allSatisfy { $0 == 0 || abs($0 - 2 / (1 - p)) < 1e-6 })
        let mean = y.reduce(0, +) / Float(count)
        #expect(abs(mean - 2) < 0.03, "mean \(mean)")
        #expect(run(seed: 1) == y)
        #expect(run(seed: 2) != y)
    }
}
