import Foundation
import HTTPServer

/// Tasks: stored, queued, executed by a provider on an agent slot with quota, retried up to three times.
extension SupervisorCore {
    static let maxRetries = 3
    static let taskColumns = "id, type, status, priority, payload, result, error_message, assigned_agent_id, retry_count, created_at, updated_at, created_by, workflow_execution_id"

    func taskJSON(_ row: SQLiteStatement) -> JSONValue {
        .object([("id", .int(Int(row.int64(0)))), ("type", .string(row.string(1) ?? "")), ("status", .string(row.string(2) ?? "")),
                 ("priority", .int(Int(row.int64(3)))), ("payload", JSONColumn.value(row.string(4))), ("result", JSONColumn.value(row.string(5))),
                 ("error_message", row.string(6).map(JSONValue.string) ?? .null), ("assigned_agent_id", row.string(7).map(JSONValue.string) ?? .null),
                 ("retry_count", .int(Int(row.int64(8)))), ("created_at", JSONColumn.iso(row.double(9))), ("updated_at", JSONColumn.iso(row.double(10))),
                 ("created_by", row.isNull(11) ? .null : .int(Int(row.int64(11)))),
                 ("workflow_execution_id", row.string(12).map(JSONValue.string) ?? .null)])
    }

    func task(_ id: Int) throws -> JSONValue? {
        try database.write { try $0.query("SELECT \(Self.taskColumns) FROM tasks WHERE id = ?", [.integer(Int64(id))], taskJSON).first }
    }

    /// Stores a pending task and, unless it belongs to a workflow (which runs it itself), queues it.
    func createTask(type: String, payload: JSONValue, priority: Int, createdBy: Int?, workflowExecution: String? = nil) throws -> JSONValue {
        let at = now
        let id = try database.write { c -> Int in
            try c.run("INSERT INTO tasks (type, status, priority, payload, created_by, workflow_execution_id, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?)",
                      [.text(type), .integer(Int64(priority)), JSONColumn.text(payload), createdBy.map { .integer(Int64($0)) } ?? .null,
                       workflowExecution.map(SQLiteValue.text) ?? .null, .real(at), .real(at)])
            return Int(try c.scalar("SELECT last_insert_rowid()")?.int64 ?? 0)
        }
        audit("TASK_CREATED", userID: createdBy, taskID: id, details: ["type": .string(type), "payload_size": .int(payload.encoded().count)])
        let json = try task(id) ?? .null
        push("task_update", json)
        if workflowExecution == nil { enqueue(id) }
        return json
    }

    func enqueue(_ id: Int) {
        taskQueue.async { [self] in
            do { _ = try runTask(id) } catch { logger.error("task_run_failed", ["task_id": .int(id), "error": .string("\(error)")]) }
        }
    }

    /// Re-queues failed attempts whose retry time has come (called by the scheduler tick).
    func enqueueDueRetries() throws {
        let ids = try database.write { c in
            try c.query("SELECT id FROM tasks WHERE status = 'pending' AND retry_at IS NOT NULL AND retry_at <= ?", [.real(now)]) { Int($0.int64(0)) }
        }
        for id in ids {
            try database.write { try $0.run("UPDATE tasks SET retry_at = NULL WHERE id = ?", [.integer(Int64(id))]) }
            enqueue(id)
        }
    }

    /// Tasks left `pending` (or `running`, interrupted by a crash) are queued again at start-up. Workflow
    /// executions a crash interrupted are marked FAILED (their runs lived in the dead process).
    func resumeUnfinishedTasks() throws {
        let ids = try database.write { c -> [Int] in
            try c.run("UPDATE tasks SET status = 'pending' WHERE status = 'running' AND workflow_execution_id IS NULL")
            try c.run("UPDATE tasks SET status = 'failed', error_message = 'interrupted: argusd restarted' WHERE status IN ('pending', 'running') AND workflow_execution_id IS NOT NULL")
            try c.run("UPDATE workflow_executions SET status = 'FAILED', error_message = 'interrupted: argusd restarted', completed_at = ? WHERE status IN ('PENDING', 'RUNNING')",
                      [.real(now)])
            return try c.query("SELECT id FROM tasks WHERE status = 'pending' AND retry_at IS NULL AND workflow_execution_id IS NULL ORDER BY priority DESC, id", []) { Int($0.int64(0)) }
        }
        ids.forEach(enqueue)
    }

    /// Quota messages a task costs (the original's estimate).
    static func estimatedMessages(type: String, payload: JSONValue) -> Int {
        var messages = ["PR_REVIEW": 2, "CODE_ANALYSIS": 2, "REFACTOR": 2, "FEATURE": 3, "BUG_FIX": 3][type] ?? 1
        if payload.encoded().count > 10_000 { messages += 1 }
        return messages
    }

