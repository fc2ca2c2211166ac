/// pytorch-forecasting's `QuantileLoss`: per element `2·max((q−1)·e, q·e)` with `e = y − ŷ_q`,
/// summed over samples, steps and quantiles, divided by `Q · Σ decoder lengths`; several targets add.
public enum QuantileLoss {
    /// Returns the loss of `samples` rows and writes d(loss)/d(prediction) into `gradient`.
    /// `prediction` is `(samples, targets, steps, Q)`, `target` is `(samples, targets, steps)`.
    static func lossAndGradient(prediction: UnsafePointer<Float>, target: UnsafePointer<Float>, samples: Int, targets: Int,
                                steps: Int, quantiles: [Float], normaliser: Float,
                                gradient: UnsafeMutablePointer<Float>) -> Double {
        let Q = quantiles.count, inv = 1 / normaliser
        var total: Double = 0
        for row in 0..<(samples * targets * steps) {
            let y = target[row]
            for (k, q) in quantiles.enumerated() {
                let i = row * Q + k
                let e = y - prediction[i]
                if e > 0 {
                    total += Double(2 * q * e)
                    gradient[i] = -2 * q * inv
                } else {
                    total += Double(2 * (q - 1) * e)
                    gradient[i] = e < 0 ? 2 * (1 - q) * inv : (1 - 2 * q) * inv
                }
            }
        }
        return total / Double(normaliser)
    }

    /// The loss alone, for evaluation.
    public static func loss(prediction: [Float], target: [Float], quantiles: [Float]) -> Double {
        let Q = quantiles.count
        var total: Double = 0
        for row in 0..<target.count {
            for (k, q) in quantiles.enumerated() {
                let e = target[row] - prediction[row * Q + k]
                total += Double(2 * max((q - 1) * e, q * e))
            }
        }
        return total / Double(target.count * Q)
    }
}
