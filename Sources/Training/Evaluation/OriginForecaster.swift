import Foundation
import TFTCore

/// One series of a rolling-origin benchmark (tools/realdata_eval.py writes them): raw feed fields on the
/// model's step grid and the origins to forecast from. Origin `o` means "the history is steps `0..<o`,
/// forecast steps `o..<o + horizon`".
public struct OriginSeries: Codable, Sendable {
    public var name: String
    /// The model target that is scored (`cpu_pct`, `load_average`, ...).
    public var target: String
    /// Profile name; nil = inferred from the name, as the daemon does.
    public var profile: String?
    public var firstEpoch: Int64
    public var stepSeconds: Int
    /// Feed field name → one value per step (`null` = missing, forward-filled as the daemon does).
    public var feed: [String: [Double?]]
    public var origins: [Int]

    enum CodingKeys: String, CodingKey {
        case name, target, profile, feed, origins
        case firstEpoch = "first_epoch", stepSeconds = "step_seconds"
    }

    public init(name: String, target: String, profile: String?, firstEpoch: Int64, stepSeconds: Int,
                feed: [String: [Double?]], origins: [Int]) {
        self.name = name; self.target = target; self.profile = profile; self.firstEpoch = firstEpoch
        self.stepSeconds = stepSeconds; self.feed = feed; self.origins = origins
    }

    public var count: Int { feed.values.map(\.count).max() ?? 0 }

    /// The daemon's window at `origin`: the last `steps` steps before it, all 14 feed fields, metric-major.
    public func window(endingBefore origin: Int, steps: Int) -> ServerWindow {
        let start = max(0, origin - steps), n = origin - start
        var values = [Float](repeating: .nan, count: FeedMetric.count * n)
        for (m, field) in FeedMetric.names.enumerated() {
            guard let column = feed[field] else { continue }
            for i in 0..<n where start + i < column.count {
                if let v = column[start + i] { values[m * n + i] = Float(v) }
            }
        }
        return ServerWindow(serverName: name, profile: ServerProfile.resolve(serverName: name, override: profile),
                            firstEpoch: firstEpoch + Int64(start * stepSeconds), stepSeconds: stepSeconds, feedValues: values)
    }
}

/// The scored target's forecast from one origin: `values[quantile][step]` in feed units.
public struct OriginForecast: Codable, Sendable {
    public var series: String
    public var origin: Int
    public var quantiles: [Float]
    public var values: [[Float]]
}

/// Forecasts every origin of a rolling-origin benchmark **through the daemon's tick path**: the window
/// the feed store would hand over (the last `maxEncoderLength` steps), `FeatureBuilder.inferenceBatch`,
/// `TFTModel.forward`, `FeatureBuilder.forecasts` — the same calls, in the same order, as
/// `InferenceEngine.run`, without the HTTP round trips (which would make hourly origins over months of
/// 5-minute data take hours).
public struct OriginForecaster {
    public let model: TFTModel
    public let builder: FeatureBuilder
    public var batchSize = 64
    /// The model's name as the calibration sees it (the daemon's: the model folder's name). With a warm
    /// model of another name, the swap at the first origin hands the band widths over, as the daemon does.
    public var modelName: String?

    public init(model: TFTModel, builder: FeatureBuilder, modelName: String? = nil) {
        self.model = model
        self.builder = builder
        self.modelName = modelName
    }

