/// Hyper-parameters and input variables of a TFT, stored as the model folder's `config.json`.
/// Keys follow pytorch-forecasting's `hparams` (snake_case), so a PTF model's settings map 1:1.
public struct TFTConfig: Codable, Sendable, Equatable {
    public struct Embedding: Codable, Sendable, Equatable {
        public var cardinality: Int
        public var dimension: Int
        public init(cardinality: Int, dimension: Int) { self.cardinality = cardinality; self.dimension = dimension }
        public init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            cardinality = try c.decode(Int.self)
            dimension = try c.decode(Int.self)
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(cardinality)
            try c.encode(dimension)
        }
    }

    public var hiddenSize: Int
    public var attentionHeads: Int
    public var hiddenContinuousSize: Int
    public var lstmLayers: Int
    public var dropout: Float
    public var quantiles: [Float]
    /// Target names, in output order (`output_layer.<i>` when there are several).
    public var targets: [String]
    public var maxEncoderLength: Int
    public var maxPredictionLength: Int
    /// Columns of the continuous input tensor, in order (`x_reals`).
    public var reals: [String]
    /// Columns of the categorical input tensor, in order (`x_categoricals`).
    public var categoricals: [String]
    public var staticCategoricals: [String]
    public var staticReals: [String]
    public var encoderCategoricals: [String]
    public var encoderReals: [String]
    public var decoderCategoricals: [String]
    public var decoderReals: [String]
    public var embeddingSizes: [String: Embedding]
    /// Seconds between two steps of the series (Argus: 300). Not a PTF setting.
    public var stepSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", attentionHeads = "attention_head_size"
        case hiddenContinuousSize = "hidden_continuous_size", lstmLayers = "lstm_layers", dropout, quantiles
        case targets = "target", maxEncoderLength = "max_encoder_length"
        case maxPredictionLength = "max_prediction_length", reals = "x_reals", categoricals = "x_categoricals"
        case staticCategoricals = "static_categoricals", staticReals = "static_reals"
        case encoderCategoricals = "time_varying_categoricals_encoder", encoderReals = "time_varying_reals_encoder"
        case decoderCategoricals = "time_varying_categoricals_decoder", decoderReals = "time_varying_reals_decoder"
        case embeddingSizes = "embedding_sizes", stepSeconds = "step_seconds"
    }

    public init(hiddenSize: Int, attentionHeads: Int, hiddenContinuousSize: Int, lstmLayers: Int = 1,
                dropout: Float, quantiles: [Float] = TFTConfig.defaultQuantiles, targets: [String],
                maxEncoderLength: Int, maxPredictionLength: Int, reals: [String], categoricals: [String],
                staticCategoricals: [String], staticReals: [String], encoderCategoricals: [String],
                encoderReals: [String], decoderCategoricals: [String], decoderReals: [String],
                embeddingSizes: [String: Embedding], stepSeconds: Int? = nil) {
        self.hiddenSize = hiddenSize; self.attentionHeads = attentionHeads
        self.hiddenContinuousSize = hiddenContinuousSize; self.lstmLayers = lstmLayers; self.dropout = dropout
        self.quantiles = quantiles; self.targets = targets; self.maxEncoderLength = maxEncoderLength
        self.maxPredictionLength = maxPredictionLength; self.reals = reals; self.categoricals = categoricals
        self.staticCategoricals = staticCategoricals; self.staticReals = staticReals
        self.encoderCategoricals = encoderCategoricals; self.encoderReals = encoderReals
        self.decoderCategoricals = decoderCategoricals; self.decoderReals = decoderReals
        self.embeddingSizes = embeddingSizes; self.stepSeconds = stepSeconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        attentionHeads = try c.decode(Int.self, forKey: .attentionHeads)
        hiddenContinuousSize = try c.decode(Int.self, forKey: .hiddenContinuousSize)
        lstmLayers = try c.decodeIfPresent(Int.self, forKey: .lstmLayers) ?? 1
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0.1
        quantiles = try c.decodeIfPresent([Float].self, forKey: .quantiles) ?? TFTConfig.defaultQuantiles
        // pytorch-forecasting writes a single target as a string and several as a list.
        if let single = try? c.decode(String.self, forKey: .targets) { targets = [single] }
        else { targets = try c.decode([String].self, forKey: .targets) }
        maxEncoderLength = try c.decode(Int.self, forKey: .maxEncoderLength)
        maxPredictionLength = try c.decode(Int.self, forKey: .maxPredictionLength)
        reals = try c.decodeIfPresent([String].self, forKey: .reals) ?? []
        categoricals = try c.decodeIfPresent([String].self, forKey: .categoricals) ?? []
        staticCategoricals = try c.decodeIfPresent([String].self, forKey: .staticCategoricals) ?? []
        staticReals = try c.decodeIfPresent([String].self, forKey: .staticReals) ?? []
        encoderCategoricals = try c.decodeIfPresent([String].self, forKey: .encoderCategoricals) ?? []
        encoderReals = try c.decodeIfPresent([String].self, forKey: .encoderReals) ?? []
        decoderCategoricals = try c.decodeIfPresent([String].self, forKey: .decoderCategoricals) ?? []
        decoderReals = try c.decodeIfPresent([String].self, forKey: .decoderReals) ?? []
        embeddingSizes = try c.decodeIfPresent([String: Embedding].self, forKey: .embeddingSizes) ?? [:]
        stepSeconds = try c.decodeIfPresent(Int.self, forKey: .stepSeconds)
    }

    public static let defaultQuantiles: [Float] = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98]

    /// Variables of each selection network, in pytorch-forecasting's order: categoricals, then reals.
    public var staticVariables: [String] { staticCategoricals + staticReals }
    public var encoderVariables: [String] { encoderCategoricals + encoderReals }
    public var decoderVariables: [String] { decoderCategoricals + decoderReals }

    /// Throws a `TFTError.invalidConfig` naming the field and the problem.
    public func validate() throws {
        func fail(_ field: String, _ problem: String) -> TFTError { .invalidConfig(field: field, problem: problem) }
        guard hiddenSize > 0 else { throw fail("hidden_size", "must be positive, got \(hiddenSize)") }
        guard attentionHeads > 0, hiddenSize % attentionHeads == 0 else {
            throw fail("attention_head_size", "must divide hidden_size \(hiddenSize), got \(attentionHeads)")
        }
        guard hiddenContinuousSize > 0 else { throw fail("hidden_continuous_size", "must be positive") }
        guard lstmLayers == 1 else {
            throw fail("lstm_layers", "Argus implements 1 LSTM layer (pytorch-forecasting's default); got \(lstmLayers)")
        }
        guard dropout >= 0, dropout < 1 else { throw fail("dropout", "must be in [0, 1), got \(dropout)") }
        guard !quantiles.isEmpty, quantiles.allSatisfy({ $0 > 0 && $0 < 1 }), quantiles == quantiles.sorted() else {
            throw fail("quantiles", "must be increasing values in (0, 1)")
        }
        guard !targets.isEmpty else { throw fail("target", "needs at least one target") }
        guard maxEncoderLength > 0 else { throw fail("max_encoder_length", "must be positive") }
        guard maxPredictionLength > 0 else { throw fail("max_prediction_length", "must be positive") }
        guard !encoderVariables.isEmpty else { throw fail("time_varying_reals_encoder", "the encoder needs at least one variable") }
        guard !decoderVariables.isEmpty else { throw fail("time_varying_reals_decoder", "the decoder needs at least one known variable") }
        for (field, names) in [("static_reals", staticReals), ("time_varying_reals_encoder", encoderReals),
                               ("time_varying_reals_decoder", decoderReals)] {
            for n in names where !reals.contains(n) { throw fail(field, "variable '\(n)' is not a column of x_reals") }
        }
        for (field, names) in [("static_categoricals", staticCategoricals), ("time_varying_categoricals_encoder", encoderCategoricals),
                               ("time_varying_categoricals_decoder", decoderCategoricals)] {
            for n in names {
                guard categoricals.contains(n) else { throw fail(field, "variable '\(n)' is not a column of x_categoricals") }
                guard let e = embeddingSizes[n] else { throw fail("embedding_sizes", "missing an entry for '\(n)'") }
                guard e.cardinality > 0, e.dimension > 0 else { throw fail("embedding_sizes", "'\(n)' needs positive sizes") }
            }
        }
    }
}

/// Every error TFTCore throws names the tensor or field and the problem.
public enum TFTError: Error, Equatable, CustomStringConvertible {
    case invalidConfig(field: String, problem: String)
    case invalidInput(field: String, problem: String)
    case invalidTensor(name: String, problem: String)
    case invalidFile(path: String, problem: String)

    public var description: String {
        switch self {
        case .invalidConfig(let f, let p): return "config field '\(f)': \(p)"
        case .invalidInput(let f, let p): return "input '\(f)': \(p)"
        case .invalidTensor(let n, let p): return "tensor '\(n)': \(p)"
        case .invalidFile(let path, let p): return "\(path): \(p)"
        }
    }
}
