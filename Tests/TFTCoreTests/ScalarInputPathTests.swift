import Testing
@testable import TFTCore

/// The inference-only scalar-input path of a variable-selection GRN (prescaler folded into fc1 and the
/// residual; at config A's shape also `fc2` folded into the GLU and the rows fused) must compute the
/// same function as the generic `forward` on the prescaled input.
@Suite struct ScalarInputPathTests {
    /// (hidden, output): (8, 32) takes the fused config-A kernel, (3, 8) the general scalar path.
    @Test(arguments: [(8, 32), (3, 8)])
    func scalarPathMatchesTheGenericForward(hidden: Int, out: Int) {
        var layout = ParameterLayout()
        let grn = GatedResidualNetwork(&layout, "grn", in: hidden, hidden: hidden, out: out)
        let prescaleWeight = layout.add("prescaler.weight", [hidden], .zeros)
        let prescaleBias = layout.add("prescaler.bias", [hidden], .zeros)
        let params = ParameterBuffer(count: layout.count)
        let values = randomValues(layout.count, seed: 31, scale: 0.6)
        for i in 0..<layout.count { params.pointer[i] = values[i] }
        // 150 rows: more than one 64-row block of the fused kernel, and a partial last block.
        let rows = 150
        let x = randomValues(rows, seed: 32, scale: 2)
        let pass = Pass(weights: params.pointer, gradients: nil, arena: Arena(), dropout: 0, rng: RNG(seed: 1))
        let prescaled = pass.arena.alloc(rows * hidden)
        for r in 0..<rows {
            for i in 0..<hidden { prescaled[r * hidden + i] = x[r] * params.pointer[prescaleWeight + i] + params.pointer[prescaleBias + i] }
        }
        let generic = grn.forward(prescaled, rows: rows, pass).y
        let fast = x.withUnsafeBufferPointer {
            grn.forwardScalarInput($0.baseAddress!, rows: rows, prescalerWeight: params.pointer + prescaleWeight,
                                   prescalerBias: params.pointer + prescaleBias, pass)
        }
        // Outputs are LayerNorm'ed (order 1); folding fc2 into the GLU only changes float rounding.
        var worst: Float = 0
        for i in 0..<(rows * out) { worst = max(worst, abs(fast[i] - generic[i]) / (1 + abs(generic[i]))) }
        #expect(worst < 1e-5, "worst difference \(worst)")
    }
}
