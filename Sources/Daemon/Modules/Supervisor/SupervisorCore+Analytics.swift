import Foundation
import HTTPServer

/// Analytics computed from what the supervisor stored: `metric_entries` (task runs, provider calls, host samples,
/// workflow runs), `tasks` and `audit_logs`. Nothing is invented: an empty store gives zeros and
/// `insufficient_data`.
extension SupervisorCore {
    static let metricTypes = ["task_execution", "system_performance", "user_activity", "workflow_performance", "cost_tracking", "error_rate"]
    static let timeRanges: [String: Double] = ["1h": 3_600, "24h": 86_400, "7d": 604_800, "30d": 2_592_000, "90d": 7_776_000, "365d": 31_536_000]
    static let aggregations = ["sum", "average", "count", "min", "max"]

    struct Point: Sendable {
        var name: String
        var value: Double
        var labels: JSONValue
        var at: Double
    }

    /// The series behind a metric type since `since`.
    func points(_ metricType: String, since: Double) throws -> [Point] {
        func entries(_ type: String) throws -> [Point] {
            try database.write { c in
                try c.query("SELECT name, value, labels, recorded_at FROM metric_entries WHERE metric_type = ? AND recorded_at >= ? ORDER BY recorded_at, id",
                            [.text(type), .real(since)]) { Point(name: $0.string(0) ?? "", value: $0.double(1), labels: JSONColumn.value($0.string(2)), at: $0.double(3)) }
            }
        }
        switch metricType {
        case "cost_tracking":
            return try entries("provider_call").map { Point(name: $0.name, value: $0.labels["cost_usd"]?.doubleValue ?? 0, labels: $0.labels, at: $0.at) }
        case "error_rate":
            return try entries("task_execution").map { Point(name: $0.name, value: $0.labels["success"] == .bool(true) ? 0 : 1, labels: $0.labels, at: $0.at) }
        case "user_activity":
            return try database.write { c in
                try c.query("SELECT event_type, user_id, timestamp FROM audit_logs WHERE timestamp >= ? AND user_id IS NOT NULL ORDER BY timestamp", [.real(since)]) {
                    Point(name: $0.string(0) ?? "", value: 1, labels: ["user_id": .int(Int($0.int64(1)))], at: $0.double(2))
                }
            }
        default:
            return try entries(metricType)
        }
    }

    static func aggregate(_ values: [Double], _ how: String) -> Double {
        guard !values.isEmpty else { return 0 }
        switch how {
        case "sum": return values.reduce(0, +)
        case "count": return Double(values.count)
        case "min": return values.min()!
        case "max": return values.max()!
        default: return values.reduce(0, +) / Double(values.count)
        }
    }

    func summary() throws -> JSONValue {
        let (total, completed, failed, queued) = try database.write { c in
            (try c.scalar("SELECT count(*) FROM tasks")?.int64 ?? 0, try c.scalar("SELECT count(*) FROM tasks WHERE status = 'completed'")?.int64 ?? 0,
             try c.scalar("SELECT count(*) FROM tasks WHERE status = 'failed'")?.int64 ?? 0,
             try c.scalar("SELECT count(*) FROM tasks WHERE status IN ('pending', 'running')")?.int64 ?? 0)
        }
        let runs = try points("task_execution", since: 0)
        let activeWorkflows = try database.write { try $0.scalar("SELECT count(*) FROM workflows WHERE is_active = 1")?.int64 ?? 0 }
        let startOfDay = Calendar(identifier: .gregorian).startOfDay(for: clock.now()).timeIntervalSince1970
        let cost = try points("cost_tracking", since: startOfDay).map(\.value).reduce(0, +)
        let system = try points("system_performance", since: now - 3_600)
        let latestLoad = ["cpu", "memory"].compactMap { name in system.last { $0.name == name }?.value }
        let health = latestLoad.isEmpty ? 100 : max(0, 100 - latestLoad.reduce(0, +) / Double(latestLoad.count))
        return ["total_tasks": .int(Int(total)), "successful_tasks": .int(Int(completed)), "failed_tasks": .int(Int(failed)),
                "average_execution_time_ms": .double(Self.aggregate(runs.map(\.value), "average")), "current_queue_depth": .int(Int(queued)),
                "system_health_score": .double(health), "active_workflows": .int(Int(activeWorkflows)), "cost_today_usd": .double(cost),
                "generated_at": .string(iso(now))]
    }

