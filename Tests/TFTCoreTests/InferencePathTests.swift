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
                                   prescalerBias: params.pointer + prescaleBias, pass)!
        }
        // Asked for a weighted sum (the variable-selection network's), the output must be
        // `start + weight·row` for every row — whether the path adds it itself (nil) or returns the rows.
        let weights = randomValues(rows * 3, seed: 33), start = randomValues(rows * out, seed: 34)
        var summed = start
        let returned = x.withUnsafeBufferPointer { xp in weights.withUnsafeBufferPointer { wp in summed.withUnsafeMutableBufferPointer { sp in
            grn.forwardScalarInput(xp.baseAddress!, rows: rows, prescalerWeight: params.pointer + prescaleWeight,
                                   prescalerBias: params.pointer + prescaleBias,
                                   into: WeightedRowSum(output: sp.baseAddress!, weights: wp.baseAddress! + 1, stride: 3), pass)
        } } }
        if let returned {
            for r in 0..<rows { for c in 0..<out { summed[r * out + c] += weights[r * 3 + 1] * returned[r * out + c] } }
        }
        #expect((hidden == 8 && out == 32) == (returned == nil), "only the fused config-A path adds into the sum itself")
        var worstSum: Float = 0
        for r in 0..<rows {
            for c in 0..<out {
                let expected = start[r * out + c] + weights[r * 3 + 1] * generic[r * out + c]
                worstSum = max(worstSum, abs(summed[r * out + c] - expected) / (1 + abs(expected)))
            }
        }
        #expect(worstSum < 1e-5, "worst weighted-sum difference \(worstSum)")
        // Outputs are LayerNorm'ed (order 1); folding fc2 into the GLU only changes float rounding.
        var worst: Float = 0
        for i in 0..<(rows * out) { worst = max(worst, abs(fast[i] - generic[i]) / (1 + abs(generic[i]))) }
        #expect(worst < 1e-5, "worst difference \(worst)")
    }
}

/// Inference evaluates a continuous variable's GRN once per distinct value of a tile (calendar inputs
/// repeat across the series of a batch); the predictions must not change.
@Suite struct DistinctValueInferenceTests {
    @Test func deduplicatedInferenceEqualsThePlainEvaluation() throws {
        let config = TinyModel.config(encoder: 12, decoder: 3)
        let model = try TFTModel(config: config, seed: 12)
        model.threads = 1
        var rng = RNG(seed: 3)
        for e in model.layout.entries {
            for i in 0..<e.count { model.parameters.pointer[e.offset + i] += 0.3 * rng.normal() }
        }
        // Eight series whose calendar columns (hour_sin, hour_cos: reals 3 and 4) agree at each step
        // (96 encoder rows: enough for the distinct-value path).
        let B = 8, T = 15, R = config.reals.count
        var cont = (0..<(B * T * R)).map { _ in rng.normal() }
        for b in 0..<B {
            for t in 0..<T {
                let hour = Float(t % 4) * 0.5
                cont[(b * T + t) * R + 3] = hour - 3
                cont[(b * T + t) * R + 4] = hour - 4
            }
        }
        var cat = [Int32](repeating: 0, count: B * T * 3)
        for i in 0..<cat.count where i % 3 == 1 { cat[i] = Int32(i % 8) }
        for i in 0..<cat.count where i % 3 == 2 { cat[i] = Int32(i % 2) }
        for b in 0..<B { for t in 0..<T { cat[(b * T + t) * 3] = Int32(b % 4) } }
        var scale = [Float](repeating: 1, count: B * 4)
        for i in 0..<scale.count { scale[i] = Float(1 + i % 3) }
        let batch = TFTBatch(batchSize: B, encoderLength: 12, decoderLength: 3, continuous: cont, categorical: cat,
                             encoderLengths: [12, 12, 9, 12, 11, 12, 12, 10], targetScale: scale,
                             target: nil)
        let deduplicated = try model.forward(batch)
        // The plain evaluation: each series alone (12 rows, fewer than the 64 the distinct-value path needs).
        var plainPrediction: [Float] = []
        for b in 0..<B {
            let one = TFTBatch(batchSize: 1, encoderLength: 12, decoderLength: 3,
                               continuous: Array(cont[(b * T * R)..<((b + 1) * T * R)]),
                               categorical: Array(cat[(b * T * 3)..<((b + 1) * T * 3)]),
                               encoderLengths: [batch.encoderLengths[b]], targetScale: Array(scale[(b * 4)..<((b + 1) * 4)]))
            plainPrediction += try model.forward(one, include: []).prediction
        }
        #expect(plainPrediction.count == deduplicated.prediction.count)
        let worst = zip(plainPrediction, deduplicated.prediction).map { abs($0 - $1) / (1 + abs($0)) }.max()!
        #expect(worst < 1e-5, "worst difference \(worst)")
        // Evaluation with gradients (validation loss, explanations) takes the same path.
        var withTarget = batch
        withTarget.target = (0..<(B * 2 * 3)).map { Float($0 % 5) }
        let evaluated = try model.lossAndGradients(withTarget, training: false).output
        let worstEvaluated = zip(plainPrediction, evaluated.prediction).map { abs($0 - $1) / (1 + abs($0)) }.max()!
        #expect(worstEvaluated < 1e-5, "worst difference \(worstEvaluated)")
    }

    @Test func distinctValuesGivesUpBeyondTheLimit() {
        let arena = Arena()
        let x: [Float] = [1, 2, 1, 3, 2, 1, -0.0, 0]
        let d = x.withUnsafeBufferPointer { DistinctValues($0.baseAddress!, count: 8, limit: 5, arena) }
        #expect(d?.count == 5)
        if let d { for r in 0..<8 { #expect(d.values[Int(d.index[r])].bitPattern == x[r].bitPattern) } }
        let none = x.withUnsafeBufferPointer { DistinctValues($0.baseAddress!, count: 8, limit: 4, arena) }
        #expect(none == nil)
    }
}

/// Inference that reports no attention reuses one score block for every sample and head; the
/// predictions must equal a forward that keeps (and reports) all attention weights.
@Suite struct AttentionBlockReuseTests {
    @Test func predictionsDoNotDependOnKeepingAttention() throws {
        let config = TinyModel.config(encoder: 6, decoder: 3)
        let model = try TFTModel(config: config, seed: 21)
        model.threads = 1
        let batch = TinyModel.batch(config)
        let kept = try model.forward(batch, include: .all)
        let reused = try model.forward(batch, include: [])
        #expect(kept.attention.count == batch.batchSize * 3 * config.attentionHeads * 9)
        #expect(kept.prediction == reused.prediction)
    }
}
