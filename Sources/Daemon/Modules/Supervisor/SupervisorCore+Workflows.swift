import Foundation
import HTTPServer

/// Workflows: stored definitions, executions that run the DAG level by level (Kahn) through the task runner,
/// honouring SUCCESS / FAILURE / COMPLETION conditions, cancellable between tasks.
extension SupervisorCore {
    static let workflowColumns = "id, name, description, definition, created_by, version, is_active, created_at, updated_at"

    func workflowJSON(_ r: SQLiteStatement) -> JSONValue {
        .object([("id", .string(r.string(0) ?? "")), ("name", .string(r.string(1) ?? "")), ("description", r.string(2).map(JSONValue.string) ?? .null),
                 ("definition", JSONColumn.value(r.string(3))), ("created_by", r.isNull(4) ? .null : .int(Int(r.int64(4)))),
                 ("version", .int(Int(r.int64(5)))), ("is_active", .bool(r.int64(6) != 0)), ("created_at", JSONColumn.iso(r.double(7))),
                 ("updated_at", JSONColumn.iso(r.double(8)))])
    }

    func workflow(_ id: String) throws -> JSONValue? {
        try database.write { try $0.query("SELECT \(Self.workflowColumns) FROM workflows WHERE id = ?", [.text(id)], workflowJSON).first }
    }

    static let executionColumns = "id, workflow_id, status, triggered_by, context, result, error_message, task_executions, started_at, completed_at"

    func executionJSON(_ r: SQLiteStatement) -> JSONValue {
        .object([("execution_id", .string(r.string(0) ?? "")), ("workflow_id", .string(r.string(1) ?? "")), ("status", .string(r.string(2) ?? "")),
                 ("triggered_by", .string(r.string(3) ?? "")), ("context", JSONColumn.value(r.string(4))), ("result", JSONColumn.value(r.string(5))),
                 ("error_message", r.string(6).map(JSONValue.string) ?? .null), ("task_executions", JSONColumn.value(r.string(7))),
                 ("started_at", JSONColumn.iso(r.double(8))), ("completed_at", r.isNull(9) ? .null : JSONColumn.iso(r.double(9)))])
    }

    func execution(_ id: String, workflow: String) throws -> JSONValue? {
        try database.write { try $0.query("SELECT \(Self.executionColumns) FROM workflow_executions WHERE id = ? AND workflow_id = ?",
                                          [.text(id), .text(workflow)], executionJSON).first }
    }

    /// Starts an execution in the background and returns its row (status RUNNING).
    func startExecution(workflowID: String, context: JSONValue, triggeredBy: String) throws -> JSONValue {
        guard let workflow = try workflow(workflowID) else { throw SupervisorError.notFound("Workflow \(workflowID) not found") }
        guard workflow["is_active"] == .bool(true) else { throw SupervisorError.conflict("Workflow \(workflowID) is not active") }
        let id = UUID().uuidString.lowercased()
        try database.write { c in
            try c.run("INSERT INTO workflow_executions (id, workflow_id, status, triggered_by, context, task_executions, started_at) VALUES (?, ?, 'RUNNING', ?, ?, '{}', ?)",
                      [.text(id), .text(workflowID), .text(triggeredBy), JSONColumn.text(context), .real(now)])
        }
        audit("WORKFLOW_EXECUTED", details: ["workflow_id": .string(workflowID), "execution_id": .string(id), "triggered_by": .string(triggeredBy)])
        let definitionJSON = workflow["definition"] ?? .null
        workflowQueue.async { [self] in runExecution(id: id, workflowID: workflowID, definition: definitionJSON) }
        return try execution(id, workflow: workflowID) ?? .null
    }

    private func definition(from json: JSONValue) -> WorkflowDefinition? {
        var reader = BodyReader(object: [], prefix: [])
        return WorkflowDefinition.read(json.objectValue ?? [], prefix: [], into: &reader)
    }

