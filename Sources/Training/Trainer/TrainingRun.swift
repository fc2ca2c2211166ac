import Foundation
import TFTCore

/// Model shape for a fresh model.
public struct ModelShape: Sendable, Equatable {
    public var hiddenSize = 32
    public var attentionHeads = 4
    public var hiddenContinuousSize = 8
    public var dropout: Float = 0.1
    public var encoderLength = 288
    public var horizon = 96
    public init() {}
}

/// One complete training job: data → windows → trainer → model folder (atomic). The CLI, the daemon's
/// TrainingService and the benchmark all go through this.
public struct TrainingRun {
    public var series: [ServerSeries]
    public var dataSource: String
    public var spec: FeatureSpec = .standard
    public var shape = ModelShape()
    public var options = TrainingOptions()
    public var windows = WindowOptions()
    /// Warm start: a model folder whose weights, config and normalizers are reused.
    public var from: URL? = nil

    public init(series: [ServerSeries], dataSource: String) {
        self.series = series
        self.dataSource = dataSource
    }

    /// Builds the model (fresh or warm-started) and the dataset, and checks there is enough data. A
    /// warm start on a history shorter than the normal split needs (``WindowOptions/shortHistory(steps:)``)
    /// validates on rolling origins at the end of it, with batches no larger than its training windows.
    public func prepare() throws -> (model: TFTModel, spec: FeatureSpec, dataset: FleetDataset, parent: LoadedModel?) {
        let (model, spec, dataset, parent, _) = try prepareWithBatchSize()
        return (model, spec, dataset, parent)
    }

    func prepareWithBatchSize() throws -> (model: TFTModel, spec: FeatureSpec, dataset: FleetDataset, parent: LoadedModel?, batchSize: Int) {
        var model: TFTModel
        var spec = self.spec
        var parent: LoadedModel? = nil
        if let from {
            let loaded = try ModelFolder.load(from)
            parent = loaded
            model = loaded.model
            spec = loaded.spec
        } else {
            var s = spec
            s.minEncoderLength = min(s.minEncoderLength, shape.encoderLength)
            spec = s
            let config = spec.makeConfig(hiddenSize: shape.hiddenSize, attentionHeads: shape.attentionHeads,
                                         hiddenContinuousSize: shape.hiddenContinuousSize, dropout: shape.dropout,
                                         encoderLength: shape.encoderLength, predictionLength: shape.horizon)
            model = try TFTModel(config: config, seed: options.seed)
            if options.initialiseToPersistence { PersistenceOutput.initialiseToPersistence(model) }
        }
        var w = windows
        w.maxEncoderLength = model.config.maxEncoderLength
        w.horizon = model.config.maxPredictionLength
        w.minEncoderLength = spec.minEncoderLength
        for s in series where s.stepSeconds != spec.stepSeconds {
            throw TrainingError.invalidInput("series \(s.name) has step \(s.stepSeconds) s; the model's step is \(spec.stepSeconds) s")
        }
        var shortHistory = false
        if parent != nil, let short = w.shortHistory(steps: series.map(\.count).max() ?? 0) {
            w = short
            shortHistory = true
        }
        let dataset = try FleetDataset(spec: spec, series: series, options: w)
        let batchSize = shortHistory ? min(options.batchSize, max(1, dataset.trainWindows.count)) : options.batchSize
        try dataset.requireEnough(batchSize: batchSize)
        return (model, spec, dataset, parent, batchSize)
    }

    /// Trains and writes `models/tft_model_…` under `outDirectory`. Nothing is written unless training
    /// completes: a failure or cancellation leaves no folder and every existing model untouched.
    public func run(outDirectory: URL, progress: ((TrainingProgress) -> Void)? = nil,
                    cancel: CancellationToken? = nil) throws -> (folder: URL, result: TrainingResult, dataset: FleetDataset) {
        let (model, spec, dataset, parent, batchSize) = try prepareWithBatchSize()
        var options = self.options
        options.batchSize = batchSize
        if options.fitBandScale == nil { options.fitBandScale = parent != nil }
        if options.persistenceRelativeBlend == nil { options.persistenceRelativeBlend = parent != nil }
        let trainer = try Trainer(model: model, dataset: dataset, options: options)
        let result = try trainer.run(progress: progress, cancel: cancel)
        if cancel?.isCancelled == true { throw TrainingError.cancelled }
        let info = TrainingInfo(
            createdAt: FleetTimestamp.format(Int64(Date().timeIntervalSince1970)) + "Z",
            dataSource: dataSource,
            dataStart: FleetTimestamp.format(dataset.firstEpoch), dataEnd: FleetTimestamp.format(dataset.lastEpoch),
            validationCutoff: FleetTimestamp.format(dataset.cutoffEpoch),
            servers: dataset.serverNames.count, steps: dataset.totalSteps,
            trainWindows: dataset.trainWindows.count, validationWindows: dataset.validationWindows.count,
            epochsRequested: options.epochs, epochsRun: result.epochs.count,
            totalEpochs: (parent?.info?.totalEpochs ?? 0) + result.epochs.count, bestEpoch: result.bestEpoch,
            epochs: result.epochs, initialValidationLoss: result.initialValidationLoss,
            bestValidationLoss: result.bestValidationLoss, stopReason: result.stopReason,
            durationSeconds: result.seconds, samplesPerSecond: result.samplesPerSecond, pipelineShare: result.pipelineShare,
            seed: options.seed, batchSize: options.batchSize, learningRate: options.learningRate,
            weightDecay: options.weightDecay, gradientClip: options.gradientClip, parameterCount: model.parameterCount,
            parentModel: parent.map { $0.url.lastPathComponent },
            targetLossWeights: result.targetWeights.isEmpty ? nil
                : Dictionary(uniqueKeysWithValues: zip(model.config.targets, result.targetWeights.map { Double($0) })),
            persistenceBlend: result.persistenceBlend.isEmpty ? nil : result.persistenceBlend,
            preBlendValidationLoss: result.preBlendValidationLoss)
        let folder = try ModelFolder.write(model: model, spec: spec, info: info, to: outDirectory)
        return (folder, result, dataset)
    }
}
