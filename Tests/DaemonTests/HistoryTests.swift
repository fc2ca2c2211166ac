import Foundation
import HTTPServer
import Testing
@testable import Daemon

@Suite("History")
struct HistoryTests {
    static let t0: Int64 = 1_736_935_200   // 2025-01-15T10:00:00Z
    static func t(_ i: Int) -> Int64 { t0 + Int64(i) * 300 }

    /// healthy, healthy, warning, critical, warning, warning, healthy, healthy (one step = 5 min).
    static let incident: [Double] = [30, 30, 65, 85, 70, 70, 20, 20]

    @Test("state machine: escalate on the tick, de-escalate/resolve after the hold, stamped when it happened")
    func stateMachine() {
        var tracker = AlertTracker()
        var events: [AlertTracker.Transition] = []
        for (i, score) in Self.incident.enumerated() {
            events += tracker.observe(timestamp: Self.t(i), level: .forScore(score), score: score, observedCritical: false, hold: 2)
        }
        #expect(events.map(\.type) == [.escalated, .escalated, .deescalated, .resolved])
        #expect(events.map(\.timestamp) == [Self.t(2), Self.t(3), Self.t(4), Self.t(6)])
        #expect(events.map(\.previous) == [.healthy, .warning, .critical, .warning])
        #expect(events.map(\.new) == [.warning, .critical, .warning, .healthy])
        #expect(events.allSatisfy { $0.episodeStart == Self.t(2) })
        #expect(events[3].episodePeak == .critical)
        #expect(tracker.isQuiet)
    }

    @Test("state machine: a one-tick dip does not resolve; hold 1 follows every change")
    func hysteresis() {
        var held = AlertTracker(), immediate = AlertTracker()
        var heldEvents: [AlertTracker.Transition] = [], immediateEvents: [AlertTracker.Transition] = []
        for (i, score) in [65.0, 20, 65, 20, 20].enumerated() {
            heldEvents += held.observe(timestamp: Self.t(i), level: .forScore(score), score: score, observedCritical: false, hold: 2)
            immediateEvents += immediate.observe(timestamp: Self.t(i), level: .forScore(score), score: score, observedCritical: false, hold: 1)
        }
        #expect(heldEvents.map(\.type) == [.escalated, .resolved])
        #expect(heldEvents.last?.timestamp == Self.t(3))
        #expect(heldEvents.last.map { $0.timestamp - $0.episodeStart } == 900)
        #expect(immediateEvents.map(\.type) == [.escalated, .resolved, .escalated, .resolved])
    }

    @Test("recorded events carry resolution times and durations; the summary is computed from them")
    func storeEventsAndSummary() throws {
        let f = try HistoryFixture()
        defer { f.directory.cleanup() }
        for (i, score) in Self.incident.enumerated() {
            try f.store.record(.scores(Self.t(i), ["ppdb001": score, "ppweb001": 10]))
        }
        let alerts = try f.store.alerts(.day1)
        #expect(alerts["count"] == 4)
        guard case .array(let rows)? = alerts["alerts"] else { Issue.record("no alerts"); return }
        // Newest first: resolved, de-escalated, escalated→critical, escalated→warning.
        #expect(rows.map { $0["event_type"] } == ["resolved", "de-escalated", "escalated", "escalated"])
        #expect(rows.allSatisfy { $0["server_name"] == "ppdb001" })
        #expect(rows.allSatisfy { $0["resolved_at"] == .string(ISO8601Timestamp.format(Self.t(6))) })
        #expect(rows[3]["timestamp"] == .string("2025-01-15T10:10:00"))
        #expect(rows[3]["new_level"] == "warning" && rows[3]["previous_level"] == "healthy")
        #expect(rows[3]["risk_score"] == 65.0)
        #expect(rows[3]["resolution_duration_minutes"] == 20.0)     // 10:10 → 10:30
        #expect(rows[2]["resolution_duration_minutes"] == 15.0)     // critical at 10:15
        #expect(rows[0]["resolution_duration_minutes"] == 20.0)     // the episode
        #expect(rows[0]["peak_level"] == "critical")

        let summary = try f.store.summary(.day1)
        #expect(summary["success"] == true && summary["time_range"] == "1d")
        #expect(summary["total_alerts"] == 2)
        #expect(summary["alerts_by_level"] == .object([("critical", 1), ("warning", 1), ("degraded", 0)]))
        #expect(summary["avg_resolution_time_minutes"] == 20.0)
        #expect(summary["incidents_prevented"] == 1)
        #expect(summary["resolved_count"] == 1)
        #expect(summary["open_alerts"] == 0)
        // fleet_health = 100 − mean risk per tick, averaged over the 8 snapshots.
        let expected = Self.incident.map { 100 - ($0 + 10) / 2 }.reduce(0, +) / 8
        #expect(summary["fleet_health_avg"] == .double(HistoryStore.round(expected)))

        // Filter by server; the other server has nothing.
        #expect(try f.store.alerts(.day1, server: "ppweb001")["count"] == 0)
        #expect(try f.store.alerts(.day1, server: "ppdb001")["count"] == 4)
        // Ranges end at the newest tick and are half-open: (end − range, end].
        #expect(try f.store.alerts(.minutes30)["count"] == 4)   // (10:05, 10:35]
        for i in 8..<13 { try f.store.record(.scores(Self.t(i), ["ppdb001": 20, "ppweb001": 10])) }
        #expect(try f.store.alerts(.minutes30)["count"] == 0)   // (10:30, 11:00]: the 10:30 resolution is out
        #expect(try f.store.alerts(.hour1)["count"] == 4)
    }

