import Foundation
import HTTPServer

/// `/api/v1/workflows/*`: definitions, executions, schedules, validation and health. Static segments
/// (`health`, `schedules`, `validate`) rank above `{workflow_id}` in the router, so the original's shadowing bug
/// cannot happen (tested per path).
extension SupervisorRoutes {
    static let workflowExample: JSONValue = ["name": "nightly-audit", "description": "scan then document",
                                             "definition": ["tasks": [["id": "scan", "name": "Scan", "type": "SECURITY_AUDIT", "config": ["code": "let x = 1"]],
                                                                      ["id": "docs", "name": "Docs", "type": "DOCUMENTATION", "config": ["code": "/// hi"],
                                                                       "dependencies": ["scan"]]]]]

    /// What `POST /workflows` reads: a name, and the definition either as `definition` or at the top level (tasks
    /// then required). Task ids unique, every dependency naming one of the tasks, no cycle: rules between fields that
    /// the description says (tools/fuzz_hooks.py keeps the fuzzer's valid bodies to them).
    static let workflowSchema: JSONValue = {
        let task = BodyField.schema([.string("id", required: true, maxLength: 100), .string("name", maxLength: 200),
                                     .choice("type", TaskTypes.all, required: true), .object("config"),
                                     .array("dependencies", items: ["type": "string"])])
        let dependency = BodyField.schema([.string("task_id", required: true), .string("depends_on", required: true),
                                           .choice("condition", WorkflowDefinition.conditions)])
        let definitionFields: [BodyField] = [.array("tasks", required: true, minCount: 1, maxCount: 500, items: task),
                                             .array("dependencies", maxCount: 5_000, items: dependency), .object("variables")]
        guard case .object(var definition) = BodyField.schema(definitionFields),
              case .object(var top) = BodyField.schema([.string("name", required: true, maxLength: 200),
                                                        .string("description", maxLength: 2_000, minLength: 0)]) else { return [:] }
        definition.append(("description", "A workflow definition: task ids unique, each dependency naming one of the tasks, no cycle"))
        let nested = JSONValue.object([("properties", .object([("definition", .object(definition))])), ("required", ["definition"])])
        var inline = definition.filter { $0.0 != "type" && $0.0 != "description" }
        inline.append(("not", ["required": ["definition"]]))
        top.append(("anyOf", [nested, .object(inline)]))
        return .object(top)
    }()

    /// `definition` object, or the definition's fields at the top level.
    static func readDefinition(_ body: inout BodyReader) -> WorkflowDefinition? {
        if body.has("definition") {
            guard let members = body.object("definition", required: true) else { return nil }
            return WorkflowDefinition.read(members, prefix: ["body", "definition"], into: &body)
        }
        return WorkflowDefinition.read(body.object, prefix: ["body"], into: &body)
    }

