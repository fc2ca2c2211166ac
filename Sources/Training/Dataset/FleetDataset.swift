import Foundation
import TFTCore

/// How windows are cut from the series and split by time.
public struct WindowOptions: Sendable, Equatable {
    public var maxEncoderLength: Int = 288
    public var minEncoderLength: Int = 36
    public var horizon: Int = 96
    /// Fraction of the fleet's time span (the latest part) that is validation.
    public var validationFraction: Double = 0.2
    /// Steps between consecutive training windows of a series.
    public var trainStride: Int = 1
    /// Steps between consecutive validation windows.
    public var validationStride: Int = 6
    /// Small data: if `validationStride` gives fewer validation windows than this, every step starts one
    /// (stride 1). Early stopping and the fitted shrinkage / band width then average over all the
    /// validation period's start times instead of a handful (a 1.8-day recording gives ~30 windows at
    /// stride 6). 0 disables.
    public var denseValidationBelow: Int = 256
    public init(maxEncoderLength: Int = 288, minEncoderLength: Int = 36, horizon: Int = 96,
                validationFraction: Double = 0.2, trainStride: Int = 1, validationStride: Int = 6) {
        self.maxEncoderLength = maxEncoderLength; self.minEncoderLength = minEncoderLength; self.horizon = horizon
        self.validationFraction = validationFraction; self.trainStride = trainStride; self.validationStride = validationStride
    }

    /// Steps a series must span so that the time split leaves one training window before the cut and
    /// one validation window after it.
    public var requiredSteps: Int {
        let v = validationFraction
        let train = Double(minEncoderLength + horizon) / max(1e-9, 1 - v)
        let val = v > 0 ? Double(horizon) / v : 0
        return Int(max(train, val).rounded(.up)) + 1
    }

    /// Validation origins of a short-history fine-tune (a quarter of the horizon, every step).
    public var shortHistoryValidationOrigins: Int { max(1, horizon / 4) }

    /// The fewest steps a warm-started fine-tune accepts (the documented minimum; 260 steps = 21.7 h for
    /// the default model): the minimum encoder and one horizon for 8 training windows, then a horizon and
    /// ``shortHistoryValidationOrigins`` validation origins after the time split.
    public var shortHistoryMinimumSteps: Int { minEncoderLength + 2 * horizon + shortHistoryValidationOrigins + 8 }

    /// Options for a fine-tune on a history shorter than ``requiredSteps`` (a new install's first day):
    /// the validation share grows to hold one horizon plus ``shortHistoryValidationOrigins`` rolling
    /// origins (stride 1), training windows keep short encoders (from the minimum up). nil when `steps`
    /// is long enough for the normal split or below ``shortHistoryMinimumSteps``.
    public func shortHistory(steps: Int) -> WindowOptions? {
        guard steps < requiredSteps, steps >= shortHistoryMinimumSteps else { return nil }
        var w = self
        w.validationFraction = min(0.5, Double(horizon + shortHistoryValidationOrigins + 1) / Double(steps))
        w.validationStride = 1
        return w
    }
}

/// A fleet's series on the step grid and the windows cut from them (views: ``WindowRef``s).
public final class FleetDataset: @unchecked Sendable {
    public let spec: FeatureSpec
    public let series: [ServerSeries]
    public let options: WindowOptions
    public let firstEpoch: Int64
    public let lastEpoch: Int64
    /// Time split: training targets are all before it, validation targets at or after it.
    public let cutoffEpoch: Int64
    public let trainWindows: [WindowRef]
    public let validationWindows: [WindowRef]

