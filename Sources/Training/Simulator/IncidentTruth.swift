import TFTCore

/// Kinds of slow-burn incident the simulator injects; each ramps one metric past its critical level.
public enum IncidentKind: String, CaseIterable, Codable, Sendable {
    /// Memory climbs linearly over 3–10 h to ~97–99 %, swap follows; resolved by a restart.
    case memoryLeak = "memory_leak"
    /// Disk usage climbs over 6–20 h; resolved by a cleanup (maintenance).
    case diskFilling = "disk_filling"
    /// I/O wait climbs (accelerating) over 2–5 h, load follows; recovers.
    case iowaitClimb = "iowait_climb"
    /// CPU busy climbs (accelerating) over 2–5 h towards 97–99 %; recovers or is restarted.
    case cpuSaturation = "cpu_saturation"

    /// The metric whose critical crossing defines the incident.
    public var metric: ThresholdMetric {
        switch self {
        case .memoryLeak: .memory
        case .diskFilling: .disk
        case .iowaitClimb: .iowait
        case .cpuSaturation: .cpu
        }
    }

    /// Metrics that may also cross their levels as a consequence (alerts on them belong to this incident).
    public var relatedMetrics: [ThresholdMetric] {
        switch self {
        case .memoryLeak: [.memory, .swap]
        case .diskFilling: [.disk]
        case .iowaitClimb: [.iowait, .loadPerCore]
        case .cpuSaturation: [.cpu, .loadPerCore]
        }
    }
}

/// Ground truth of one incident. Times are feed timestamps (`YYYY-MM-DDTHH:MM:SS`, comparable as strings)
/// with the matching step index from the simulation start.
public struct IncidentTruth: Codable, Sendable, Equatable {
    public let id: Int
    public let server: String
    public let profile: ServerProfile
    public let kind: IncidentKind
    public let metric: ThresholdMetric
    /// The feed field the metric is read from (`cpu_idle_pct` means busy = 100 − idle).
    public let feedField: String
    public let warningLevel: Double
    public let criticalLevel: Double
    /// Level the ramp aims at.
    public let plannedPeak: Double
    /// First step of rising values.
    public var rampStart: String
    public var rampStartStep: Int
    /// First emitted record at or above the warning level.
    public var warningAt: String?
    public var warningStep: Int?
    /// First emitted record at or above the critical level (the event a forecast should anticipate).
    public var criticalAt: String?
    public var criticalStep: Int?
    /// Start of the remedy (restart, cleanup, recovery).
    public var resolvedAt: String?
    public var resolvedStep: Int?
    /// Last step affected (end of recovery); `nil` while in progress.
    public var end: String?
    public var endStep: Int?
    /// `restart`, `cleanup`, `recovered`, or `truncated` when the simulation ended first.
    public var resolution: String
    /// Highest emitted value of the metric during the incident.
    public var observedPeak: Double
    /// IDs of cascades this incident caused.
    public var cascadeIds: [Int]

    /// Minutes from the ramp start to the critical crossing.
    public func leadTimeMinutes(stepSeconds: Int) -> Double? {
        criticalStep.map { Double(($0 - rampStartStep) * stepSeconds) / 60 }
    }
}

/// How a cascade shows on a dependent server.
public enum CascadeEffect: String, Codable, Sendable, CaseIterable {
    /// Web/API (or ETL/conductor) waiting on a sick database: CLOSE_WAIT piles up, iowait, load and
    /// system CPU rise, responses drop.
    case connectionFailures = "connection_failures"
    /// Consumers starved of data: user CPU and inbound network fall, back-end CLOSE_WAIT rises.
    case dataStarvation = "data_starvation"
    /// ML workers idle because their conductor is sick: CPU, network and load fall.
    case idleResources = "idle_resources"
}

/// Ground truth of one cascade: a source incident's impact on one dependent server.
public struct CascadeTruth: Codable, Sendable, Equatable {
    public let id: Int
    public let sourceIncident: Int
    public let source: String
    public let server: String
    public let profile: ServerProfile
    public let effect: CascadeEffect
    /// Maximum impact this edge can reach (0–1).
    public let strength: Double
    /// Planned onset (source warning + lag).
    public var onset: String
    public var onsetStep: Int
    /// First step with impact ≥ 0.05, when the effect is visible.
    public var start: String?
    public var startStep: Int?
    public var peakImpact: Double
    public var peakAt: String?
    public var peakStep: Int?
    public var end: String?
    public var endStep: Int?
}

/// A server of the simulated fleet and the servers it depends on.
public struct SimulatedServer: Codable, Sendable, Equatable {
    public let name: String
    public let profile: ServerProfile
    public let dependsOn: [String]
}

/// Everything needed to score forecasts and alerts against a simulated data set.
public struct FleetGroundTruth: Codable, Sendable, Equatable {
    public var seed: UInt64
    public var stepSeconds: Int
    public var start: String
    public var steps: Int
    public var servers: [SimulatedServer]
    public var incidents: [IncidentTruth]
    public var cascades: [CascadeTruth]
}
