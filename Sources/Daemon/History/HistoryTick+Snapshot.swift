import TFTCore

extension HistoryTick {
    /// The history's view of a published snapshot: per-server risk and level as the risk scorer gave them,
    /// `observedCritical` when any graded metric's *current* value is at or over its critical threshold
    /// (current score ≥ 80), and the snapshot's fleet summary. Time = the snapshot's data clock.
    public init(snapshot: Snapshot) {
        self.init(
            timestamp: snapshot.dataEpoch,
            servers: snapshot.servers.map { p in
                HistoryTick.Server(name: p.serverName, riskScore: p.risk.score,
                                   level: HistoryLevel(name: p.risk.level.rawValue) ?? HistoryLevel.forScore(p.risk.score),
                                   observedCritical: p.risk.metrics.contains { $0.currentScore >= 80 },
                                   profile: p.profile.rawValue)
            },
            fleetHealth: snapshot.summary.fleetHealth, prob30m: snapshot.summary.prob30m, prob8h: snapshot.summary.prob8h)
    }
}
