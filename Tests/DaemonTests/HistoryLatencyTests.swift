import Foundation
import Testing
import TFTCore
import Training
@testable import Daemon

/// Measurements, not assertions on time: run with `ARGUS_MEASURE=1 swift test -c release --filter HistoryLatency`.
/// They print figures for docs/history.md and docs/explain.md.
@Suite("HistoryLatency", .enabled(if: ProcessInfo.processInfo.environment["ARGUS_MEASURE"] == "1"))
struct HistoryLatencyTests {
    static func ms(_ body: () throws -> Void) rethrows -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
    }

    @Test("a month of 1,000 servers: query latency")
    func monthOfThousandServers() throws {
        let f = try HistoryFixture()
        defer { f.directory.cleanup() }
        let start: Int64 = 1_736_935_200, ticks = 8_640, servers = 1_000
        let fill = try Self.ms {
            try f.database.writeTransaction { c in
                // Risk samples: a smooth per-server wave; levels from the spec bands.
                try c.execute("""
                    WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i < \(ticks - 1)),
                                   s(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM s WHERE j < \(servers - 1))
                    INSERT INTO history_risk_samples (server_name, ts, risk_score, level)
                    SELECT printf('srv%04d', j), \(start) + i * 300, r, CASE WHEN r >= 80 THEN 3 WHEN r >= 60 THEN 2 WHEN r >= 50 THEN 1 ELSE 0 END
                    FROM (SELECT i, j, 30 + 40 * ((i * 7 + j * 13) % 100) / 100.0 AS r FROM s, t);
                    WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i < \(ticks - 1))
                    INSERT INTO history_environment (ts, total_servers, critical_count, warning_count, degraded_count, healthy_count,
                        avg_risk_score, max_risk_score, top_risk_server, fleet_health)
                    SELECT \(start) + i * 300, 1000, 5, 40, 60, 895, 42, 85, 'srv0001', 90 FROM t;
                    WITH RECURSIVE e(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM e WHERE k < 49999)
                    INSERT INTO history_alert_events (ts, server_name, event_type, previous_level, new_level, risk_score, episode_start,
                        resolved_at, resolution_duration_minutes, peak_level, caused_incident)
                    SELECT \(start) + (k * 5183) % \(ticks * 300), printf('srv%04d', k % 1000),
                           CASE k % 2 WHEN 0 THEN 'escalated' ELSE 'resolved' END, 'healthy', 'warning', 65,
                           \(start) + (k * 5183) % \(ticks * 300), \(start) + (k * 5183) % \(ticks * 300) + 1800, 30, 'warning', 0 FROM e;
                    INSERT INTO meta (key, value) VALUES ('history.last_tick_ts', \(start + Int64(ticks - 1) * 300))
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value;
                    """)
            }
        }
        let (db, store) = try f.reopened()
        defer { db.close() }
        print("HISTORY_FILL ms=\(Int(fill)) risk_samples=\(ticks * servers)")
        for range in [HistoryTimeRange.hour1, .day1, .month1] {
            var times: [String: Double] = [:]
            for _ in 0..<2 {   // second pass = warm cache
                times["summary"] = try Self.ms { _ = try store.summary(range) }
                times["alerts"] = try Self.ms { _ = try store.alerts(range, limit: 1000) }
                times["alerts_server"] = try Self.ms { _ = try store.alerts(range, server: "srv0042") }
                times["server"] = try Self.ms { _ = try store.server("srv0042", range: range) }
                times["environment"] = try Self.ms { _ = try store.environment(range) }
                times["export_alerts"] = try Self.ms { _ = try store.export(.alerts, range: range) }
            }
            print("HISTORY_LATENCY range=\(range.rawValue) " + times.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.1f", $0.value))ms" }.joined(separator: " "))
        }
        let tick = HistoryTick(timestamp: start + Int64(ticks) * 300,
                               servers: (0..<servers).map { HistoryTick.Server(name: String(format: "srv%04d", $0), riskScore: 40) })
        print("HISTORY_RECORD_TICK servers=1000 ms=\(String(format: "%.1f", try Self.ms { try store.record(tick) }))")
    }

    @Test("explain latency for one server at config A")
    func explainConfigA() throws {
        let spec = FeatureSpec.standard
        let config = spec.makeConfig()
        let model = try TFTModel(config: config, seed: 1)
        let engine = ExplainEngine(model: model, builder: try FeatureBuilder(spec: spec, config: config))
        let n = 2016
        var v = [Float](repeating: 0, count: FeedMetric.count * n)
        for i in 0..<n {
            for m in FeedMetric.allCases { v[m.rawValue * n + i] = 20 + Float((i * (m.rawValue + 3)) % 17) }
            v[FeedMetric.memUsedPct.rawValue * n + i] = i > n - 12 ? 90 : 60 + Float(i % 5)
        }
        let window = ServerWindow(serverName: "ppdb001", firstEpoch: 1_736_935_200, stepSeconds: 300, feedValues: v)
        _ = try engine.explain(window)
        var e: Explanation?
        let t = try Self.ms { e = try engine.explain(window) }
        print("EXPLAIN_LATENCY config=A ms=\(Int(t)) evaluations=\(e!.evaluations) shapley=\(e!.shapley.evaluations) threads=\(model.threads)")
    }
}
