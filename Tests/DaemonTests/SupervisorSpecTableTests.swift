import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// Every path of `supervisor-api.md` (a committed copy of its list), checked against the daemon: documented in
/// `/openapi.json` with its method, served (never 404/405), and guarded by RBAC.
@Suite(.serialized) struct SupervisorSpecTableTests {
    /// Copied from the spec file's endpoint lists (methods and paths exactly as written there).
    static let specRoutes: [(String, String)] = [
        ("DELETE", "/api/v1/monitoring/alerts/rules/{rule_id}"),
        ("DELETE", "/api/v1/plugins/{plugin_name}"),
        ("DELETE", "/api/v1/providers/{provider_id}"),
        ("DELETE", "/api/v1/workflows/schedules/{schedule_id}"),
        ("DELETE", "/api/v1/workflows/{workflow_id}"),
        ("DELETE", "/auth/users/{user_id}"),
        ("GET", "/api/v1/agents"),
        ("GET", "/api/v1/agents/quota/status"),
        ("GET", "/api/v1/analytics/advanced/dashboard/data"),
        ("GET", "/api/v1/analytics/advanced/export"),
        ("GET", "/api/v1/analytics/advanced/insights"),
        ("GET", "/api/v1/analytics/advanced/metrics/real-time"),
        ("GET", "/api/v1/analytics/insights"),
        ("GET", "/api/v1/analytics/metrics"),
        ("GET", "/api/v1/analytics/providers/cost-optimization"),
        ("GET", "/api/v1/analytics/providers/dashboard"),
        ("GET", "/api/v1/analytics/providers/performance-comparison"),
        ("GET", "/api/v1/analytics/providers/{provider_id}/metrics"),
        ("GET", "/api/v1/analytics/summary"),
        ("GET", "/api/v1/analytics/trends/{metric_type}"),
        ("GET", "/api/v1/audit-logs"),
        ("GET", "/api/v1/health"),
        ("GET", "/api/v1/health/dependencies"),
        ("GET", "/api/v1/health/detailed"),
        ("GET", "/api/v1/monitoring/alerts"),
        ("GET", "/api/v1/monitoring/alerts/rules"),
        ("GET", "/api/v1/monitoring/config"),
        ("GET", "/api/v1/monitoring/health"),
        ("GET", "/api/v1/plugins"),
        ("GET", "/api/v1/plugins/events/history"),
        ("GET", "/api/v1/plugins/health/all"),
        ("GET", "/api/v1/plugins/metrics"),
        ("GET", "/api/v1/plugins/types/{plugin_type}"),
        ("GET", "/api/v1/plugins/{plugin_name}"),
        ("GET", "/api/v1/plugins/{plugin_name}/configuration"),
        ("GET", "/api/v1/plugins/{plugin_name}/health"),
        ("GET", "/api/v1/providers"),
        ("GET", "/api/v1/providers/analytics"),
        ("GET", "/api/v1/providers/status"),
        ("GET", "/api/v1/providers/{provider_id}/health"),
        ("GET", "/api/v1/providers/{provider_id}/usage"),
        ("GET", "/api/v1/resources/allocation/status"),
        ("GET", "/api/v1/resources/conflicts"),
        ("GET", "/api/v1/resources/health"),
        ("GET", "/api/v1/resources/monitoring"),
        ("GET", "/api/v1/resources/optimization/recommendations"),
        ("GET", "/api/v1/tasks"),
        ("GET", "/api/v1/tasks/stats/summary"),
        ("GET", "/api/v1/tasks/{task_id}"),
        ("GET", "/api/v1/tasks/{task_id}/sessions"),
        ("GET", "/api/v1/workflows"),
        ("GET", "/api/v1/workflows/health"),
        ("GET", "/api/v1/workflows/schedules/{schedule_id}"),
        ("GET", "/api/v1/workflows/{workflow_id}"),
        ("GET", "/api/v1/workflows/{workflow_id}/executions"),
        ("GET", "/api/v1/workflows/{workflow_id}/executions/{execution_id}"),
        ("GET", "/auth/me"),
        ("GET", "/auth/users"),
        ("POST", "/api/v1/analytics/collect/system"),
        ("POST", "/api/v1/analytics/collect/task/{task_id}"),
        ("POST", "/api/v1/analytics/query"),
        ("POST", "/api/v1/monitoring/alerts/rules"),
        ("POST", "/api/v1/monitoring/start"),
        ("POST", "/api/v1/monitoring/stop"),
        ("POST", "/api/v1/plugins/discover"),
        ("POST", "/api/v1/plugins/events/publish"),
        ("POST", "/api/v1/plugins/notifications/send"),
        ("POST", "/api/v1/plugins/{plugin_name}/activate"),
        ("POST", "/api/v1/plugins/{plugin_name}/deactivate"),
        ("POST", "/api/v1/providers/execute"),
        ("POST", "/api/v1/providers/execute/batch"),
        ("POST", "/api/v1/providers/recommendations"),
        ("POST", "/api/v1/providers/{provider_id}/register"),
        ("POST", "/api/v1/resources/allocate"),
        ("POST", "/api/v1/resources/conflicts/{conflict_id}/resolve"),
        ("POST", "/api/v1/resources/scale"),
        ("POST", "/api/v1/tasks"),
        ("POST", "/api/v1/tasks/{task_id}/retry"),
        ("POST", "/api/v1/workflows"),
        ("POST", "/api/v1/workflows/schedules"),
        ("POST", "/api/v1/workflows/schedules/{schedule_id}/pause"),
        ("POST", "/api/v1/workflows/schedules/{schedule_id}/resume"),
        ("POST", "/api/v1/workflows/schedules/{schedule_id}/trigger"),
        ("POST", "/api/v1/workflows/validate"),
        ("POST", "/api/v1/workflows/{workflow_id}/execute"),
        ("POST", "/api/v1/workflows/{workflow_id}/executions/{execution_id}/cancel"),
        ("POST", "/auth/login"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/refresh"),
        ("POST", "/auth/register"),
        ("PUT", "/api/v1/monitoring/config"),
        ("PUT", "/api/v1/plugins/{plugin_name}/configuration"),
        ("PUT", "/api/v1/workflows/schedules/{schedule_id}"),
        ("PUT", "/auth/users/{user_id}"),
        ("WebSocket", "/api/v1/analytics/advanced/stream"),
        ("WebSocket", "/api/v1/monitoring/stream"),
        ("WebSocket", "/ws"),
    ]

    /// Reachable without a token: login, register, refresh, the basic health probe.
    static let publicRoutes: Set<String> = ["POST /auth/login", "POST /auth/register", "POST /auth/refresh", "GET /api/v1/health"]

    static func concrete(_ path: String) -> String {
        path.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "1", options: .regularExpression)
    }

