import Foundation
import HTTPServer

/// Real-time monitoring: host samples every `sampling_interval` seconds (on the daemon's clock), persisted alert
/// rules evaluated on each sample, alerts that stay active while their condition holds and resolve when it clears.
extension SupervisorCore {
    static let defaultMonitoringConfig: JSONValue = [
        "enabled": true, "sampling_interval": 30, "retention_hours": 24,
        "alert_thresholds": ["cpu": ["critical": 90, "warning": 80], "memory": ["critical": 90, "warning": 80], "disk": ["critical": 95, "warning": 85]],
    ]
    static let alertMetrics = ["cpu", "memory", "disk", "network"]
    static let conditions = ["gt", "lt", "eq"]
    static let severities = ["info", "warning", "critical"]

    func monitoringConfig() throws -> JSONValue { try setting("monitoring_config") ?? Self.defaultMonitoringConfig }

    /// The host's metrics now, as a JSON object.
    func hostSample() -> (HostMetrics.Sample, JSONValue) {
        let s = host.sample(diskPath: dataDirectory.path)
        return (s, ["cpu": .double(s.cpu), "memory": .double(s.memory), "disk": .double(s.disk), "network": .double(s.networkBytes),
                    "cpu_cores": .int(s.cores), "memory_total_mb": .double(s.memoryTotalMB)])
    }

    func sampleIfDue() throws {
        let config = try monitoringConfig()
        guard config["enabled"] == .bool(true) else { return }
        let interval = config["sampling_interval"]?.doubleValue ?? 30
        let current = clock.now()
        let due = lastSample.withLock { last -> Bool in
            if let last, current.timeIntervalSince(last) < interval { return false }
            last = current
            return true
        }
        if due {
            try sampleNow()
            // Host samples are kept `retention_hours`; task, provider and workflow measurements a year (the
            // longest analytics range).
            let hours = config["retention_hours"]?.doubleValue ?? 24
            try database.write { c in
                try c.run("DELETE FROM metric_entries WHERE metric_type = 'system_performance' AND recorded_at < ?", [.real(now - hours * 3_600)])
                try c.run("DELETE FROM metric_entries WHERE recorded_at < ?", [.real(now - 366 * 86_400)])
            }
        }
    }

    /// Takes a sample: stores it as `system_performance` metrics, evaluates the rules, pushes to the stream.
    @discardableResult
    func sampleNow() throws -> JSONValue {
        let (sample, json) = hostSample()
        for (name, value) in [("cpu", sample.cpu), ("memory", sample.memory), ("disk", sample.disk)] {
            record("system_performance", name, value)
        }
        let changes = try evaluateRules(["cpu": sample.cpu, "memory": sample.memory, "disk": sample.disk, "network": sample.networkBytes])
        push("metrics_update", json, to: Channel.monitoring)
        for alert in changes { push("alert", alert, to: Channel.monitoring); push("system_notification", alert) }
        return json
    }

    /// Opens or resolves alerts for every enabled rule; returns the alerts that changed.
    func evaluateRules(_ values: [String: Double]) throws -> [JSONValue] {
        let at = now
        var changed: [String] = []
        try database.writeTransaction { c in
            let rules = try c.query("SELECT id, name, metric, condition, threshold, severity FROM alert_rules WHERE enabled = 1", []) {
                ($0.string(0) ?? "", $0.string(1) ?? "", $0.string(2) ?? "", $0.string(3) ?? "", $0.double(4), $0.string(5) ?? "")
            }
            for (id, name, metric, condition, threshold, severity) in rules {
                guard let value = values[metric] else { continue }
                let firing = switch condition {
                case "lt": value < threshold
                case "eq": value == threshold
                default: value > threshold
                }
                let alertID = "\(id)_\(metric)"
                let active = try c.scalar("SELECT 1 FROM alerts WHERE id = ? AND status = 'active'", [.text(alertID)]) != nil
                if firing && !active {
                    try c.run("""
                        INSERT INTO alerts (id, rule_id, rule_name, metric, current_value, threshold, severity, message, status, triggered_at, resolved_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, NULL)
                        ON CONFLICT(id) DO UPDATE SET current_value = excluded.current_value, status = 'active', triggered_at = excluded.triggered_at,
                            resolved_at = NULL, message = excluded.message, threshold = excluded.threshold, severity = excluded.severity
                        """, [.text(alertID), .text(id), .text(name), .text(metric), .real(value), .real(threshold), .text(severity),
                              .text("\(metric) is \(String(format: "%.1f", value)) (\(condition) \(threshold))"), .real(at)])
                    changed.append(alertID)
                } else if firing {
                    try c.run("UPDATE alerts SET current_value = ? WHERE id = ?", [.real(value), .text(alertID)])
                } else if active {
                    try c.run("UPDATE alerts SET status = 'resolved', resolved_at = ?, current_value = ? WHERE id = ?", [.real(at), .real(value), .text(alertID)])
                    changed.append(alertID)
                }
            }
        }
        return try changed.compactMap { try alert($0) }
    }

    static let alertColumns = "id, rule_id, rule_name, metric, current_value, threshold, severity, message, status, triggered_at, resolved_at"

    func alertJSON(_ r: SQLiteStatement) -> JSONValue {
        .object([("id", .string(r.string(0) ?? "")), ("rule_id", .string(r.string(1) ?? "")), ("rule_name", .string(r.string(2) ?? "")),
                 ("metric", .string(r.string(3) ?? "")), ("current_value", .double(r.double(4))), ("threshold", .double(r.double(5))),
                 ("severity", .string(r.string(6) ?? "")), ("message", .string(r.string(7) ?? "")), ("status", .string(r.string(8) ?? "")),
                 ("triggered_at", JSONColumn.iso(r.double(9))), ("resolved_at", r.isNull(10) ? .null : JSONColumn.iso(r.double(10)))])
    }

    func alert(_ id: String) throws -> JSONValue? {
        try database.write { try $0.query("SELECT \(Self.alertColumns) FROM alerts WHERE id = ?", [.text(id)], alertJSON).first }
    }

    func ruleJSON(_ r: SQLiteStatement) -> JSONValue {
        .object([("id", .string(r.string(0) ?? "")), ("name", .string(r.string(1) ?? "")), ("metric", .string(r.string(2) ?? "")),
                 ("condition", .string(r.string(3) ?? "")), ("threshold", .double(r.double(4))), ("severity", .string(r.string(5) ?? "")),
                 ("enabled", .bool(r.int64(6) != 0)), ("created_at", JSONColumn.iso(r.double(7)))])
    }

    /// healthy / warning (one warning) / degraded (more than one) / critical (any critical threshold crossed).
    func systemHealth(_ values: [String: Double]) throws -> (String, [JSONValue]) {
        let thresholds = try monitoringConfig()["alert_thresholds"] ?? .null
        var warnings = 0, critical = false
        var components: [JSONValue] = []
        for metric in ["cpu", "memory", "disk"] {
            let value = values[metric] ?? 0
            let crit = thresholds[metric]?["critical"]?.doubleValue ?? 90, warn = thresholds[metric]?["warning"]?.doubleValue ?? 80
            let state = value > crit ? "critical" : value > warn ? "warning" : "healthy"
            if state == "critical" { critical = true } else if state == "warning" { warnings += 1 }
            components.append(["name": .string(metric), "value": .double(value), "status": .string(state)])
        }
        return (critical ? "critical" : warnings > 1 ? "degraded" : warnings == 1 ? "warning" : "healthy", components)
    }
}
