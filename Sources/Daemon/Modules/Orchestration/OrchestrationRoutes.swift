import Foundation
import HTTPServer

/// `/api/orchestration/*` (spec §1): execute a task through agent selection, breakers and the worker queue.
struct OrchestrationRoutes: Sendable {
    static let taskTypes = ["security", "architecture", "bulk_analysis", "github_workflow", "code_generation", "debugging"]
    let services: OrchestrationServices

    func addRoutes(to router: some RouterMethods<BasicRequestContext>) {
        let s = services
        router.post("/api/orchestration/execute", docs: OpenAPIOperation(
            summary: "Execute a task with smart agent selection; waits for the run (202 with the task when it takes longer)",
            tags: ["orchestration"],
            requestBody: OpenAPIBody(schema: JSONSchema.object(["prompt": JSONSchema.string, "task_type": JSONSchema.enumeration(Self.taskTypes),
                                                                "files": JSONSchema.array(of: JSONSchema.string), "workspace": JSONSchema.string,
                                                                "requires_security": JSONSchema.boolean, "project_id": JSONSchema.string,
                                                                "agent": JSONSchema.enumeration(OrchestrationStore.agentTypes),
                                                                "wait": JSONSchema.boolean], required: ["prompt"])),
            responses: [200: OpenAPIResponse("Task finished"), 202: OpenAPIResponse("Task queued or still running"),
                        422: OpenAPIResponse("Invalid body", schema: JSONSchema.validationError),
                        502: OpenAPIResponse("Task failed"), 503: OpenAPIResponse("No agent available")])
        ) { request, _ in try Self.execute(request, s) }

        router.get("/api/orchestration/health", docs: OpenAPIOperation(summary: "Orchestrator health: workers, queue, breakers",
                                                                       tags: ["orchestration"])) { _, _ in
            let depth = s.queue.depth
            let open = s.breakers.snapshot(known: try s.knownAgents()).filter { $0.1.state == .open }.map(\.0)
            let available = ProviderDirectory(connections: try s.store.connections()).agents.filter { s.breakers.wouldAllow($0) }
            return .json(.object([
                ("status", .string(available.isEmpty ? "degraded" : "healthy")), ("orchestrator", .string("initialized")),
                ("timestamp", s.feed.timestamp), ("workers", .int(s.queue.workerCount)), ("queued_tasks", .int(depth.queued)),
                ("running_tasks", .int(depth.running)), ("available_agents", .array(available.map(JSONValue.string))),
                ("open_circuit_breakers", .array(open.map(JSONValue.string))),
            ]))
        }

        router.get("/api/orchestration/circuit-breaker-status", docs: OpenAPIOperation(
            summary: "State of every agent's circuit breaker (5 failures open it; half-open after 60 s)", tags: ["orchestration"])
        ) { _, _ in
            let breakers = s.breakers.snapshot(known: try s.knownAgents())
            return .json(.object([("timestamp", s.feed.timestamp), ("circuit_breakers", .object(breakers.map { agent, b in
                (agent, .object([("state", .string(b.state.rawValue)), ("failure_count", .int(b.failureCount)),
                                 ("last_failure", OrchestrationStore.iso(b.lastFailure))]))
            }))]))
        }
    }

