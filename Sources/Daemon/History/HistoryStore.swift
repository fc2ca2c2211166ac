import Dispatch
import Foundation

/// Settings of the history store (docs/history.md).
public struct HistoryConfiguration: Sendable {
    /// Consecutive ticks a lower level must hold before a de-escalation/resolution is recorded (1 = none).
    public var deescalationHoldTicks = 2
    /// Alert events and environment snapshots older than this (before the newest tick) are pruned.
    public var retentionSeconds: Int64 = 90 * 86_400
    /// Per-server risk samples (the largest table) are kept this long, at least a day; below 30 days the
    /// `1w`/`1M` ranges of `/historical/server` show only what is kept.
    public var riskSampleRetentionSeconds: Int64 = 35 * 86_400
    /// Rows deleted per pruning transaction (an ingest or tick waits at most one such batch).
    public var retentionBatchSize = 2_000
    /// How often the background pruner runs.
    public var retentionIntervalSeconds: Double = 600
    /// Most alert events one `/historical/alerts` answer lists (newest first); `limit` may lower it.
    public var maxAlertsPerResponse = 10_000

    public init() {}
}

/// The per-tick history: an alert state machine per server, environment snapshots and risk samples in
/// SQLite, written by `record(_:)` on every tick (never by a GET), read by the `/historical/*` routes.
///
/// Concurrency: `record` and pruning write through the database's single writer queue; the trackers are
/// only touched inside `database.write` (serialised) and under `lock` for reads of `lastTick`.
/// `@unchecked Sendable` because of that discipline.
public final class HistoryStore: @unchecked Sendable {
    public let database: SQLiteDatabase
    public let configuration: HistoryConfiguration
    private let lock = NSLock()
    private var trackers: [String: AlertTracker] = [:]
    private var lastTickTimestamp: Int64?
    private var retentionTimer: DispatchSourceTimer?
    /// Wall clock, used only for export file names.
    let wallClock: @Sendable () -> Double

    static let lastTickKey = "history.last_tick_ts"

    /// Restores the trackers and the last recorded tick from the database (which must include the
    /// history migration).
    public init(database: SQLiteDatabase, configuration: HistoryConfiguration = HistoryConfiguration(),
                wallClock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        self.database = database
        self.configuration = configuration
        self.wallClock = wallClock
        try database.write { c in
            lastTickTimestamp = try c.scalar("SELECT value FROM meta WHERE key = ?", [.text(Self.lastTickKey)])?.int64
            for row in try c.query("SELECT server_name, level, episode_start, peak_level, observed_critical, recent FROM history_alert_state", [], { s in
                (s.string(0)!, AlertTracker(level: HistoryLevel(rawValue: Int(s.int64(1))) ?? .healthy,
                                             recent: AlertTracker.parseRecent(s.string(5) ?? ""),
                                             episodeStart: s.isNull(2) ? nil : s.int64(2),
                                             peakLevel: HistoryLevel(rawValue: Int(s.int64(3))) ?? .healthy,
                                             observedCritical: s.int64(4) != 0))
            }) { trackers[row.0] = row.1 }
        }
    }

    func setRetentionTimer(_ timer: DispatchSourceTimer?) {
        lock.withLock {
            retentionTimer?.cancel()
            retentionTimer = timer
        }
    }

    /// The newest recorded tick (epoch seconds), the end of every time range.
    public var lastTick: Int64? { lock.withLock { lastTickTimestamp } }

    /// The time ranges' end: the newest recorded tick, or the wall clock before the first tick.
    public var clock: Int64 { lastTick ?? Int64(wallClock()) }

    /// Servers with an alert state machine in memory (quiet servers that left the fleet are dropped).
    public var trackedServers: Int { database.write { _ in trackers.count } }

    /// Current effective level of a server's tracker (for tests and the admin view).
    public func trackedLevel(_ server: String) -> HistoryLevel {
        database.write { _ in trackers[server]?.level ?? .healthy }
    }

    /// Result of recording one tick.
    public struct RecordResult: Sendable, Equatable {
        public var recorded: Bool
        public var events: Int
    }

