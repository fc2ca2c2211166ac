/// pytorch-forecasting's `interpret_output`: attention over the history for one forecast step and
/// the mean variable-selection weights (importances) per sample or over the batch.
public struct TFTInterpretation: Sendable {
    public enum Reduction: Sendable { case none, sum, mean }

    /// `.none`: `(B, maxEncoderLength + horizon)`, each row summing to 1; otherwise `(maxEncoderLength + horizon)`.
    /// The last valid encoder step of every sample sits at index `maxEncoderLength − 1`.
    public var attention: [Float]
    /// `.none`: `(B, V)`; otherwise `(V)`.
    public var staticVariables: [Float]
    public var encoderVariables: [Float]
    public var decoderVariables: [Float]
}

extension TFTOutput {
    /// Interprets a forward pass that included `.attention` and `.variableWeights`.
    ///
    /// Attention: for forecast step `horizon`, each sample's encoder attention is shifted so its last
    /// valid step is at the right edge (left-padded to `maxEncoderLength`), weights below 1e-5 are
    /// treated as missing, heads are averaged ignoring missing values, then `.none` renormalises
    /// each row, `.sum` adds rows and `.mean` averages them. Variable importances average the
    /// selection weights over each sample's valid steps.
    public func interpret(maxEncoderLength: Int, reduction: TFTInterpretation.Reduction, horizon: Int = 0) -> TFTInterpretation {
        precondition(!attention.isEmpty && !encoderWeights.isEmpty, "the forward pass must include attention and variable weights")
        let B = batchSize, Te = encoderLength, Td = decoderLength, T = Te + Td, width = maxEncoderLength + horizon
        var rows = [Float](repeating: 0, count: B * width)
        var present = [Bool](repeating: false, count: B * width)
        for b in 0..<B {
            let shift = maxEncoderLength - encoderLengths[b]   // where key 0 lands after alignment
            for k in 0..<width {
                // Key for column k: encoder step (k − shift) when inside the valid history, else a decoder step.
                let key: Int?
                if k < maxEncoderLength {
                    let e = k - shift
                    key = (e >= 0 && e < encoderLengths[b]) ? e : nil
                } else {
                    key = Te + (k - maxEncoderLength)
                }
                guard let key else { continue }
                var sum: Float = 0, count = 0
                for h in 0..<heads {
                    let a = attention[((b * Td + horizon) * heads + h) * T + key]
                    if a >= 1e-5 { sum += a; count += 1 }
                }
                if count > 0 { rows[b * width + k] = sum / Float(count); present[b * width + k] = true }
            }
        }
        var attentionOut: [Float]
        switch reduction {
        case .none:
            attentionOut = rows
            for b in 0..<B {
                let total = (0..<width).reduce(Float(0)) { $0 + rows[b * width + $1] }
                if total > 0 { for k in 0..<width { attentionOut[b * width + k] /= total } }
            }
        case .sum, .mean:
            attentionOut = [Float](repeating: 0, count: width)
            for k in 0..<width {
                var sum: Float = 0, count = 0
                for b in 0..<B where present[b * width + k] { sum += rows[b * width + k]; count += 1 }
                attentionOut[k] = reduction == .sum ? sum : (count > 0 ? sum / Float(count) : 0)
            }
        }

        let Vs = B > 0 ? staticWeights.count / B : 0, Ve = encoderWeights.count / (B * Te), Vd = decoderWeights.count / (B * Td)
        var encoder = [Float](repeating: 0, count: B * Ve), decoder = [Float](repeating: 0, count: B * Vd)
        for b in 0..<B {
            let n = max(encoderLengths[b], 1)
            for t in 0..<encoderLengths[b] { for v in 0..<Ve { encoder[b * Ve + v] += encoderWeights[(b * Te + t) * Ve + v] } }
            for v in 0..<Ve { encoder[b * Ve + v] /= Float(n) }
            for t in 0..<Td { for v in 0..<Vd { decoder[b * Vd + v] += decoderWeights[(b * Td + t) * Vd + v] } }
            for v in 0..<Vd { decoder[b * Vd + v] /= Float(Td) }
        }
        func reduce(_ x: [Float], _ V: Int) -> [Float] {
            guard reduction != .none else { return x }
            var out = [Float](repeating: 0, count: V)
            for b in 0..<B { for v in 0..<V { out[v] += x[b * V + v] } }
            if reduction == .mean { out = out.map { $0 / Float(max(B, 1)) } }
            return out
        }
        return TFTInterpretation(attention: attentionOut, staticVariables: reduce(staticWeights, Vs),
                                 encoderVariables: reduce(encoder, Ve), decoderVariables: reduce(decoder, Vd))
    }
}
