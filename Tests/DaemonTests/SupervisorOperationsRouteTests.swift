import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// Analytics, resources, providers, plugins, monitoring and health over real sockets. Host metrics are this
/// machine's and vary, so assertions check shapes, ranges and what the daemon stored, never the values.
@Suite struct SupervisorOperationsRouteTests {
    @Test func analyticsComeFromStoredMeasurements() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let empty = try d.call("GET", "/api/v1/analytics/summary")
        #expect(empty["total_tasks"] == .int(0) && empty["average_execution_time_ms"]?.doubleValue == 0, "\(empty.text)")
        let ok = try d.call("POST", "/api/v1/tasks", ["type": "CODE_ANALYSIS", "payload": ["code": "x"]])["id"]!.intValue!
        let bad = try d.call("POST", "/api/v1/tasks", ["type": "ISSUE_SUMMARY", "payload": [:]])["id"]!.intValue!
        #expect(try waitUntil { try d.call("GET", "/api/v1/tasks/\(ok)")["status"] == "completed" && d.call("GET", "/api/v1/tasks/\(bad)")["retry_count"] == .int(1) })
        let summary = try d.call("GET", "/api/v1/analytics/summary")
        #expect(summary["total_tasks"] == .int(2) && summary["successful_tasks"] == .int(1) && summary["current_queue_depth"] == .int(1), "\(summary.text)")
        let query = try d.call("POST", "/api/v1/analytics/query", ["metric_type": "error_rate", "time_range": "1h", "aggregation": "average", "group_by": "name"])
        let groups = query["results"]?.arrayValue ?? []
        #expect(query.status == 200 && groups.count == 2, "\(query.text)")
        #expect(groups.first { $0["group"] == "ISSUE_SUMMARY" }?["value"]?.doubleValue == 1 && groups.first { $0["group"] == "CODE_ANALYSIS" }?["value"]?.doubleValue == 0)
        let counted = try d.call("POST", "/api/v1/analytics/query", ["metric_type": "task_execution", "aggregation": "count", "filters": ["status": "completed"]])
        #expect(counted["results"]?.arrayValue?.first?["value"]?.doubleValue == 1, "\(counted.text)")
        // Error rate 50 % → a critical insight.
        let insights = try d.call("GET", "/api/v1/analytics/insights").json.arrayValue ?? []
        #expect(insights.contains { $0["metric_type"] == "error_rate" && $0["severity"] == "critical" }, "\(insights)")
        let trend = try d.call("GET", "/api/v1/analytics/trends/task_execution?prediction_hours=3")
        #expect(trend["model_used"] == "insufficient_data" && trend["data_points"] == .int(1))
        #expect(try d.call("GET", "/api/v1/analytics/trends/nonsense").status == 422)
        #expect(try d.call("GET", "/api/v1/analytics/trends/task_execution?prediction_hours=500").status == 422)
        #expect((try d.call("GET", "/api/v1/analytics/metrics?metric_type=task_execution").json.arrayValue?.count ?? 0) == 2)
        let collected = try d.call("POST", "/api/v1/analytics/collect/task/\(ok)")
        #expect(collected.status == 201 && collected["sessions"] == .int(1))
        #expect(try d.call("POST", "/api/v1/analytics/collect/task/999").status == 404)
        let system = try d.call("POST", "/api/v1/analytics/collect/system")
        #expect(system.status == 201 && (0...100).contains(system["memory"]?.doubleValue ?? -1))
        #expect(try d.call("GET", "/api/v1/analytics/providers/dashboard")["providers"]?.arrayValue?.first { $0["provider_id"] == "local" }?["total_requests"] == .int(2))
        #expect(try d.call("GET", "/api/v1/analytics/providers/local/metrics")["successful_requests"] == .int(1))
        #expect(try d.call("GET", "/api/v1/analytics/providers/none/metrics").status == 404)
        #expect(try d.call("GET", "/api/v1/analytics/providers/cost-optimization")["total_cost_usd"]?.doubleValue == 0)
        #expect(try d.call("GET", "/api/v1/analytics/providers/performance-comparison")["ranking"]?.arrayValue?.count == 2)
        // Advanced: real-time, dashboard, insights, export.
        let realTime = try d.call("GET", "/api/v1/analytics/advanced/metrics/real-time")
        #expect(realTime["metrics"]?["cpu_cores"]?.intValue ?? 0 >= 1 && realTime["anomalies"]?.arrayValue != nil)
        #expect(try d.call("GET", "/api/v1/analytics/advanced/dashboard/data")["summary"]?["total_tasks"] == .int(2))
        #expect(try d.call("GET", "/api/v1/analytics/advanced/insights")["insights"]?.arrayValue != nil)
        let csv = try d.call("GET", "/api/v1/analytics/advanced/export?format=csv&metric_type=task_execution&time_range=24h")
        #expect(csv.status == 200 && csv.text.hasPrefix("timestamp,metric_type,name,value,labels\r\n") && csv.text.contains("CODE_ANALYSIS"))
        let json = try d.call("GET", "/api/v1/analytics/advanced/export?format=json&metric_type=task_execution&time_range=24h")
        #expect(json["count"] == .int(2))
        #expect(try d.call("GET", "/api/v1/analytics/advanced/export?format=pdf").status == 422)
        // Trends with enough hourly points (the failed task also retries as the clock moves): 12 hours of samples on the daemon clock, rising 1 per hour.
        for hour in 0..<12 {
            d.core.record("workflow_performance", "w", Double(100 + hour))
            try d.advance(by: 3_600)
        }
        let rising = try d.call("GET", "/api/v1/analytics/trends/workflow_performance?prediction_hours=2")
        #expect(rising["model_used"] == "linear_regression" && rising["trend_direction"] == "increasing", "\(rising.text)")
        let predicted = rising["predicted_values"]?.arrayValue?.compactMap { $0["value"]?.doubleValue } ?? []
        #expect(predicted.count == 2 && abs(predicted[0] - 112) < 1e-6 && abs(predicted[1] - 113) < 1e-6, "\(predicted)")
    }

    @Test func anomaliesUseZScores() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        for i in 0..<30 { d.core.record("system_performance", "cpu", 20 + Double(i % 3)) }
        d.core.record("system_performance", "cpu", 95)
        let anomalies = try d.core.anomalies("system_performance")
        #expect(anomalies.count == 1 && anomalies[0]["value"]?.doubleValue == 95 && anomalies[0]["severity"] == "critical")
    }

    /// Found by tools/fuzz_api.sh (ST202): `alert_thresholds` was documented as any object, so `{"x": 1}` was valid
    /// data answered 422. The document now says its shape (cpu|memory|disk → {critical, warning} percentages, nothing
    /// else); bodies of that shape are stored, anything else is a 422 naming the field.
    @Test func alertThresholdsAreDocumentedAsTheShapeTheRouteAccepts() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let paths = try d.call("GET", "/openapi.json", token: .some(nil))["paths"]
        let body = paths?["/api/v1/monitoring/config"]?["put"]?["requestBody"]?["content"]?["application/json"]?["schema"]
        let thresholds = try #require(body?["properties"]?["alert_thresholds"])
        #expect(thresholds["additionalProperties"] == .bool(false))
        #expect(thresholds["properties"]?.objectValue?.map { $0.0 }.sorted() == ["cpu", "disk", "memory"])
        let cpu = thresholds["properties"]?["cpu"]
        #expect(cpu?["required"] == ["critical", "warning"] && cpu?["properties"]?["warning"]?["maximum"]?.doubleValue == 100)
        // Of the documented shape: stored.
        let stored = try d.call("PUT", "/api/v1/monitoring/config", ["alert_thresholds": ["disk": ["critical": 100, "warning": 0.5], "memory": ["critical": 70, "warning": 70]]])
        #expect(stored.status == 200 && stored["alert_thresholds"]?["disk"]?["warning"]?.doubleValue == 0.5, "\(stored.text)")
        #expect(try d.call("PUT", "/api/v1/monitoring/config", ["alert_thresholds": [:]]).status == 200)
        // Outside it: 422 naming the field, nothing stored.
        for bad: JSONValue in [["x": 1], ["cpu": 90], ["cpu": ["critical": 90]], ["cpu": ["critical": 101, "warning": 1]], ["cpu": .null]] {
            let reply = try d.call("PUT", "/api/v1/monitoring/config", ["alert_thresholds": bad])
            let loc = reply["detail"]?.arrayValue?.first?["loc"]?.arrayValue?.prefix(2).compactMap(\.stringValue)
            #expect(reply.status == 422 && loc == ["body", "alert_thresholds"], "\(bad.encodedString): \(reply.text)")
        }
        #expect(try d.call("GET", "/api/v1/monitoring/config")["alert_thresholds"]?["memory"]?["warning"]?.doubleValue == 70)
    }

    /// The sampler runs on the daemon clock and keeps host samples `retention_hours`.
    @Test func samplerRunsOnTheDaemonClockAndPrunesOldSamples() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.call("PUT", "/api/v1/monitoring/config", ["retention_hours": 1, "sampling_interval": 60]).status == 200)
        d.core.record("system_performance", "marker", 1)
        d.core.record("task_execution", "KEEP", 5)
        func count(_ name: String) throws -> Int {
            try d.core.database.write { Int(try $0.scalar("SELECT count(*) FROM metric_entries WHERE name = ?", [.text(name)])?.int64 ?? 0) }
        }
        try d.advance(by: 2 * 3_600)
        #expect(try waitUntil { try count("marker") == 0 })
        #expect(try count("KEEP") == 1)
        #expect(try count("cpu") >= 1)   // the sampler stored fresh samples
    }

    @Test func resourcesAllocateDetectResolveAndScale() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let status = try d.call("GET", "/api/v1/resources/allocation/status")
        let cores = status["capacity"]?["cpu_cores"]?.intValue ?? 0
        #expect(cores >= 1 && status["allocated"]?["allocations"] == .int(0))
        let one = try d.call("POST", "/api/v1/resources/allocate", ["task_type": "CODE_ANALYSIS", "complexity": 1.0])
        #expect(one.status == 201 && one["cpu_cores"]?.doubleValue == (0.5 + 0.3) * 1.5, "\(one.text)")
        for _ in 0..<(cores + 1) { _ = try d.call("POST", "/api/v1/resources/allocate", ["task_type": "TESTING"]) }
        let conflicts = try d.call("GET", "/api/v1/resources/conflicts")
        #expect(conflicts["conflicts"]?.arrayValue?.contains { $0["id"] == "cpu_overallocation" && $0["status"] == "active" } == true, "\(conflicts.text)")
        let resolved = try d.call("POST", "/api/v1/resources/conflicts/cpu_overallocation/resolve", ["strategy": "release_allocations"])
        #expect(resolved.status == 200 && (resolved["allocations_released"]?.intValue ?? 0) >= 1, "\(resolved.text)")
        let after = try d.call("GET", "/api/v1/resources/allocation/status")
        #expect((after["allocated"]?["cpu_cores"]?.doubleValue ?? 99) <= Double(cores))
        #expect(try d.call("POST", "/api/v1/resources/conflicts/cpu_overallocation/resolve", ["strategy": "acknowledge"]).status == 409)
        #expect(try d.call("POST", "/api/v1/resources/conflicts/nope/resolve", ["strategy": "acknowledge"]).status == 404)
        let monitoring = try d.call("GET", "/api/v1/resources/monitoring?hours=2")
        #expect(monitoring["predictions"]?["cpu"]?.doubleValue.map { (0...95).contains($0) } == true && monitoring["prediction_hours"] == .int(2))
        #expect(try d.call("GET", "/api/v1/resources/optimization/recommendations")["recommendations"]?.arrayValue != nil)
        // Scaling changes the agent slots for real.
        let up = try d.call("POST", "/api/v1/resources/scale", ["resource_type": "agents", "action": "scale_up", "magnitude": 1.0])
        #expect(up["active_agents_before"] == .int(2) && up["active_agents_after"] == .int(4), "\(up.text)")
        #expect(try d.call("GET", "/api/v1/agents/quota/status")["available_agents"] == .int(4))
        let down = try d.call("POST", "/api/v1/resources/scale", ["resource_type": "agents", "action": "scale_down", "magnitude": 0.5, "force": true])
        #expect(down["active_agents_after"] == .int(2))
        #expect(try d.call("POST", "/api/v1/resources/scale", ["resource_type": "gpu", "action": "scale_up"]).status == 409)
        // Found by tools/fuzz_api.sh (ST112): ×10 scale-ups grew the pool to 366 182 agents and every agent listing took
        // over 10 s. Scale-ups revive inactive agents first, add new ones up to the cap, and are refused there.
        var answers: [Int] = []
        for _ in 0..<6 { answers.append(try d.call("POST", "/api/v1/resources/scale", ["resource_type": "agents", "action": "scale_up", "magnitude": 10.0]).status) }
        #expect(answers.prefix(3) == [200, 200, 200] && answers.last == 409, "\(answers)")
        #expect(try d.call("GET", "/api/v1/agents").json.arrayValue?.count == SupervisorCore.maxAgents)
        #expect(try d.call("GET", "/api/v1/agents/quota/status")["available_agents"] == .int(SupervisorCore.maxAgents))
        _ = try d.call("POST", "/api/v1/resources/scale", ["resource_type": "agents", "action": "scale_down", "magnitude": 0.5, "force": true])
        let revived = try d.call("POST", "/api/v1/resources/scale", ["resource_type": "agents", "action": "scale_up", "magnitude": 0.1])
        #expect(revived.status == 200 && revived["active_agents_after"] == .int(141), "\(revived.text)")
        #expect(try d.call("GET", "/api/v1/agents").json.arrayValue?.count == SupervisorCore.maxAgents)
        let health = try d.call("GET", "/api/v1/resources/health")
        #expect(["healthy", "warning", "degraded", "critical"].contains(health["status"]?.stringValue ?? ""))
    }

    @Test func providersRegisterExecuteAndRank() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.call("GET", "/api/v1/providers").json.arrayValue?.compactMap { $0["id"]?.stringValue } == ["local", "local-mock"])
        let registered = try d.call("POST", "/api/v1/providers/claude-primary/register", ["type": "claude_cli", "priority": 2, "config": ["model": "x"]])
        #expect(registered.status == 201 && registered["status"] == "unhealthy", "\(registered.text)")   // no network here
        #expect(try d.call("POST", "/api/v1/providers/claude-primary/register", ["type": "claude_cli"]).status == 409)
        #expect(try d.call("GET", "/api/v1/providers/claude-primary/health")["status"] == "unhealthy")
        let executed = try d.call("POST", "/api/v1/providers/execute", ["task_type": "ISSUE_SUMMARY", "payload": ["title": "Add dark mode", "body": "Please add support."]])
        #expect(executed["provider_id"] == "local" && executed["result"]?["suggested_label"] == "enhancement", "\(executed.text)")
        let mock = try d.call("POST", "/api/v1/providers/execute", ["task_type": "FEATURE", "provider_id": "local-mock", "payload": ["n": 1]])
        #expect(mock["provider_id"] == "local-mock")
        let none = try d.call("POST", "/api/v1/providers/execute", ["task_type": "FEATURE"])
        #expect(none["success"] == .bool(false) && none["provider_id"] == "none")
        let batch = try d.call("POST", "/api/v1/providers/execute/batch", ["max_concurrent": 2, "tasks": [
            ["task_type": "CODE_ANALYSIS", "payload": ["code": "if a {}"]], ["task_type": "DOCUMENTATION", "payload": ["code": "/// d"]],
            ["task_type": "DEPLOYMENT", "payload": [:]]]])
        #expect(batch["total"] == .int(3) && batch["succeeded"] == .int(2), "\(batch.text)")
        #expect(batch["results"]?.arrayValue?[1]["result"]?["count"] == .int(1))
        let usage = try d.call("GET", "/api/v1/providers/local/usage")
        #expect(usage["all_time"]?["requests"] == .int(3) && usage["last_hour"]?["successes"] == .int(3), "\(usage.text)")
        let ranked = try d.call("POST", "/api/v1/providers/recommendations", ["task_type": "CODE_ANALYSIS"])
        #expect(ranked["recommendations"]?.arrayValue?.first?["provider_id"] == "local")
        #expect(try d.call("GET", "/api/v1/providers/analytics")["total_requests"] == .int(4))
        #expect(try d.call("DELETE", "/api/v1/providers/local").status == 409)
        #expect(try d.call("DELETE", "/api/v1/providers/claude-primary").status == 200)
        #expect(try d.call("DELETE", "/api/v1/providers/claude-primary").status == 404)
        #expect(try d.call("GET", "/api/v1/providers/claude-primary/usage").status == 404)
    }

    @Test func pluginsLifecycleConfigEventsNotifications() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.call("GET", "/api/v1/plugins").json.arrayValue?.count == 3)
        #expect(try d.call("POST", "/api/v1/plugins/notifications/send", ["message": "hi"]).status == 409)   // notifier not active
        let active = try d.call("POST", "/api/v1/plugins/websocket-notifier/activate")
        #expect(active["status"] == "active", "\(active.text)")
        #expect(try d.call("POST", "/api/v1/plugins/websocket-notifier/activate").status == 409)
        #expect(try d.call("POST", "/api/v1/plugins/notifications/send", ["message": "deployed", "level": "info"])["delivered"] == .bool(true))
        #expect(try d.call("POST", "/api/v1/plugins/audit-trail/activate").status == 200)
        let event = try d.call("POST", "/api/v1/plugins/events/publish", ["event_type": "custom", "data": ["k": 1], "source": "ci"])
        #expect(event.status == 201 && event["delivered_to"] == ["audit-trail", "websocket-notifier"], "\(event.text)")
        #expect(try d.call("GET", "/api/v1/audit-logs?event_type=PLUGIN_EVENT").json.arrayValue?.count == 2)   // its own activation, then the event
        let history = try d.call("GET", "/api/v1/plugins/events/history?event_type=plugin_activated").json.arrayValue ?? []
        #expect(history.count == 2)
        #expect(try d.call("GET", "/api/v1/plugins/task-metrics")["type"] == "analytics")
        #expect(try d.call("GET", "/api/v1/plugins/types/notification").json.arrayValue?.first?["name"] == "websocket-notifier")
        #expect(try d.call("GET", "/api/v1/plugins/types/nonsense").status == 422)
        #expect(try d.call("GET", "/api/v1/plugins/task-metrics/health")["healthy"] == .bool(true))
        #expect(try d.call("GET", "/api/v1/plugins/task-metrics/configuration")["configuration"]?["window_hours"] == .int(24))
        let configured = try d.call("PUT", "/api/v1/plugins/task-metrics/configuration", ["configuration": ["window_hours": 48]])
        #expect(configured["configuration"]?["window_hours"] == .int(48))
        #expect(try d.call("PUT", "/api/v1/plugins/task-metrics/configuration", ["configuration": ["nope": 1]]).status == 422)
        #expect(try d.call("POST", "/api/v1/plugins/websocket-notifier/deactivate")["status"] == "inactive")
        #expect(try d.call("POST", "/api/v1/plugins/websocket-notifier/deactivate").status == 409)
        #expect(try d.call("DELETE", "/api/v1/plugins/task-metrics").status == 200)
        #expect(try d.call("DELETE", "/api/v1/plugins/task-metrics").status == 409)
        #expect(try d.call("POST", "/api/v1/plugins/task-metrics/activate").status == 409)   // unloaded: discover first
        #expect(try d.call("POST", "/api/v1/plugins/discover")["loaded"] == ["task-metrics"])
        #expect(try d.call("GET", "/api/v1/plugins/metrics")["by_status"]?["loaded"] == .int(1))
        #expect(try d.call("GET", "/api/v1/plugins/nope/health").status == 404)
    }

    @Test func monitoringRulesAlertsConfigAndHealth() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.call("GET", "/api/v1/monitoring/alerts/rules").json.arrayValue?.count == 4)   // the original's defaults
        // A rule that always fires on this host (memory is above -1 %), then a sample opens its alert.
        let rule = try d.call("POST", "/api/v1/monitoring/alerts/rules", ["name": "Memory Seen", "metric": "memory", "condition": "gt", "threshold": -1, "severity": "info"])
        #expect(rule.status == 201 && rule["id"] == "memory_seen", "\(rule.text)")
        #expect(try d.call("POST", "/api/v1/monitoring/alerts/rules", ["name": "memory seen", "metric": "memory", "threshold": 1]).status == 409)
        _ = try d.call("POST", "/api/v1/analytics/collect/system")
        let alerts = try d.call("GET", "/api/v1/monitoring/alerts?status=active&severity=info").json.arrayValue ?? []
        #expect(alerts.count == 1 && alerts[0]["id"] == "memory_seen_memory" && alerts[0]["rule_name"] == "Memory Seen", "\(alerts)")
        // Deleting the rule resolves its alert.
        #expect(try d.call("DELETE", "/api/v1/monitoring/alerts/rules/memory_seen").status == 200)
        #expect(try d.call("DELETE", "/api/v1/monitoring/alerts/rules/memory_seen").status == 404)
        #expect(try d.call("GET", "/api/v1/monitoring/alerts?status=resolved").json.arrayValue?.count == 1)
        let config = try d.call("PUT", "/api/v1/monitoring/config", ["sampling_interval": 5, "alert_thresholds": ["cpu": ["critical": 95, "warning": 85]]])
        #expect(config["sampling_interval"] == .int(5) && config["alert_thresholds"]?["cpu"]?["critical"]?.doubleValue == 95, "\(config.text)")
        #expect(try d.call("GET", "/api/v1/monitoring/config")["alert_thresholds"]?["memory"]?["critical"] == .int(90))
        #expect(try d.call("POST", "/api/v1/monitoring/stop")["enabled"] == .bool(false))
        #expect(try d.call("GET", "/api/v1/monitoring/config")["enabled"] == .bool(false))
        #expect(try d.call("POST", "/api/v1/monitoring/start")["status"] == "started")
        let health = try d.call("GET", "/api/v1/monitoring/health")
        #expect(health["components"]?.arrayValue?.count == 3 && health["monitoring_enabled"] == .bool(true))
        // Health family: public probe, authenticated details.
        let basic = try d.call("GET", "/api/v1/health", token: .some(nil))
        #expect(basic.status == 200 && basic["database"] == .bool(true) && basic["version"] == "1.0.0" && basic["agents_active"] == .int(2))
        #expect(try d.call("GET", "/api/v1/ping", token: .some(nil))["message"] == "pong")
        let detailed = try d.call("GET", "/api/v1/health/detailed")
        #expect(detailed["components"]?["database"]?["status"] == "healthy" && detailed["components"]?["scheduler"]?["status"] == "healthy")
        #expect(try d.call("GET", "/api/v1/health/dependencies")["dependencies"]?["redis"]?["status"] == "disabled")
        #expect(try d.call("GET", "/api/v1/health/detailed", token: .some(nil)).status == 401)
        // The daemon's /health lists the module.
        #expect(try d.call("GET", "/health", token: .some(nil)).status == 200)
    }
}
