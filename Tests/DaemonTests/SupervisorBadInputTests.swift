import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// Bad input per write route: each case must answer 422 naming the field in `loc`, and write nothing.
@Suite struct SupervisorBadInputTests {
    struct Case: Sendable {
        var method: String
        var path: String
        var body: String
        var loc: [String]
    }

    static let cases: [Case] = [
        // Body shape, for any JSON route.
        Case(method: "POST", path: "/api/v1/tasks", body: "", loc: ["body"]),
        Case(method: "POST", path: "/api/v1/tasks", body: "{not json", loc: ["body"]),
        Case(method: "POST", path: "/api/v1/tasks", body: "[1,2]", loc: ["body"]),
        // Auth.
        Case(method: "POST", path: "/auth/login", body: #"{"username":"admin"}"#, loc: ["body", "password"]),
        Case(method: "POST", path: "/auth/refresh", body: #"{"refresh_token":5}"#, loc: ["body", "refresh_token"]),
        Case(method: "POST", path: "/auth/register", body: #"{"username":"a b","password":"password-1"}"#, loc: ["body", "username"]),
        Case(method: "POST", path: "/auth/register", body: #"{"username":"abc","password":"short"}"#, loc: ["body", "password"]),
        Case(method: "POST", path: "/auth/register", body: #"{"username":"abc","password":"password-1","email":"nope"}"#, loc: ["body", "email"]),
        Case(method: "PUT", path: "/auth/users/1", body: #"{"roles":["emperor"]}"#, loc: ["body", "roles"]),
        Case(method: "PUT", path: "/auth/users/1", body: #"{"is_active":"yes"}"#, loc: ["body", "is_active"]),
        // Tasks.
        Case(method: "POST", path: "/api/v1/tasks", body: #"{"payload":{}}"#, loc: ["body", "type"]),
        Case(method: "POST", path: "/api/v1/tasks", body: #"{"type":"DANCE"}"#, loc: ["body", "type"]),
        Case(method: "POST", path: "/api/v1/tasks", body: #"{"type":"TESTING","priority":11}"#, loc: ["body", "priority"]),
        Case(method: "POST", path: "/api/v1/tasks", body: #"{"type":"TESTING","priority":"high"}"#, loc: ["body", "priority"]),
        Case(method: "POST", path: "/api/v1/tasks", body: #"{"type":"TESTING","payload":[1]}"#, loc: ["body", "payload"]),
        // Analytics.
        Case(method: "POST", path: "/api/v1/analytics/query", body: #"{"metric_type":"vibes"}"#, loc: ["body", "metric_type"]),
        Case(method: "POST", path: "/api/v1/analytics/query", body: #"{"metric_type":"error_rate","time_range":"2w"}"#, loc: ["body", "time_range"]),
        Case(method: "POST", path: "/api/v1/analytics/query", body: #"{"metric_type":"error_rate","aggregation":"median"}"#, loc: ["body", "aggregation"]),
        Case(method: "POST", path: "/api/v1/analytics/query", body: #"{"metric_type":"error_rate","limit":0}"#, loc: ["body", "limit"]),
        // Workflows and schedules.
        Case(method: "POST", path: "/api/v1/workflows", body: #"{"tasks":[{"id":"a","type":"TESTING"}]}"#, loc: ["body", "name"]),
        Case(method: "POST", path: "/api/v1/workflows", body: #"{"name":"w","tasks":[]}"#, loc: ["body", "tasks"]),
        Case(method: "POST", path: "/api/v1/workflows", body: #"{"name":"w","tasks":[{"id":"a","type":"NAP"}]}"#, loc: ["body", "tasks", "0", "type"]),
        Case(method: "POST", path: "/api/v1/workflows", body: #"{"name":"w","tasks":[{"type":"TESTING"}]}"#, loc: ["body", "tasks", "0", "id"]),
        Case(method: "POST", path: "/api/v1/workflows", body: #"{"name":"w","definition":{"tasks":[{"id":"a","type":"TESTING"}],"dependencies":[{"task_id":"a","depends_on":"a","condition":"MAYBE"}]}}"#,
             loc: ["body", "definition", "dependencies", "0", "condition"]),
        Case(method: "POST", path: "/api/v1/workflows/1/execute", body: #"{"context":"x"}"#, loc: ["body", "context"]),
        Case(method: "POST", path: "/api/v1/workflows/schedules", body: #"{"workflow_id":"nope","name":"n","cron_expression":"* * * * *"}"#, loc: ["body", "workflow_id"]),
        Case(method: "POST", path: "/api/v1/workflows/schedules", body: #"{"workflow_id":"nope","name":"n","cron_expression":"61 * * * *"}"#, loc: ["body", "cron_expression"]),
        Case(method: "POST", path: "/api/v1/workflows/schedules", body: #"{"workflow_id":"nope","name":"n","cron_expression":"@daily","timezone":"Mars/Base"}"#, loc: ["body", "timezone"]),
        Case(method: "PUT", path: "/api/v1/workflows/schedules/SCHEDULE", body: #"{"status":"SLEEPING"}"#, loc: ["body", "status"]),
        Case(method: "PUT", path: "/api/v1/workflows/schedules/SCHEDULE", body: #"{"cron_expression":"* *"}"#, loc: ["body", "cron_expression"]),
        // Resources.
        Case(method: "POST", path: "/api/v1/resources/allocate", body: #"{"task_type":"TESTING","complexity":2}"#, loc: ["body", "complexity"]),
        Case(method: "POST", path: "/api/v1/resources/allocate", body: #"{"task_type":"TESTING","task_id":424242}"#, loc: ["body", "task_id"]),
        Case(method: "POST", path: "/api/v1/resources/conflicts/x/resolve", body: #"{"strategy":"pray"}"#, loc: ["body", "strategy"]),
        Case(method: "POST", path: "/api/v1/resources/scale", body: #"{"resource_type":"cpu","action":"explode"}"#, loc: ["body", "action"]),
        Case(method: "POST", path: "/api/v1/resources/scale", body: #"{"resource_type":"cpu","action":"scale_up","magnitude":-1}"#, loc: ["body", "magnitude"]),
        // Providers.
        Case(method: "POST", path: "/api/v1/providers/p1/register", body: #"{"type":"carrier_pigeon"}"#, loc: ["body", "type"]),
        Case(method: "POST", path: "/api/v1/providers/p1/register", body: #"{"type":"openai","priority":0}"#, loc: ["body", "priority"]),
        Case(method: "POST", path: "/api/v1/providers/Bad%20Id/register", body: #"{"type":"openai"}"#, loc: ["body", "provider_id"]),
        Case(method: "POST", path: "/api/v1/providers/execute", body: #"{"task_type":"CODE_ANALYSIS","routing_strategy":"random"}"#, loc: ["body", "routing_strategy"]),
        Case(method: "POST", path: "/api/v1/providers/execute/batch", body: #"{"tasks":[{"task_type":"X"}]}"#, loc: ["body", "tasks", "0", "task_type"]),
        Case(method: "POST", path: "/api/v1/providers/execute/batch", body: #"{"tasks":[{"task_type":"TESTING"}],"max_concurrent":99}"#, loc: ["body", "max_concurrent"]),
        Case(method: "POST", path: "/api/v1/providers/recommendations", body: #"{}"#, loc: ["body", "task_type"]),
        // Plugins.
        Case(method: "POST", path: "/api/v1/plugins/events/publish", body: #"{"event_type":"party"}"#, loc: ["body", "event_type"]),
        Case(method: "POST", path: "/api/v1/plugins/notifications/send", body: #"{"level":"info"}"#, loc: ["body", "message"]),
        Case(method: "PUT", path: "/api/v1/plugins/task-metrics/configuration", body: #"{"configuration":"x"}"#, loc: ["body", "configuration"]),
        // Monitoring.
        Case(method: "POST", path: "/api/v1/monitoring/alerts/rules", body: #"{"name":"r","metric":"cpu"}"#, loc: ["body", "threshold"]),
        Case(method: "POST", path: "/api/v1/monitoring/alerts/rules", body: #"{"name":"r","metric":"mood","threshold":1}"#, loc: ["body", "metric"]),
        Case(method: "POST", path: "/api/v1/monitoring/alerts/rules", body: #"{"name":"r","metric":"cpu","threshold":1,"condition":"gte"}"#, loc: ["body", "condition"]),
        Case(method: "PUT", path: "/api/v1/monitoring/config", body: #"{"sampling_interval":0}"#, loc: ["body", "sampling_interval"]),
        Case(method: "PUT", path: "/api/v1/monitoring/config", body: #"{"alert_thresholds":{"cpu":{"critical":50,"warning":80}}}"#, loc: ["body", "alert_thresholds", "cpu", "warning"]),
    ]

    @Test func everyWriteRouteAnswers422NamingTheFieldAndWritesNothing() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let workflow = try d.call("POST", "/api/v1/workflows", ["name": "w", "tasks": [["id": "a", "type": "DOCUMENTATION"]]])["workflow_id"]!.stringValue!
        let schedule = try d.call("POST", "/api/v1/workflows/schedules", ["workflow_id": .string(workflow), "name": "s", "cron_expression": "@daily"])["id"]!.stringValue!
        func counts() throws -> [Int] {
            try d.core.database.write { c in
                try ["tasks", "workflows", "schedules", "allocations", "providers", "plugin_events", "alert_rules"].map {
                    Int(try c.scalar("SELECT count(*) FROM \($0)")?.int64 ?? 0)
                }
            }
        }
        let before = try counts()
        let users = try d.daemon.auth.users.count()
        for c in Self.cases {
            let path = c.path.replacingOccurrences(of: "/workflows/1/", with: "/workflows/\(workflow)/").replacingOccurrences(of: "SCHEDULE", with: schedule)
            let reply = try d.call(c.method, path, raw: c.body)
            #expect(reply.status == 422, "\(c.method) \(c.path) \(c.body): \(reply.status) \(reply.text)")
            let locs = (reply["detail"]?.arrayValue ?? []).map { issue in
                (issue["loc"]?.arrayValue ?? []).map { $0.stringValue ?? $0.intValue.map(String.init) ?? "?" }
            }
            #expect(locs.contains(c.loc), "\(c.method) \(c.path) \(c.body): locs \(locs)")
        }
        #expect(try counts() == before)
        #expect(try d.daemon.auth.users.count() == users)
        #expect(try d.call("GET", "/api/v1/workflows/schedules/\(schedule)")["cron_expression"] == "@daily")
        #expect(try d.call("GET", "/api/v1/monitoring/config")["sampling_interval"] == .int(30))
    }
}
