import Dispatch
import Foundation

/// A Temporal Fusion Transformer with pytorch-forecasting's semantics, on OpenBLAS.
///
/// Parameters live in one flat buffer (`parameters`) with named views (`layout`). A forward pass
/// splits the batch across `threads` workers, each with its own scratch arena and gradient buffer;
/// BLAS runs single-threaded inside each worker. Calls are serialised by an internal lock, so one
/// model may be shared, but concurrent calls wait for each other.
public final class TFTModel: @unchecked Sendable {
    public let config: TFTConfig
    public let layout: ParameterLayout
    public let parameters: ParameterBuffer
    /// Gradients of the last `lossAndGradients` call, same layout as `parameters`.
    public let gradients: ParameterBuffer
    let network: TFTNetwork
    private var workers: [Worker] = []
    private let lock = NSLock()

    /// Worker threads per call (batch rows are split between them). Defaults to the active cores, at most 2.
    public var threads: Int {
        didSet { threads = max(1, threads) }
    }

    final class Worker {
        let arena = Arena(initialCapacity: 1 << 20)
        let scratch = Arena(initialCapacity: 1 << 20)
        let gradients: ParameterBuffer
        init(count: Int) { gradients = ParameterBuffer(count: count) }
    }

    /// A model with freshly initialised weights (pytorch-forecasting's init rules, deterministic seed).
    public init(config: TFTConfig, seed: UInt64 = 42) throws {
        try config.validate()
        self.config = config
        var layout = ParameterLayout()
        network = TFTNetwork(config: config, layout: &layout)
        self.layout = layout
        parameters = ParameterBuffer(count: layout.count)
        gradients = ParameterBuffer(count: layout.count)
        threads = min(2, max(1, ProcessInfo.processInfo.activeProcessorCount))
        BLAS.setThreads(1)
        initialise(seed: seed)
    }

    public var parameterCount: Int { layout.count }

    /// Re-initialises every parameter by its pytorch-forecasting rule.
    public func initialise(seed: UInt64) {
        var rng = RNG(seed: seed)
        for e in layout.entries {
            let p = parameters.pointer + e.offset
            let fanIn = e.shape.count > 1 ? e.shape[1...].reduce(1, *) : e.shape[0]
            let fanOut = e.shape[0]
            for i in 0..<e.count {
                switch e.initialiser {
                case .zeros: p[i] = 0
                case .ones: p[i] = 1
                case .normal: p[i] = rng.normal()
                case .kaimingNormal: p[i] = rng.normal() * (2 / Float(fanIn)).squareRoot()
                case .xavierUniform:
                    let a = (6 / Float(fanIn + fanOut)).squareRoot()
                    p[i] = (rng.uniform() * 2 - 1) * a
                case .uniformFanIn(let n):
                    let a = 1 / Float(n).squareRoot()
                    p[i] = (rng.uniform() * 2 - 1) * a
                }
            }
        }
    }

    // MARK: - Forward and backward

    /// Evaluation-mode forward pass (dropout off).
    /// `include` selects the interpretation outputs to copy out (empty arrays otherwise).
    public func forward(_ batch: TFTBatch, include: TFTOutputOptions = .all) throws -> TFTOutput {
        try batch.validate(for: config)
        return lock.withLock { run(batch, dropout: 0, seed: 0, gradients: false, include: include).output }
    }

    /// Forward + quantile loss + backward. `gradients` receives d(loss)/d(parameter).
    /// `training` turns dropout on (masks drawn from `seed`); pass `false` for an exact gradient of
    /// the evaluation-mode model (what the parity and finite-difference tests check).
    public func lossAndGradients(_ batch: TFTBatch, training: Bool, seed: UInt64 = 0,
                                 include: TFTOutputOptions = .all) throws -> (loss: Float, output: TFTOutput) {
        try batch.validate(for: config)
        guard batch.target != nil else { throw TFTError.invalidInput(field: "target", problem: "the loss needs targets") }
        return lock.withLock { run(batch, dropout: training ? config.dropout : 0, seed: seed, gradients: true, include: include) }
    }

