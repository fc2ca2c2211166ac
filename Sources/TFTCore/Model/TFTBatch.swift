/// A batch of windows in pytorch-forecasting's collated layout, batch-major.
///
/// Every sample has `encoderLength + decoderLength` time steps; a sample with a shorter history
/// has `encoderLengths[b] < encoderLength` valid encoder steps, right-padded (PTF's collate). All
/// samples forecast `decoderLength` steps.
public struct TFTBatch: Sendable {
    public var batchSize: Int
    public var encoderLength: Int
    public var decoderLength: Int
    /// `(B, Te + Td, reals.count)` continuous inputs, already normalised as the model expects.
    public var continuous: [Float]
    /// `(B, Te + Td, categoricals.count)` category indices.
    public var categorical: [Int32]
    /// Valid encoder steps per sample, each in `1...encoderLength`.
    public var encoderLengths: [Int]
    /// `(B, targets, 2)`: center and scale per sample and target; predictions are `ŷ·scale + center`.
    public var targetScale: [Float]
    /// `(B, targets, Td)` raw target values, needed only for the loss.
    public var target: [Float]?

    public init(batchSize: Int, encoderLength: Int, decoderLength: Int, continuous: [Float], categorical: [Int32],
                encoderLengths: [Int], targetScale: [Float], target: [Float]? = nil) {
        self.batchSize = batchSize; self.encoderLength = encoderLength; self.decoderLength = decoderLength
        self.continuous = continuous; self.categorical = categorical; self.encoderLengths = encoderLengths
        self.targetScale = targetScale; self.target = target
    }

    public var totalSteps: Int { encoderLength + decoderLength }

    /// Checks shapes, lengths, category ranges and finiteness; throws naming the field.
    public func validate(for config: TFTConfig) throws {
        func fail(_ f: String, _ p: String) -> TFTError { .invalidInput(field: f, problem: p) }
        let B = batchSize, T = totalSteps, nT = config.targets.count
        guard B > 0 else { throw fail("batch_size", "must be positive") }
        guard encoderLength > 0, encoderLength <= config.maxEncoderLength else {
            throw fail("encoder_length", "must be in 1...\(config.maxEncoderLength), got \(encoderLength)")
        }
        guard decoderLength == config.maxPredictionLength else {
            throw fail("decoder_length", "must equal max_prediction_length \(config.maxPredictionLength), got \(decoderLength)")
        }
        guard continuous.count == B * T * config.reals.count else {
            throw fail("continuous", "expected \(B)×\(T)×\(config.reals.count) values, got \(continuous.count)")
        }
        guard categorical.count == B * T * config.categoricals.count else {
            throw fail("categorical", "expected \(B)×\(T)×\(config.categoricals.count) values, got \(categorical.count)")
        }
        guard encoderLengths.count == B else { throw fail("encoder_lengths", "expected \(B) values, got \(encoderLengths.count)") }
        if let bad = encoderLengths.firstIndex(where: { $0 < 1 || $0 > encoderLength }) {
            throw fail("encoder_lengths[\(bad)]", "must be in 1...\(encoderLength), got \(encoderLengths[bad])")
        }
        guard targetScale.count == B * nT * 2 else { throw fail("target_scale", "expected \(B)×\(nT)×2 values, got \(targetScale.count)") }
        if let bad = continuous.firstIndex(where: { !$0.isFinite }) {
            let nR = config.reals.count
            throw fail("continuous", "non-finite value \(continuous[bad]) in column '\(config.reals[bad % nR])' at sample \(bad / (T * nR)), step \((bad / nR) % T)")
        }
        if let bad = targetScale.firstIndex(where: { !$0.isFinite }) { throw fail("target_scale", "non-finite value at index \(bad)") }
        for (column, name) in config.categoricals.enumerated() {
            let cardinality = config.embeddingSizes[name]?.cardinality ?? 0
            var i = column
            while i < categorical.count {
                let v = categorical[i]
                if v < 0 || Int(v) >= cardinality {
                    throw fail("categorical", "'\(name)' index \(v) at sample \(i / (T * config.categoricals.count)) is outside 0..<\(cardinality)")
                }
                i += config.categoricals.count
            }
        }
        if let target {
            guard target.count == B * nT * decoderLength else { throw fail("target", "expected \(B)×\(nT)×\(decoderLength) values, got \(target.count)") }
            if let bad = target.firstIndex(where: { !$0.isFinite }) { throw fail("target", "non-finite value at index \(bad)") }
        }
    }
}

/// Which interpretation outputs a forward pass copies out (predictions always are). Attention is
/// `(B, Td, heads, T)` — 26 MB at batch 45 of config A — so inference that does not explain asks
/// for less.
public struct TFTOutputOptions: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let attention = TFTOutputOptions(rawValue: 1)
    public static let variableWeights = TFTOutputOptions(rawValue: 2)
    public static let all: TFTOutputOptions = [.attention, .variableWeights]
}

/// What a forward pass returns. Shapes are batch-major.
public struct TFTOutput: Sendable {
    public var batchSize: Int
    public var encoderLength: Int
    public var decoderLength: Int
    public var quantiles: [Float]
    public var targets: Int
    /// `(B, targets, Td, Q)` de-normalised quantile forecasts.
    public var prediction: [Float]
    /// `(B, Td, heads, Te + Td)` attention of each forecast step over encoder then decoder steps.
    public var attention: [Float]
    public var heads: Int
    /// `(B, Vs)`, `(B, Te, Ve)`, `(B, Td, Vd)` variable-selection weights.
    public var staticWeights: [Float]
    public var encoderWeights: [Float]
    public var decoderWeights: [Float]
    public var encoderLengths: [Int]

    /// Forecast of quantile `q` for sample `b`, target `t`, step `step`.
    public func value(sample b: Int, target t: Int, step: Int, quantile q: Int) -> Float {
        prediction[((b * targets + t) * decoderLength + step) * quantiles.count + q]
    }
}
