/// The spec's alert levels (spec/argus-api.md, "Alert Levels"): one scale everywhere — server alerts,
/// summary counts and fleet health all use it.
public enum AlertLevel: String, Sendable, CaseIterable, Comparable {
    case healthy, degraded, warning, critical

    /// Critical ≥ 80, warning ≥ 60, degraded ≥ 50, else healthy.
    public init(score: Double) {
        if score >= 80 { self = .critical } else if score >= 60 { self = .warning } else if score >= 50 { self = .degraded } else { self = .healthy }
    }

    public var color: String {
        switch self {
        case .critical: "#FF0000"
        case .warning: "#FFA500"
        case .degraded: "#FFD700"
        case .healthy: "#00FF00"
        }
    }

    public var emoji: String {
        switch self {
        case .critical: "🔴"
        case .warning: "🟠"
        case .degraded: "🟡"
        case .healthy: "🟢"
        }
    }

    public var title: String {
        switch self {
        case .critical: "Critical"
        case .warning: "Warning"
        case .degraded: "Degraded"
        case .healthy: "Healthy"
        }
    }

    /// `"🟠 Warning"`.
    public var label: String { "\(emoji) \(title)" }

    /// Weight of a server at this level in `fleet_health` (see docs/risk.md).
    public var healthWeight: Double {
        switch self {
        case .healthy: 1
        case .degraded: 0.7
        case .warning: 0.4
        case .critical: 0
        }
    }

    var rank: Int {
        switch self {
        case .healthy: 0
        case .degraded: 1
        case .warning: 2
        case .critical: 3
        }
    }

    public static func < (lhs: AlertLevel, rhs: AlertLevel) -> Bool { lhs.rank < rhs.rank }
}