    private func run(_ batch: TFTBatch, dropout: Float, seed: UInt64, gradients wantGradients: Bool,
                     include: TFTOutputOptions) -> (loss: Float, output: TFTOutput) {
        let B = batch.batchSize, Te = batch.encoderLength, Td = batch.decoderLength, T = Te + Td
        let nT = config.targets.count, Q = config.quantiles.count, heads = config.attentionHeads
        let nWorkers = min(threads, B)
        while workers.count < nWorkers { workers.append(Worker(count: layout.count)) }
        let chunk = (B + nWorkers - 1) / nWorkers
        let Vs = config.staticVariables.count, Ve = config.encoderVariables.count, Vd = config.decoderVariables.count

        var prediction = [Float](repeating: 0, count: B * nT * Td * Q)
        let withAttention = include.contains(.attention), withWeights = include.contains(.variableWeights)
        var attention = [Float](repeating: 0, count: withAttention ? B * Td * heads * T : 1)
        var staticWeights = [Float](repeating: 0, count: withWeights ? B * Vs : 1)
        var encoderWeights = [Float](repeating: 0, count: withWeights ? B * Te * Ve : 1)
        var decoderWeights = [Float](repeating: 0, count: withWeights ? B * Td * Vd : 1)
        var losses = [Double](repeating: 0, count: nWorkers)
        let normaliser = Float(Q * B * Td)   // PTF: Σ losses / Q / Σ decoder lengths, per target

        let cont = batch.continuous, cat = batch.categorical, scale = batch.targetScale, target = batch.target
        prediction.withUnsafeMutableBufferPointer { pred in
        attention.withUnsafeMutableBufferPointer { att in
        staticWeights.withUnsafeMutableBufferPointer { sw in
        encoderWeights.withUnsafeMutableBufferPointer { ew in
        decoderWeights.withUnsafeMutableBufferPointer { dw in
        losses.withUnsafeMutableBufferPointer { lossOut in
        cont.withUnsafeBufferPointer { contP in
        cat.withUnsafeBufferPointer { catP in
        scale.withUnsafeBufferPointer { scaleP in
            let out = UncheckedSendable((pred.baseAddress!, att.baseAddress!, sw.baseAddress, ew.baseAddress!, dw.baseAddress!,
                                         lossOut.baseAddress!)).value
            let inputs = UncheckedSendable((contP.baseAddress!, catP.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                            scaleP.baseAddress!)).value
            let shared = UncheckedSendable((out, inputs))
            DispatchQueue.concurrentPerform(iterations: nWorkers) { w in
                let (out, inputs) = shared.value
                let b0 = w * chunk, b1 = min(B, b0 + chunk)
                guard b0 < b1 else { return }
                let worker = workers[w]
                worker.arena.reset()
                if wantGradients { worker.gradients.zero() }
                let pass = Pass(weights: parameters.pointer, gradients: wantGradients ? worker.gradients.pointer : nil,
                                arena: worker.arena, scratch: worker.scratch, dropout: dropout, rng: RNG(seed: seed &+ UInt64(w) &* 0x9E37_79B9))
                pass.keepsAttention = wantGradients || withAttention
                let slice = BatchSlice(
                    batch: b1 - b0, encoder: Te, decoder: Td,
                    continuous: inputs.0 + b0 * T * config.reals.count,
                    categorical: inputs.1 + b0 * T * config.categoricals.count,
                    encoderLengths: Array(batch.encoderLengths[b0..<b1]),
                    targetScale: inputs.2 + b0 * nT * 2)
                let predSlice = out.0 + b0 * nT * Td * Q
                let cache = network.forward(slice, prediction: predSlice, pass)
                copyInterpretation(cache, b0: b0, attention: withAttention ? out.1 : nil, staticWeights: withWeights ? out.2 : nil,
                                   encoderWeights: withWeights ? out.3 : nil, decoderWeights: withWeights ? out.4 : nil)
                guard wantGradients, let target else { return }
                let n = (b1 - b0) * nT * Td * Q
                let dpred = worker.arena.alloc(n)
                var loss: Double = 0
                target.withUnsafeBufferPointer { y in
                    loss = QuantileLoss.lossAndGradient(prediction: predSlice, target: y.baseAddress! + b0 * nT * Td,
                                                        samples: b1 - b0, targets: nT, steps: Td, quantiles: config.quantiles,
                                                        normaliser: normaliser, gradient: dpred)
                }
                out.5[w] = loss
                network.backward(cache, dprediction: dpred, pass)
            }
        } } } } } } } } }

        if wantGradients {
            gradients.zero()
            for w in 0..<nWorkers { Kernels.add(workers[w].gradients.pointer, into: gradients.pointer, count: layout.count) }
        }
        let output = TFTOutput(batchSize: B, encoderLength: Te, decoderLength: Td, quantiles: config.quantiles, targets: nT,
                               prediction: prediction, attention: withAttention ? attention : [], heads: heads,
                               staticWeights: withWeights ? staticWeights : [], encoderWeights: withWeights ? encoderWeights : [],
                               decoderWeights: withWeights ? decoderWeights : [],
                               encoderLengths: batch.encoderLengths)
        return (Float(losses.reduce(0, +)), output)
    }

    private func copyInterpretation(_ c: TFTCache, b0: Int, attention: UnsafeMutablePointer<Float>?,
                                    staticWeights: UnsafeMutablePointer<Float>?, encoderWeights: UnsafeMutablePointer<Float>?,
                                    decoderWeights: UnsafeMutablePointer<Float>?) {
        let s = c.slice, T = s.totalSteps, heads = config.attentionHeads
        if let attention, let a = c.attention.attention {
            for b in 0..<s.batch { for h in 0..<heads { for i in 0..<s.decoder {
                let src = a + ((b * heads + h) * s.decoder + i) * T
                (attention + (((b0 + b) * s.decoder + i) * heads + h) * T).update(from: src, count: T)
            } } }
        }
        guard let encoderWeights, let decoderWeights else { return }
        if let staticWeights, let sc = c.staticSelection {
            let V = config.staticVariables.count
            (staticWeights + b0 * V).update(from: sc.weights, count: s.batch * V)
        }
        let Ve = config.encoderVariables.count, Vd = config.decoderVariables.count
        (encoderWeights + b0 * s.encoder * Ve).update(from: c.encoderSelection.weights, count: s.batch * s.encoder * Ve)
        (decoderWeights + b0 * s.decoder * Vd).update(from: c.decoderSelection.weights, count: s.batch * s.decoder * Vd)
    }
}

/// Pointers handed to worker threads that write disjoint slices.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
