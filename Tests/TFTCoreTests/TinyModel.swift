@testable import TFTCore

/// A small TFT with every kind of input, for whole-model tests.
enum TinyModel {
    static func config(encoder: Int = 5, decoder: Int = 3) -> TFTConfig {
        TFTConfig(
            hiddenSize: 8, attentionHeads: 2, hiddenContinuousSize: 3, dropout: 0.2, targets: ["cpu", "mem"],
            maxEncoderLength: encoder, maxPredictionLength: decoder,
            reals: ["cpu_center", "cpu", "mem", "hour_sin", "hour_cos"], categoricals: ["profile", "status", "weekend"],
            staticCategoricals: ["profile"], staticReals: ["cpu_center"],
            encoderCategoricals: ["status", "weekend"], encoderReals: ["cpu", "mem", "hour_sin", "hour_cos"],
            decoderCategoricals: ["weekend"], decoderReals: ["hour_sin", "hour_cos"],
            embeddingSizes: ["profile": .init(cardinality: 4, dimension: 3), "status": .init(cardinality: 8, dimension: 4),
                             "weekend": .init(cardinality: 2, dimension: 1)])
    }

    /// A batch of 3 windows with encoder lengths 5, 3, 4 and targets far above any prediction, so the
    /// quantile loss stays on one linear piece and finite differences see no kink.
    static func batch(_ config: TFTConfig, seed: UInt64 = 5) -> TFTBatch {
        var rng = RNG(seed: seed)
        let B = 3, Te = config.maxEncoderLength, Td = config.maxPredictionLength, T = Te + Td
        let lengths = [Te, Te - 2, Te - 1]
        var cont = [Float](repeating: 0, count: B * T * config.reals.count)
        var cat = [Int32](repeating: 0, count: B * T * config.categoricals.count)
        for b in 0..<B {
            for t in 0..<T where t >= Te || t < lengths[b] {
                for c in 0..<config.reals.count { cont[(b * T + t) * config.reals.count + c] = rng.normal() }
                cat[(b * T + t) * 3] = Int32(b)
                cat[(b * T + t) * 3 + 1] = Int32(rng.next() % 8)
                cat[(b * T + t) * 3 + 2] = Int32(rng.next() % 2)
            }
        }
        let scale: [Float] = (0..<B).flatMap { b in [Float(40 + b), 8, Float(60 - b), 5] }
        let target = (0..<(B * 2 * Td)).map { _ in Float(200) + rng.normal() }
        return TFTBatch(batchSize: B, encoderLength: Te, decoderLength: Td, continuous: cont, categorical: cat,
                        encoderLengths: lengths, targetScale: scale, target: target)
    }
}
