import Testing
@testable import TFTCore

/// Finite differences over the whole model: every parameter tensor, in evaluation mode and in
/// training mode (dropout masks fixed by the seed).
@Suite struct ModelGradientTests {
    @Test(arguments: [false, true])
    func everyParameterMatchesFiniteDifferences(training: Bool) throws {
        let config = TinyModel.config()
        let model = try TFTModel(config: config, seed: 3)
        model.threads = 2
        var rng = RNG(seed: 17)
        for e in model.layout.entries {
            for i in 0..<e.count { model.parameters.pointer[e.offset + i] = e.initialiser == .ones ? 1 + 0.2 * rng.normal() : 0.4 * rng.normal() }
        }
        let batch = TinyModel.batch(config)
        _ = try model.lossAndGradients(batch, training: training, seed: 9)
        let analytic = model.gradients.values
        let epsilon: Float = 1e-2
        var failures: [String] = [], checked = 0
        for e in model.layout.entries {
            for k in 0..<min(3, e.count) {
                let i = e.offset + (k * 7919) % e.count
                let saved = model.parameters.pointer[i]
                model.parameters.pointer[i] = saved + epsilon
                let plus = try model.lossAndGradients(batch, training: training, seed: 9).loss
                model.parameters.pointer[i] = saved - epsilon
                let minus = try model.lossAndGradients(batch, training: training, seed: 9).loss
                model.parameters.pointer[i] = saved
                let numeric = (plus - minus) / (2 * epsilon), a = analytic[i]
                checked += 1
                if !(abs(a - numeric) <= 3e-2 * max(abs(a), abs(numeric)) + 3e-3) {
                    failures.append("\(e.name)[\(i - e.offset)]: analytic \(a) vs numeric \(numeric)")
                }
            }
        }
        #expect(checked > 100)
        #expect(failures.isEmpty, "\(failures.count) mismatches: \(failures.prefix(6).joined(separator: "; "))")
    }

    @Test func resultsDoNotDependOnTheNumberOfThreads() throws {
        let config = TinyModel.config()
        let model = try TFTModel(config: config, seed: 4)
        let batch = TinyModel.batch(config)
        model.threads = 1
        let (loss1, out1) = try model.lossAndGradients(batch, training: false)
        let grads1 = model.gradients.values
        model.threads = 2
        let (loss2, out2) = try model.lossAndGradients(batch, training: false)
        // Equal up to float rounding (BLAS may block a 1-row and a 3-row product differently).
        #expect(worstMismatch(out2.prediction, out1.prediction, rtol: 1e-5, atol: 1e-5).ratio <= 1)
        #expect(abs(loss1 - loss2) <= 1e-5 * abs(loss1))
        let scale = grads1.map(abs).max()!
        #expect(worstMismatch(model.gradients.values, grads1, rtol: 1e-4, atol: 1e-5 * scale).ratio <= 1)
    }
}
