#if canImport(Glibc)
import Glibc
#endif

/// Adam / AdamW over the model's flat parameter buffer, with PyTorch's update rule
/// (bias-corrected moments, `eps` added after the square root; AdamW decays weights decoupled).
public final class AdamOptimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Decoupled weight decay (AdamW); 0 gives plain Adam.
    public var weightDecay: Float
    public private(set) var step = 0
    let m: ParameterBuffer
    let v: ParameterBuffer

    public init(parameterCount: Int, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2
        self.epsilon = epsilon; self.weightDecay = weightDecay
        m = ParameterBuffer(count: parameterCount)
        v = ParameterBuffer(count: parameterCount)
    }

    /// One update of `parameters` from `gradients`.
    public func update(_ parameters: ParameterBuffer, gradients: ParameterBuffer) {
        step += 1
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon, decay = 1 - learningRate * weightDecay
        let correction1 = 1 - powf(b1, Float(step)), correction2 = 1 - powf(b2, Float(step))
        let stepSize = lr / correction1, rootCorrection2 = correction2.squareRoot()
        let p = parameters.pointer, g = gradients.pointer, mp = m.pointer, vp = v.pointer
        for i in 0..<parameters.count {
            let gi = g[i]
            let mi = b1 * mp[i] + (1 - b1) * gi
            let vi = b2 * vp[i] + (1 - b2) * gi * gi
            mp[i] = mi; vp[i] = vi
            p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() / rootCorrection2 + eps)
        }
    }

    /// Optimiser state for checkpoints: first and second moments and the step count.
    public var state: (step: Int, m: [Float], v: [Float]) { (step, m.values, v.values) }

    public func restore(step: Int, m: [Float], v: [Float]) {
        precondition(m.count == self.m.count && v.count == self.v.count)
        self.step = step
        m.withUnsafeBufferPointer { self.m.pointer.update(from: $0.baseAddress!, count: $0.count) }
        v.withUnsafeBufferPointer { self.v.pointer.update(from: $0.baseAddress!, count: $0.count) }
    }
}

public enum GradientClipping {
    /// Scales gradients so their global L2 norm is at most `maxNorm` (PyTorch `clip_grad_norm_`);
    /// returns the norm before clipping.
    @discardableResult
    public static func clipGlobalNorm(_ gradients: ParameterBuffer, maxNorm: Float) -> Float {
        let g = gradients.pointer
        var sum: Double = 0
        for i in 0..<gradients.count { sum += Double(g[i]) * Double(g[i]) }
        let norm = Float(sum.squareRoot())
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1 { for i in 0..<gradients.count { g[i] *= coefficient } }
        return norm
    }
}
