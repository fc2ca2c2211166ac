import Foundation
import HTTPServer

/// The `/historical/*` answers, each built from indexed range scans (docs/history.md, "Queries").
extension HistoryStore {
    static func round(_ x: Double, _ places: Int = 1) -> Double {
        let p = pow(10, Double(places))
        return (x * p).rounded() / p
    }

    static func iso(_ ts: Int64) -> String { ISO8601Timestamp.format(ts) }

    /// `GET /historical/summary`.
    public func summary(_ range: HistoryTimeRange) throws -> JSONValue {
        let (from, to) = range.bounds(end: clock)
        return try database.read { c in
            var byLevel: [String: Int] = ["critical": 0, "warning": 0, "degraded": 0]
            for (level, n) in try c.query("""
                SELECT new_level, COUNT(*) FROM history_alert_events
                WHERE ts > ? AND ts <= ? AND event_type = 'escalated' GROUP BY new_level
                """, [.integer(from), .integer(to)], { ($0.string(0) ?? "", Int($0.int64(1))) }) { byLevel[level] = n }
            let total = byLevel.values.reduce(0, +)
            let servers = try c.scalar("SELECT COUNT(DISTINCT server_name) FROM history_alert_events WHERE ts > ? AND ts <= ? AND event_type = 'escalated'",
                                       [.integer(from), .integer(to)])?.int64 ?? 0
            let resolved = try c.query("""
                SELECT COUNT(*), AVG(resolution_duration_minutes),
                       SUM(CASE WHEN peak_level IN ('warning', 'critical') AND caused_incident = 0 THEN 1 ELSE 0 END),
                       SUM(caused_incident)
                FROM history_alert_events WHERE ts > ? AND ts <= ? AND event_type = 'resolved'
                """, [.integer(from), .integer(to)]) { s in
                (Int(s.int64(0)), s.isNull(1) ? 0 : s.double(1), Int(s.int64(2)), Int(s.int64(3)))
            }.first ?? (0, 0, 0, 0)
            let env = try c.query("SELECT COUNT(*), AVG(fleet_health) FROM history_environment WHERE ts > ? AND ts <= ?",
                                  [.integer(from), .integer(to)]) { s in (Int(s.int64(0)), s.isNull(1) ? nil : s.double(1)) }.first ?? (0, nil)
            let open = try c.scalar("SELECT COUNT(*) FROM history_alert_state WHERE level > 0")?.int64 ?? 0
            return .object([
                ("success", true),
                ("time_range", .string(range.rawValue)),
                ("total_alerts", .int(total)),
                ("alerts_by_level", .object([("critical", .int(byLevel["critical"] ?? 0)), ("warning", .int(byLevel["warning"] ?? 0)),
                                             ("degraded", .int(byLevel["degraded"] ?? 0))])),
                ("avg_resolution_time_minutes", .double(Self.round(resolved.1))),
                ("incidents_prevented", .int(resolved.2)),
                ("fleet_health_avg", env.1.map { .double(Self.round($0)) } ?? .null),
                // Additions (docs/history.md).
                ("resolved_count", .int(resolved.0)),
                ("incidents_observed", .int(resolved.3)),
                ("servers_affected", .int(Int(servers))),
                ("open_alerts", .int(Int(open))),
                ("snapshots", .int(env.0)),
                ("from", .string(Self.iso(from))),
                ("to", .string(Self.iso(to))),
            ])
        }
    }

    static func alertJSON(_ s: SQLiteStatement) -> JSONValue {
        // columns: ts, server_name, event_type, previous_level, new_level, risk_score, resolved_at,
        //          resolution_duration_minutes, episode_start, caused_incident, peak_level
        var members: [(String, JSONValue)] = [
            ("timestamp", .string(iso(s.int64(0)))),
            ("server_name", .string(s.string(1) ?? "")),
            ("event_type", .string(s.string(2) ?? "")),
            ("previous_level", .string(s.string(3) ?? "")),
            ("new_level", .string(s.string(4) ?? "")),
            ("risk_score", .double(round(s.double(5)))),
            ("resolved_at", s.isNull(6) ? .null : .string(iso(s.int64(6)))),
            ("resolution_duration_minutes", s.isNull(7) ? .null : .double(round(s.double(7)))),
            ("episode_start", .string(iso(s.int64(8)))),
            ("caused_incident", .bool(s.int64(9) != 0)),
        ]
        if !s.isNull(10) { members.append(("peak_level", .string(s.string(10) ?? ""))) }
        return .object(members)
    }

    static let alertColumns = """
        ts, server_name, event_type, previous_level, new_level, risk_score, resolved_at, resolution_duration_minutes,
        episode_start, caused_incident, peak_level
        """

