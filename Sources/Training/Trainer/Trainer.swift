import Foundation
import TFTCore

/// Cooperative cancellation: the trainer checks it before every step and between validation batches,
/// so a run stops within one step of ``cancel()``.
public final class CancellationToken: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    public init() {}
    public func cancel() { lock.withLock { flag = true } }
    public var isCancelled: Bool { lock.withLock { flag } }
}

/// Hyper-parameters of a training run (everything but the model's shape).
public struct TrainingOptions: Sendable, Equatable {
    public var epochs: Int = 10
    public var batchSize: Int = 64
    public var learningRate: Float = 3e-3
    /// AdamW decoupled weight decay (0 = Adam).
    public var weightDecay: Float = 0
    public var gradientClip: Float = 1.0
    /// At most this many training batches per epoch (a fresh random subset each epoch); nil = all windows.
    public var maxBatchesPerEpoch: Int? = nil
    /// At most this many validation windows (evenly spaced, the same every epoch).
    public var maxValidationWindows: Int = 2048
    /// Reduce-on-plateau: multiply the LR by `plateauFactor` after `plateauPatience` epochs without a
    /// validation improvement, never below `minLearningRate`.
    public var plateauPatience: Int = 1
    public var plateauFactor: Float = 0.5
    public var minLearningRate: Float = 1e-5
    /// Early stopping: stop after this many epochs without a validation improvement.
    public var earlyStoppingPatience: Int = 3
    /// A relative improvement below this does not count (1e-4 = 0.01 %).
    public var minImprovement: Double = 1e-4
    public var seed: UInt64 = 42
    public var threads: Int = 2
    /// Stop (after validating what was trained) once this much wall time has passed.
    public var timeBudgetSeconds: Double? = nil
    /// Write `checkpoint.safetensors` + `checkpoint.json` (weights, Adam moments, epoch, LR) here after every epoch.
    public var checkpointDirectory: URL? = nil
    /// Weigh each target's loss by 1 / (its persistence error in normalised units), measured on up to
    /// 4,096 training windows and scaled to mean 1: the loss counts every target *relative to the last
    /// value*, so near-flat targets (disk, swap) are not drowned by the bursty ones (docs/training.md).
    public var persistenceRelativeLoss = true
    /// Fresh models (``TrainingRun``): output heads start at zero, i.e. at persistence.
    public var initialiseToPersistence = true
    /// After training: fit and fold the per-target shrinkage toward persistence (``PersistenceOutput``).
    public var fitPersistenceBlend = true
    /// After the shrinkage: fit and fold a per-target width factor of the quantile bands around the median
    /// on the validation windows (``PersistenceOutput/fitAndFoldBandScale``). nil = warm starts only
    /// (``TrainingRun`` with `from`), where the new data's noise differs from what the parent's bands learned.
    public var fitBandScale: Bool? = nil
    /// Fit the shrinkage with every horizon step counted relative to persistence's error at that step
    /// (``PersistenceOutput/fitAndFold(model:builder:series:windows:encoderLength:batchSize:perStepRelative:cancel:)``)
    /// instead of the plain MAE over all steps. nil = warm starts only.
    public var persistenceRelativeBlend: Bool? = nil
    /// The starting weights count as epoch 0 for early stopping: if no epoch beats their validation loss
    /// they are what is kept (then the shrinkage and band width are still refitted).
    public var keepStartingWeightsIfBest = true
    public init() {}
}

/// What the progress callback sees.
public struct TrainingProgress: Sendable {
    public enum Phase: String, Sendable { case training, validating, epochEnd }
    public var phase: Phase
    public var epoch: Int            // 1-based
    public var epochs: Int
    public var step: Int             // 1-based within the epoch
    public var stepsPerEpoch: Int
    public var loss: Double          // running mean training loss of this epoch
    public var validationLoss: Double?   // last completed validation
    public var learningRate: Float
    public var samplesPerSecond: Double
    public var etaSeconds: Double
    public var elapsedSeconds: Double
}

