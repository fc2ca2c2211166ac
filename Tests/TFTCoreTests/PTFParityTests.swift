import Foundation
import Testing
@testable import TFTCore

/// Parity with pytorch-forecasting 1.8.0 on committed fixtures (outputs within 1e-4 relative,
/// gradients within 1e-3).
@Suite struct PTFParityTests {
    static let fixtures = ["ptf_small", "ptf_single"]

    @Test(arguments: fixtures)
    func forwardMatchesPytorchForecasting(name: String) throws {
        let f = try Fixture(name)
        let model = try TFTModel(config: f.config)
        try model.loadParameters(f.weights)
        let batch = f.batch()
        let (loss, out) = try model.lossAndGradients(batch, training: false)
        let B = batch.batchSize, Td = batch.decoderLength, Te = batch.encoderLength, Q = f.config.quantiles.count
        let nT = f.config.targets.count, heads = f.config.attentionHeads

        // prediction: PTF (targets, B, Td, Q) vs Argus (B, targets, Td, Q)
        let ref = f.tensor("prediction").values
        var mine = [Float](repeating: 0, count: ref.count)
        for t in 0..<nT { for b in 0..<B { for i in 0..<(Td * Q) {
            mine[((t * B + b) * Td) * Q + i] = out.prediction[((b * nT + t) * Td) * Q + i]
        } } }
        let p = worstMismatch(mine, ref, rtol: 1e-4, atol: 1e-5)
        #expect(p.ratio <= 1, "prediction differs at \(p.index): \(mine[max(p.index, 0)]) vs \(ref[max(p.index, 0)])")

        // attention: split into encoder (B, Td, h, Te) and decoder (B, Td, h, Td) parts
        var enc = [Float](), dec = [Float]()
        for r in 0..<(B * Td * heads) {
            enc += out.attention[(r * (Te + Td))..<(r * (Te + Td) + Te)]
            dec += out.attention[(r * (Te + Td) + Te)..<((r + 1) * (Te + Td))]
        }
        for (mineA, key) in [(enc, "encoder_attention"), (dec, "decoder_attention")] {
            let m = worstMismatch(mineA, f.tensor(key).values, rtol: 1e-4, atol: 1e-6)
            #expect(m.ratio <= 1, "\(key) differs at \(m.index)")
        }
        for (mineW, key) in [(out.staticWeights, "static_variables"), (out.encoderWeights, "encoder_variables"),
                             (out.decoderWeights, "decoder_variables")] {
            let m = worstMismatch(mineW, f.tensor(key).values, rtol: 1e-4, atol: 1e-6)
            #expect(m.ratio <= 1, "\(key) differs at \(m.index)")
        }
        // The inference path (fused kernels, no caches) gives the same forecasts.
        let inference = try model.forward(batch, include: [])
        #expect(worstMismatch(inference.prediction, out.prediction, rtol: 1e-5, atol: 1e-5).ratio <= 1)
        let refLoss = f.tensor("loss").values[0]
        #expect(abs(loss - refLoss) <= 1e-4 * abs(refLoss), "loss \(loss) vs \(refLoss)")

        // gradients of every parameter
        let grads = model.gradientTensors()
        for (name, g) in grads.sorted(by: { $0.key < $1.key }) {
            guard let r = f.io["grad." + name] else { Issue.record("fixture has no gradient for \(name)"); continue }
            let scale = r.values.map(abs).max() ?? 0
            let m = worstMismatch(g.values, r.values, rtol: 1e-3, atol: 1e-3 * scale + 1e-7)
            #expect(m.ratio <= 1, "gradient of \(name) differs at \(m.index): \(g.values[max(m.index, 0)]) vs \(r.values[max(m.index, 0)])")
        }
    }
}

@Suite struct InterpretationParityTests {
    @Test(arguments: PTFParityTests.fixtures)
    func interpretOutputMatchesPytorchForecasting(name: String) throws {
        let f = try Fixture(name)
        let model = try TFTModel(config: f.config)
        try model.loadParameters(f.weights)
        let out = try model.forward(f.batch())
        for (reduction, prefix) in [(TFTInterpretation.Reduction.none, "interpret_none"), (.sum, "interpret_sum")] {
            let mine = out.interpret(maxEncoderLength: f.config.maxEncoderLength, reduction: reduction)
            for (values, key) in [(mine.attention, "attention"), (mine.staticVariables, "static_variables"),
                                  (mine.encoderVariables, "encoder_variables"), (mine.decoderVariables, "decoder_variables")] {
                let m = worstMismatch(values, f.tensor("\(prefix).\(key)").values, rtol: 1e-4, atol: 1e-6)
                #expect(m.ratio <= 1, "\(prefix).\(key) differs at \(m.index)")
            }
        }
    }
}