    /// `GET /historical/alerts`: events in the range, newest first (at most `limit`).
    public func alerts(_ range: HistoryTimeRange, server: String? = nil, limit: Int? = nil) throws -> JSONValue {
        let (from, to) = range.bounds(end: clock)
        let cap = min(max(limit ?? configuration.maxAlertsPerResponse, 0), configuration.maxAlertsPerResponse)
        return try database.read { c in
            let filter = server == nil ? "" : " AND server_name = ?3"
            var args: [SQLiteValue] = [.integer(from), .integer(to)]
            if let server { args.append(.text(server)) }
            let total = try c.scalar("SELECT COUNT(*) FROM history_alert_events WHERE ts > ?1 AND ts <= ?2\(filter)", args)?.int64 ?? 0
            let rows = try c.query("""
                SELECT \(Self.alertColumns) FROM history_alert_events WHERE ts > ?1 AND ts <= ?2\(filter)
                ORDER BY ts DESC, id DESC LIMIT \(cap)
                """, args, Self.alertJSON)
            var members: [(String, JSONValue)] = [
                ("success", true), ("time_range", .string(range.rawValue)), ("count", .int(rows.count)), ("alerts", .array(rows)),
                ("total_matching", .int(Int(total))),
            ]
            if let server { members.append(("server_name", .string(server))) }
            return .object(members)
        }
    }

    /// Risk trend from the least-squares slope of the risk samples over the range (docs/history.md).
    public static func trend(n: Int, sumX: Double, sumY: Double, sumXX: Double, sumXY: Double, spanHours: Double) -> (String, Double?) {
        guard n >= 3 else { return ("insufficient_data", nil) }
        let d = Double(n) * sumXX - sumX * sumX
        guard d > 1e-12 else { return ("stable", 0) }
        let slope = (Double(n) * sumXY - sumX * sumY) / d      // points per hour
        let change = slope * spanHours
        return (change <= -trendThreshold ? "improving" : (change >= trendThreshold ? "degrading" : "stable"), slope)
    }

    /// Projected change over the range (risk points) below which the trend is "stable".
    public static let trendThreshold = 5.0

    /// `GET /historical/server/{server_name}`; nil when the server has never been recorded.
    public func server(_ name: String, range: HistoryTimeRange) throws -> JSONValue? {
        let (from, to) = range.bounds(end: clock)
        return try database.read { c -> JSONValue? in
            let known = try c.scalar("SELECT 1 FROM history_risk_samples WHERE server_name = ? LIMIT 1", [.text(name)]) != nil
                || (try c.scalar("SELECT 1 FROM history_alert_events WHERE server_name = ? LIMIT 1", [.text(name)])) != nil
            guard known else { return nil }
            let stats = try c.query("""
                SELECT COUNT(*), AVG(risk_score), MAX(risk_score), SUM(level = 2), SUM(level = 3),
                       SUM(x), SUM(risk_score), SUM(x * x), SUM(x * risk_score)
                FROM (SELECT risk_score, level, (ts - ?2) / 3600.0 AS x FROM history_risk_samples
                      WHERE server_name = ?1 AND ts > ?2 AND ts <= ?3)
                """, [.text(name), .integer(from), .integer(to)]) { s in
                (n: Int(s.int64(0)), avg: s.double(1), max: s.double(2), warn: Double(s.int64(3)), crit: Double(s.int64(4)),
                 sx: s.double(5), sy: s.double(6), sxx: s.double(7), sxy: s.double(8))
            }.first!
            let alertCount = try c.scalar("SELECT COUNT(*) FROM history_alert_events WHERE server_name = ? AND ts > ? AND ts <= ? AND event_type = 'escalated'",
                                          [.text(name), .integer(from), .integer(to)])?.int64 ?? 0
            let events = try c.query("""
                SELECT \(Self.alertColumns) FROM history_alert_events WHERE server_name = ?1 AND ts > ?2 AND ts <= ?3
                ORDER BY ts DESC, id DESC LIMIT 100
                """, [.text(name), .integer(from), .integer(to)], Self.alertJSON)
            let level = try c.scalar("SELECT level FROM history_alert_state WHERE server_name = ?", [.text(name)])?.int64
            let (trend, slope) = Self.trend(n: stats.n, sumX: stats.sx, sumY: stats.sy, sumXX: stats.sxx, sumXY: stats.sxy,
                                            spanHours: Double(range.seconds) / 3600)
            let n = Double(max(stats.n, 1))
            return .object([
                ("success", true),
                ("server_name", .string(name)),
                ("time_range", .string(range.rawValue)),
                ("alert_count", .int(Int(alertCount))),
                ("avg_risk_score", .double(Self.round(stats.n > 0 ? stats.avg : 0))),
                ("max_risk_score", .double(Self.round(stats.n > 0 ? stats.max : 0))),
                ("time_in_warning_pct", .double(Self.round(100 * stats.warn / n))),
                ("time_in_critical_pct", .double(Self.round(100 * stats.crit / n))),
                ("risk_trend", .string(trend)),
                // Additions.
                ("risk_slope_per_hour", slope.map { .double(Self.round($0, 3)) } ?? .null),
                ("samples", .int(stats.n)),
                ("current_level", .string((level.flatMap { HistoryLevel(rawValue: Int($0)) } ?? .healthy).name)),
                ("events", .array(events)),
            ])
        }
    }

