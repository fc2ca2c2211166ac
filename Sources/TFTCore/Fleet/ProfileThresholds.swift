// Per-profile warning/critical levels of the metrics a risk score grades. One table, used by the daemon's
// risk scorer, the simulator (incidents cross these critical levels; normal operation stays below them)
// and the evaluation (alert scoring). Values and rationale: docs/simulator.md, "Thresholds".

/// A metric graded by ``ProfileThresholds``. All are "high is bad".
public enum ThresholdMetric: String, CaseIterable, Codable, Sendable {
    /// CPU busy = 100 − `cpu_idle_pct` (user + sys + iowait).
    case cpu
    /// `mem_used_pct`.
    case memory
    /// `cpu_iowait_pct`.
    case iowait
    /// `swap_used_pct`.
    case swap
    /// `disk_usage_pct`.
    case disk
    /// `load_average` ÷ ``ServerProfile/nominalCores``.
    case loadPerCore = "load_per_core"

    /// The feed field this metric is read from (`cpu_idle_pct` for ``cpu``, inverted).
    public var feedField: String {
        switch self {
        case .cpu: "cpu_idle_pct"
        case .memory: "mem_used_pct"
        case .iowait: "cpu_iowait_pct"
        case .swap: "swap_used_pct"
        case .disk: "disk_usage_pct"
        case .loadPerCore: "load_average"
        }
    }
}

/// A warning and a critical level; a value at or above a level has reached it.
public struct ThresholdLevels: Codable, Sendable, Equatable {
    public let warning: Double
    public let critical: Double

    public init(warning: Double, critical: Double) {
        precondition(warning < critical, "warning level must be below critical")
        self.warning = warning
        self.critical = critical
    }

    /// 0 below warning, 1 at/above warning, 2 at/above critical.
    public func severity(of value: Double) -> Int {
        value >= critical ? 2 : (value >= warning ? 1 : 0)
    }
}

/// Warning/critical levels for every ``ThresholdMetric`` of one ``ServerProfile``.
public struct ProfileThresholds: Codable, Sendable, Equatable {
    public let cpu: ThresholdLevels
    public let memory: ThresholdLevels
    public let iowait: ThresholdLevels
    public let swap: ThresholdLevels
    public let disk: ThresholdLevels
    public let loadPerCore: ThresholdLevels

    public init(cpu: ThresholdLevels, memory: ThresholdLevels, iowait: ThresholdLevels, swap: ThresholdLevels,
                disk: ThresholdLevels, loadPerCore: ThresholdLevels) {
        self.cpu = cpu
        self.memory = memory
        self.iowait = iowait
        self.swap = swap
        self.disk = disk
        self.loadPerCore = loadPerCore
    }

    public subscript(metric: ThresholdMetric) -> ThresholdLevels {
        switch metric {
        case .cpu: cpu
        case .memory: memory
        case .iowait: iowait
        case .swap: swap
        case .disk: disk
        case .loadPerCore: loadPerCore
        }
    }

    /// The thresholds of a profile.
    public static func `for`(_ profile: ServerProfile) -> ProfileThresholds {
        switch profile {
        case .mlCompute: mlCompute
        case .database: database
        case .webAPI: webAPI
        case .conductor: conductor
        case .etlIngest: etlIngest
        case .riskAnalytics: riskAnalytics
        case .generic: generic
        }
    }

    /// The whole table, keyed by profile (for documentation endpoints and tests).
    public static var table: [ServerProfile: ProfileThresholds] {
        Dictionary(uniqueKeysWithValues: ServerProfile.allCases.map { ($0, ProfileThresholds.for($0)) })
    }

    private static func levels(_ w: Double, _ c: Double) -> ThresholdLevels { ThresholdLevels(warning: w, critical: c) }

    // Baseline for interactive/light servers. The original's ladder graded CPU at 80/90/95/98, memory at
    // 85/90/95/98, iowait at 10/20/30, swap at 10/25/50 and used disk 85/95 for alerts (§3.1, §3.4, §3.5).
    static let generic = ProfileThresholds(
        cpu: levels(80, 95), memory: levels(85, 95), iowait: levels(20, 35),
        swap: levels(25, 50), disk: levels(85, 95), loadPerCore: levels(1.0, 2.0))
    static let webAPI = generic
    static let conductor = generic
    // Databases keep memory full of cache (original: 95/98/99 for "database"), run with a high iowait
    // baseline (~15 %), and suffer from any swapping.
    static let database = ProfileThresholds(
        cpu: levels(85, 95), memory: levels(92, 98), iowait: levels(30, 45),
        swap: levels(10, 25), disk: levels(85, 95), loadPerCore: levels(1.0, 2.0))
    // Batch compute profiles run hot by design: higher CPU, memory and load levels.
    static let mlCompute = ProfileThresholds(
        cpu: levels(90, 98), memory: levels(90, 97), iowait: levels(20, 35),
        swap: levels(25, 50), disk: levels(85, 95), loadPerCore: levels(1.5, 2.5))
    static let riskAnalytics = mlCompute
    // ETL streams through disk: higher iowait, and disks that are expected to run fuller.
    static let etlIngest = ProfileThresholds(
        cpu: levels(90, 98), memory: levels(90, 97), iowait: levels(25, 40),
        swap: levels(25, 50), disk: levels(88, 96), loadPerCore: levels(1.5, 2.5))
}
