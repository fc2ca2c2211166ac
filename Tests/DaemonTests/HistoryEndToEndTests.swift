import Foundation
import Testing
@testable import Daemon

/// The whole daemon over real HTTP: feed → tick → TFT → snapshot → history recorder → /historical/*, and
/// /explain on the same snapshot. One batch per step, drained after each, so every step is one snapshot.
@Suite("HistoryEndToEnd")
struct HistoryEndToEndTests {
    static let servers = ["ppdb001", "ppweb001", "ppgen001"]
    static let incident = 14..<18          // ppdb001 memory at 99 % (database critical: 98 %)

    static func memory(_ server: String, _ step: Int) -> Double {
        server == "ppdb001" && incident.contains(step) ? 99 : 50 + Double(step % 3)
    }

    /// Quiet servers (low swap and load, so nothing but the incident grades above healthy), one batch per
    /// step, each followed by the inference run it triggers.
    func feed(_ d: TestDaemon, _ steps: Range<Int>) throws {
        for i in steps {
            let epoch = Feed.base + Int64(i) * 300
            let records = Self.servers.map { s in
                Feed.record(server: s, timestamp: Feed.iso(epoch),
                            overrides: ["mem_used_pct": Self.memory(s, i), "swap_used_pct": 1.0, "load_average": 0.8])
            }
            let reply = try d.post("/feed/data", Feed.body(records))
            precondition(reply.status == 200, "feed failed: \(reply.status) \(reply.text)")
            d.settle()
        }
    }

    @Test("an injected incident escalates, resolves with the right duration, shows in summary and CSV, survives a restart")
    func incidentLifecycle() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var d: TestDaemon? = try TestDaemon(dir: dir)
        try feed(d!, 0..<16)

        // While it is critical: escalated, open, explainable.
        var alerts = try d!.get("/historical/alerts?server_name=ppdb001&time_range=1d").object
        var rows = alerts["alerts"] as? [[String: Any]] ?? []
        #expect(rows.count == 1)
        #expect(rows.first?["event_type"] as? String == "escalated")
        #expect(rows.first?["new_level"] as? String == "critical")
        #expect(rows.first?["timestamp"] as? String == Feed.iso(Feed.base + 14 * 300))
        #expect(rows.first?["resolved_at"] is NSNull)

        let explain = try d!.get("/explain/ppdb001")
        #expect(explain.status == 200)
        let body = explain.object
        #expect(body["server_name"] as? String == "ppdb001")
        #expect((body["prediction"] as? [String: Any])?["alert_level"] as? String == "critical")
        let top = ((body["shap"] as? [String: Any])?["top_features"] as? [[String: Any]])?.first
        #expect(top?["feature"] as? String == "Memory used")
        #expect(((body["attention"] as? [String: Any])?["focus_periods"] as? [String])?.isEmpty == false)
        #expect((body["counterfactuals"] as? [[String: Any]])?.contains { $0["found_by"] as? String == "search" } == true)
        #expect(body["model_variable_importance"] != nil)
        let again = try d!.get("/explain/ppdb001").object
        #expect((again["cost"] as? [String: Any])?["cached"] as? Bool == true)
        #expect(try d!.get("/explain/nosuch01").status == 404)

        // Restart in the middle of the incident: history and the open episode survive.
        d!.stop()
        d = try TestDaemon(dir: dir)
        defer { d?.stop() }
        #expect((try d!.get("/historical/alerts?time_range=1d").object["count"] as? Int) == 1)
        try feed(d!, 16..<26)

        alerts = try d!.get("/historical/alerts?server_name=ppdb001&time_range=1d").object
        rows = alerts["alerts"] as? [[String: Any]] ?? []
        let types = rows.map { $0["event_type"] as? String ?? "" }
        #expect(types.first == "resolved", "\(types)")
        let resolved = try #require(rows.first)
        // Memory was back to normal from step 18: the episode ran 14 → 18 = 20 minutes.
        #expect(resolved["timestamp"] as? String == Feed.iso(Feed.base + 18 * 300))
        #expect(resolved["resolution_duration_minutes"] as? Double == 20)
        let escalation = try #require(rows.last)
        #expect(escalation["resolved_at"] as? String == Feed.iso(Feed.base + 18 * 300))
        #expect(escalation["resolution_duration_minutes"] as? Double == 20)
        #expect(escalation["caused_incident"] as? Bool == true)

        let summary = try d!.get("/historical/summary").object
        #expect((summary["total_alerts"] as? Int ?? 0) >= 1)
        #expect((summary["alerts_by_level"] as? [String: Int])?["critical"] == 1)
        #expect(summary["avg_resolution_time_minutes"] as? Double == 20)
        #expect(summary["incidents_prevented"] as? Int == 0)          // the problem was observed, not prevented
        #expect(summary["fleet_health_avg"] as? Double != nil)

        let server = try d!.get("/historical/server/ppdb001?time_range=8h").object
        #expect((server["time_in_critical_pct"] as? Double ?? 0) > 0)
        #expect(server["alert_count"] as? Int == 1)

        let export = try d!.get("/historical/export/alerts?time_range=1d").object
        let csv = export["csv_data"] as? String ?? ""
        #expect(csv.hasPrefix("timestamp,server_name,event_type,previous_level,new_level,risk_score,resolved_at,resolution_duration_minutes"))
        #expect(csv.contains("\(Feed.iso(Feed.base + 14 * 300)),ppdb001,escalated,healthy,critical,"))
        #expect(csv.contains(",ppdb001,resolved,"))
        #expect((export["filename"] as? String)?.hasPrefix("argus_alerts_1d_") == true)

        let env = try d!.get("/historical/environment?time_range=1d").object
        #expect((env["count"] as? Int ?? 0) >= 14)
        #expect(try d!.get("/historical/environment?time_range=3h").status == 422)
        #expect(try d!.get("/historical/summary", key: nil).status == 401)
    }

    /// Found by tools/fuzz_api.sh (ST202): `limit` was documented as an unbounded integer, so 35033612096968986624 was
    /// valid data answered 422. The document now bounds it to 64 bits, every such value is served (clamped), and a
    /// number beyond that stays a 422 naming the field.
    @Test("/historical/alerts limit: any 64-bit integer is served and documented, beyond that is 422")
    func alertsLimitIsDocumentedAsWhatTheRouteAccepts() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        for limit in ["-9223372036854775808", "-5", "0", "9223372036854775807"] {
            let reply = try d.get("/historical/alerts?limit=\(limit)")
            #expect(reply.status == 200 && reply.object["alerts"] is [Any], "\(limit): \(reply.text)")
        }
        for limit in ["35033612096968986624", "", "ten"] {
            let reply = try d.get("/historical/alerts?limit=\(limit)")
            let loc = ((reply.object["detail"] as? [[String: Any]])?.first?["loc"] as? [String]) ?? []
            #expect(reply.status == 422 && loc == ["query", "limit"], "\(limit): \(reply.text)")
        }
        let paths = try #require(d.get("/openapi.json", key: nil).object["paths"] as? [String: Any])
        let parameters = try #require(((paths["/historical/alerts"] as? [String: Any])?["get"] as? [String: Any])?["parameters"] as? [[String: Any]])
        let schema = try #require(parameters.first { $0["name"] as? String == "limit" }?["schema"] as? [String: Any])
        #expect((schema["minimum"] as? NSNumber)?.int64Value == Int64.min && (schema["maximum"] as? NSNumber)?.int64Value == Int64.max, "\(schema)")
    }
}