    /// Forecasts of `series.target` at each of its origins, in origin order.
    public func forecasts(_ series: OriginSeries) throws -> [OriginForecast] {
        guard builder.spec.targets.contains(series.target) else {
            throw TrainingError.invalidInput("series \(series.name): target \(series.target) is not one of the model's \(builder.spec.targets)")
        }
        guard series.stepSeconds == builder.spec.stepSeconds else {
            throw TrainingError.invalidInput("series \(series.name): step \(series.stepSeconds) s, the model's is \(builder.spec.stepSeconds) s")
        }
        let encoder = model.config.maxEncoderLength
        var out: [OriginForecast] = []
        var i = 0
        while i < series.origins.count {
            let origins = Array(series.origins[i..<min(series.origins.count, i + batchSize)])
            let windows = origins.map { series.window(endingBefore: $0, steps: encoder) }
            let input = try builder.inferenceBatch(for: windows)
            let output = try model.forward(input.batch, include: [])
            for (o, f) in zip(origins, builder.forecasts(output, for: input)) {
                out.append(OriginForecast(series: series.name, origin: o, quantiles: f.quantiles, values: f.values[series.target]!))
            }
            i += batchSize
        }
        return out
    }

    /// Like ``forecasts(_:)`` with the daemon's online band calibration: the series is forecast at every
    /// step from `warmup` steps before its first origin (as a daemon ticking every step would), each
    /// step's ``BandCalibration/update(lastStep:actual:forecast:quantiles:)`` sees only values up to
    /// that step, and the calibrated forecasts of the origins are returned.
    /// `raw`, when given, sees every tick's uncalibrated forecast of the target (`step` = the tick's origin:
    /// the history is steps `0..<step`) — for replaying calibration variants offline (tools/calibration_lab.py).
    ///
    /// `warmModel`, when given, forecasts the warm-up ticks before the first origin and this forecaster's model
    /// takes over at the first origin, the calibration state carried over: what a daemon does when a fine-tune
    /// finishes and is hot-swapped in (its calibration keeps the errors the previous model earned, its band
    /// widths are handed over when the two ``modelName``s differ, and forecasts still pending from it are
    /// scored as they mature). Without it, a fine-tuned model would warm the
    /// calibration on its own training and validation history, whose errors it was fitted to.
    public func calibratedForecasts(_ series: OriginSeries, warmup: Int, shrinkMedian: Bool = true, warmModel: OriginForecaster? = nil,
                                    raw: ((_ step: Int, _ values: [[Float]]) -> Void)? = nil) throws -> [OriginForecast] {
        guard let first = series.origins.min(), let last = series.origins.max() else { return [] }
        if let warmModel, warmModel.builder.spec.targets != builder.spec.targets || warmModel.model.config.quantiles != model.config.quantiles {
            throw TrainingError.invalidInput("the warm-up model's targets and quantiles differ from the evaluated model's")
        }
        let wanted = Set(series.origins)
        var calibration = BandCalibration()
        var out: [OriginForecast] = []
        var t = max(builder.spec.minEncoderLength, first - warmup)
        while t <= last {
            // With a warm model, a batch never straddles the first origin: the model serving it changes there.
            let swapAhead = warmModel != nil && t < first
            let serving = swapAhead ? warmModel! : self
            let spec = serving.builder.spec, encoder = serving.model.config.maxEncoderLength
            let steps = Array(t...min(last, t + batchSize - 1, swapAhead ? first - 1 : last))
            let windows = steps.map { series.window(endingBefore: $0, steps: encoder) }
            let input = try serving.builder.inferenceBatch(for: windows)
            let output = try serving.model.forward(input.batch, include: [])
            for (j, f) in serving.builder.forecasts(output, for: input).enumerated() {
                let lastStep = (windows[j].lastEpoch) / Int64(series.stepSeconds)
                guard let raw0 = f.values[series.target], let actual = spec.lastValue(of: series.target, in: windows[j]) else { continue }
                let target = spec.targets.firstIndex(of: series.target)!
                raw?(steps[j], raw0)
                let calibrated = calibration.update(lastStep: lastStep, actual: actual, forecast: raw0, quantiles: f.quantiles, shrinkMedian: shrinkMedian,
                                                         model: serving.modelName)
                    .map { $0.map { serving.builder.clamp($0, target: target) } }
                if wanted.contains(steps[j]) {
                    out.append(OriginForecast(series: series.name, origin: steps[j], quantiles: f.quantiles, values: calibrated))
                }
            }
            t = steps.last! + 1
        }
        return out
    }
}
