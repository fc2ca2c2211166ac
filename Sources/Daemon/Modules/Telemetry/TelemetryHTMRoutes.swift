import Foundation
import HTTPServer

/// Layer 2, the HTM console: the queue, its tasks, workload, and the priority override.
struct TelemetryHTMRoutes: Sendable {
    let module: TelemetryModule

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get("htm/queue", docs: OpenAPIOperation(
            summary: "HTM queue status and today's metrics, with the next pending tasks in dispatch order", tags: ["telemetry"])) { _, _ in
            try queue()
        }

        group.get("htm/tasks", docs: OpenAPIOperation(
            summary: "HTM tasks, newest first", tags: ["telemetry"],
            queryParameters: [
                OpenAPIParameter(query: "origin", schema: JSONSchema.enumeration(HTMTask.origins)),
                OpenAPIParameter(query: "status", schema: JSONSchema.enumeration(HTMTask.statuses)),
                OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: 1...500), description: "default 50"),
            ],
            responses: [422: OpenAPIResponse("Invalid filter", schema: JSONSchema.validationError)])) { request, _ in
            var query = TelemetryQuery(request)
            let origin = query.choice("origin", HTMTask.origins)
            let status = query.choice("status", HTMTask.statuses)
            let limit = query.int("limit", default: 50, in: 1...500)
            try query.finish()
            return try tasks(origin: origin, status: status, limit: limit)
        }

        group.get("htm/workload", docs: OpenAPIOperation(
            summary: "Workload perception: busy kernels (agents) over running kernels", tags: ["telemetry"])) { _, _ in try workload() }

        group.post("htm/tasks/{id}/priority", docs: OpenAPIOperation(
            summary: "Override a pending or active task's priority", tags: ["telemetry"],
            requestBody: OpenAPIBody(schema: JSONSchema.object(["priority": JSONSchema.enumeration(TaskPriority.allCases.map(\.rawValue)),
                                                                "reason": JSONSchema.string], required: ["priority"]),
                                     example: ["priority": "critical", "reason": "User manual override"]),
            responses: [200: OpenAPIResponse("Updated", example: ["task_id": "task-xyz123", "old_priority": "normal",
                                                                  "new_priority": "critical", "status": "updated"]),
                        400: OpenAPIResponse("Task not pending or active", schema: JSONSchema.errorDetail),
                        404: OpenAPIResponse("Task not found", schema: JSONSchema.errorDetail),
                        422: OpenAPIResponse("Invalid body", schema: JSONSchema.validationError)])) { request, context in
            let id = try context.parameters.require("id")
            var body = try TelemetryBody(request)
            let priority = body.choice("priority", TaskPriority.allCases.map(\.rawValue))
            let reason = body.string("reason", required: false, maxLength: 500, allowEmpty: true) ?? "manual override"
            try body.finish()
            let new = TaskPriority(rawValue: priority!)!
            guard let task = try module.tasks.task(id) else { throw telemetryError(.notFound, "Task \(id) not found", code: "TASK_NOT_FOUND") }
            guard task.status == "pending" || task.status == "active",
                  let old = try module.queue.reprioritise(id, to: new, reason: reason, client: context.core.clientIdentity) else {
                throw telemetryError(.badRequest, "Task \(id) is \(task.status); only pending or active tasks can change priority",
                                     code: "TASK_NOT_OPEN")
            }
            module.publish("htm_priority_updated", ["task_id": .string(id), "old_priority": .string(old.rawValue),
                                                    "new_priority": .string(new.rawValue)])
            return .json(["task_id": .string(id), "old_priority": .string(old.rawValue), "new_priority": .string(new.rawValue),
                          "status": "updated"])
        }
    }

    static func row(_ t: HTMTask) -> JSONValue {
        [
            "task_id": .string(t.id), "origin": .string(t.origin), "status": .string(t.status),
            "size_mb": TelemetryFormat.number(TelemetryFormat.megabytes(t.sizeBytes)),
            "duration_seconds": TelemetryFormat.number(t.durationSeconds, places: 3), "priority": .string(t.priority.rawValue),
            "created_at": TelemetryFormat.iso(t.createdAt), "completed_at": TelemetryFormat.iso(t.completedAt),
            "kind": .string(t.kind.rawValue), "description": .string(t.description), "intent_id": .string(t.intentID),
            "kernel_id": t.kernelID.map { .string($0) } ?? .null, "sla_met": t.slaMet.map { .bool($0) } ?? .null,
            "attempt": .int(t.attempt), "error": t.error.map { .string($0) } ?? .null,
        ]
    }

    private func queue() throws -> Response {
        let now = module.host.clock.now()
        let stats = try module.tasks.dayStats(since: TelemetryFormat.startOfDay(now))
        let counts = module.queue.counts
        return .json([
            "queue_depth": .int(counts.pending + counts.active), "pending_tasks": .int(counts.pending), "active_tasks": .int(counts.active),
            "completed_today": .int(stats.completed), "failed_today": .int(stats.failed),
            "avg_wait_time_seconds": TelemetryFormat.number(stats.averageWaitSeconds, places: 3),
            "p95_duration_seconds": TelemetryFormat.number(stats.p95DurationSeconds, places: 3),
            "avg_task_size_mb": TelemetryFormat.number(stats.averageSizeMegabytes, places: 3),
            "sla_breaches": .int(stats.slaBreaches),
            "tasks": .array(module.queue.pendingInOrder(limit: 20).map(Self.row)),
        ])
    }

    private func tasks(origin: String?, status: String?, limit: Int) throws -> Response {
        var clauses = ["1 = 1"]
        var values: [SQLiteValue] = []
        if let origin { clauses.append("origin = ?"); values.append(.text(origin)) }
        if let status { clauses.append("status = ?"); values.append(.text(status)) }
        let clause = clauses.joined(separator: " AND ")
        let total = try module.database.read { c in
            Int(try c.scalar("SELECT COUNT(*) FROM htm_tasks WHERE \(clause)", values)?.int64 ?? 0)
        }
        let rows = try module.tasks.tasks(where: clause, values, orderBy: "created_at DESC, id", limit: limit)
        return .json(["total": .int(total), "tasks": .array(rows.map(Self.row))])
    }

    private func workload() throws -> Response {
        let statuses = module.kernels.kernels.map(\.status)
        let running = statuses.filter(\.running).count
        let busy = statuses.filter(\.busy).count
        let utilization = running == 0 ? 100 : Int((Double(busy) / Double(running) * 100).rounded())
        let stats = try module.tasks.dayStats(since: TelemetryFormat.startOfDay(module.host.clock.now()))
        let status = utilization >= 95 ? "critical" : utilization >= 80 ? "high" : "normal"
        let counts = module.queue.counts
        return .json([
            "active_agents": .int(busy), "total_agents": .int(statuses.count), "running_agents": .int(running),
            "auto_escalations_today": .int(stats.escalations), "capacity_utilization_percent": .int(utilization),
            "workload_status": .string(status), "queue_depth": .int(counts.pending + counts.active),
        ])
    }
}
