import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// Everything the supervisor acknowledged survives `kill -9`: the child process writes over HTTP, records what
/// was acknowledged, and SIGKILLs itself; the parent restarts a daemon on the same data directory and reads it all back.
@Suite struct SupervisorPersistenceTests {
    static let childVariable = "ARGUS_SUPERVISOR_CRASH_DIR"

    /// Child side of `acknowledgedWritesSurviveSIGKILL`: a no-op unless started by it.
    @Test func supervisorCrashChild() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childVariable] else { return }
        let d = try SupervisorDaemon(dir: TemporaryDirectory(existing: URL(fileURLWithPath: path)))
        var acked: [(String, JSONValue)] = []
        let user = try d.call("POST", "/auth/register", ["username": "carol", "password": "password-123"], token: .some(nil))
        acked.append(("user_id", user["id"] ?? .null))
        let carol = try d.login("carol", "password-123")
        _ = try d.call("POST", "/auth/logout", token: .some(carol))
        acked.append(("revoked_token", .string(carol)))
        let task = try d.call("POST", "/api/v1/tasks", ["type": "DOCUMENTATION", "payload": ["code": "/// persisted"]])
        acked.append(("task_id", task["id"] ?? .null))
        _ = try waitUntil { try d.call("GET", "/api/v1/tasks/\(task["id"]!.intValue!)")["status"] == "completed" }
        let workflow = try d.call("POST", "/api/v1/workflows", ["name": "kept", "tasks": [["id": "a", "type": "DOCUMENTATION"]]])
        acked.append(("workflow_id", workflow["workflow_id"] ?? .null))
        let schedule = try d.call("POST", "/api/v1/workflows/schedules", ["workflow_id": workflow["workflow_id"]!, "name": "s", "cron_expression": "0 3 * * *"])
        acked.append(("schedule_id", schedule["id"] ?? .null))
        acked.append(("rule", try d.call("POST", "/api/v1/monitoring/alerts/rules", ["name": "kept rule", "metric": "disk", "threshold": 99])["id"] ?? .null))
        acked.append(("provider", try d.call("POST", "/api/v1/providers/kept/register", ["type": "openai"])["id"] ?? .null))
        acked.append(("plugin", try d.call("POST", "/api/v1/plugins/audit-trail/activate")["status"] ?? .null))
        acked.append(("config", try d.call("PUT", "/api/v1/monitoring/config", ["sampling_interval": 42])["sampling_interval"] ?? .null))
        try Data(JSONValue.object(acked).encoded()).write(to: URL(fileURLWithPath: path).appendingPathComponent("acked.json"))
        kill(getpid(), SIGKILL)
    }

    @Test func acknowledgedWritesSurviveSIGKILL() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let process = try runTestChild(filter: "supervisorCrashChild", environment: [Self.childVariable: dir.path])
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        let acked = try #require(DecodedJSON.parse(Array(try Data(contentsOf: dir.url.appendingPathComponent("acked.json")))))

        let d = try SupervisorDaemon(dir: dir)
        defer { d.stop() }
        #expect(try d.call("GET", "/auth/users").json.arrayValue?.contains { $0["id"] == acked["user_id"] } == true)
        #expect(try d.call("GET", "/auth/me", token: .some(acked["revoked_token"]?.stringValue)).status == 401)   // revocation persisted
        let task = try d.call("GET", "/api/v1/tasks/\(acked["task_id"]?.intValue ?? 0)")
        #expect(task["status"] == "completed" && task["result"]?["count"] == .int(1), "\(task.text)")
        #expect(try d.call("GET", "/api/v1/workflows/\(acked["workflow_id"]?.stringValue ?? "")")["name"] == "kept")
        let schedule = try d.call("GET", "/api/v1/workflows/schedules/\(acked["schedule_id"]?.stringValue ?? "")")
        #expect(schedule["status"] == "ACTIVE" && schedule["cron_expression"] == "0 3 * * *")
        #expect(try d.call("GET", "/api/v1/monitoring/alerts/rules").json.arrayValue?.contains { $0["id"] == acked["rule"] } == true)
        #expect(try d.call("GET", "/api/v1/providers/kept/health")["status"] == "unhealthy")
        #expect(try d.call("GET", "/api/v1/plugins/audit-trail")["status"] == "active")
        #expect(try d.call("GET", "/api/v1/monitoring/config")["sampling_interval"] == .int(42))
        #expect(try d.call("GET", "/api/v1/audit-logs?event_type=TASK_CREATED").json.arrayValue?.count == 1)
    }

    /// An execution whose process died is not left RUNNING forever: the next start marks it FAILED.
    @Test func interruptedExecutionsAreFailedAtStart() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var d = try SupervisorDaemon(dir: dir)
        let workflow = try d.call("POST", "/api/v1/workflows", ["name": "w", "tasks": [["id": "a", "type": "DOCUMENTATION"]]])["workflow_id"]!.stringValue!
        try d.core.database.write { c in
            try c.run("INSERT INTO workflow_executions (id, workflow_id, status, triggered_by, context, task_executions, started_at) VALUES ('dead', ?, 'RUNNING', 'manual', '{}', '{}', 0)",
                      [.text(workflow)])
        }
        d.stop()
        d = try SupervisorDaemon(dir: dir)
        defer { d.stop() }
        let execution = try d.call("GET", "/api/v1/workflows/\(workflow)/executions/dead")
        #expect(execution["status"] == "FAILED" && execution["error_message"] == "interrupted: argusd restarted", "\(execution.text)")
    }
}
