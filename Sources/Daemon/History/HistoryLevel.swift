/// Alert levels as the history records them (spec "Alert Levels": critical 80–100, warning 60–79,
/// degraded 50–59, healthy 0–49). Ordered: a higher raw value is worse.
public enum HistoryLevel: Int, Sendable, Comparable, CaseIterable, Codable {
    case healthy = 0, degraded = 1, warning = 2, critical = 3

    /// The API's name (`"healthy"`, `"degraded"`, `"warning"`, `"critical"`).
    public var name: String {
        switch self {
        case .healthy: "healthy"
        case .degraded: "degraded"
        case .warning: "warning"
        case .critical: "critical"
        }
    }

    public init?(name: String) {
        guard let level = HistoryLevel.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = level
    }

    /// The spec's score bands. Used only when a tick does not carry the risk scorer's own level.
    public static func forScore(_ score: Double) -> HistoryLevel {
        score >= 80 ? .critical : (score >= 60 ? .warning : (score >= 50 ? .degraded : .healthy))
    }

    public static func < (a: HistoryLevel, b: HistoryLevel) -> Bool { a.rawValue < b.rawValue }
}

/// What the history records for one tick: the per-server risk and level from the daemon's snapshot,
/// plus the fleet summary. Built by the tick path from the snapshot (see `docs/history.md`).
public struct HistoryTick: Sendable {
    public struct Server: Sendable {
        public var name: String
        /// The risk scorer's score, 0–100.
        public var riskScore: Double
        /// The risk scorer's level for this tick.
        public var level: HistoryLevel
        /// True when the server's *observed* metrics (not the forecast) are at or over a critical threshold
        /// of its profile, or its status is `critical_issue`/`offline`: the problem has materialised.
        public var observedCritical: Bool
        public var profile: String?

        public init(name: String, riskScore: Double, level: HistoryLevel? = nil, observedCritical: Bool = false,
                    profile: String? = nil) {
            self.name = name
            self.riskScore = riskScore
            self.level = level ?? HistoryLevel.forScore(riskScore)
            self.observedCritical = observedCritical
            self.profile = profile
        }
    }

    /// Epoch seconds (UTC) of the tick: the fleet clock's step, which is wall time for a live feed.
    public var timestamp: Int64
    public var servers: [Server]
    /// The snapshot's `fleet_health`; nil → `100 − mean risk score`.
    public var fleetHealth: Double?
    /// The snapshot's `prob_30m` / `prob_8h`, when known.
    public var prob30m: Double?
    public var prob8h: Double?

    public init(timestamp: Int64, servers: [Server], fleetHealth: Double? = nil, prob30m: Double? = nil, prob8h: Double? = nil) {
        self.timestamp = timestamp
        self.servers = servers
        self.fleetHealth = fleetHealth
        self.prob30m = prob30m
        self.prob8h = prob8h
    }
}