    @Test func everySpecPathIsDocumentedServedAndProtected() throws {
        #expect(Self.specRoutes.count == 97)
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let paths = try #require(d.call("GET", "/openapi.json")["paths"])
        var missing: [String] = []
        for (method, path) in Self.specRoutes {
            let verb = method == "WebSocket" ? "get" : method.lowercased()
            guard let operation = paths[path]?[verb] else { missing.append("\(method) \(path)"); continue }
            if method == "WebSocket" { #expect(operation["x-websocket"] == .bool(true), "\(path)") }
            // Served over the socket: without a token a protected route answers 401, never 404 or 405.
            let reply = try d.call(method == "WebSocket" ? "GET" : method, Self.concrete(path), token: .some(nil))
            if Self.publicRoutes.contains("\(method) \(path)") {
                #expect(reply.status != 401 && reply.status != 404 && reply.status != 405, "\(method) \(path): \(reply.status)")
            } else {
                #expect(reply.status == 401, "\(method) \(path) without a token: \(reply.status) \(reply.text)")
            }
        }
        #expect(missing.isEmpty, "spec routes missing from the daemon: \(missing)")
    }

    /// A viewer (read permissions only) gets 403 on every write route and through on reads.
    @Test func viewerIsForbiddenOnWritesAndAllowedOnReads() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let viewer = try d.user("vera", roles: ["viewer"])
        let writes = Self.specRoutes.filter { ["POST", "PUT", "DELETE"].contains($0.0) }.filter { route in
            !Self.publicRoutes.contains("\(route.0) \(route.1)") && route.1 != "/auth/logout"
                && !["/api/v1/analytics/query", "/api/v1/analytics/collect/task/{task_id}", "/api/v1/analytics/collect/system",
                     "/api/v1/workflows/validate", "/api/v1/providers/recommendations"].contains(route.1)
        }
        #expect(writes.count == 33)
        for (method, path) in writes {
            let reply = try d.call(method, Self.concrete(path), [:], token: .some(viewer))
            #expect(reply.status == 403, "\(method) \(path) as viewer: \(reply.status) \(reply.text)")
            #expect(reply["detail"]?.stringValue?.contains("Permission denied") == true)
        }
        for path in ["/api/v1/tasks", "/api/v1/workflows", "/api/v1/analytics/summary", "/api/v1/providers", "/api/v1/plugins",
                     "/api/v1/monitoring/alerts", "/api/v1/resources/health", "/api/v1/agents", "/auth/me"] {
            #expect(try d.call("GET", path, token: .some(viewer)).status == 200, "\(path)")
        }
        // Admin-only reads.
        for path in ["/api/v1/audit-logs", "/auth/users"] {
            #expect(try d.call("GET", path, token: .some(viewer)).status == 403, "\(path)")
        }
        // An expired token is a 401, not a 403.
        d.clock.advance(by: 3_600)
        #expect(try d.call("GET", "/api/v1/tasks", token: .some(viewer)).status == 401)
    }

