import Foundation
@testable import TFTCore

/// Finite-difference gradient checking for one block: the scalar loss is `Σ r_i · y_i` with fixed
/// random `r`, so `dy = r`; every parameter (a sample of entries per tensor) and every input is
/// perturbed by ±ε and the central difference is compared with the analytic gradient.
struct GradientCheck {
    typealias Backward = (_ dy: UnsafePointer<Float>, _ dinputs: [UnsafeMutablePointer<Float>]) -> Void
    typealias Forward = (_ pass: Pass, _ inputs: [UnsafeMutablePointer<Float>]) -> (output: UnsafeMutablePointer<Float>, count: Int, backward: Backward)

    var layout: ParameterLayout
    var inputs: [[Float]]
    var dropout: Float = 0
    var epsilon: Float = 1e-2
    var samplesPerTensor = 6

    struct Failure: CustomStringConvertible {
        let what: String, analytic: Float, numeric: Float
        var description: String { "\(what): analytic \(analytic) vs numeric \(numeric)" }
    }

    /// Returns every mismatch beyond `|a − n| ≤ rtol·max(|a|, |n|) + atol`.
    func run(seed: UInt64 = 1, rtol: Float = 2e-2, atol: Float = 2e-3, forward: Forward) -> (failures: [Failure], checked: Int) {
        var rng = RNG(seed: seed)
        let params = ParameterBuffer(count: layout.count), grads = ParameterBuffer(count: layout.count)
        for e in layout.entries {
            for i in 0..<e.count {
                // LayerNorm weights near 1 so no block degenerates; everything else non-trivial.
                params.pointer[e.offset + i] = e.initialiser == .ones ? 1 + 0.3 * rng.normal() : 0.5 * rng.normal()
            }
        }
        var inputs = self.inputs
        let arena = Arena()

        func evaluate(_ gradients: Bool) -> (loss: Double, r: [Float], dinputs: [[Float]]) {
            arena.reset()
            let pass = Pass(weights: params.pointer, gradients: gradients ? grads.pointer : nil, arena: arena,
                            dropout: dropout, rng: RNG(seed: 99))
            let pointers = inputs.map { arena.alloc($0.count) }
            for (p, v) in zip(pointers, inputs) { v.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: v.count) } }
            let (y, count, backward) = forward(pass, pointers)
            var r = RNG(seed: 1234)
            let weights = (0..<count).map { _ in r.normal() }
            var loss: Double = 0
            for i in 0..<count { loss += Double(weights[i]) * Double(y[i]) }
            guard gradients else { return (loss, weights, []) }
            let dinputs = inputs.map { arena.zeros($0.count) }
            weights.withUnsafeBufferPointer { backward($0.baseAddress!, dinputs) }
            return (loss, weights, zip(dinputs, inputs).map { Array(UnsafeBufferPointer(start: $0.0, count: $0.1.count)) })
        }

        grads.zero()
        let analytic = evaluate(true)
        var failures: [Failure] = []
        var checked = 0
        func compare(_ what: String, _ a: Float, _ n: Float) {
            checked += 1
            if !(abs(a - n) <= rtol * max(abs(a), abs(n)) + atol) { failures.append(Failure(what: what, analytic: a, numeric: n)) }
        }
        for e in layout.entries {
            for k in 0..<min(samplesPerTensor, e.count) {
                let i = e.offset + (k * 7919) % e.count
                let saved = params.pointer[i]
                params.pointer[i] = saved + epsilon
                let plus = evaluate(false).loss
                params.pointer[i] = saved - epsilon
                let minus = evaluate(false).loss
                params.pointer[i] = saved
                compare("\(e.name)[\(i - e.offset)]", grads.pointer[i], Float((plus - minus) / Double(2 * epsilon)))
            }
        }
        for (n, input) in inputs.enumerated() {
            for k in 0..<min(samplesPerTensor * 2, input.count) {
                let i = (k * 7919) % input.count
                let saved = input[i]
                inputs[n][i] = saved + epsilon
                let plus = evaluate(false).loss
                inputs[n][i] = saved - epsilon
                let minus = evaluate(false).loss
                inputs[n][i] = saved
                compare("input\(n)[\(i)]", analytic.dinputs[n][i], Float((plus - minus) / Double(2 * epsilon)))
            }
        }
        return (failures, checked)
    }
}

func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = RNG(seed: seed)
    return (0..<count).map { _ in rng.normal() * scale }
}