    /// Records one tick in one transaction: a risk sample per server, the environment snapshot, and the
    /// alert events the state machines emit. A tick at or before the last recorded one is ignored (a
    /// replayed tick after a restart must not double-count).
    @discardableResult
    public func record(_ tick: HistoryTick) throws -> RecordResult {
        try database.write { c in
            if let last = lock.withLock({ lastTickTimestamp }), tick.timestamp <= last {
                return RecordResult(recorded: false, events: 0)
            }
            var updated = trackers
            var eventCount = 0
            try c.transaction(.immediate) {
                let ts = Int64(tick.timestamp)
                let sample = try c.cached(key: "history.sample",
                    "INSERT OR REPLACE INTO history_risk_samples (server_name, ts, risk_score, level) VALUES (?, ?, ?, ?)")
                var counts = [0, 0, 0, 0]
                var sum = 0.0, maxScore = -Double.infinity
                var top: String?
                for s in tick.servers {
                    let score = s.riskScore.isFinite ? min(100, max(0, s.riskScore)) : 0
                    try sample.execute([.text(s.name), .integer(ts), .real(score), .integer(Int64(s.level.rawValue))])
                    counts[s.level.rawValue] += 1
                    sum += score
                    if score > maxScore { maxScore = score; top = s.name }

                    var tracker = updated[s.name] ?? AlertTracker()
                    let before = tracker
                    for t in tracker.observe(timestamp: ts, level: s.level, score: score, observedCritical: s.observedCritical,
                                             hold: configuration.deescalationHoldTicks) {
                        try insert(t, server: s.name, on: c)
                        eventCount += 1
                    }
                    if tracker.episodeObservedCritical && !before.episodeObservedCritical, let start = tracker.episodeStart {
                        try c.run("UPDATE history_alert_events SET caused_incident = 1 WHERE server_name = ? AND episode_start = ? AND ts >= ?",
                                  [.text(s.name), .integer(start), .integer(start)])
                    }
                    if tracker != before && !(tracker.isQuiet && before.isQuiet) { try persist(tracker, server: s.name, on: c) }
                    updated[s.name] = tracker
                }
                let n = tick.servers.count
                let avg = n > 0 ? sum / Double(n) : 0
                let health = tick.fleetHealth ?? (n > 0 ? 100 - avg : 100)
                try c.run("""
                    INSERT OR REPLACE INTO history_environment (ts, total_servers, critical_count, warning_count, degraded_count,
                        healthy_count, prob_30m, prob_8h, avg_risk_score, max_risk_score, top_risk_server, fleet_health)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.integer(ts), .integer(Int64(n)), .integer(Int64(counts[3])), .integer(Int64(counts[2])),
                          .integer(Int64(counts[1])), .integer(Int64(counts[0])),
                          tick.prob30m.map { .real($0) } ?? .null, tick.prob8h.map { .real($0) } ?? .null,
                          .real(avg), .real(n > 0 ? maxScore : 0), top.map { .text($0) } ?? .null, .real(health)])
                try c.run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                          [.text(Self.lastTickKey), .integer(ts)])
            }
            // A quiet tracker behaves like a new one: drop those of servers missing from this tick, so a fleet
            // that replaces servers does not keep every name it ever saw (open episodes stay).
            let present = Set(tick.servers.map(\.name))
            updated = updated.filter { present.contains($0.key) || !$0.value.isQuiet }
            // Only after the commit: the in-memory state follows the database.
            trackers = updated
            lock.withLock { lastTickTimestamp = tick.timestamp }
            return RecordResult(recorded: true, events: eventCount)
        }
    }

    private func insert(_ t: AlertTracker.Transition, server: String, on c: SQLiteConnection) throws {
        switch t.type {
        case .escalated, .deescalated:
            try c.run("""
                INSERT INTO history_alert_events (ts, server_name, event_type, previous_level, new_level, risk_score,
                    episode_start, caused_incident) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, [.integer(t.timestamp), .text(server), .text(t.type.rawValue), .text(t.previous.name), .text(t.new.name),
                      .real(t.riskScore), .integer(t.episodeStart), .integer(t.episodeObservedCritical ? 1 : 0)])
        case .resolved:
            let minutes = Double(t.timestamp - t.episodeStart) / 60
            // Every earlier event of the episode learns when it was resolved and how long that took from it.
            try c.run("""
                UPDATE history_alert_events SET resolved_at = ?1, resolution_duration_minutes = (?1 - ts) / 60.0,
                    caused_incident = ?4
                WHERE server_name = ?2 AND episode_start = ?3 AND ts >= ?3 AND resolved_at IS NULL
                """, [.integer(t.timestamp), .text(server), .integer(t.episodeStart), .integer(t.episodeObservedCritical ? 1 : 0)])
            try c.run("""
                INSERT INTO history_alert_events (ts, server_name, event_type, previous_level, new_level, risk_score,
                    episode_start, resolved_at, resolution_duration_minutes, peak_level, caused_incident)
                VALUES (?, ?, 'resolved', ?, 'healthy', ?, ?, ?, ?, ?, ?)
                """, [.integer(t.timestamp), .text(server), .text(t.previous.name), .real(t.riskScore), .integer(t.episodeStart),
                      .integer(t.timestamp), .real(minutes), .text(t.episodePeak.name), .integer(t.episodeObservedCritical ? 1 : 0)])
        }
    }

    private func persist(_ t: AlertTracker, server: String, on c: SQLiteConnection) throws {
        if t.isQuiet {
            try c.run("DELETE FROM history_alert_state WHERE server_name = ?", [.text(server)])
        } else {
            try c.run("""
                INSERT OR REPLACE INTO history_alert_state (server_name, level, episode_start, peak_level, observed_critical, recent)
                VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(server), .integer(Int64(t.level.rawValue)), t.episodeStart.map { .integer($0) } ?? .null,
                      .integer(Int64(t.episodePeak.rawValue)), .integer(t.episodeObservedCritical ? 1 : 0), .text(t.recentText)])
        }
    }
}
