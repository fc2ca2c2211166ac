import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// Workflows, executions, schedules and the cron scheduler on a ManualClock.
@Suite struct SupervisorWorkflowRouteTests {
    static let pipeline: JSONValue = ["name": "audit-then-docs", "description": "d", "definition": [
        "tasks": [["id": "scan", "name": "Scan", "type": "SECURITY_AUDIT", "config": ["code": "password = \"hunter2222\""]],
                  ["id": "docs", "type": "DOCUMENTATION", "config": ["code": "/// Hello"], "dependencies": ["scan"]],
                  ["id": "fix", "type": "BUG_FIX", "config": ["code": "x"]],
                  ["id": "on-fail", "type": "ISSUE_SUMMARY", "config": ["title": "fix failed"]],
                  ["id": "never", "type": "DOCUMENTATION", "config": ["code": "/// x"]]],
        "dependencies": [["task_id": "on-fail", "depends_on": "fix", "condition": "FAILURE"],
                         ["task_id": "never", "depends_on": "fix", "condition": "SUCCESS"]],
        "variables": ["env": "test"]]]

    @Test func createRunAndInspectAnExecution() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let created = try d.call("POST", "/api/v1/workflows", Self.pipeline)
        #expect(created.status == 201 && created["message"] == "Workflow created", "\(created.text)")
        let id = created["workflow_id"]!.stringValue!
        #expect(try d.call("GET", "/api/v1/workflows/\(id)")["definition"]?["tasks"]?.arrayValue?.count == 5)
        #expect(try d.call("GET", "/api/v1/workflows").json.arrayValue?.count == 1)
        let started = try d.call("POST", "/api/v1/workflows/\(id)/execute", ["context": ["branch": "main"]])
        #expect(started.status == 202 && started["status"] == "RUNNING", "\(started.text)")
        let execution = started["execution_id"]!.stringValue!
        #expect(try waitUntil(seconds: 30) { try d.call("GET", "/api/v1/workflows/\(id)/executions/\(execution)")["completed_at"] != .null })
        let done = try d.call("GET", "/api/v1/workflows/\(id)/executions/\(execution)")
        let tasks = done["task_executions"]
        #expect(tasks?["scan"]?["status"] == "completed" && tasks?["docs"]?["status"] == "completed", "\(done.text)")
        #expect(tasks?["fix"]?["status"] == "failed")          // no local provider writes fixes
        #expect(tasks?["on-fail"]?["status"] == "completed")    // FAILURE condition met
        #expect(tasks?["never"]?["status"] == "skipped")        // SUCCESS condition not met
        #expect(done["status"] == "FAILED" && done["context"]?["branch"] == "main")
        #expect(tasks?["scan"]?["result"]?["finding_count"] == .int(1))
        #expect(try d.call("GET", "/api/v1/workflows/\(id)/executions").json.arrayValue?.count == 1)
        #expect(try d.call("POST", "/api/v1/workflows/\(id)/executions/\(execution)/cancel").status == 409)
        #expect(try d.call("POST", "/api/v1/workflows/\(id)/executions/nope/cancel").status == 404)
        #expect(try d.call("GET", "/api/v1/workflows/\(id)/executions/nope").status == 404)
        #expect(try d.call("GET", "/api/v1/workflows/health")["executions_today"] == .int(1))
        #expect(try d.call("DELETE", "/api/v1/workflows/\(id)").status == 200)
        #expect(try d.call("GET", "/api/v1/workflows/\(id)").status == 404)
        #expect(try d.call("DELETE", "/api/v1/workflows/\(id)").status == 404)
        #expect(try d.call("POST", "/api/v1/workflows/\(id)/execute").status == 404)
    }

    /// The fuzzer's positive-data check sent what `/openapi.json` allowed (any object) and got 422s. The body is now
    /// documented as read: a name, and the definition nested or at the top level; what the DAG check adds (unique ids,
    /// known references, no cycle) is in the description. Both documented forms are created; outside them, 422.
    @Test func workflowBodyIsDocumentedAsTheRouteReadsIt() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let paths = try d.call("GET", "/openapi.json", token: .some(nil))["paths"]
        let schema = try #require(paths?["/api/v1/workflows"]?["post"]?["requestBody"]?["content"]?["application/json"]?["schema"])
        #expect(schema["required"] == ["name"])
        let forms = schema["anyOf"]?.arrayValue ?? []
        #expect(forms.count == 2 && forms[0]["required"] == ["definition"] && forms[1]["required"] == ["tasks"], "\(schema.encodedString)")
        #expect(forms[1]["not"] == ["required": ["definition"]])
        let task = forms[1]["properties"]?["tasks"]?["items"]
        #expect(task?["required"] == ["id", "type"] && task?["properties"]?["id"]?["maxLength"] == .int(100))
        #expect(forms[0]["properties"]?["definition"]?["description"]?.stringValue?.contains("no cycle") == true)
        // Both forms are created.
        #expect(try d.call("POST", "/api/v1/workflows", Self.pipeline).status == 201)
        let inline: JSONValue = ["name": "inline", "tasks": [["id": "a", "type": "documentation"], ["id": "b", "type": "BUG_FIX", "dependencies": ["a"]]],
                                 "dependencies": [["task_id": "b", "depends_on": "a", "condition": "failure"]], "variables": .null]
        let created = try d.call("POST", "/api/v1/workflows", inline)
        #expect(created.status == 201, "\(created.text)")
        // Outside them: 422.
        for bad: JSONValue in [["name": "n"], ["name": "n", "definition": .null], ["name": "n", "tasks": []],
                               ["name": "n", "tasks": [["id": .string(String(repeating: "x", count: 101)), "type": "BUG_FIX"]]]] {
            #expect(try d.call("POST", "/api/v1/workflows", bad).status == 422, "\(bad.encodedString)")
        }
    }

    @Test func cyclesAndBadReferencesAreRejected() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let cycle: JSONValue = ["name": "loop", "tasks": [["id": "a", "type": "DOCUMENTATION", "dependencies": ["c"]],
                                                          ["id": "b", "type": "DOCUMENTATION", "dependencies": ["a"]],
                                                          ["id": "c", "type": "DOCUMENTATION", "dependencies": ["b"]]]]
        let rejected = try d.call("POST", "/api/v1/workflows", cycle)
        #expect(rejected.status == 422 && rejected.text.contains("dependency cycle"), "\(rejected.text)")
        let validation = try d.call("POST", "/api/v1/workflows/validate", cycle)
        #expect(validation["valid"] == .bool(false) && validation["error_message"]?.stringValue?.contains("a -> c -> b -> a") == true, "\(validation.text)")
        for (tasks, message) in [([["id": "a", "type": "DOCUMENTATION", "dependencies": ["zz"]]], "unknown task 'zz'"),
                                 ([["id": "a", "type": "DOCUMENTATION", "dependencies": ["a"]]], "depends on itself"),
                                 ([["id": "a", "type": "DOCUMENTATION"], ["id": "a", "type": "TESTING"]], "duplicate task id")] as [([JSONValue], String)] {
            let reply = try d.call("POST", "/api/v1/workflows", ["name": "x", "tasks": .array(tasks)])
            #expect(reply.status == 422 && reply.text.contains(message), "\(reply.text)")
        }
        let levels = try d.call("POST", "/api/v1/workflows/validate", ["tasks": [["id": "a", "type": "DOCUMENTATION"], ["id": "b", "type": "DOCUMENTATION", "dependencies": ["a"]],
                                                                                  ["id": "c", "type": "DOCUMENTATION", "dependencies": ["a"]]]])
        #expect(levels["levels"] == [["a"], ["b", "c"]])
        #expect(try d.call("GET", "/api/v1/workflows").json.arrayValue?.isEmpty == true)
    }

    @Test func schedulesFireOnTheDaemonClockWithoutCatchUp() throws {
        // 2026-01-01T00:00:00Z; the scheduler reads this clock on each (real) one-second tick.
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let workflow = try d.call("POST", "/api/v1/workflows", ["name": "w", "tasks": [["id": "a", "type": "DOCUMENTATION", "config": ["code": "/// a"]]]])["workflow_id"]!.stringValue!
        let created = try d.call("POST", "/api/v1/workflows/schedules", ["workflow_id": .string(workflow), "name": "hourly", "cron_expression": "@hourly",
                                                                         "timezone": "Asia/Kolkata", "context": ["source": "cron"]])
        #expect(created.status == 201 && created["status"] == "ACTIVE", "\(created.text)")
        let id = created["id"]!.stringValue!
        // Kolkata is UTC+05:30, so its "minute 0" is hh:30 UTC: the first run is 00:30Z.
        #expect(created["next_run_at"] == "2026-01-01T00:30:00.000Z")
        #expect(try d.call("GET", "/api/v1/workflows/schedules/\(id)")["cron_expression"] == "@hourly")
        func runs() throws -> Int { try d.call("GET", "/api/v1/workflows/\(workflow)/executions").json.arrayValue?.count ?? -1 }
        // Five hours pass at once (downtime): exactly one run, and the next run is the first slot after now.
        try d.advance(by: 5 * 3_600)
        #expect(try waitUntil { try runs() == 1 })
        let after = try d.call("GET", "/api/v1/workflows/schedules/\(id)")
        #expect(after["run_count"] == .int(1) && after["next_run_at"] == "2026-01-01T05:30:00.000Z" && after["last_run_at"] == "2026-01-01T05:00:00.000Z", "\(after.text)")
        let execution = try d.call("GET", "/api/v1/workflows/\(workflow)/executions").json.arrayValue![0]
        #expect(execution["triggered_by"] == .string("schedule:\(id)") && execution["context"]?["source"] == "cron")
        // Pause: time passes, nothing fires. Resume: next run from now, still no catch-up.
        #expect(try d.call("POST", "/api/v1/workflows/schedules/\(id)/pause")["status"] == "PAUSED")
        #expect(try d.call("POST", "/api/v1/workflows/schedules/\(id)/pause").status == 409)
        try d.advance(by: 3 * 3_600)
        let resumed = try d.call("POST", "/api/v1/workflows/schedules/\(id)/resume")
        #expect(resumed["status"] == "ACTIVE" && resumed["next_run_at"] == "2026-01-01T08:30:00.000Z", "\(resumed.text)")
        #expect(try d.call("POST", "/api/v1/workflows/schedules/\(id)/resume").status == 409)
        #expect(try runs() == 1)
        // Manual trigger, update, delete.
        let manual = try d.call("POST", "/api/v1/workflows/schedules/\(id)/trigger")
        #expect(manual.status == 202 && manual["triggered_by"] == .string("manual_schedule:\(id)") && manual["context"]?["manual_trigger"] == .bool(true))
        let updated = try d.call("PUT", "/api/v1/workflows/schedules/\(id)", ["cron_expression": "0 9 * * 1-5", "timezone": "UTC"])
        #expect(updated.status == 200 && updated["next_run_at"] == "2026-01-01T09:00:00.000Z", "\(updated.text)")   // Thursday
        #expect(try d.call("GET", "/api/v1/workflows/schedules").json.arrayValue?.count == 1)
        #expect(try d.call("DELETE", "/api/v1/workflows/schedules/\(id)").status == 200)
        for (method, path) in [("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/pause"), ("POST", "/resume"), ("POST", "/trigger")] {
            #expect(try d.call(method, "/api/v1/workflows/schedules/\(id)\(path)", ["name": "x"]).status == 404, "\(method) \(path)")
        }
    }

    @Test func cronParsesFieldsAliasesAndZones() throws {
        let utc = TimeZone(identifier: "UTC")!
        func next(_ expression: String, _ from: String, zone: String = "UTC") throws -> String? {
            let start = try Date(from, strategy: .iso8601)
            return try CronExpression(expression, timeZone: TimeZone(identifier: zone)!).next(after: start).map { AuthTime.iso($0) }
        }
        #expect(try next("*/15 * * * *", "2026-01-01T00:07:00Z") == "2026-01-01T00:15:00.000Z")
        #expect(try next("0 0 * * 0", "2026-01-01T00:00:00Z") == "2026-01-04T00:00:00.000Z")            // next Sunday
        #expect(try next("month-end", "2026-02-27T12:00:00Z") == "2026-02-28T00:00:00.000Z")
        #expect(try next("month-end", "2026-02-28T12:00:00Z") == "2026-03-28T00:00:00.000Z")           // Feb has no 29–31 in 2026
        #expect(try next("@yearly", "2026-06-01T00:00:00Z") == "2027-01-01T00:00:00.000Z")
        #expect(try next("0 12 1 * mon", "2026-01-01T13:00:00Z") == "2026-01-05T12:00:00.000Z")         // day-of-month OR weekday
        #expect(try next("30 2 * * *", "2026-03-29T00:00:00Z", zone: "Europe/Paris") == "2026-03-30T00:30:00.000Z")  // 02:30 does not exist on DST day
        #expect(try next("0 9 * jan-mar mon-fri", "2026-03-31T10:00:00Z") == "2027-01-01T09:00:00.000Z")
        #expect(try next("0 0 31 2 *", "2026-01-01T00:00:00Z") == nil)
        for bad in ["* * * *", "60 * * * *", "* 24 * * *", "5-1 * * * *", "*/0 * * * *", "@reboot", "a b c d e"] {
            #expect(throws: CronExpression.ParseError.self, "\(bad)") { try CronExpression(bad, timeZone: utc) }
        }
    }
}
