import Foundation
import TFTCore

/// A server's metrics on the model's step grid, as the model sees them: one contiguous Float32 array per
/// model metric (metric-major, `values[m * count + i]`), one status index per step. Step `i` is at
/// `startEpoch + i * stepSeconds`. Training windows and live inference both read from this type.
public struct ServerSeries: Sendable {
    public var name: String
    public var profile: ServerProfile
    public var startEpoch: Int64
    public var stepSeconds: Int
    public var count: Int
    /// `metrics.count × count`, metric-major, in ``FeatureSpec/metrics`` order.
    public var values: [Float]
    /// ``ServerStatus/index`` per step.
    public var status: [UInt8]

    public init(name: String, profile: ServerProfile, startEpoch: Int64, stepSeconds: Int, count: Int,
                values: [Float], status: [UInt8]) {
        self.name = name; self.profile = profile; self.startEpoch = startEpoch; self.stepSeconds = stepSeconds
        self.count = count; self.values = values; self.status = status
    }

    public func epoch(ofStep i: Int) -> Int64 { startEpoch + Int64(i) * Int64(stepSeconds) }

    /// Bytes held by the arrays.
    public var memoryBytes: Int { values.capacity * 4 + status.capacity + name.utf8.count + 64 }

    public func value(metric m: Int, step i: Int) -> Float { values[m * count + i] }
}

/// A server's recent window as the daemon holds it: the 14 feed metrics in feed order (``FeedMetric``),
/// metric-major, on the step grid, oldest first, the last step being the newest closed step. `NaN` marks
/// a missing value (forward-filled; leading gaps take the first observed value).
public struct ServerWindow: Sendable {
    public var serverName: String
    public var profile: ServerProfile
    /// UTC seconds of step 0 (the grid is `firstEpoch + i * stepSeconds`).
    public var firstEpoch: Int64
    public var stepSeconds: Int
    public var count: Int
    /// `FeedMetric.count × count`, metric-major.
    public var feedValues: [Float]
    /// ``ServerStatus/index`` per step (real feeds without a status send `healthy`, 0).
    public var status: [UInt8]

    public init(serverName: String, profile: ServerProfile? = nil, firstEpoch: Int64, stepSeconds: Int,
                feedValues: [Float], status: [UInt8]? = nil) {
        self.serverName = serverName
        self.profile = profile ?? ServerProfile.infer(serverName: serverName)
        self.firstEpoch = firstEpoch
        self.stepSeconds = stepSeconds
        self.count = feedValues.count / FeedMetric.count
        self.feedValues = feedValues
        self.status = status ?? [UInt8](repeating: 0, count: feedValues.count / FeedMetric.count)
    }

    /// Epoch of the last observed step.
    public var lastEpoch: Int64 { firstEpoch + Int64(count - 1) * Int64(stepSeconds) }
}

extension FeatureSpec {
    /// Feed field index of each model metric, and whether it is complemented (100 − x).
    var metricSources: [(feed: Int, complement: Bool)] {
        metrics.map { m in (FeedMetric.names.firstIndex(of: m.source)!, m.transform == "complement100") }
    }

    /// Derives the model metrics of a daemon window (forward-filling missing values).
    public func series(from window: ServerWindow) throws -> ServerSeries {
        let n = window.count
        guard n >= 1 else { throw TrainingError.invalidInput("server \(window.serverName): empty window") }
        guard window.feedValues.count == n * FeedMetric.count else {
            throw TrainingError.invalidInput("server \(window.serverName): feedValues has \(window.feedValues.count) values, expected \(FeedMetric.count) × \(n)")
        }
        guard window.status.count == n else {
            throw TrainingError.invalidInput("server \(window.serverName): status has \(window.status.count) values, expected \(n)")
        }
        guard window.stepSeconds == stepSeconds else {
            throw TrainingError.invalidInput("server \(window.serverName): step \(window.stepSeconds) s, the model's step is \(stepSeconds) s")
        }
        var values = [Float](repeating: 0, count: metrics.count * n)
        for (m, src) in metricSources.enumerated() {
            let base = src.feed * n
            var first: Float = 0
            if let i = (0..<n).first(where: { window.feedValues[base + $0].isFinite }) { first = window.feedValues[base + i] }
            var last = first
            for i in 0..<n {
                let raw = window.feedValues[base + i]
                if raw.isFinite { last = raw }
                values[m * n + i] = src.complement ? 100 - last : last
            }
        }
        let status = window.status.map { $0 < UInt8(ServerStatus.count) ? $0 : 0 }
        return ServerSeries(name: window.serverName, profile: window.profile, startEpoch: window.firstEpoch,
                            stepSeconds: stepSeconds, count: n, values: values, status: status)
    }
}
