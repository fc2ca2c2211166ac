import Foundation
import Testing
@testable import TFTCore

/// Finite-difference checks of every TFT block's backward pass.
@Suite struct BlockGradientTests {
    func expectClean(_ result: (failures: [GradientCheck.Failure], checked: Int), _ block: String) {
        #expect(result.checked > 10, "\(block): too few entries checked")
        #expect(result.failures.isEmpty, "\(block): \(result.failures.prefix(5).map(\.description).joined(separator: "; "))")
    }

    @Test func linear() {
        var layout = ParameterLayout()
        let linear = Linear(&layout, "fc", in: 5, out: 7)
        let check = GradientCheck(layout: layout, inputs: [randomValues(4 * 5, seed: 1)])
        expectClean(check.run { pass, x in
            let y = pass.arena.alloc(4 * 7)
            linear.forward(x[0], rows: 4, into: y, pass)
            return (y, 28, { dy, dx in linear.backward(x: x[0], dy: dy, rows: 4, dx: dx[0], pass) })
        }, "Linear")
    }

    @Test func layerNorm() {
        var layout = ParameterLayout()
        let norm = LayerNorm(&layout, "norm", features: 11)
        let check = GradientCheck(layout: layout, inputs: [randomValues(3 * 11, seed: 2)])
        expectClean(check.run { pass, x in
            let y = pass.arena.alloc(33)
            let cache = norm.forward(x[0], rows: 3, into: y, pass)
            return (y, 33, { dy, dx in norm.backward(cache!, dy: dy, rows: 3, dx: dx[0], pass) })
        }, "LayerNorm")
    }

    /// 9 features takes the generic path, 32 the register-resident one.
    @Test(arguments: [(Float(0), 9), (0.3, 9), (0, 32), (0.3, 32)])
    func gateAddNorm(dropout: Float, out: Int) {
        var layout = ParameterLayout()
        let gan = GateAddNorm(&layout, "gate", in: 6, out: out, dropout: true)
        var check = GradientCheck(layout: layout, inputs: [randomValues(5 * 6, seed: 3), randomValues(5 * out, seed: 4)])
        check.dropout = dropout
        expectClean(check.run { pass, x in
            let cache = gan.forward(x[0], skip: x[1], rows: 5, pass)
            return (cache.y, 5 * out, { dy, dx in gan.backward(cache, dy: dy, rows: 5, dx: dx[0], dskip: dx[1], pass) })
        }, "GateAddNorm (GLU + AddNorm), dropout \(dropout), \(out) features")
    }

    /// The width-32 inference kernel (`Kernels.gateAddNormRows32`) and the training path against a
    /// Double-precision reference of `LayerNorm(skip + a ⊙ σ(b))`.
    @Test(arguments: [32, 9])
    func gateAddNormInferenceMatchesAReference(out: Int) {
        var layout = ParameterLayout()
        let gan = GateAddNorm(&layout, "gate", in: 6, out: out, dropout: true)
        let params = ParameterBuffer(count: layout.count)
        let values = randomValues(layout.count, seed: 41, scale: 0.7)
        for i in 0..<layout.count { params.pointer[i] = values[i] }
        let rows = 70
        let x = randomValues(rows * 6, seed: 42), skip = randomValues(rows * out, seed: 43)
        let grads = ParameterBuffer(count: layout.count)
        var results: [[Float]] = []
        for gradients in [false, true] {
            let pass = Pass(weights: params.pointer, gradients: gradients ? grads.pointer : nil, arena: Arena(), dropout: 0, rng: RNG(seed: 1))
            let y = x.withUnsafeBufferPointer { xp in skip.withUnsafeBufferPointer { sp in
                gan.forward(xp.baseAddress!, skip: sp.baseAddress!, rows: rows, pass).y
            } }
            results.append(Array(UnsafeBufferPointer(start: y, count: rows * out)))
        }
        let w = params.pointer
        for r in 0..<rows {
            var z = [Double](repeating: 0, count: out)
            for c in 0..<out {
                var a = Double(w[gan.fc.bias! + c]), b = Double(w[gan.fc.bias! + out + c])
                for i in 0..<6 {
                    a += Double(x[r * 6 + i]) * Double(w[gan.fc.weight + c * 6 + i])
                    b += Double(x[r * 6 + i]) * Double(w[gan.fc.weight + (out + c) * 6 + i])
                }
                z[c] = Double(skip[r * out + c]) + a / (1 + Foundation.exp(-b))
            }
            let mean = z.reduce(0, +) / Double(out)
            let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(out)
            for c in 0..<out {
                let expected = (z[c] - mean) / (variance + 1e-5).squareRoot() * Double(w[gan.norm.gamma + c]) + Double(w[gan.norm.beta + c])
                for result in results {
                    #expect(abs(Double(result[r * out + c]) - expected) <= 2e-5 * (1 + abs(expected)), "row \(r) col \(c)")
                }
            }
        }
    }

