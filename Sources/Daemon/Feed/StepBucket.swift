import Foundation

/// The samples of one server that fall in one step, combined per ``MetricField/aggregation``:
/// mean for gauges, max for close-wait counts, last (newest timestamp; on a tie the later record in the
/// batch) for `uptime_days`, `status` and `profile`.
///
/// The same rules merge a bucket with the row already stored for that step (see
/// ``MetricsTable/upsertSQL``), so a 5-second collector spread over many requests ends with exactly the
/// values it would have had in one request.
public struct StepBucket: Sendable, Equatable {
    public var serverName: String
    /// Step start, epoch seconds (a multiple of the step).
    public var stepTimestamp: Int64
    /// Aggregated metric values, indexed by `MetricField.index`.
    public var values: [Double]
    public var status: ServerStatus
    public var profile: String?
    /// Newest sample timestamp in the bucket (epoch seconds).
    public var lastUpdate: Double
    /// Number of samples in the bucket.
    public var sampleCount: Int

    public init(serverName: String, stepTimestamp: Int64, values: [Double], status: ServerStatus, profile: String?,
                lastUpdate: Double, sampleCount: Int)
    {
        self.serverName = serverName
        self.stepTimestamp = stepTimestamp
        self.values = values
        self.status = status
        self.profile = profile
        self.lastUpdate = lastUpdate
        self.sampleCount = sampleCount
    }

    /// Step start for a sample time on a grid of `stepSeconds` (floor, so 10:04:59 → 10:00:00).
    public static func stepStart(of timestamp: Double, stepSeconds: Int64) -> Int64 {
        let seconds = Int64(timestamp.rounded(.down))
        let remainder = seconds % stepSeconds
        return remainder >= 0 ? seconds - remainder : seconds - remainder - stepSeconds
    }

    /// Groups `records` per (server, step) and aggregates each group. The result is sorted by server
    /// name, then step.
    public static func aggregate(_ records: [FeedRecord], stepSeconds: Int64) -> [StepBucket] {
        struct Key: Hashable {
            let server: String
            let step: Int64
        }
        struct Accumulator {
            var sums: [Double]
            var maxima: [Double]
            var lastValues: [Double]
            var lastUpdate: Double
            var status: ServerStatus
            var profile: String?
            var profileUpdate: Double
            var count: Int
        }
        var groups: [Key: Accumulator] = [:]
        groups.reserveCapacity(records.count)
        for record in records {
            let key = Key(server: record.serverName, step: stepStart(of: record.timestamp, stepSeconds: stepSeconds))
            if var acc = groups[key] {
                for i in 0..<MetricField.count {
                    acc.sums[i] += record.values[i]
                    acc.maxima[i] = max(acc.maxima[i], record.values[i])
                }
                if record.timestamp >= acc.lastUpdate {
                    acc.lastValues = record.values
                    acc.lastUpdate = record.timestamp
                    acc.status = record.status
                }
                if let profile = record.profile, record.timestamp >= acc.profileUpdate || acc.profile == nil {
                    acc.profile = profile
                    acc.profileUpdate = record.timestamp
                }
                acc.count += 1
                groups[key] = acc
            } else {
                groups[key] = Accumulator(sums: record.values, maxima: record.values, lastValues: record.values,
                                          lastUpdate: record.timestamp, status: record.status, profile: record.profile,
                                          profileUpdate: record.profile == nil ? -.infinity : record.timestamp, count: 1)
            }
        }
        var buckets: [StepBucket] = []
        buckets.reserveCapacity(groups.count)
        for (key, acc) in groups {
            var values = [Double](repeating: 0, count: MetricField.count)
            for field in MetricField.allCases {
                let i = field.index
                switch field.aggregation {
                case .mean: values[i] = acc.sums[i] / Double(acc.count)
                case .max: values[i] = acc.maxima[i]
                case .last: values[i] = acc.lastValues[i]
                }
            }
            buckets.append(StepBucket(serverName: key.server, stepTimestamp: key.step, values: values, status: acc.status,
                                      profile: acc.profile, lastUpdate: acc.lastUpdate, sampleCount: acc.count))
        }
        buckets.sort { ($0.serverName, $0.stepTimestamp) < ($1.serverName, $1.stepTimestamp) }
        return buckets
    }
}