    func addWorkflowRoutes() {
        let core = self.core
        api("workflows:create").post("/workflows", docs: doc("Create a workflow (DAG checked: references, duplicates, cycles)", "workflows", created: "The new workflow",
                                                             body: Self.workflowExample).withBody(Self.workflowSchema)) { request, _ in
            var body = try BodyReader(request)
            let name = body.string("name", required: true, maxLength: 200)
            let description = body.string("description", maxLength: 2_000, minLength: 0)
            let definition = Self.readDefinition(&body)
            try body.finish()
            let id = UUID().uuidString.lowercased(), at = core.now, user = try principal(request).userID
            try core.database.write { c in
                try c.run("INSERT INTO workflows (id, name, description, definition, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [.text(id), .text(name!), description.map(SQLiteValue.text) ?? .null, JSONColumn.text(definition!.json),
                           .integer(Int64(user)), .real(at), .real(at)])
            }
            core.audit("WORKFLOW_CREATED", userID: user, details: ["workflow_id": .string(id)])
            let stored = try core.workflow(id) ?? .null
            return .created(.object([("workflow_id", .string(id)), ("message", "Workflow created")] + (stored.objectValue ?? [])))
        }
        api("workflows:read").get("/workflows", docs: doc("List workflows", "workflows", query: [.int("skip", 0...1_000_000), .int("limit", 1...1_000)])) { request, _ in
            var query = QueryReader(request)
            let skip = query.int("skip", default: 0, range: 0...1_000_000), limit = query.int("limit", default: 100, range: 1...1_000)
            try query.finish()
            return .json(.array(try core.database.write { try $0.query("SELECT \(SupervisorCore.workflowColumns) FROM workflows ORDER BY created_at, id LIMIT ? OFFSET ?",
                                                                       [.integer(Int64(limit)), .integer(Int64(skip))], core.workflowJSON) }))
        }
        api("workflows:read").post("/workflows/validate", docs: doc("Check a definition without storing it", "workflows", body: Self.workflowExample)) { request, _ in
            var body = try BodyReader(request)
            let definition = Self.readDefinition(&body)
            return .json(["valid": .bool(definition != nil && body.issues.isEmpty),
                          "error_message": body.issues.isEmpty ? .null : .string(body.issues.map(\.message).joined(separator: "; ")),
                          "errors": .array(body.issues.map { issue in ["loc": .array(issue.location.map { l in
                              switch l { case .key(let k): .string(k); case .index(let i): .int(i) } }), "msg": .string(issue.message)] }),
                          "warnings": .array((definition?.warnings() ?? []).map(JSONValue.string)),
                          "levels": .array((definition?.levels() ?? []).map { .array($0.map { .string($0.id) }) })])
        }
        api("workflows:read").get("/workflows/health", docs: doc("Workflow engine health", "workflows")) { _, _ in
            let startOfDay = Calendar(identifier: .gregorian).startOfDay(for: core.clock.now()).timeIntervalSince1970
            let (active, today) = try core.database.write { c in
                (Int(try c.scalar("SELECT count(*) FROM workflow_executions WHERE status IN ('PENDING', 'RUNNING')")?.int64 ?? 0),
                 Int(try c.scalar("SELECT count(*) FROM workflow_executions WHERE started_at >= ?", [.real(startOfDay)])?.int64 ?? 0))
            }
            let running = core.schedulerRunning.load(ordering: .relaxed)
            return .json(["status": running ? "healthy" : "degraded", "active_executions": .int(active), "executions_today": .int(today),
                          "scheduler_running": .bool(running)])
        }
        api("workflows:read").get("/workflows/{workflow_id}", docs: doc("One workflow", "workflows", errors: [404: "Workflow not found"])) { _, context in
            let id = context.parameters["workflow_id"] ?? ""
            guard let workflow = try core.workflow(id) else { throw SupervisorError.notFound("Workflow \(id) not found") }
            return .json(workflow)
        }
        api("workflows:delete").delete("/workflows/{workflow_id}", docs: doc("Delete a workflow with its executions and schedules", "workflows",
                                                                            errors: [404: "Workflow not found", 409: "An execution is running"])) { request, context in
            let id = context.parameters["workflow_id"] ?? ""
            guard try core.workflow(id) != nil else { throw SupervisorError.notFound("Workflow \(id) not found") }
            let running = try core.database.write { try $0.scalar("SELECT count(*) FROM workflow_executions WHERE workflow_id = ? AND status = 'RUNNING'", [.text(id)])?.int64 ?? 0 }
            guard running == 0 else { throw SupervisorError.conflict("Workflow \(id) has \(running) running execution(s); cancel them first") }
            try core.database.write { try $0.run("DELETE FROM workflows WHERE id = ?", [.text(id)]) }
            core.audit("WORKFLOW_DELETED", userID: try principal(request).userID, details: ["workflow_id": .string(id)])
            return .json(["message": "Workflow deleted", "workflow_id": .string(id)])
        }
        api("workflows:execute").post("/workflows/{workflow_id}/execute", docs: doc("Start an execution (runs in the background)", "workflows",
                                                                                    fields: [.object("context"), .string("triggered_by", maxLength: 100)],
                                                                                    body: ["context": ["branch": "main"], "triggered_by": "manual"],
                                                                                    errors: [404: "Workflow not found", 409: "Workflow inactive"])) { request, context in
            let id = context.parameters["workflow_id"] ?? ""
            var run: JSONValue = .object([]), trigger = "manual"
            if !request.body.isEmpty {
                var body = try BodyReader(request)
                run = body.object("context").map(JSONValue.object) ?? .object([])
                trigger = body.string("triggered_by", maxLength: 100) ?? "manual"
                try body.finish()
            }
            let user = try principal(request).userID
            return .json(try core.startExecution(workflowID: id, context: run, triggeredBy: "\(trigger):user:\(user)"), status: .accepted)
        }
        api("workflows:read").get("/workflows/{workflow_id}/executions", docs: doc("Executions of a workflow, newest first", "workflows",
                                                                                   errors: [404: "Workflow not found"])) { _, context in
            let id = context.parameters["workflow_id"] ?? ""
            guard try core.workflow(id) != nil else { throw SupervisorError.notFound("Workflow \(id) not found") }
            return .json(.array(try core.database.write { try $0.query("SELECT \(SupervisorCore.executionColumns) FROM workflow_executions WHERE workflow_id = ? ORDER BY started_at DESC, id",
                                                                       [.text(id)], core.executionJSON) }))
        }
        api("workflows:read").get("/workflows/{workflow_id}/executions/{execution_id}", docs: doc("One execution with per-task state", "workflows",
                                                                                                  errors: [404: "Execution not found"])) { _, context in
            let workflow = context.parameters["workflow_id"] ?? "", id = context.parameters["execution_id"] ?? ""
            guard let execution = try core.execution(id, workflow: workflow) else { throw SupervisorError.notFound("Execution \(id) not found") }
            return .json(execution)
        }
        api("workflows:execute").post("/workflows/{workflow_id}/executions/{execution_id}/cancel", docs: doc(
            "Cancel a running execution (stops before its next task)", "workflows", errors: [404: "Execution not found", 409: "Already finished"])) { _, context in
            .json(try core.cancelExecution(context.parameters["execution_id"] ?? "", workflow: context.parameters["workflow_id"] ?? ""))
        }
        addScheduleRoutes()
    }

    /// Reads and checks a cron expression + time zone pair.
    static func readCron(_ body: inout BodyReader, required: Bool, currentZone: String = "UTC") -> (String?, String?) {
        let cron = body.string("cron_expression", required: required, maxLength: 100)
        let zone = body.string("timezone", maxLength: 64)
        if let zone, TimeZone(identifier: zone) == nil { body.fail("timezone", "unknown IANA time zone '\(zone)'", "value_error.timezone") }
        if let cron {
            do { _ = try CronExpression(cron) } catch { body.fail("cron_expression", "\(error)", "value_error.cron") }
        }
        return (cron, zone)
    }

    func addScheduleRoutes() {
        let core = self.core
        @Sendable func existing(_ id: String) throws -> JSONValue {
            guard let schedule = try core.schedule(id) else { throw SupervisorError.notFound("Schedule \(id) not found") }
            return schedule
        }
        api("workflows:create").post("/workflows/schedules", docs: doc("Schedule a workflow with a 5-field cron expression in a time zone", "schedules", created: "The new schedule",
                                                                       body: ["workflow_id": "…", "name": "nightly", "cron_expression": "0 2 * * *", "timezone": "Europe/Paris"])) { request, _ in
            var body = try BodyReader(request)
            let workflowID = body.string("workflow_id", required: true, maxLength: 64)
            let name = body.string("name", required: true, maxLength: 200)
            let (cron, zone) = Self.readCron(&body, required: true)
            let context = body.object("context").map(JSONValue.object) ?? .object([])
            if let workflowID, try core.workflow(workflowID) == nil { body.fail("workflow_id", "workflow '\(workflowID)' does not exist", "value_error.not_found") }
            try body.finish()
            let id = UUID().uuidString.lowercased(), at = core.now, timezone = zone ?? "UTC"
            guard let next = core.nextRun(cron: cron!, timezone: timezone, after: at) else {
                throw ValidationError(location: ["body", "cron_expression"], message: "the expression never matches", type: "value_error.cron")
            }
            try core.database.write { c in
                try c.run("INSERT INTO schedules (id, workflow_id, name, cron_expression, timezone, status, context, next_run_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?)",
                          [.text(id), .text(workflowID!), .text(name!), .text(cron!), .text(timezone), JSONColumn.text(context), .real(next), .real(at), .real(at)])
            }
            return .created(try core.schedule(id) ?? .null)
        }
        api("workflows:read").get("/workflows/schedules", docs: doc("List schedules", "schedules")) { _, _ in
            .json(.array(try core.database.write { try $0.query("SELECT \(SupervisorCore.scheduleColumns) FROM schedules ORDER BY created_at, id", [], core.scheduleJSON) }))
        }
        api("workflows:read").get("/workflows/schedules/{schedule_id}", docs: doc("One schedule", "schedules", errors: [404: "Schedule not found"])) { _, context in
            .json(try existing(context.parameters["schedule_id"] ?? ""))
        }
        api("workflows:update").put("/workflows/schedules/{schedule_id}", docs: doc("Change name, cron, time zone, context or status", "schedules",
                                                                                   body: ["cron_expression": "@hourly"], errors: [404: "Schedule not found"])) { request, context in
            let id = context.parameters["schedule_id"] ?? ""
            let current = try existing(id)
            var body = try BodyReader(request)
            let name = body.string("name", maxLength: 200)
            let (cron, zone) = Self.readCron(&body, required: false)
            let status = body.choice("status", SupervisorCore.scheduleStatuses)
            let newContext = body.object("context").map(JSONValue.object)
            try body.finish()
            let finalCron = cron ?? current["cron_expression"]?.stringValue ?? "", finalZone = zone ?? current["timezone"]?.stringValue ?? "UTC"
            let next = core.nextRun(cron: finalCron, timezone: finalZone, after: core.now)
            try core.database.write { c in
                try c.run("UPDATE schedules SET name = COALESCE(?, name), cron_expression = ?, timezone = ?, status = COALESCE(?, status), context = COALESCE(?, context), next_run_at = ?, updated_at = ? WHERE id = ?",
                          [name.map(SQLiteValue.text) ?? .null, .text(finalCron), .text(finalZone), status.map(SQLiteValue.text) ?? .null,
                           newContext.map(JSONColumn.text) ?? .null, next.map(SQLiteValue.real) ?? .null, .real(core.now), .text(id)])
            }
            return .json(try existing(id))
        }
        api("workflows:delete").delete("/workflows/schedules/{schedule_id}", docs: doc("Delete a schedule", "schedules", errors: [404: "Schedule not found"])) { _, context in
            let id = context.parameters["schedule_id"] ?? ""
            _ = try existing(id)
            try core.database.write { try $0.run("DELETE FROM schedules WHERE id = ?", [.text(id)]) }
            return .json(["message": "Schedule deleted", "schedule_id": .string(id)])
        }
        for (action, from, to) in [("pause", "ACTIVE", "PAUSED"), ("resume", "PAUSED", "ACTIVE")] {
            api("workflows:update").post("/workflows/schedules/{schedule_id}/\(action)", docs: doc("\(action.capitalized) a schedule", "schedules",
                                                                                                   errors: [404: "Schedule not found", 409: "Schedule is not \(from)"])) { _, context in
                let id = context.parameters["schedule_id"] ?? ""
                let schedule = try existing(id)
                guard schedule["status"] == .string(from) else {
                    throw SupervisorError.conflict("Schedule \(id) is \(schedule["status"]?.stringValue ?? "?"), not \(from)")
                }
                // Resuming computes the next run from now: runs missed while paused are not made up.
                let next = to == "ACTIVE" ? core.nextRun(cron: schedule["cron_expression"]?.stringValue ?? "", timezone: schedule["timezone"]?.stringValue ?? "UTC", after: core.now) : nil
                try core.database.write { c in
                    try c.run("UPDATE schedules SET status = ?, next_run_at = COALESCE(?, next_run_at), updated_at = ? WHERE id = ?",
                              [.text(to), next.map(SQLiteValue.real) ?? .null, .real(core.now), .text(id)])
                }
                return .json(try existing(id))
            }
        }
        api("workflows:execute").post("/workflows/schedules/{schedule_id}/trigger", docs: doc("Run a schedule's workflow now", "schedules",
                                                                                              errors: [404: "Schedule not found"])) { _, context in
            let id = context.parameters["schedule_id"] ?? ""
            let schedule = try existing(id)
            let runContext = JSONValue.object((schedule["context"]?.objectValue ?? []) + [("manual_trigger", true)])
            return .json(try core.startExecution(workflowID: schedule["workflow_id"]?.stringValue ?? "", context: runContext,
                                                 triggeredBy: "manual_schedule:\(id)"), status: .accepted)
        }
    }
}