    /// The original declared these static routes after `/{id}` routes that captured them. Here each answers itself.
    @Test func staticPathsAreNotShadowedByParameters() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let health = try d.call("GET", "/api/v1/workflows/health")
        #expect(health.status == 200 && health["scheduler_running"] == .bool(true), "\(health.text)")
        let schedules = try d.call("GET", "/api/v1/workflows/schedules")
        #expect(schedules.status == 200 && schedules.json.arrayValue != nil, "\(schedules.text)")
        let validate = try d.call("POST", "/api/v1/workflows/validate", ["tasks": [["id": "a", "type": "DOCUMENTATION"]]])
        #expect(validate.status == 200 && validate["valid"] == .bool(true), "\(validate.text)")
        let metrics = try d.call("GET", "/api/v1/plugins/metrics")
        #expect(metrics.status == 200 && metrics["total_plugins"]?.intValue == 3, "\(metrics.text)")
        let allHealth = try d.call("GET", "/api/v1/plugins/health/all")
        #expect(allHealth.status == 200 && allHealth["websocket-notifier"] != nil, "\(allHealth.text)")
        let history = try d.call("GET", "/api/v1/plugins/events/history")
        #expect(history.status == 200 && history.json.arrayValue != nil, "\(history.text)")
        let summary = try d.call("GET", "/api/v1/tasks/stats/summary")
        #expect(summary.status == 200 && summary["total_tasks"] == .int(0), "\(summary.text)")
        let quota = try d.call("GET", "/api/v1/agents/quota/status")
        #expect(quota.status == 200 && quota["total_agents"] == .int(2), "\(quota.text)")
        for path in ["/api/v1/providers/status", "/api/v1/providers/analytics"] {
            let reply = try d.call("GET", path)
            #expect(reply.status == 200 && reply["providers"] != nil, "\(path): \(reply.text)")
        }
        let dashboard = try d.call("GET", "/api/v1/analytics/providers/dashboard")
        #expect(dashboard.status == 200 && dashboard["providers"]?.arrayValue?.count == 2, "\(dashboard.text)")
        // And the parameter routes still answer for real ids: unknown ones are 404 with the supervisor envelope.
        let unknown = try d.call("GET", "/api/v1/workflows/no-such-id")
        #expect(unknown.status == 404 && unknown["error"] == "not_found" && unknown["timestamp"] != nil, "\(unknown.text)")
        #expect(try d.call("GET", "/api/v1/plugins/no-such-plugin").status == 404)
    }
}