    static func execute(_ request: Request, _ s: OrchestrationServices) throws -> Response {
        let body = try Validator.body(request)
        var v = Validator()
        v.rejectUnknown(body, ["body"], allowed: ["prompt", "task_type", "files", "workspace", "requires_security", "project_id",
                                                  "title", "labels", "issue_number", "max_iterations", "agent", "wait"])
        let prompt = v.string(body["prompt"], ["body", "prompt"], required: true, minLength: 1, maxLength: 200_000)
        let taskType = v.string(body["task_type"], ["body", "task_type"], oneOf: taskTypes) ?? "code_generation"
        let files = v.strings(body["files"], ["body", "files"], maxItems: 10_000, maxLength: 1_000) ?? []
        let workspace = v.string(body["workspace"], ["body", "workspace"], minLength: 1, maxLength: 1_000) ?? "."
        let requiresSecurity = v.bool(body["requires_security"], ["body", "requires_security"]) ?? false
        let projectID = v.string(body["project_id"], ["body", "project_id"], minLength: 1, maxLength: 100)
        let title = v.string(body["title"], ["body", "title"], minLength: 1, maxLength: 300)
        let labels = v.strings(body["labels"], ["body", "labels"], maxItems: 50, maxLength: 100)
        let issueNumber = v.int(body["issue_number"], ["body", "issue_number"], range: 1...Int(Int32.max))
        let maxIterations = v.int(body["max_iterations"], ["body", "max_iterations"], range: 1...20)
        let agent = v.string(body["agent"], ["body", "agent"], oneOf: OrchestrationStore.agentTypes)
        let wait = v.bool(body["wait"], ["body", "wait"]) ?? true
        if let projectID, v.issues.isEmpty {
            switch try s.store.projectStatus(projectID) {
            case nil: v.fail(["body", "project_id"], "project \(projectID) does not exist", "value_error.not_found")
            case "active"?: break
            case let status?: throw HTTPError(.conflict, "Project is \(status); only active projects accept tasks")
            }
        }
        try v.check()
        guard let prompt else { throw ValidationError.missing(location: ["body", "prompt"]) }
        let effective = try s.store.effectiveHRMConfig(projectID: projectID, taskID: nil)
        let knobs = HRMConfigSchema.Knobs(effective.config)
        let firstLine = prompt.split(separator: "\n").first.map(String.init) ?? prompt
        let id = try s.store.insertTask(NewOrchestrationTask(
            projectID: projectID, title: title ?? (firstLine.count > 120 ? String(firstLine.prefix(117)) + "..." : firstLine),
            prompt: prompt, taskType: taskType, labels: labels ?? ([taskType] + (requiresSecurity ? ["security"] : [])), files: files,
            workspace: workspace, requiresSecurity: requiresSecurity, requestedAgent: agent, issueNumber: issueNumber,
            maxIterations: maxIterations ?? knobs.maxIterations, estimatedCost: 0, hrmConfigID: effective.configID,
            presetID: effective.presetID))
        s.queue.enqueue(id)
        guard wait else { return try taskAccepted(id, s) }
        let finished = s.queue.wait(for: id, timeout: s.executeWaitSeconds) {
            (try? s.store.task(id))?["status"].map { $0 == "completed" || $0 == "failed" } ?? true
        }
        guard finished, let task = try s.store.task(id) else { return try taskAccepted(id, s) }
        let status = task["status"]?.stringValue ?? ""
        guard status == "completed" else {
            let error = task["error"]?.stringValue ?? "failed"
            let code = error.hasPrefix("no agent available") ? HTTPStatus.serviceUnavailable : HTTPStatus(code: 502)
            throw HTTPError(code, "Task failed: \(error)", extra: [("task_id", .string(id)), ("status", .string(status))])
        }
        func field(_ key: String) -> JSONValue { task[key] ?? .null }
        let content: String = try s.store.taskContent(id) ?? ""
        let preset: JSONValue = effective.presetName.map(JSONValue.string) ?? .null
        let metadata: [(String, JSONValue)] = [
            ("status", .string(status)), ("task_type", .string(taskType)), ("iterations", field("current_iteration")),
            ("final_quality", field("final_quality")), ("agent_switches", field("agent_switches")), ("project_id", field("project_id")),
            ("hrm_preset", preset), ("selected_agent", field("selected_agent")), ("selection_reason", field("selection_reason")),
            ("provider_note", .string("agents run on the built-in local executor unless an agent connection points elsewhere")),
        ]
        let members: [(String, JSONValue)] = [
            ("task_id", .string(id)), ("agent", field("assigned_agent")), ("content", .string(content)), ("tokens", field("tokens")),
            ("cost", field("actual_cost")), ("duration", field("duration_seconds")), ("session_id", field("session_id")),
            ("timestamp", s.feed.timestamp), ("metadata", .object(metadata)),
        ]
        return .json(.object(members))
    }

    private static func taskAccepted(_ id: String, _ s: OrchestrationServices) throws -> Response {
        guard let task = try s.store.task(id) else { throw OrchestrationServices.notFound("Task") }
        return .json(.object([("task_id", .string(id)), ("status", task["status"] ?? .null), ("task", task)]), status: .accepted)
    }
}
