import Foundation
import HTTPServer

/// Tasks, agents and audit logs.
extension SupervisorRoutes {
    func addTaskRoutes() {
        let core = self.core
        api("tasks:create").post("/tasks", docs: doc("Create a task (queued at once)", "tasks", created: "The new task",
                                                     fields: [.choice("type", TaskTypes.all, required: true), .object("payload"), .int("priority", range: TaskTypes.priorities)],
                                                     body: ["type": "CODE_ANALYSIS", "payload": ["code": "func f() {}"], "priority": 5])) { request, _ in
            var body = try BodyReader(request)
            let type = body.choice("type", TaskTypes.all, required: true)
            let payload = body.object("payload").map(JSONValue.object) ?? .object([])
            let priority = body.int("priority", range: TaskTypes.priorities) ?? 5
            try body.finish()
            return .created(try core.createTask(type: type!, payload: payload, priority: priority, createdBy: try principal(request).userID))
        }
        api("tasks:read").get("/tasks", docs: doc("List tasks, newest first", "tasks", query: [.int("skip", 0...1_000_000), .int("limit", 1...1_000), .choice("status", TaskTypes.statuses), .choice("type", TaskTypes.all)])) { request, _ in
            var query = QueryReader(request)
            let skip = query.int("skip", default: 0, range: 0...1_000_000), limit = query.int("limit", default: 100, range: 1...1_000)
            let status = query.choice("status", TaskTypes.statuses), type = query.choice("type", TaskTypes.all)
            try query.finish()
            let rows = try core.database.write { c in
                try c.query("SELECT \(SupervisorCore.taskColumns) FROM tasks WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR type = ?2) ORDER BY id DESC LIMIT ?3 OFFSET ?4",
                            [status.map(SQLiteValue.text) ?? .null, type.map(SQLiteValue.text) ?? .null, .integer(Int64(limit)), .integer(Int64(skip))],
                            core.taskJSON)
            }
            return .json(.array(rows))
        }
        api("tasks:read").get("/tasks/stats/summary", docs: doc("Task counts by status, type and priority", "tasks")) { _, _ in
            let rows = try core.database.write { try $0.query("SELECT status, type, priority, count(*) FROM tasks GROUP BY status, type, priority", []) {
                ($0.string(0) ?? "", $0.string(1) ?? "", Int($0.int64(2)), Int($0.int64(3)))
            } }
            func group(_ key: (String, String, Int, Int) -> String) -> JSONValue {
                .object(Dictionary(grouping: rows, by: { key($0.0, $0.1, $0.2, $0.3) }).map { ($0.key, JSONValue.int($0.value.map(\.3).reduce(0, +))) }.sorted { $0.0 < $1.0 })
            }
            return .json(["total_tasks": .int(rows.map(\.3).reduce(0, +)), "by_status": group { s, _, _, _ in s },
                          "by_type": group { _, t, _, _ in t }, "by_priority": group { _, _, p, _ in String(p) }])
        }
        api("tasks:read").get("/tasks/{task_id}", docs: doc("One task", "tasks", errors: [404: "Task not found"])) { _, context in
            let id = try context.parameters.id("task_id", what: "Task")
            guard let task = try core.task(id) else { throw SupervisorError.notFound("Task \(id) not found") }
            return .json(task)
        }
        api("tasks:execute").post("/tasks/{task_id}/retry", docs: doc("Retry a failed or completed task", "tasks",
                                                                     errors: [404: "Task not found", 409: "Task is pending or running"])) { request, context in
            let id = try context.parameters.id("task_id", what: "Task")
            guard let task = try core.task(id) else { throw SupervisorError.notFound("Task \(id) not found") }
            let status = task["status"]?.stringValue ?? ""
            guard status == "failed" || status == "completed" else { throw SupervisorError.conflict("Task \(id) is \(status); only failed or completed tasks can be retried") }
            try core.database.write { try $0.run("UPDATE tasks SET status = 'pending', retry_count = 0, retry_at = NULL, error_message = NULL, updated_at = ? WHERE id = ?",
                                                 [.real(core.now), .integer(Int64(id))]) }
            core.audit("TASK_RETRIED", userID: try principal(request).userID, taskID: id)
            core.enqueue(id)
            return .json(try core.task(id) ?? .null)
        }
        api("tasks:read").get("/tasks/{task_id}/sessions", docs: doc("Execution sessions of a task", "tasks", errors: [404: "Task not found"])) { _, context in
            let id = try context.parameters.id("task_id", what: "Task")
            guard try core.task(id) != nil else { throw SupervisorError.notFound("Task \(id) not found") }
            let sessions = try core.database.write { c in
                try c.query("SELECT id, agent_id, provider_id, prompt, response, result, success, execution_time_seconds, created_at FROM task_sessions WHERE task_id = ? ORDER BY id",
                            [.integer(Int64(id))]) { r -> JSONValue in
                    .object([("id", .int(Int(r.int64(0)))), ("task_id", .int(id)), ("agent_id", .string(r.string(1) ?? "")),
                             ("provider_id", .string(r.string(2) ?? "")), ("prompt", .string(r.string(3) ?? "")), ("response", .string(r.string(4) ?? "")),
                             ("result", JSONColumn.value(r.string(5))), ("success", .bool(r.int64(6) != 0)),
                             ("execution_time_seconds", .double(r.double(7))), ("created_at", JSONColumn.iso(r.double(8)))])
                }
            }
            return .json(.array(sessions))
        }
        api("agents:read").get("/agents", docs: doc("Agent slots with their quota", "agents")) { _, _ in .json(.array(try core.agents())) }
        api("agents:read").get("/agents/quota/status", docs: doc("Quota across agents", "agents")) { _, _ in .json(try core.quotaStatus()) }
        api("audit:read").get("/audit-logs", docs: doc("Audit log, newest first", "audit", query: [.int("skip", 0...1_000_000), .int("limit", 1...1_000), "event_type"])) { request, _ in
            var query = QueryReader(request)
            let skip = query.int("skip", default: 0, range: 0...1_000_000), limit = query.int("limit", default: 100, range: 1...1_000)
            try query.finish()
            let type = query.string("event_type")
            let rows = try core.database.write { c in
                try c.query("SELECT id, event_type, user_id, agent_id, task_id, details, ip_address, timestamp FROM audit_logs WHERE (?1 IS NULL OR event_type = ?1) ORDER BY id DESC LIMIT ?2 OFFSET ?3",
                            [type.map(SQLiteValue.text) ?? .null, .integer(Int64(limit)), .integer(Int64(skip))]) { r -> JSONValue in
                    .object([("id", .int(Int(r.int64(0)))), ("event_type", .string(r.string(1) ?? "")), ("user_id", r.isNull(2) ? .null : .int(Int(r.int64(2)))),
                             ("agent_id", r.string(3).map(JSONValue.string) ?? .null), ("task_id", r.isNull(4) ? .null : .int(Int(r.int64(4)))),
                             ("details", JSONColumn.value(r.string(5))), ("ip_address", r.string(6).map(JSONValue.string) ?? .null),
                             ("timestamp", JSONColumn.iso(r.double(7)))])
                }
            }
            return .json(.array(rows))
        }
    }
}
