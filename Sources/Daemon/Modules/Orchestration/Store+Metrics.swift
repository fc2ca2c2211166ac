import Foundation
import HTTPServer

/// Metrics (spec §4), computed from stored tasks and task events on every request. Where the original
/// returned constants, the value is computed here or null with a reason under `null_reasons`.
extension OrchestrationStore {
    /// Claude's list price per 1k tokens (the original switcher's table): the yardstick for "savings vs all-Claude".
    static let claudePricePer1k = 0.015

    private func filter(_ projectID: String?, since: Double?, column: String = "created_at", table: String = "") -> (String, [SQLiteValue]) {
        var clauses: [String] = []
        var values: [SQLiteValue] = []
        if let projectID { clauses.append("\(table)project_id = ?"); values.append(.text(projectID)) }
        if let since { clauses.append("\(table)\(column) >= ?"); values.append(.real(since)) }
        return (clauses.isEmpty ? "" : " AND " + clauses.joined(separator: " AND "), values)
    }

    /// `performance` block of the dashboard and `GET /api/metrics/performance`.
    func performance(projectID: String?) throws -> JSONValue {
        let (f, v) = filter(projectID, since: nil)
        return try db.read { c in
            let row = try c.query("""
                SELECT AVG(CASE WHEN status = 'completed' THEN duration_seconds END), AVG(CASE WHEN status = 'completed' THEN current_iteration END),
                  AVG(CASE WHEN status = 'completed' THEN final_quality END), SUM(status = 'completed'), SUM(status = 'failed'),
                  SUM(tokens), SUM(tokens_uncompressed), SUM(COALESCE(actual_cost, 0))
                FROM tasks WHERE 1 = 1\(f)
                """, v) { s in (s.optionalDouble(0), s.optionalDouble(1), s.optionalDouble(2), s.int64(3), s.int64(4), s.int64(5), s.int64(6), s.double(7)) }[0]
            let finished = row.3 + row.4
            let tokenReduction: Double? = row.6 > 0 ? (1 - Double(row.5) / Double(row.6)) * 100 : nil
            let claudeCost = Double(row.5) / 1000 * Self.claudePricePer1k
            let savings: Double? = claudeCost > 0 ? (claudeCost - row.7) / claudeCost * 100 : nil
            var reasons: [(String, JSONValue)] = [("speed_improvement_factor",
                "needs a baseline run of the same tasks without HRM; none is recorded")]
            if tokenReduction == nil { reasons.append(("token_reduction_percent", "no completed provider calls yet")) }
            if savings == nil { reasons.append(("cost_savings_percent", "no tokens used yet")) }
            if finished == 0 {
                for key in ["avg_time_per_task", "avg_iterations", "avg_quality", "success_rate"] { reasons.append((key, "no finished tasks yet")) }
            }
            return .object([
                ("avg_time_per_task", Self.round(row.0, 6)), ("avg_iterations", Self.round(row.1, 2)), ("avg_quality", Self.round(row.2, 3)),
                ("success_rate", finished > 0 ? Self.round(Double(row.3) / Double(finished), 3) : .null),
                ("token_reduction_percent", Self.round(tokenReduction, 1)), ("speed_improvement_factor", .null),
                ("cost_savings_percent", Self.round(savings, 1)), ("tasks_finished", .int(Int(finished))),
                ("null_reasons", .object(reasons)),
            ])
        }
    }

    /// Cost block: totals from the per-call rows (`task_events`).
    func cost(projectID: String?, since: Double?) throws -> JSONValue {
        let (f, v) = filter(projectID, since: since, table: "e.")
        return try db.read { c in
            let byAgent = try c.query("SELECT agent, COALESCE(SUM(cost), 0), COALESCE(SUM(tokens), 0) FROM task_events e WHERE kind = 'call' AND ok = 1\(f) GROUP BY agent ORDER BY agent", v) {
                ($0.string(0) ?? "", $0.double(1), $0.int64(2))
            }
            let total = byAgent.reduce(0) { $0 + $1.1 }
            let tokens = byAgent.reduce(0) { $0 + $1.2 }
            let (tf, tv) = filter(projectID, since: since)
            let tasks = Int(try c.scalar("SELECT COUNT(*) FROM tasks WHERE actual_cost IS NOT NULL\(tf)", tv)?.int64 ?? 0)
            let monthStart = now() - 30 * 86_400
            let (mf, mv) = filter(projectID, since: monthStart, table: "e.")
            let lastMonth = try c.scalar("SELECT COALESCE(SUM(cost), 0) FROM task_events e WHERE kind = 'call' AND ok = 1\(mf)", mv)?.double ?? 0
            let daily = try c.query("""
                SELECT date(created_at, 'unixepoch'), SUM(COALESCE(cost, 0)), COUNT(*) FROM task_events e
                WHERE kind = 'call' AND ok = 1\(f) GROUP BY 1 ORDER BY 1
                """, v) { s in JSONValue.object([("date", .string((s.string(0) ?? "") + "T00:00:00Z")), ("cost", Self.round(s.double(1))),
                                                 ("calls", .int(Int(s.int64(2))))]) }
            return .object([
                ("total_cost", Self.round(total)), ("cost_by_agent", .object(byAgent.map { ($0.0, Self.round($0.1)) })),
                ("avg_cost_per_task", tasks > 0 ? Self.round(total / Double(tasks)) : .null),
                ("monthly_projection", Self.round(lastMonth)),
                ("savings_vs_all_claude", Self.round(Double(tokens) / 1000 * Self.claudePricePer1k - total)),
                ("tokens", .int(Int(tokens))), ("daily", .array(daily)),
            ])
        }
    }