    /// `GET /historical/environment`: snapshots in the range, oldest first.
    public func environment(_ range: HistoryTimeRange) throws -> JSONValue {
        let (from, to) = range.bounds(end: clock)
        return try database.read { c in
            let rows = try c.query("""
                SELECT ts, total_servers, critical_count, warning_count, degraded_count, healthy_count, fleet_health,
                       avg_risk_score, max_risk_score, top_risk_server, prob_30m, prob_8h
                FROM history_environment WHERE ts > ? AND ts <= ? ORDER BY ts
                """, [.integer(from), .integer(to)]) { s -> JSONValue in
                .object([
                    ("timestamp", .string(Self.iso(s.int64(0)))),
                    ("total_servers", .int(Int(s.int64(1)))),
                    ("critical_count", .int(Int(s.int64(2)))),
                    ("warning_count", .int(Int(s.int64(3)))),
                    ("healthy_count", .int(Int(s.int64(5)))),
                    ("fleet_health", .double(Self.round(s.double(6)))),
                    ("degraded_count", .int(Int(s.int64(4)))),
                    ("avg_risk_score", .double(Self.round(s.double(7)))),
                    ("max_risk_score", .double(Self.round(s.double(8)))),
                    ("top_risk_server", s.string(9).map { .string($0) } ?? .null),
                    ("prob_30m", s.isNull(10) ? .null : .double(Self.round(s.double(10), 3))),
                    ("prob_8h", s.isNull(11) ? .null : .double(Self.round(s.double(11), 3))),
                ])
            }
            return .object([("success", true), ("time_range", .string(range.rawValue)), ("count", .int(rows.count)),
                            ("snapshots", .array(rows))])
        }
    }

    public enum ExportTable: String, Sendable, CaseIterable { case alerts, environment }

    public static let alertCSVHeader = ["timestamp", "server_name", "event_type", "previous_level", "new_level", "risk_score",
                                        "resolved_at", "resolution_duration_minutes", "caused_incident", "notes", "episode_start",
                                        "peak_level"]
    public static let environmentCSVHeader = ["timestamp", "total_servers", "critical_count", "warning_count", "degraded_count",
                                              "healthy_count", "prob_30m", "prob_8h", "avg_risk_score", "max_risk_score",
                                              "top_risk_server", "fleet_health"]

    /// RFC 4180 field quoting.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func fileStamp(_ epoch: Int64) -> String {
        let iso = ISO8601Timestamp.format(epoch)   // 2025-01-15T10:30:00
        let digits = iso.filter { $0.isNumber }    // 20250115103000
        return String(digits.prefix(8)) + "_" + String(digits.dropFirst(8))
    }

    /// `GET /historical/export/{table}`: CSV (header row, then rows oldest first) inside the spec's JSON.
    public func export(_ table: ExportTable, range: HistoryTimeRange) throws -> JSONValue {
        let (from, to) = range.bounds(end: clock)
        let (header, rows): ([String], [[String]]) = try database.read { c in
            func num(_ s: SQLiteStatement, _ i: Int32, _ places: Int = 2) -> String {
                s.isNull(i) ? "" : String(Self.round(s.double(i), places))
            }
            switch table {
            case .alerts:
                return (Self.alertCSVHeader, try c.query("""
                    SELECT ts, server_name, event_type, previous_level, new_level, risk_score, resolved_at,
                           resolution_duration_minutes, caused_incident, notes, episode_start, peak_level
                    FROM history_alert_events WHERE ts > ? AND ts <= ? ORDER BY ts, id
                    """, [.integer(from), .integer(to)]) { s in
                    [Self.iso(s.int64(0)), s.string(1) ?? "", s.string(2) ?? "", s.string(3) ?? "", s.string(4) ?? "", num(s, 5),
                     s.isNull(6) ? "" : Self.iso(s.int64(6)), num(s, 7), s.int64(8) != 0 ? "true" : "false", s.string(9) ?? "",
                     Self.iso(s.int64(10)), s.string(11) ?? ""]
                })
            case .environment:
                return (Self.environmentCSVHeader, try c.query("""
                    SELECT ts, total_servers, critical_count, warning_count, degraded_count, healthy_count, prob_30m, prob_8h,
                           avg_risk_score, max_risk_score, top_risk_server, fleet_health
                    FROM history_environment WHERE ts > ? AND ts <= ? ORDER BY ts
                    """, [.integer(from), .integer(to)]) { s in
                    [Self.iso(s.int64(0)), String(s.int64(1)), String(s.int64(2)), String(s.int64(3)), String(s.int64(4)),
                     String(s.int64(5)), num(s, 6, 4), num(s, 7, 4), num(s, 8), num(s, 9), s.string(10) ?? "", num(s, 11)]
                })
            }
        }
        var csv = header.joined(separator: ",") + "\n"
        for row in rows { csv += row.map(Self.csvField).joined(separator: ",") + "\n" }
        let filename = "argus_\(table.rawValue)_\(range.rawValue)_\(Self.fileStamp(Int64(wallClock()))).csv"
        return .object([("success", true), ("table", .string(table.rawValue)), ("time_range", .string(range.rawValue)),
                        ("csv_data", .string(csv)), ("filename", .string(filename)), ("rows", .int(rows.count))])
    }
}