/// One epoch's record.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var validationLoss: Double
    public var learningRate: Float
    public var seconds: Double
    public var steps: Int
    enum CodingKeys: String, CodingKey {
        case epoch, seconds, steps
        case trainLoss = "train_loss", validationLoss = "val_loss", learningRate = "learning_rate"
    }
}

/// The outcome of ``Trainer/run(progress:cancel:)``.
public struct TrainingResult: Sendable {
    public var epochs: [EpochRecord]
    public var bestEpoch: Int
    public var bestValidationLoss: Double
    /// Validation loss of the starting weights (fresh or warm-started).
    public var initialValidationLoss: Double
    public var stopReason: String
    public var seconds: Double
    public var samples: Int
    public var samplesPerSecond: Double
    /// Seconds spent assembling batches (the data pipeline), and its share of the training time.
    public var pipelineSeconds: Double
    public var pipelineShare: Double
    /// Per-target loss weights (output order); all 1 without ``TrainingOptions/persistenceRelativeLoss``.
    public var targetWeights: [Float] = []
    /// The fitted shrinkage toward persistence (empty when not fitted).
    public var persistenceBlend: [PersistenceBlend] = []
    /// Validation loss of the best epoch before the shrinkage was folded in (``bestValidationLoss`` is the
    /// shipped model's).
    public var preBlendValidationLoss: Double? = nil
}

/// Trains a ``TFTModel`` on a ``FleetDataset``: AdamW, global-norm clipping, the model's quantile loss in
/// normalised units, reduce-on-plateau, early stopping (the best epoch's weights are kept), deterministic
/// seeds, per-epoch checkpoints, progress and cooperative cancellation.
public final class Trainer {
    public let model: TFTModel
    public let builder: FeatureBuilder
    public let dataset: FleetDataset
    public let options: TrainingOptions
    public let optimizer: AdamOptimizer
    private let assembler: BatchAssembler
    private let validationSet: [WindowRef]
    /// Per-target loss weights in output order (see ``TrainingOptions/persistenceRelativeLoss``).
    public let targetWeights: [Float]

    public init(model: TFTModel, dataset: FleetDataset, options: TrainingOptions) throws {
        guard options.epochs >= 1 else { throw TrainingError.invalidInput("epochs must be ≥ 1") }
        guard options.batchSize >= 1 else { throw TrainingError.invalidInput("batch size must be ≥ 1") }
        self.model = model
        self.builder = try FeatureBuilder(spec: dataset.spec, config: model.config)
        guard dataset.options.horizon == model.config.maxPredictionLength else {
            throw TrainingError.invalidInput("dataset horizon \(dataset.options.horizon) ≠ model max_prediction_length \(model.config.maxPredictionLength)")
        }
        self.dataset = dataset
        self.options = options
        try dataset.requireEnough(batchSize: options.batchSize)
        model.threads = options.threads
        optimizer = AdamOptimizer(parameterCount: model.parameterCount, learningRate: options.learningRate,
                                  weightDecay: options.weightDecay)
        assembler = BatchAssembler(builder: builder, batchSize: options.batchSize,
                                   encoderLength: min(model.config.maxEncoderLength, dataset.options.maxEncoderLength))
        let all = dataset.validationWindows
        if all.count <= options.maxValidationWindows { validationSet = all } else {
            let stride = Double(all.count) / Double(options.maxValidationWindows)
            validationSet = (0..<options.maxValidationWindows).map { all[Int(Double($0) * stride)] }
        }
        targetWeights = options.persistenceRelativeLoss
            ? Trainer.persistenceWeights(assembler: assembler, dataset: dataset, maxWindows: 4096, batchSize: options.batchSize)
            : [Float](repeating: 1, count: model.config.targets.count)
        assembler.targetWeights = targetWeights
    }