    @Test("an episode whose problem was observed is an incident, not a prevented one")
    func observedIncident() throws {
        let f = try HistoryFixture()
        defer { f.directory.cleanup() }
        for (i, score) in Self.incident.enumerated() {
            try f.store.record(.scores(Self.t(i), ["ppdb001": score], observedCritical: i == 3 ? ["ppdb001"] : []))
        }
        let summary = try f.store.summary(.day1)
        #expect(summary["incidents_prevented"] == 0)
        #expect(summary["incidents_observed"] == 1)
        guard case .array(let rows)? = try f.store.alerts(.day1)["alerts"] else { Issue.record("alerts is not an array"); return }
        #expect(rows.allSatisfy { $0["caused_incident"] == true })
    }

    @Test("a replayed or older tick is not recorded twice")
    func replayIgnored() throws {
        let f = try HistoryFixture()
        defer { f.directory.cleanup() }
        #expect(try f.store.record(.scores(Self.t(0), ["a": 70])).recorded)
        #expect(try !f.store.record(.scores(Self.t(0), ["a": 70])).recorded)
        #expect(try f.store.environment(.hour1)["count"] == 1)
        #expect(try f.store.alerts(.hour1)["count"] == 1)
    }

    @Test("server history: time in warning/critical, averages, trend, 404 for unknown")
    func serverHistory() throws {
        let f = try HistoryFixture()
        defer { f.directory.cleanup() }
        // 12 ticks (1 h): falling risk for a, rising for b, flat for c.
        for i in 0..<12 {
            let a = 90 - Double(i) * 6          // 90 … 24
            try f.store.record(.scores(Self.t(i), ["a": a, "b": 20 + Double(i) * 5, "c": 40]))
        }
        let a = try #require(try f.store.server("a", range: .hour1))
        // a's levels: 90,84 critical; 78,72,66,60 warning; 54 degraded; 48… healthy.
        #expect(a["time_in_critical_pct"] == .double(HistoryStore.round(200.0 / 12)))
        #expect(a["time_in_warning_pct"] == .double(HistoryStore.round(400.0 / 12)))
        #expect(a["max_risk_score"] == 90.0)
        #expect(a["avg_risk_score"] == 57.0)
        #expect(a["risk_trend"] == "improving")
        #expect(a["alert_count"] == 1)
        #expect(try f.store.server("b", range: .hour1)?["risk_trend"] == "degrading")
        #expect(try f.store.server("c", range: .hour1)?["risk_trend"] == "stable")
        #expect(try f.store.server("c", range: .hour1)?["time_in_warning_pct"] == 0.0)
        #expect(try f.store.server("nope", range: .hour1) == nil)
    }

    @Test("restart keeps history and the open episode; its resolution has the full duration")
    func restart() throws {
        let f = try HistoryFixture()
        defer { f.directory.cleanup() }
        for i in 0..<4 { try f.store.record(.scores(Self.t(i), ["ppdb001": Self.incident[i]])) }
        let (db, store) = try f.reopened()
        defer { db.close() }
        #expect(store.lastTick == Self.t(3))
        #expect(store.trackedLevel("ppdb001") == .critical)
        #expect(try store.summary(.day1)["open_alerts"] == 1)
        for i in 4..<8 { try store.record(.scores(Self.t(i), ["ppdb001": Self.incident[i]])) }
        let summary = try store.summary(.day1)
        #expect(summary["total_alerts"] == 2)
        #expect(summary["avg_resolution_time_minutes"] == 20.0)
        #expect(try store.alerts(.day1)["count"] == 4)
    }

