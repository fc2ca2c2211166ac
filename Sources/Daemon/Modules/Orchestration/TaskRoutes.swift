import HTTPServer

/// `/api/tasks` (spec §3): paginated listing, one task, retry and cancel with real state guards.
struct TaskRoutes: Sendable {
    let services: OrchestrationServices

    func addRoutes(to router: some RouterMethods<BasicRequestContext>) {
        let s = services
        let tags = ["tasks"]
        router.get("/api/tasks", docs: OpenAPIOperation(summary: "Tasks, newest first, paginated", tags: tags, queryParameters: [
            OpenAPIParameter(query: "project_id"), OpenAPIParameter(query: "status", schema: JSONSchema.enumeration(OrchestrationStore.taskStatuses)),
            OpenAPIParameter(query: "page", schema: JSONSchema.integer), OpenAPIParameter(query: "page_size", schema: JSONSchema.integer),
        ])) { request, _ in
            var v = Validator()
            let projectID = v.queryString(request, "project_id", maxLength: 100)
            let status = v.queryString(request, "status", oneOf: OrchestrationStore.taskStatuses)
            let page = v.queryInt(request, "page", range: 1...1_000_000) ?? 1
            let pageSize = v.queryInt(request, "page_size", range: 1...100) ?? 20
            try v.check()
            let (items, total) = try s.store.tasks(projectID: projectID, status: status, page: page, pageSize: pageSize)
            return .json(.object([("items", .array(items)), ("total", .int(total)), ("page", .int(page)), ("page_size", .int(pageSize)),
                                  ("total_pages", .int((total + pageSize - 1) / pageSize))]))
        }
        router.get("/api/tasks/{task_id}", docs: OpenAPIOperation(summary: "One task", tags: tags)) { _, context in
            guard let task = try s.store.task(try context.parameters.require("task_id")) else { throw OrchestrationServices.notFound("Task") }
            return .json(task)
        }
        router.post("/api/tasks/{task_id}/retry", docs: OpenAPIOperation(
            summary: "Run a finished (completed or failed) task again; 409 while it is pending or running", tags: tags)
        ) { _, context in
            let id = try context.parameters.require("task_id")
            guard let task = try s.store.task(id) else { throw OrchestrationServices.notFound("Task") }
            guard try s.store.resetForRetry(id) else {
                throw HTTPError(.conflict, "Task is \(task["status"]?.stringValue ?? "?"); only completed or failed tasks can be retried")
            }
            s.queue.enqueue(id)
            return .json(.object([("message", "Task queued for retry"), ("task", try s.store.task(id) ?? .null)]))
        }
        router.post("/api/tasks/{task_id}/cancel", docs: OpenAPIOperation(
            summary: "Cancel a pending or running task (it ends failed with error 'cancelled'); 409 when already finished", tags: tags)
        ) { _, context in
            let id = try context.parameters.require("task_id")
            guard let task = try s.store.task(id) else { throw OrchestrationServices.notFound("Task") }
            guard task["status"] == "pending" || task["status"] == "in_progress" else {
                throw HTTPError(.conflict, "Task is already \(task["status"]?.stringValue ?? "?")")
            }
            s.queue.requestCancel(id)
            _ = s.queue.removeQueued(id)
            let cancelledPending = try s.store.transition(id, from: ["pending"], to: "failed",
                                                          extra: [("error", .text("cancelled")), ("completed_at", .real(s.store.now()))])
            if cancelledPending {
                s.feed.publish("task_update", [("task_id", .string(id)), ("status", "failed"), ("current_iteration", .int(0)),
                                               ("current_quality", .int(0))], to: [OrchestrationFeed.task(id), "global"])
            } else {
                _ = s.queue.wait(for: id, timeout: 30) { (try? s.store.task(id))?["status"] != "in_progress" }
            }
            return .json(.object([("message", "Task cancelled"), ("task", try s.store.task(id) ?? .null)]))
        }
    }
}