    @Test func layerNormOf32FeaturesMatchesTheGenericPath() {
        var layout = ParameterLayout()
        _ = LayerNorm(&layout, "norm", features: 32)   // registers γ and β
        let params = ParameterBuffer(count: layout.count)
        for i in 0..<layout.count { params.pointer[i] = 1 + 0.1 * Float(i % 7) }
        let x = randomValues(3 * 32, seed: 21)
        var fast = [Float](repeating: 0, count: 96), slow = [Float](repeating: 0, count: 96)
        // Reference: two-pass LayerNorm in Double.
        for r in 0..<3 {
            let row = x[(r * 32)..<((r + 1) * 32)].map(Double.init)
            let mean = row.reduce(0, +) / 32
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 32
            for c in 0..<32 {
                slow[r * 32 + c] = Float((row[c] - mean) / (variance + 1e-5).squareRoot()) * params.pointer[c] + params.pointer[32 + c]
            }
        }
        x.withUnsafeBufferPointer { xp in fast.withUnsafeMutableBufferPointer { y in
            Kernels.layerNormForward(xp.baseAddress!, rows: 3, cols: 32, gamma: params.pointer, beta: params.pointer + 32,
                                     y: y.baseAddress!, xhat: nil, rstd: nil)
        } }
        #expect(worstMismatch(fast, slow, rtol: 1e-5, atol: 1e-5).ratio <= 1)
    }

    /// (40, 6) and (20, 33) take the two-tap interpolation, the others the dense map.
    @Test(arguments: [(8, 32), (1, 8), (5, 3), (6, 6), (40, 6), (20, 33)])
    func resampleNorm(sizes: (Int, Int)) {
        var layout = ParameterLayout()
        let rn = ResampleNorm(&layout, "rn", in: sizes.0, out: sizes.1)
        let check = GradientCheck(layout: layout, inputs: [randomValues(4 * sizes.0, seed: 5)])
        expectClean(check.run { pass, x in
            let cache = rn.forward(x[0], rows: 4, pass)
            return (cache.y, 4 * sizes.1, { dy, dx in rn.backward(cache, dy: dy, rows: 4, dx: dx[0], pass) })
        }, "ResampleNorm \(sizes)")
    }