    func dashboard() throws -> JSONValue {
        let dayStart = (now() / 86_400).rounded(.down) * 86_400
        let (projects, active, completedToday, costToday) = try db.read { c in
            (Int(try c.scalar("SELECT COUNT(*) FROM projects")?.int64 ?? 0),
             Int(try c.scalar("SELECT COUNT(*) FROM tasks WHERE status = 'in_progress'")?.int64 ?? 0),
             Int(try c.scalar("SELECT COUNT(*) FROM tasks WHERE status = 'completed' AND completed_at >= ?", [.real(dayStart)])?.int64 ?? 0),
             try c.scalar("SELECT COALESCE(SUM(cost), 0) FROM task_events WHERE kind = 'call' AND ok = 1 AND created_at >= ?",
                          [.real(dayStart)])?.double ?? 0)
        }
        return .object([("total_projects", .int(projects)), ("active_tasks", .int(active)), ("completed_today", .int(completedToday)),
                        ("total_cost_today", Self.round(costToday)), ("performance", try performance(projectID: nil)),
                        ("cost", try cost(projectID: nil, since: nil))])
    }

    /// Daily quality of completed tasks in [start, end).
    func qualityTrend(projectID: String?, start: Double, end: Double) throws -> [JSONValue] {
        var values: [SQLiteValue] = [.real(start), .real(end)]
        var f = ""
        if let projectID { f = " AND project_id = ?"; values.append(.text(projectID)) }
        return try db.read { c in
            try c.query("""
                SELECT date(completed_at, 'unixepoch'), AVG(final_quality), AVG(test_coverage), AVG(security_score), COUNT(*)
                FROM tasks WHERE status = 'completed' AND completed_at >= ? AND completed_at < ?\(f) GROUP BY 1 ORDER BY 1
                """, values) { s in
                .object([("date", .string((s.string(0) ?? "") + "T00:00:00Z")), ("overall_quality", Self.round(s.optionalDouble(1), 3)),
                         ("test_coverage", Self.round(s.optionalDouble(2), 3)), ("security_score", Self.round(s.optionalDouble(3), 3)),
                         ("tasks", .int(Int(s.int64(4))))])
            }
        }
    }

    /// Per agent: tasks it finished (as final assignee), success rate, quality, cost and time.
    func agentPerformance(projectID: String?, since: Double?) throws -> [JSONValue] {
        let (f, v) = filter(projectID, since: since)
        return try db.read { c in
            try c.query("""
                SELECT assigned_agent, COUNT(*), SUM(status = 'completed'), SUM(status IN ('completed', 'failed')),
                  AVG(CASE WHEN status = 'completed' THEN final_quality END), AVG(actual_cost), AVG(duration_seconds)
                FROM tasks WHERE assigned_agent IS NOT NULL\(f) GROUP BY assigned_agent ORDER BY assigned_agent
                """, v) { s in
                let finished = s.int64(3)
                return .object([("agent", .string(s.string(0) ?? "")), ("total_tasks", .int(Int(s.int64(1)))),
                                 ("success_rate", finished > 0 ? Self.round(Double(s.int64(2)) / Double(finished), 3) : .null),
                                 ("avg_quality", Self.round(s.optionalDouble(4), 3)), ("avg_cost", Self.round(s.optionalDouble(5))),
                                 ("avg_time", Self.round(s.optionalDouble(6), 6))])
            }
        }
    }

    /// Counters for the Prometheus page.
    func prometheusCounters() throws -> (tasks: [(String, String, Int)], tokens: [(String, Int)], cost: Double, switches: [(String, String, String, Int)]) {
        try db.read { c in
            let tasks = try c.query("SELECT COALESCE(p.type, 'none'), t.status, COUNT(*) FROM tasks t LEFT JOIN projects p ON p.id = t.project_id GROUP BY 1, 2 ORDER BY 1, 2") {
                ($0.string(0) ?? "", $0.string(1) ?? "", Int($0.int64(2)))
            }
            let tokens = try c.query("SELECT agent, COALESCE(SUM(tokens), 0) FROM task_events WHERE kind = 'call' AND ok = 1 GROUP BY agent ORDER BY agent") {
                ($0.string(0) ?? "", Int($0.int64(1)))
            }
            let cost = try c.scalar("SELECT COALESCE(SUM(cost), 0) FROM task_events WHERE kind = 'call' AND ok = 1")?.double ?? 0
            let switches = try c.query("SELECT agent, to_agent, reason, COUNT(*) FROM task_events WHERE kind = 'switch' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3") {
                ($0.string(0) ?? "", $0.string(1) ?? "", $0.string(2) ?? "", Int($0.int64(3)))
            }
            return (tasks, tokens, cost, switches)
        }
    }
}