    public init(spec: FeatureSpec, series: [ServerSeries], options: WindowOptions) throws {
        self.spec = spec
        self.series = series
        self.options = options
        guard !series.isEmpty else { throw TrainingError.insufficientData("the data has no servers") }
        firstEpoch = series.map(\.startEpoch).min()!
        lastEpoch = series.map { $0.epoch(ofStep: $0.count - 1) }.max()!
        let span = Double(lastEpoch - firstEpoch)
        let step = Int64(spec.stepSeconds)
        cutoffEpoch = firstEpoch + Int64((span * (1 - options.validationFraction) / Double(step)).rounded(.down)) * step + step
        var train: [WindowRef] = [], val: [WindowRef] = [], denseVal: [WindowRef] = []
        let H = options.horizon
        for (si, s) in series.enumerated() where s.count >= options.minEncoderLength + H {
            var t0 = options.minEncoderLength
            while t0 + H <= s.count {
                let L = min(options.maxEncoderLength, t0)
                let decoderFirst = s.epoch(ofStep: t0), decoderLast = s.epoch(ofStep: t0 + H - 1)
                if decoderLast < cutoffEpoch {
                    if (t0 - options.minEncoderLength) % options.trainStride == 0 { train.append(WindowRef(series: si, start: t0, encoderLength: L)) }
                } else if decoderFirst >= cutoffEpoch {
                    let k = Int((decoderFirst - cutoffEpoch) / step)
                    if k % options.validationStride == 0 { val.append(WindowRef(series: si, start: t0, encoderLength: L)) }
                    if val.count < options.denseValidationBelow { denseVal.append(WindowRef(series: si, start: t0, encoderLength: L)) }
                }
                t0 += 1
            }
        }
        trainWindows = train
        validationWindows = val.count < options.denseValidationBelow && options.validationStride > 1 ? denseVal : val
    }

    /// Refuses data that cannot give a training batch and a validation window, saying how much is needed.
    public func requireEnough(batchSize: Int) throws {
        let longest = series.map(\.count).max() ?? 0
        let need = options.requiredSteps
        let hours = { (steps: Int) in String(format: "%.1f h", Double(steps * self.spec.stepSeconds) / 3600) }
        if trainWindows.isEmpty || validationWindows.isEmpty || longest < need {
            throw TrainingError.insufficientData(
                "need at least \(need) steps (\(hours(need)) at \(self.spec.stepSeconds) s) of continuous history per server — \(options.minEncoderLength)-step minimum encoder + \(options.horizon)-step horizon before the time split and a \(options.horizon)-step horizon after it (validation fraction \(options.validationFraction)); the longest series has \(longest) steps (\(hours(longest))), giving \(trainWindows.count) training and \(validationWindows.count) validation windows; a fine-tune from a served model needs at least \(options.shortHistoryMinimumSteps) steps (\(hours(options.shortHistoryMinimumSteps)))")
        }
        if trainWindows.count < batchSize {
            throw TrainingError.insufficientData("need at least \(batchSize) training windows (one batch); the data gives \(trainWindows.count) — add servers or history (each series needs ≥ \(need) steps, \(hours(need))), or lower --batch-size")
        }
    }

    /// Bytes of the series arrays.
    public var seriesBytes: Int { series.reduce(0) { $0 + $1.memoryBytes } }
    /// Bytes of the window views.
    public var windowBytes: Int { (trainWindows.capacity + validationWindows.capacity) * MemoryLayout<WindowRef>.stride }
    public var memoryBytes: Int { seriesBytes + windowBytes }
    public var totalSteps: Int { series.reduce(0) { $0 + $1.count } }
    public var serverNames: [String] { Array(Set(series.map(\.name))).sorted() }

    /// Series of a simulated fleet (no records are materialised: ticks go straight into the grid).
    public static func simulate(_ config: FleetSimulatorConfig, spec: FeatureSpec) throws -> (series: [ServerSeries], truth: FleetGroundTruth) {
        var sim = try FleetSimulator(config: config)
        var acc = SeriesAccumulator(spec: spec)
        while let tick = sim.next() { for r in tick.records { acc.add(r, epoch: tick.epochSeconds) } }
        return (acc.build(), sim.groundTruth)
    }
}