    /// Runs one task now on the calling thread: pick the agent with the most quota left, execute with the
    /// best provider, store a session, and settle the status (completed, or pending for a retry, or failed).
    /// Returns the final status.
    @discardableResult
    func runTask(_ id: Int) throws -> String {
        guard let task = try task(id), task["status"]?.stringValue == "pending" else { return "skipped" }
        let type = task["type"]?.stringValue ?? "", payload = task["payload"] ?? .null
        let cost = Self.estimatedMessages(type: type, payload: payload)
        let at = now
        let agent = try database.writeTransaction { c -> String? in
            try c.run("UPDATE agents SET quota_used = 0, quota_reset_at = ? WHERE quota_reset_at <= ?", [.real(at + 86_400), .real(at)])
            guard let agent = try c.query("SELECT id FROM agents WHERE is_active = 1 AND quota_used + ? <= quota_limit ORDER BY quota_used, id LIMIT 1",
                                          [.integer(Int64(cost))], { $0.string(0) ?? "" }).first else { return nil }
            try c.run("UPDATE agents SET quota_used = quota_used + ?, last_used_at = ? WHERE id = ?", [.integer(Int64(cost)), .real(at), .text(agent)])
            try c.run("UPDATE tasks SET status = 'running', assigned_agent_id = ?, updated_at = ? WHERE id = ?", [.text(agent), .real(at), .integer(Int64(id))])
            return agent
        }
        guard let agent else {
            // Every agent is out of quota: try again in 5 minutes (the original's rule).
            try database.write { try $0.run("UPDATE tasks SET retry_at = ?, updated_at = ? WHERE id = ?", [.real(at + 300), .real(at), .integer(Int64(id))]) }
            push("system_notification", ["level": "warning", "message": .string("all agents are out of quota; task \(id) waits 5 minutes")])
            return "pending"
        }
        push("task_update", try self.task(id) ?? .null)
        push("agent_status_update", ["agent_id": .string(agent), "status": "busy", "task_id": .int(id)])
        let started = DispatchTime.now().uptimeNanoseconds
        let (providerID, outcome) = executeWithProvider(taskType: type, payload: payload, strategy: "priority", preferred: nil)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let retries = Int(task["retry_count"]?.intValue ?? 0)
        let status: String
        if outcome.success { status = "completed" } else { status = retries + 1 >= Self.maxRetries ? "failed" : "pending" }
        let done = now
        try database.writeTransaction { c in
            try c.run("INSERT INTO task_sessions (task_id, agent_id, provider_id, prompt, response, result, success, execution_time_seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      [.integer(Int64(id)), .text(agent), .text(providerID), .text("\(type) task \(id)"), outcome.error.map(SQLiteValue.text) ?? .text("ok"),
                       JSONColumn.text(outcome.output), .integer(outcome.success ? 1 : 0), .real(seconds), .real(done)])
            if outcome.success {
                try c.run("UPDATE tasks SET status = 'completed', result = ?, error_message = NULL, updated_at = ? WHERE id = ?",
                          [JSONColumn.text(outcome.output), .real(done), .integer(Int64(id))])
            } else {
                // Retry after 60 s × attempt (the original's back-off), on the daemon's clock.
                try c.run("UPDATE tasks SET status = ?, retry_count = retry_count + 1, error_message = ?, retry_at = ?, updated_at = ? WHERE id = ?",
                          [.text(status), .text(outcome.error ?? "failed"), status == "pending" ? .real(done + 60 * Double(retries + 1)) : .null,
                           .real(done), .integer(Int64(id))])
            }
        }
        record("task_execution", type, seconds * 1_000, labels: ["task_id": .int(id), "status": .string(status), "success": .bool(outcome.success),
                                                                 "provider_id": .string(providerID), "agent_id": .string(agent)])
        audit(outcome.success ? "TASK_COMPLETED" : "TASK_FAILED", taskID: id, agentID: agent, details: ["status": .string(status)])
        push("task_update", try self.task(id) ?? .null)
        push("quota_update", try quotaStatus())
        push("agent_status_update", ["agent_id": .string(agent), "status": "idle"])
        if status == "failed" { push("system_notification", ["level": "error", "message": .string("task \(id) failed after \(Self.maxRetries) attempts")]) }
        return status
    }

    func agentJSON(_ row: SQLiteStatement) -> JSONValue {
        let used = Int(row.int64(1)), limit = Int(row.int64(2))
        return .object([("id", .string(row.string(0) ?? "")), ("quota_used", .int(used)), ("quota_limit", .int(limit)),
                        ("quota_remaining", .int(max(0, limit - used))), ("quota_reset_at", JSONColumn.iso(row.double(3))),
                        ("is_active", .bool(row.int64(4) != 0)), ("is_available", .bool(row.int64(4) != 0 && used < limit)),
                        ("last_used_at", row.isNull(5) ? .null : JSONColumn.iso(row.double(5))), ("created_at", JSONColumn.iso(row.double(6)))])
    }

    func agents() throws -> [JSONValue] {
        try database.write { try $0.query("SELECT id, quota_used, quota_limit, quota_reset_at, is_active, last_used_at, created_at FROM agents ORDER BY id", [], agentJSON) }
    }

    func quotaStatus() throws -> JSONValue {
        let list = try agents()
        return .object([("total_agents", .int(list.count)),
                        ("available_agents", .int(list.filter { $0["is_available"] == .bool(true) }.count)), ("agents", .array(list))])
    }
}
