import Foundation

/// The 14 numeric fields of a feed record, in the spec's order. `rawValue` is the JSON key and the
/// `metrics` column name; `index` is the position in every per-metric array (records, windows, snapshots).
public enum MetricField: String, CaseIterable, Sendable {
    case cpuUserPct = "cpu_user_pct"
    case cpuSysPct = "cpu_sys_pct"
    case cpuIowaitPct = "cpu_iowait_pct"
    case cpuIdlePct = "cpu_idle_pct"
    case javaCpuPct = "java_cpu_pct"
    case memUsedPct = "mem_used_pct"
    case swapUsedPct = "swap_used_pct"
    case diskUsagePct = "disk_usage_pct"
    case netInMbS = "net_in_mb_s"
    case netOutMbS = "net_out_mb_s"
    case backCloseWait = "back_close_wait"
    case frontCloseWait = "front_close_wait"
    case loadAverage = "load_average"
    case uptimeDays = "uptime_days"

    /// Number of metrics (14).
    public static let count = allCases.count

    /// Position of this metric in per-metric arrays.
    public var index: Int {
        switch self {
        case .cpuUserPct: 0
        case .cpuSysPct: 1
        case .cpuIowaitPct: 2
        case .cpuIdlePct: 3
        case .javaCpuPct: 4
        case .memUsedPct: 5
        case .swapUsedPct: 6
        case .diskUsagePct: 7
        case .netInMbS: 8
        case .netOutMbS: 9
        case .backCloseWait: 10
        case .frontCloseWait: 11
        case .loadAverage: 12
        case .uptimeDays: 13
        }
    }

    /// JSON type and allowed range.
    public enum Kind: Sendable {
        /// float, 0 ≤ x ≤ 100
        case percent
        /// float, x ≥ 0
        case nonNegative
        /// integer, x ≥ 0
        case count
        /// integer, 0 ≤ x ≤ 365
        case days
    }

    public var kind: Kind {
        switch self {
        case .cpuUserPct, .cpuSysPct, .cpuIowaitPct, .cpuIdlePct, .javaCpuPct, .memUsedPct, .swapUsedPct,
             .diskUsagePct: .percent
        case .netInMbS, .netOutMbS, .loadAverage: .nonNegative
        case .backCloseWait, .frontCloseWait: .count
        case .uptimeDays: .days
        }
    }

    public var isInteger: Bool { kind == .count || kind == .days }

    /// Inclusive upper bound, if any.
    public var maximum: Double? {
        switch kind {
        case .percent: 100
        case .days: 365
        case .nonNegative, .count: nil
        }
    }

    /// How several samples that fall in one step bucket are combined.
    public enum Aggregation: Sendable {
        /// arithmetic mean of the samples (gauges)
        case mean
        /// largest sample (close-wait counts: the worst moment of the step matters)
        case max
        /// the sample with the newest timestamp (uptime is monotone within a step)
        case last
    }

    public var aggregation: Aggregation {
        switch self {
        case .backCloseWait, .frontCloseWait: .max
        case .uptimeDays: .last
        default: .mean
        }
    }
}

/// The feed's `status` enum (8 values, spec order).
public enum ServerStatus: String, CaseIterable, Sendable {
    case healthy
    case criticalIssue = "critical_issue"
    case heavyLoad = "heavy_load"
    case idle
    case maintenance
    case morningSpike = "morning_spike"
    case offline
    case recovery

    /// A stable small code for compact per-step storage (the case's position).
    public var code: UInt8 { UInt8(Self.allCases.firstIndex(of: self)!) }

    public init?(code: UInt8) {
        guard Int(code) < Self.allCases.count else { return nil }
        self = Self.allCases[Int(code)]
    }
}

/// One validated record of `POST /feed/data`.
public struct FeedRecord: Sendable, Equatable {
    public var serverName: String
    /// Epoch seconds (UTC), fractional seconds kept.
    public var timestamp: Double
    public var status: ServerStatus
    /// The 14 metrics, indexed by `MetricField.index`.
    public var values: [Double]
    /// Optional profile override from the feed.
    public var profile: String?

    public init(serverName: String, timestamp: Double, status: ServerStatus, values: [Double], profile: String? = nil) {
        precondition(values.count == MetricField.count, "a record has \(MetricField.count) metric values")
        self.serverName = serverName
        self.timestamp = timestamp
        self.status = status
        self.values = values
        self.profile = profile
    }

    public subscript(field: MetricField) -> Double {
        get { values[field.index] }
        set { values[field.index] = newValue }
    }
}

/// A validated request body: every record passed validation.
public struct FeedBatch: Sendable, Equatable {
    public var records: [FeedRecord]
    public init(records: [FeedRecord]) { self.records = records }
}