    @Test("retention prunes old rows in batches and keeps open episodes")
    func retention() throws {
        var configuration = HistoryConfiguration()
        configuration.retentionSeconds = 3_600
        configuration.riskSampleRetentionSeconds = 0   // clamped to a day
        configuration.retentionBatchSize = 3
        let f = try HistoryFixture(configuration: configuration)
        defer { f.directory.cleanup() }
        // An episode that stays open from tick 0, and a closed one for b.
        try f.store.record(.scores(Self.t(0), ["a": 70, "b": 70]))
        try f.store.record(.scores(Self.t(1), ["a": 70, "b": 10]))
        try f.store.record(.scores(Self.t(2), ["a": 70, "b": 10]))
        for i in 3..<30 { try f.store.record(.scores(Self.t(i), ["a": 70, "b": 10])) }
        let deleted = try f.store.pruneExpired()
        #expect(deleted > 0)
        // Environment older than 1 h before the newest tick (tick 29) is gone: ticks 17…29 remain (13).
        #expect(try f.store.environment(.month1)["count"] == 13)
        guard case .array(let rows)? = try f.store.alerts(.month1)["alerts"] else { Issue.record("alerts is not an array"); return }
        // b's closed episode (ticks 0–1) is pruned; a's open escalation stays.
        #expect(rows.count == 1 && rows[0]["server_name"] == "a" && rows[0]["resolved_at"] == .null)
        // Risk samples are kept for at least a day (the 30 ticks span 2.5 h).
        #expect(try f.store.server("a", range: .month1)?["samples"] == 30)
    }

    @Test("routes over HTTP: 422 for a bad time_range or table, defaults, CSV header and filename")
    func routes() throws {
        let f = try HistoryFixture(wallClock: 1_736_937_045)   // 2025-01-15T10:30:45Z
        defer { f.directory.cleanup() }
        for (i, score) in Self.incident.enumerated() { try f.store.record(.scores(Self.t(i), ["ppdb001": score])) }
        let server = try HistoryTestServer { HistoryRoutes(store: f.store).addRoutes(to: $0) }
        defer { server.stop() }

        for path in ["/historical/summary", "/historical/alerts", "/historical/environment", "/historical/server/ppdb001",
                     "/historical/export/alerts"] {
            for bad in ["2h", "1m", "", "1d%20"] {
                let reply = try server.get("\(path)?time_range=\(bad)")
                #expect(reply.status == 422, "\(path) \(bad)")
                let detail = reply.json["detail"] as? [[String: Any]]
                #expect((detail?.first?["loc"] as? [String]) == ["query", "time_range"])
            }
        }
        #expect(try server.get("/historical/summary").json["time_range"] as? String == "1d")
        #expect(try server.get("/historical/alerts").json["time_range"] as? String == "1h")
        #expect(try server.get("/historical/environment").json["time_range"] as? String == "1h")
        #expect(try server.get("/historical/environment").json["count"] as? Int == 8)
        #expect(try server.get("/historical/server/ppdb001").json["time_range"] as? String == "1d")
        #expect(try server.get("/historical/server/unknown01").status == 404)
        #expect(try server.get("/historical/alerts?server_name=ppdb001&time_range=8h").json["count"] as? Int == 4)

        let bad = try server.get("/historical/export/servers")
        #expect(bad.status == 422)
        #expect(((bad.json["detail"] as? [[String: Any]])?.first?["loc"] as? [String]) == ["path", "table"])

        let export = try server.get("/historical/export/alerts?time_range=1w").json
        #expect(export["success"] as? Bool == true && export["table"] as? String == "alerts" && export["time_range"] as? String == "1w")
        #expect(export["filename"] as? String == "argus_alerts_1w_20250115_103045.csv")
        let lines = (export["csv_data"] as? String ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "timestamp,server_name,event_type,previous_level,new_level,risk_score,resolved_at,resolution_duration_minutes,caused_incident,notes,episode_start,peak_level")
        #expect(lines.count == 6 && lines.last == "")   // header, 4 events, trailing newline
        #expect(lines[1] == "2025-01-15T10:10:00,ppdb001,escalated,healthy,warning,65.0,2025-01-15T10:30:00,20.0,false,,2025-01-15T10:10:00,")

        let env = try server.get("/historical/export/environment").json
        #expect(env["filename"] as? String == "argus_environment_1d_20250115_103045.csv")
        let envLines = (env["csv_data"] as? String ?? "").split(separator: "\n")
        #expect(envLines.first == "timestamp,total_servers,critical_count,warning_count,degraded_count,healthy_count,prob_30m,prob_8h,avg_risk_score,max_risk_score,top_risk_server,fleet_health")
        #expect(envLines.count == 9)
    }

    @Test("an empty history answers with zeros and a header-only CSV")
    func empty() throws {
        let f = try HistoryFixture()
        defer { f.directory.cleanup() }
        let summary = try f.store.summary(.day1)
        #expect(summary["total_alerts"] == 0 && summary["avg_resolution_time_minutes"] == 0.0 && summary["fleet_health_avg"] == .null)
        let csv = try f.store.export(.alerts, range: .day1)["csv_data"]
        #expect(csv == .string(HistoryStore.alertCSVHeader.joined(separator: ",") + "\n"))
    }
}
