import Foundation
import TFTCore

/// One series of a rolling-origin benchmark (tools/realdata_eval.py writes them): raw feed fields on the
/// model's step grid and the origins to forecast from. Origin `o` means "the history is steps `0..<o`,
/// forecast steps `o..<o + horizon`".
public struct OriginSeries: Codable, Sendable {
    public var name: String
    /// The model target that is scored (`cpu_pct`, `load_average`, ...).
    public var target: String
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
        return ServerWindow(serverName: name, profile: profile.flatMap(ServerProfile.parse) ?? .generic,
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

    public init(model: TFTModel, builder: FeatureBuilder) {
        self.model = model
        self.builder = builder
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
}