    /// 1 / (mean |normalised target|) per target over evenly spaced training windows — the normalised MAE
    /// of the last value — scaled so the weights average 1 and clamped to [0.1, 10]; a target the last value
    /// predicts exactly gets 0.1 and is left out of the average.
    static func persistenceWeights(assembler: BatchAssembler, dataset: FleetDataset, maxWindows: Int, batchSize: Int) -> [Float] {
        let all = dataset.trainWindows, nT = assembler.builder.config.targets.count
        let n = min(all.count, maxWindows)
        guard n > 0 else { return [Float](repeating: 1, count: nT) }
        let sample = (0..<n).map { all[Int(Double($0) * Double(all.count) / Double(n))] }
        var sum = [Double](repeating: 0, count: nT), count = 0
        var i = 0
        while i < sample.count {
            let chunk = sample[i..<min(sample.count, i + batchSize)]
            let batch = assembler.assemble(chunk, series: dataset.series, mode: .normalised)
            let target = batch.target!, Td = batch.decoderLength
            for b in 0..<chunk.count {
                for t in 0..<nT { for k in 0..<Td { sum[t] += Double(abs(target[(b * nT + t) * Td + k])) } }
            }
            count += chunk.count * Td
            i += batchSize
        }
        // A target the last value predicts exactly in every window (swap at 0 throughout, a field a feed does not
        // fill) has nothing to learn; 1 / its floored error would dominate the mean and push every real target
        // to the clamp floor. Such targets take the floor weight and the mean is over the others.
        let mae = sum.map { $0 / Double(max(1, count)) }
        let live = mae.filter { $0 >= Self.exactPersistenceError }.map { 1 / $0 }
        guard !live.isEmpty else { return [Float](repeating: 1, count: nT) }
        let mean = live.reduce(0, +) / Double(live.count)
        return mae.map { $0 < Self.exactPersistenceError ? 0.1 : Float(min(10, max(0.1, 1 / $0 / mean))) }
    }

    /// Normalised persistence MAE below which a target counts as exactly predicted by the last value.
    static let exactPersistenceError = 1e-3

    public var stepsPerEpoch: Int {
        let full = dataset.trainWindows.count / options.batchSize
        return max(1, min(full, options.maxBatchesPerEpoch ?? full))
    }

    /// Mean validation loss (normalised quantile loss summed over targets, as in training, dropout off).
    public func validationLoss(cancel: CancellationToken? = nil) throws -> Double {
        let B = options.batchSize
        var total = 0.0, count = 0
        var i = 0
        let Q = model.config.quantiles, nQ = Q.count
        while i < validationSet.count {
            if cancel?.isCancelled == true { throw TrainingError.cancelled }
            let chunk = validationSet[i..<min(validationSet.count, i + B)]
            let batch = assembler.assemble(chunk, series: dataset.series, mode: .normalised)
            let out = try model.forward(batch, include: [])
            let target = batch.target!
            var sum = 0.0
            out.prediction.withUnsafeBufferPointer { p in
                for row in 0..<target.count {
                    let y = target[row]
                    for k in 0..<nQ {
                        let e = y - p[row * nQ + k]
                        sum += Double(2 * max((Q[k] - 1) * e, Q[k] * e))
                    }
                }
            }
            // Per sample: Σ_targets mean over (steps, quantiles), as the training loss.
            total += sum / Double(nQ * batch.decoderLength)
            count += chunk.count
            i += B
        }
        return total / Double(max(1, count))
    }