    /// Both interpolation paths compute `x · map` (the dense map is PyTorch's `F.interpolate` weights).
    @Test(arguments: [(112, 14), (40, 6), (20, 33), (8, 32)])
    func interpolationEqualsItsMap(sizes: (Int, Int)) {
        let (n, m) = sizes, rows = 3
        let interpolation = Interpolation(in: n, out: m)
        let x = randomValues(rows * n, seed: 8)
        var y = [Float](repeating: 0, count: rows * m)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { interpolation.forward(xp.baseAddress!, rows: rows, into: $0.baseAddress!) } }
        var dx = [Float](repeating: 0, count: rows * n)
        y.withUnsafeBufferPointer { yp in dx.withUnsafeMutableBufferPointer { interpolation.backward(dy: yp.baseAddress!, rows: rows, dx: $0.baseAddress!) } }
        for r in 0..<rows {
            for j in 0..<m {
                var expected: Float = 0
                for i in 0..<n { expected += x[r * n + i] * interpolation.map[i * m + j] }
                #expect(abs(y[r * m + j] - expected) <= 1e-5 * (1 + abs(expected)))
            }
            for i in 0..<n {
                var expected: Float = 0
                for j in 0..<m { expected += y[r * m + j] * interpolation.map[i * m + j] }
                #expect(abs(dx[r * n + i] - expected) <= 1e-5 * (1 + abs(expected)))
            }
        }
    }

    @Test func gatedResidualNetworkWithContext() {
        var layout = ParameterLayout()
        let grn = GatedResidualNetwork(&layout, "grn", in: 5, hidden: 4, out: 8, contextSize: 3)
        // 2 samples × 3 steps; the context is per sample, broadcast over its steps.
        let check = GradientCheck(layout: layout, inputs: [randomValues(6 * 5, seed: 6), randomValues(2 * 3, seed: 7)])
        expectClean(check.run { pass, x in
            let cache = grn.forward(x[0], rows: 6, context: BroadcastContext(values: x[1], group: 3), pass)
            return (cache.y, 48, { dy, dx in grn.backward(cache, dy: dy, rows: 6, dx: dx[0], dcontext: dx[1], pass) })
        }, "GRN with context")
    }

    @Test func variableSelectionNetwork() {
        var layout = ParameterLayout()
        let cont = [Float](randomValues(2 * 4 * 3, seed: 8))      // (B=2, T=4, 3 reals)
        let cat: [Int32] = (0..<8).map { Int32($0 % 3) }           // (B=2, T=4, 1 categorical)
        let w0 = layout.add("prescalers.a.weight", [4, 1], .normal), b0 = layout.add("prescalers.a.bias", [4], .normal)
        let w1 = layout.add("prescalers.b.weight", [4, 1], .normal), b1 = layout.add("prescalers.b.bias", [4], .normal)
        let table = layout.add("emb.weight", [3, 2], .normal)
        let vsn = VariableSelectionNetwork(&layout, "vsn", variables: [
            ("status", .categorical(column: 0, table: table, cardinality: 3, dim: 2)),
            ("a", .continuous(column: 0, weight: w0, bias: b0, size: 4)),
            ("b", .continuous(column: 2, weight: w1, bias: b1, size: 4)),
        ], hidden: 6, contextSize: 6)
        let map = RowMap(batch: 2, length: 3, totalSteps: 4, offset: 1)   // the last 3 steps of each sample
        let check = GradientCheck(layout: layout, inputs: [randomValues(2 * 6, seed: 9)])
        let result = cont.withUnsafeBufferPointer { c in cat.withUnsafeBufferPointer { k in
            check.run { pass, x in
                let cache = vsn.forward(cont: c.baseAddress!, contColumns: 3, cat: k.baseAddress!, catColumns: 1, map: map,
                                        context: BroadcastContext(values: x[0], group: 3), pass)
                return (cache.output, 6 * 6, { dy, dx in
                    vsn.backward(cache, doutput: dy, cont: c.baseAddress!, contColumns: 3, cat: k.baseAddress!, catColumns: 1,
                                 dcontext: dx[0], pass)
                })
            }
        } }
        expectClean(result, "VariableSelectionNetwork")
    }

    /// Hidden 4 takes the library product per step; hidden 32 the in-step kernel (`Kernels.addRecurrent32`).
    @Test(arguments: [4, 32])
    func lstmWithVariableLengthsAndStateGradients(hidden H: Int) {
        var layout = ParameterLayout()
        let lstm = LSTM(&layout, "lstm", input: 3, hidden: H)
        let lengths = [5, 2, 4]
        // inputs: x (3, 5, 3), h0 (3, H), c0 (3, H)
        let check = GradientCheck(layout: layout, inputs: [randomValues(45, seed: 10), randomValues(3 * H, seed: 11),
                                                           randomValues(3 * H, seed: 12)])
        expectClean(check.run { pass, x in
            let cache = lstm.forward(x[0], batch: 3, length: 5, lengths: lengths, h0: x[1], c0: x[2], pass)
            // Expose outputs and the final (h, c) so both paths are checked.
            let n = 15 * H
            let y = pass.arena.alloc(n + 6 * H)
            y.update(from: cache.output, count: n)
            (y + n).update(from: cache.finalH, count: 3 * H)
            (y + n + 3 * H).update(from: cache.finalC, count: 3 * H)
            return (y, n + 6 * H, { dy, dx in
                lstm.backward(cache, doutput: dy, dfinalH: dy + n, dfinalC: dy + n + 3 * H, dx: dx[0], dh0: dx[1], dc0: dx[2], pass)
            })
        }, "LSTM hidden \(H)")
    }

    @Test(arguments: [Float(0), 0.25])
    func interpretableAttention(dropout: Float) {
        var layout = ParameterLayout()
        let attention = InterpretableMultiHeadAttention(&layout, "attn", heads: 2, model: 6)
        let B = 2, Te = 4, Td = 3, T = 7
        var check = GradientCheck(layout: layout, inputs: [randomValues(B * T * 6, seed: 13), randomValues(B * Td * 6, seed: 14)])
        check.dropout = dropout
        expectClean(check.run { pass, x in
            let cache = attention.forward(input: x[0], decoderInput: x[1], batch: B, encoder: Te, decoder: Td,
                                          encoderLengths: [4, 2], pass)
            return (cache.y, B * Td * 6, { dy, dx in attention.backward(cache, dy: dy, dinput: dx[0], ddecoderInput: dx[1], pass) })
        }, "InterpretableMultiHeadAttention, dropout \(dropout)")
    }
}
