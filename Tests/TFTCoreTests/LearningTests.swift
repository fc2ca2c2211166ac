import Foundation
import Testing
@testable import TFTCore

/// A learning test, not a timing test: a tiny TFT trained for a few hundred Adam steps on a noisy
/// seasonal series ends well below the quantile loss of repeating the last value.
@Suite struct LearningTests {
    static let period = 12

    static func config() -> TFTConfig {
        TFTConfig(hiddenSize: 8, attentionHeads: 2, hiddenContinuousSize: 4, dropout: 0.05, targets: ["y"],
                  maxEncoderLength: 24, maxPredictionLength: 6,
                  reals: ["y", "phase_sin", "phase_cos"], categoricals: ["series"],
                  staticCategoricals: ["series"], staticReals: [], encoderCategoricals: [],
                  encoderReals: ["y", "phase_sin", "phase_cos"], decoderCategoricals: [],
                  decoderReals: ["phase_sin", "phase_cos"],
                  embeddingSizes: ["series": .init(cardinality: 2, dimension: 2)])
    }

    /// Windows of two seasonal series (different level and amplitude); the target is normalised per
    /// series with a fixed center and scale, like a GroupNormalizer.
    static func batch(size: Int, rng: inout RNG) -> TFTBatch {
        let Te = 24, Td = 6, T = Te + Td
        var cont = [Float](), cat = [Int32](), scale = [Float](), target = [Float]()
        for _ in 0..<size {
            let series = Int(rng.next() % 2), start = Int(rng.next() % 1000)
            let level: Float = series == 0 ? 50 : 20, amplitude: Float = series == 0 ? 10 : 4
            var ys = [Float]()
            for t in 0..<T {
                let phase = 2 * Float.pi * Float((start + t) % period) / Float(period)
                let y = level + amplitude * sin(phase) + 0.5 * rng.normal()
                ys.append(y)
                cont += [t < Te ? (y - level) / amplitude : 0, sin(phase), cos(phase)]
                cat.append(Int32(series))
            }
            scale += [level, amplitude]
            target += ys[Te...]
        }
        return TFTBatch(batchSize: size, encoderLength: Te, decoderLength: Td, continuous: cont, categorical: cat,
                        encoderLengths: [Int](repeating: Te, count: size), targetScale: scale, target: target)
    }

    @Test func tinyModelLearnsASeasonalSeriesBetterThanPersistence() throws {
        let model = try TFTModel(config: Self.config(), seed: 1)
        let adam = AdamOptimizer(parameterCount: model.parameterCount, learningRate: 1e-2)
        var rng = RNG(seed: 2)
        for step in 0..<300 {
            _ = try model.lossAndGradients(Self.batch(size: 16, rng: &rng), training: true, seed: UInt64(step), include: [])
            GradientClipping.clipGlobalNorm(model.gradients, maxNorm: 1)
            adam.update(model.parameters, gradients: model.gradients)
        }
        var heldOut = RNG(seed: 99)
        let test = Self.batch(size: 64, rng: &heldOut)
        let modelLoss = QuantileLoss.loss(prediction: try model.forward(test, include: []).prediction, target: test.target!,
                                          quantiles: TFTConfig.defaultQuantiles)
        // Persistence: every quantile is the last observed value.
        var naive = [Float]()
        for b in 0..<64 {
            let level = test.targetScale[b * 2], amplitude = test.targetScale[b * 2 + 1]
            let last = test.continuous[(b * 30 + 23) * 3] * amplitude + level
            naive += [Float](repeating: last, count: 6 * 7)
        }
        let naiveLoss = QuantileLoss.loss(prediction: naive, target: test.target!, quantiles: TFTConfig.defaultQuantiles)
        #expect(modelLoss < 0.5 * naiveLoss, "model \(modelLoss) vs persistence \(naiveLoss)")
    }
}