    /// Runs the training loop. Throws ``TrainingError/cancelled`` when `cancel` fires (checked before
    /// every step); the model then holds the weights of the last completed step.
    public func run(progress: ((TrainingProgress) -> Void)? = nil, cancel: CancellationToken? = nil) throws -> TrainingResult {
        let clock = ContinuousClock(), start = clock.now
        func elapsed() -> Double { let d = clock.now - start; return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        var pipeline = 0.0, trainSeconds = 0.0, samples = 0
        var records: [EpochRecord] = []
        let steps = stepsPerEpoch, E = options.epochs, B = options.batchSize
        if cancel?.isCancelled == true { throw TrainingError.cancelled }
        let initialVal = try validationLoss(cancel: cancel)
        // The starting weights are a candidate like every epoch (bestEpoch 0): a warm start never ships
        // weights that are worse on the new validation windows than its parent, and a fresh model (heads at
        // persistence) never ships something worse than persistence.
        var best = Double.infinity
        var bestEpoch = 0
        var bestWeights = [Float](repeating: 0, count: model.parameterCount)
        let startIsCandidate = options.keepStartingWeightsIfBest && initialVal.isFinite
        if startIsCandidate {
            best = initialVal
            bestWeights.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: model.parameters.pointer, count: model.parameterCount) }
        }
        var sinceImprovement = 0, sincePlateau = 0
        var stopReason = "completed \(E) epochs"
        var rng = RNG(seed: options.seed)
        var order = Array(dataset.trainWindows.indices)
        var lastVal: Double? = initialVal
        var stepTimes = 0.0, stepCount = 0
        var valSeconds = 0.0
        epochLoop: for epoch in 1...E {
            let epochStart = elapsed()
            // Deterministic shuffle (Fisher–Yates with the run's RNG).
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                order.swapAt(i, j)
            }
            var lossSum = 0.0
            var done = 0
            for s in 0..<steps {
                if cancel?.isCancelled == true { throw TrainingError.cancelled }
                let t0 = elapsed()
                let windows = order[(s * B)..<((s + 1) * B)].lazy.map { self.dataset.trainWindows[$0] }
                let batch = assembler.assemble(windows, series: dataset.series, mode: .normalised)
                let t1 = elapsed()
                pipeline += t1 - t0
                let (loss, _) = try model.lossAndGradients(batch, training: true,
                                                           seed: options.seed &+ UInt64(epoch) &* 1_000_003 &+ UInt64(s), include: [])
                GradientClipping.clipGlobalNorm(model.gradients, maxNorm: options.gradientClip)
                optimizer.update(model.parameters, gradients: model.gradients)
                let t2 = elapsed()
                trainSeconds += t2 - t0
                stepTimes += t2 - t0; stepCount += 1
                samples += B
                lossSum += Double(loss)
                done += 1
                let perStep = stepTimes / Double(stepCount)
                let valEstimate = valSeconds > 0 ? valSeconds / Double(max(1, epoch - 1 + 1)) : perStep * Double(validationSet.count) / Double(B) / 3
                let remaining = Double(steps - s - 1) * perStep + Double(E - epoch) * (Double(steps) * perStep + valEstimate) + valEstimate
                progress?(TrainingProgress(phase: .training, epoch: epoch, epochs: E, step: s + 1, stepsPerEpoch: steps,
                                           loss: lossSum / Double(done), validationLoss: lastVal,
                                           learningRate: optimizer.learningRate,
                                           samplesPerSecond: Double(samples) / max(1e-9, trainSeconds),
                                           etaSeconds: remaining, elapsedSeconds: elapsed()))
                if let budget = options.timeBudgetSeconds, elapsed() >= budget {
                    stopReason = "time budget of \(Int(budget)) s reached in epoch \(epoch)"
                    break
                }
            }
            let v0 = elapsed()
            progress?(TrainingProgress(phase: .validating, epoch: epoch, epochs: E, step: done, stepsPerEpoch: steps,
                                       loss: lossSum / Double(max(1, done)), validationLoss: lastVal,
                                       learningRate: optimizer.learningRate,
                                       samplesPerSecond: Double(samples) / max(1e-9, trainSeconds), etaSeconds: 0,
                                       elapsedSeconds: elapsed()))
            let val = try validationLoss(cancel: cancel)
            valSeconds += elapsed() - v0
            lastVal = val
            records.append(EpochRecord(epoch: epoch, trainLoss: lossSum / Double(max(1, done)), validationLoss: val,
                                       learningRate: optimizer.learningRate, seconds: elapsed() - epochStart, steps: done))
            if val.isFinite && val < best * (1 - options.minImprovement) {
                best = val; bestEpoch = epoch; sinceImprovement = 0; sincePlateau = 0
                bestWeights.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: model.parameters.pointer, count: model.parameterCount) }
            } else {
                sinceImprovement += 1; sincePlateau += 1
                if sincePlateau >= options.plateauPatience {
                    optimizer.learningRate = max(options.minLearningRate, optimizer.learningRate * options.plateauFactor)
                    sincePlateau = 0
                }
            }
            if let dir = options.checkpointDirectory { try writeCheckpoint(dir, epoch: epoch, best: best) }
            progress?(TrainingProgress(phase: .epochEnd, epoch: epoch, epochs: E, step: done, stepsPerEpoch: steps,
                                       loss: lossSum / Double(max(1, done)), validationLoss: val,
                                       learningRate: optimizer.learningRate,
                                       samplesPerSecond: Double(samples) / max(1e-9, trainSeconds),
                                       etaSeconds: Double(E - epoch) * (elapsed() / Double(epoch)), elapsedSeconds: elapsed()))
            if stopReason.hasPrefix("time budget") { break epochLoop }
            if sinceImprovement >= options.earlyStoppingPatience && epoch < E {
                stopReason = "early stopping after epoch \(epoch): no validation improvement in \(sinceImprovement) epochs"
                break epochLoop
            }
        }
        if bestEpoch == 0 && startIsCandidate && !records.isEmpty {
            stopReason += "; no epoch improved on the starting weights' validation loss, so they were kept"
        }
        if bestEpoch > 0 || startIsCandidate {
            bestWeights.withUnsafeBufferPointer { model.parameters.pointer.update(from: $0.baseAddress!, count: model.parameterCount) }
        }
        var blend: [PersistenceBlend] = []
        var preBlend: Double? = nil
        if options.fitPersistenceBlend {
            blend = try PersistenceOutput.fitAndFold(model: model, builder: builder, series: dataset.series, windows: validationSet,
                                                     encoderLength: assembler.encoderLength, batchSize: B,
                                                     perStepRelative: options.persistenceRelativeBlend == true, cancel: cancel)
            // The reported best validation loss is the shipped (folded) model's, so a warm start's initial
            // loss equals it; the best epoch's own loss is kept as preBlendValidationLoss.
            if !blend.isEmpty {
                if options.fitBandScale == true {
                    blend = try PersistenceOutput.fitAndFoldBandScale(model: model, builder: builder, series: dataset.series,
                                                                      windows: validationSet, encoderLength: assembler.encoderLength,
                                                                      batchSize: B, fits: blend,
                                                                      perStepRelative: options.persistenceRelativeBlend == true, cancel: cancel)
                }
                preBlend = best.isFinite ? best : initialVal
                best = try validationLoss(cancel: cancel)
            }
        }
        var result = TrainingResult(epochs: records, bestEpoch: bestEpoch, bestValidationLoss: best.isFinite ? best : initialVal,
                              initialValidationLoss: initialVal, stopReason: stopReason, seconds: elapsed(),
                              samples: samples, samplesPerSecond: Double(samples) / max(1e-9, trainSeconds),
                              pipelineSeconds: pipeline, pipelineShare: pipeline / max(1e-9, trainSeconds))
        result.targetWeights = targetWeights
        result.persistenceBlend = blend
        result.preBlendValidationLoss = preBlend
        return result
    }

    /// Weights and Adam state after an epoch (`checkpoint.safetensors`, `checkpoint.json`), written atomically.
    func writeCheckpoint(_ dir: URL, epoch: Int, best: Double) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var tensors = model.parameterTensors()
        let st = optimizer.state
        tensors["__adam.m"] = NamedTensor(shape: [st.m.count], values: st.m)
        tensors["__adam.v"] = NamedTensor(shape: [st.v.count], values: st.v)
        try SafeTensors.encode(tensors, metadata: ["epoch": "\(epoch)", "adam_step": "\(st.step)",
                                                   "learning_rate": "\(optimizer.learningRate)", "best_val_loss": "\(best)"])
            .write(to: dir.appendingPathComponent("checkpoint.safetensors"), options: .atomic)
        let info: [String: String] = ["epoch": "\(epoch)", "adam_step": "\(st.step)", "learning_rate": "\(optimizer.learningRate)",
                                      "best_val_loss": "\(best)", "seed": "\(options.seed)"]
        try JSONSerialization.data(withJSONObject: info, options: [.prettyPrinted, .sortedKeys])
            .write(to: dir.appendingPathComponent("checkpoint.json"), options: .atomic)
    }
}
