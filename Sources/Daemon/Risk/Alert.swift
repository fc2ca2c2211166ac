import TFTCore

/// One active alert: a server and metric at its earliest predicted (or current) threshold crossing.
/// At most one per server and metric per snapshot — never one per forecast step.
public struct Alert: Sendable {
    public var serverName: String
    public var profile: ServerProfile
    /// `critical` or `warning`: the threshold level the metric reaches.
    public var level: String
    /// The server's risk score.
    public var riskScore: Double
    public var metric: ThresholdMetric
    /// "Memory exhaustion predicted" / "Memory exhaustion now".
    public var message: String
    /// "45 minutes", "2 hours 5 minutes", "now".
    public var timeToIssue: String
    public var minutesToIssue: Int
    public var predictedValue: Double
    public var threshold: Double
    /// ISO 8601 time of the crossing (data clock).
    public var expectedAt: String

    /// The predictions payload's message: "Memory exhaustion predicted in 45 minutes".
    public var messageWithTime: String { minutesToIssue == 0 ? message : "\(message) in \(timeToIssue)" }
}

public enum AlertBuilder {
    static func phrase(_ metric: ThresholdMetric, critical: Bool) -> String {
        switch (metric, critical) {
        case (.cpu, true): "CPU saturation"
        case (.cpu, false): "High CPU usage"
        case (.memory, true): "Memory exhaustion"
        case (.memory, false): "High memory usage"
        case (.iowait, true): "I/O wait saturation"
        case (.iowait, false): "High I/O wait"
        case (.swap, true): "Swap exhaustion"
        case (.swap, false): "High swap usage"
        case (.disk, true): "Disk full"
        case (.disk, false): "Disk filling up"
        case (.loadPerCore, true): "Load overload"
        case (.loadPerCore, false): "High load"
        }
    }

    /// "45 minutes", "1 hour", "2 hours 5 minutes".
    public static func duration(minutes: Int) -> String {
        if minutes <= 0 { return "now" }
        if minutes < 60 { return minutes == 1 ? "1 minute" : "\(minutes) minutes" }
        let h = minutes / 60, m = minutes % 60
        let hours = h == 1 ? "1 hour" : "\(h) hours"
        return m == 0 ? hours : "\(hours) \(m) minute\(m == 1 ? "" : "s")"
    }

    /// Alerts of one server from its crossings; `referenceEpoch` is the time of the last observation.
    public static func alerts(for risk: ServerRisk, referenceEpoch: Int64) -> [Alert] {
        risk.crossings.map { c in
            let critical = c.severity == .critical
            let base = phrase(c.metric, critical: critical)
            let message = c.steps == 0 ? "\(base) now" : "\(base) predicted"
            return Alert(serverName: risk.serverName, profile: risk.profile, level: c.severity.rawValue, riskScore: risk.score,
                         metric: c.metric, message: message, timeToIssue: duration(minutes: c.minutes), minutesToIssue: c.minutes,
                         predictedValue: c.value, threshold: c.threshold,
                         expectedAt: ISO8601Timestamp.format(referenceEpoch + Int64(c.minutes) * 60))
        }
    }

    /// Critical first, then soonest, then by server and metric.
    public static func sorted(_ alerts: [Alert]) -> [Alert] {
        alerts.sorted {
            if $0.level != $1.level { return $0.level == "critical" }
            if $0.minutesToIssue != $1.minutesToIssue { return $0.minutesToIssue < $1.minutesToIssue }
            if $0.serverName != $1.serverName { return $0.serverName < $1.serverName }
            return $0.metric.rawValue < $1.metric.rawValue
        }
    }
}