    private func runExecution(id: String, workflowID: String, definition json: JSONValue) {
        var states: [String: JSONValue] = [:]
        var outcomes: [String: String] = [:]   // task id → completed / failed / skipped / cancelled
        func save(_ status: String?, error: String? = nil, finished: Bool = false) {
            let executions = JSONValue.object(states.sorted { $0.key < $1.key })
            try? database.write { c in
                try c.run("UPDATE workflow_executions SET task_executions = ?, status = COALESCE(?, status), error_message = COALESCE(?, error_message), completed_at = ?, result = ? WHERE id = ?",
                          [JSONColumn.text(executions), status.map(SQLiteValue.text) ?? .null, error.map(SQLiteValue.text) ?? .null,
                           finished ? .real(now) : .null, finished ? JSONColumn.text(["outcomes": .object(outcomes.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })]) : .null,
                           .text(id)])
            }
        }
        guard let definition = definition(from: json) else { save("FAILED", error: "stored definition is invalid", finished: true); return }
        let started = now
        for level in definition.levels() {
            for task in level {
                if cancelledExecutions.withLock({ $0.contains(id) }) {
                    outcomes[task.id] = "cancelled"
                    states[task.id] = ["status": "cancelled"]
                    continue
                }
                let upstream = definition.dependencies.filter { $0.taskID == task.id }
                let runnable = upstream.allSatisfy { d in
                    switch d.condition {
                    case "FAILURE": outcomes[d.dependsOn] == "failed"
                    case "COMPLETION": outcomes[d.dependsOn] == "completed" || outcomes[d.dependsOn] == "failed"
                    default: outcomes[d.dependsOn] == "completed"
                    }
                }
                guard runnable else {
                    outcomes[task.id] = "skipped"
                    states[task.id] = ["status": "skipped", "reason": "dependency condition not met"]
                    save(nil)
                    continue
                }
                do {
                    let payload = task.config.objectValue.map { JSONValue.object($0 + [("workflow_variables", definition.variables)]) } ?? task.config
                    let created = try createTask(type: task.type, payload: payload, priority: 5, createdBy: nil, workflowExecution: id)
                    let taskID = created["id"]?.intValue ?? 0
                    states[task.id] = ["status": "running", "task_id": .int(taskID), "name": .string(task.name)]
                    save(nil)
                    // Workflow tasks get their retries inline (no 60 s back-off inside a run).
                    var status = "pending", attempts = 0
                    while status == "pending" && attempts <= Self.maxRetries {
                        attempts += 1
                        try database.write { try $0.run("UPDATE tasks SET retry_at = NULL WHERE id = ?", [.integer(Int64(taskID))]) }
                        status = try taskQueue.sync { try runTask(taskID) }
                    }
                    let final = try self.task(taskID)
                    outcomes[task.id] = status == "completed" ? "completed" : "failed"
                    states[task.id] = ["status": .string(outcomes[task.id]!), "task_id": .int(taskID), "name": .string(task.name),
                                       "result": final?["result"] ?? .null, "error_message": final?["error_message"] ?? .null]
                    save(nil)
                } catch {
                    outcomes[task.id] = "failed"
                    states[task.id] = ["status": "failed", "error_message": .string("\(error)")]
                }
            }
        }
        let cancelled = cancelledExecutions.withLock { $0.remove(id) != nil }
        let failed = outcomes.values.contains("failed")
        let status = cancelled ? "CANCELLED" : failed ? "FAILED" : "COMPLETED"
        save(status, error: failed && !cancelled ? "one or more tasks failed" : nil, finished: true)
        record("workflow_performance", workflowID, (now - started) * 1_000, labels: ["execution_id": .string(id), "status": .string(status)])
        push("workflow_update", ["workflow_id": .string(workflowID), "execution_id": .string(id), "status": .string(status)])
    }

    /// Requests cancellation; the run stops before its next task. 409 when the execution already finished.
    func cancelExecution(_ id: String, workflow: String) throws -> JSONValue {
        guard let execution = try execution(id, workflow: workflow) else { throw SupervisorError.notFound("Execution \(id) not found") }
        let status = execution["status"]?.stringValue ?? ""
        guard status == "RUNNING" || status == "PENDING" else { throw SupervisorError.conflict("Execution \(id) is already \(status)") }
        cancelledExecutions.withLock { _ = $0.insert(id) }
        try database.write { try $0.run("UPDATE workflow_executions SET status = 'CANCELLED' WHERE id = ? AND status IN ('RUNNING', 'PENDING')", [.text(id)]) }
        return try self.execution(id, workflow: workflow) ?? .null
    }
}