    /// The original's insight rules: error rate > 10 % warning, > 25 % critical; cpu > 80 warning, ≥ 90 critical; queue > 50.
    func insights() throws -> [JSONValue] {
        var result: [JSONValue] = []
        func add(_ title: String, _ description: String, _ severity: String, _ type: String, _ value: Double, _ threshold: Double, _ advice: String) {
            result.append(["title": .string(title), "description": .string(description), "severity": .string(severity), "metric_type": .string(type),
                           "value": .double(value), "threshold": .double(threshold), "recommendation": .string(advice), "created_at": .string(iso(now))])
        }
        let errors = try points("error_rate", since: now - 86_400)
        if !errors.isEmpty {
            let rate = Self.aggregate(errors.map(\.value), "average") * 100
            if rate > 25 { add("High task error rate", "\(Int(rate)) % of task runs failed in the last 24 h", "critical", "error_rate", rate, 25, "Check failing task types and provider health") }
            else if rate > 10 { add("Elevated task error rate", "\(Int(rate)) % of task runs failed in the last 24 h", "warning", "error_rate", rate, 10, "Review recent failures") }
        }
        if let cpu = try points("system_performance", since: now - 3_600).last(where: { $0.name == "cpu" })?.value {
            if cpu >= 90 { add("CPU saturated", "Host CPU at \(Int(cpu)) %", "critical", "system_performance", cpu, 90, "Scale down concurrent work or add capacity") }
            else if cpu > 80 { add("High CPU", "Host CPU at \(Int(cpu)) %", "warning", "system_performance", cpu, 80, "Watch the trend") }
        }
        let queued = Double(try database.write { try $0.scalar("SELECT count(*) FROM tasks WHERE status IN ('pending', 'running')")?.int64 ?? 0 })
        if queued > 50 { add("Deep task queue", "\(Int(queued)) tasks waiting", "warning", "task_execution", queued, 50, "Add agents or lower intake") }
        return result
    }

    /// Least squares over hourly means of the last 7 days; fewer than 10 hourly points → `insufficient_data`.
    func trend(_ metricType: String, predictionHours: Int) throws -> JSONValue {
        let series = try points(metricType, since: now - 7 * 86_400)
        let hourly = Dictionary(grouping: series) { Int($0.at / 3_600) }.map { (Double($0.key), Self.aggregate($0.value.map(\.value), "average")) }.sorted { $0.0 < $1.0 }
        guard hourly.count >= 10 else {
            return ["metric_type": .string(metricType), "predicted_values": [], "confidence_score": 0.0, "trend_direction": "unknown",
                    "model_used": "insufficient_data", "prediction_accuracy": .null, "data_points": .int(hourly.count)]
        }
        let n = Double(hourly.count)
        let mx = hourly.map(\.0).reduce(0, +) / n, my = hourly.map(\.1).reduce(0, +) / n
        let sxx = hourly.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +), sxy = hourly.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +)
        let slope = sxx == 0 ? 0 : sxy / sxx, intercept = my - slope * mx
        let lastHour = hourly.last!.0
        let predicted: [JSONValue] = (1...predictionHours).map { h in
            let x = lastHour + Double(h)
            return ["timestamp": .string(iso(x * 3_600)), "value": .double(intercept + slope * x), "labels": [:], "metadata": ["hours_ahead": .int(h)]]
        }
        let residual = hourly.map { pow($0.1 - (intercept + slope * $0.0), 2) }.reduce(0, +) / n
        let direction = abs(slope) < 0.001 ? "stable" : slope > 0 ? "increasing" : "decreasing"
        return ["metric_type": .string(metricType), "predicted_values": .array(predicted),
                "confidence_score": .double(min(0.95, max(0.1, 1 - abs(slope) * 1_000))), "trend_direction": .string(direction),
                "model_used": "linear_regression", "prediction_accuracy": .double(max(0, 1 - sqrt(residual) / max(abs(my), 1e-9))),
                "data_points": .int(hourly.count)]
    }

    /// z-score (|z| > 3, critical above 4) over each named series of the last `window` points.
    func anomalies(_ metricType: String, window: Int = 50) throws -> [JSONValue] {
        let series = Dictionary(grouping: try points(metricType, since: now - 7 * 86_400), by: \.name)
        var found: [JSONValue] = []
        for (name, all) in series.sorted(by: { $0.key < $1.key }) {
            let recent = Array(all.suffix(window))
            guard recent.count >= 10 else { continue }
            let mean = recent.map(\.value).reduce(0, +) / Double(recent.count)
            let sd = sqrt(recent.map { pow($0.value - mean, 2) }.reduce(0, +) / Double(recent.count))
            guard sd > 0 else { continue }
            for p in recent {
                let z = abs(p.value - mean) / sd
                if z > 3 {
                    found.append(["metric_type": .string(metricType), "name": .string(name), "value": .double(p.value), "z_score": .double(z),
                                  "severity": z > 4 ? "critical" : "warning", "confidence": .double(min(z / 5, 1)), "timestamp": .string(iso(p.at)),
                                  "band": ["lower": .double(mean - 2 * sd), "upper": .double(mean + 2 * sd)]])
                }
            }
        }
        return found
    }

    /// Per-provider calls, success rate, latency and cost.
    func providerDashboard() throws -> [JSONValue] {
        try providers().map { row in
            let s = try providerStats(row.id)
            return ["provider_id": .string(row.id), "type": .string(row.type), "total_requests": .int(s.calls), "successful_requests": .int(s.successes),
                    "success_rate": .double(s.successRate), "average_response_time_ms": .double(s.averageMilliseconds),
                    "total_cost_usd": .double(s.costUSD), "last_used_at": JSONColumn.iso(s.lastUsed), "status": .string(try providerHealth(row).0)]
        }
    }
}
