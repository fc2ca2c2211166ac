extension TFTConfig {
    /// "Config A" of DESIGN §7, the shape every benchmark measures: hidden 32, 4 heads,
    /// hidden_continuous 8, encoder 288, horizon 96, 14 continuous encoder inputs (target, 9
    /// observed metrics, 4 known calendar features), 4 known decoder inputs, one static categorical
    /// (45 series, embedding 13), 7 quantiles. 72,854 parameters, like pytorch-forecasting's.
    public static func configA(encoderLength: Int = 288, predictionLength: Int = 96) -> TFTConfig {
        let known = ["hour_sin", "hour_cos", "day_sin", "day_cos"]
        let observed = ["y"] + (1...9).map { "metric_\($0)" }
        return TFTConfig(
            hiddenSize: 32, attentionHeads: 4, hiddenContinuousSize: 8, dropout: 0.1, targets: ["y"],
            maxEncoderLength: encoderLength, maxPredictionLength: predictionLength,
            reals: observed + known, categoricals: ["series"], staticCategoricals: ["series"], staticReals: [],
            encoderCategoricals: [], encoderReals: observed + known, decoderCategoricals: [], decoderReals: known,
            embeddingSizes: ["series": Embedding(cardinality: 45, dimension: 13)], stepSeconds: 300)
    }

    /// Multiply-accumulates of the matrix products in one forward pass of one sample (the same
    /// count as the research note's FLOP floor: 2 FLOP per MAC).
    public func forwardMACsPerSample(encoderLength Te: Int, decoderLength Td: Int) -> Double {
        let H = Double(hiddenSize), Hc = Double(hiddenContinuousSize), T = Double(Te + Td)
        let dh = H / Double(attentionHeads), Q = Double(quantiles.count), nT = Double(targets.count)
        func grn(_ i: Double, _ h: Double, _ o: Double) -> Double { i * h + h * h + h * 2 * o }
        func vsn(_ cats: [String], _ reals: [String]) -> Double {
            let sizes = cats.map { Double(embeddingSizes[$0]?.dimension ?? 0) } + reals.map { _ in Hc }
            let v = Double(sizes.count)
            var macs = Double(reals.count) * grn(Hc, min(Hc, H), H) + v * H
            if sizes.count > 1 { macs += grn(sizes.reduce(0, +), min(H, v), v) }
            return macs
        }
        var macs = vsn(staticCategoricals, staticReals) + 4 * grn(H, H, H)
        macs += Double(Te) * vsn(encoderCategoricals, encoderReals) + Double(Td) * vsn(decoderCategoricals, decoderReals)
        macs += T * 4 * H * (H + H)                     // LSTM encoder + decoder
        macs += T * H * 2 * H                           // post-LSTM GLU
        macs += T * grn(H, H, H)                        // static enrichment
        macs += T * H * dh + T * H * H + Double(Td) * H * H   // V, K, Q projections
        macs += 2 * Double(attentionHeads) * Double(Td) * T * dh // scores and A·V
        macs += Double(Td) * (dh * H + H * 2 * H + grn(H, H, H) + H * 2 * H + H * Q * nT)
        return macs
    }
}
