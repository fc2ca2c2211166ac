import Foundation
import HTTPServer

/// Layer 3, intent and learning: intents (goals split into HTM tasks), retrospectives, playbooks and the
/// policy suggestions the rules file.
struct TelemetryLearningRoutes: Sendable {
    let module: TelemetryModule
    static let responses = ["accept", "review", "reject"]

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get("intent/active", docs: OpenAPIOperation(
            summary: "Intents with unfinished HTM tasks", tags: ["telemetry"],
            queryParameters: [OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: 1...500), description: "default 50")])) { request, _ in
            var query = TelemetryQuery(request)
            let limit = query.int("limit", default: 50, in: 1...500)
            try query.finish()
            let intents = try module.tasks.activeIntents(limit: limit)
            return .json(["total": .int(intents.count), "intents": .array(intents.map(intentRow))])
        }

        group.get("intent/{id}/details", docs: OpenAPIOperation(
            summary: "One intent with its HTM tasks and insights computed from them", tags: ["telemetry"],
            responses: [404: OpenAPIResponse("Intent not found", schema: JSONSchema.errorDetail)])) { _, context in
            let id = try context.parameters.require("id")
            guard let intent = try module.tasks.intent(id) else { throw telemetryError(.notFound, "Intent \(id) not found", code: "INTENT_NOT_FOUND") }
            let tasks = try module.tasks.tasks(where: "intent_id = ?", [.text(id)], orderBy: "created_at, id")
            guard case .object(var members) = intentRow(intent) else { return .json(intentRow(intent)) }
            members.append(("htm_tasks", .array(tasks.map { t in
                ["task_id": .string(t.id), "description": .string(t.description), "status": .string(t.status),
                 "priority": .string(t.priority.rawValue), "kernel_id": t.kernelID.map { .string($0) } ?? .null,
                 "duration_seconds": TelemetryFormat.number(t.durationSeconds, places: 3), "error": t.error.map { .string($0) } ?? .null]
            })))
            members.append(("insights", TelemetryFormat.strings(insights(intent, tasks))))
            return .json(.object(members))
        }

        group.get("learning/retrospectives", docs: OpenAPIOperation(
            summary: "Retrospectives written after training runs and stress tests", tags: ["telemetry"],
            queryParameters: [OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: 1...100), description: "default 20")])) { request, _ in
            var query = TelemetryQuery(request)
            let limit = query.int("limit", default: 20, in: 1...100)
            try query.finish()
            let rows = try module.learningStore.retrospectives(limit: limit)
            return .json(["total": .int(rows.count), "retrospectives": .array(rows.map { r in
                ["id": .string(r.id), "cycle_name": .string(r.cycleName), "insights": TelemetryFormat.strings(r.insights),
                 "improvements": TelemetryFormat.strings(r.improvements), "timestamp": TelemetryFormat.iso(r.at),
                 "metrics": .object(r.metrics.sorted { $0.key < $1.key }.map { ($0.key, TelemetryFormat.number($0.value, places: 4)) })]
            })])
        }

        group.get("learning/playbooks", docs: OpenAPIOperation(
            summary: "Success rates of the remediation playbooks the module has run", tags: ["telemetry"])) { _, _ in
            let stats = try module.learningStore.playbookStats()
            return .json(["total": .int(stats.count), "playbooks": .array(stats.map { p in
                ["playbook_name": .string(p.name), "total_executions": .int(p.total), "successful": .int(p.successful),
                 "failed": .int(p.total - p.successful),
                 "success_rate_percent": TelemetryFormat.number(Double(p.successful) / Double(p.total) * 100, places: 1),
                 "avg_duration_seconds": TelemetryFormat.number(p.averageSeconds, places: 3), "last_run_at": TelemetryFormat.iso(p.lastRunAt)]
            })])
        }

        group.get("learning/policy_suggestions", docs: OpenAPIOperation(
            summary: "Pending policy suggestions, most confident first", tags: ["telemetry"])) { _, _ in
            _ = try module.learning.suggest()
            let rows = try module.learningStore.suggestions(status: "pending")
            return .json(["total": .int(rows.count), "suggestions": .array(rows.map(suggestionRow))])
        }

        group.post("learning/policy_suggestions/{id}/respond", docs: OpenAPIOperation(
            summary: "Accept (creates an HTM task), review (follow-up in 14 days) or reject a suggestion", tags: ["telemetry"],
            requestBody: OpenAPIBody(schema: JSONSchema.object(["action": JSONSchema.enumeration(Self.responses), "notes": JSONSchema.string],
                                                               required: ["action"]),
                                     example: ["action": "accept", "notes": "Agreed"]),
            responses: [404: OpenAPIResponse("Suggestion not found", schema: JSONSchema.errorDetail),
                        409: OpenAPIResponse("Suggestion is no longer pending", schema: JSONSchema.errorDetail),
                        422: OpenAPIResponse("Invalid body", schema: JSONSchema.validationError)])) { request, context in
            let id = try context.parameters.require("id")
            var body = try TelemetryBody(request)
            let action = body.choice("action", Self.responses)
            let notes = body.string("notes", required: false, maxLength: 2_000, allowEmpty: true)
            try body.finish()
            return try respond(id: id, action: action!, notes: notes)
        }
    }

    private func intentRow(_ i: HTMTaskStore.IntentSummary) -> JSONValue {
        // Remaining tasks × this intent's mean task time, spread over the running kernels.
        let remaining = i.pending + i.active
        let kernels = max(1, module.kernels.runningKernelIDs().count)
        let eta: JSONValue = remaining == 0 ? TelemetryFormat.iso(i.lastCompletedAt)
            : i.meanDuration.map { .string(TelemetryFormat.iso(module.host.clock.now().addingTimeInterval($0 * Double(remaining) / Double(kernels)))) } ?? .null
        return [
            "intent_id": .string(i.id), "goal": .string(i.goal), "status": .string(i.status), "origin": .string(i.origin),
            "completion_percent": TelemetryFormat.number(i.completionPercent, places: 1), "created_at": TelemetryFormat.iso(i.createdAt),
            "htm_tasks_generated": .int(i.total), "tasks_completed": .int(i.completed), "tasks_failed": .int(i.failed),
            "estimated_completion": eta,
        ]
    }

    private func insights(_ i: HTMTaskStore.IntentSummary, _ tasks: [HTMTask]) -> [String] {
        var out = ["\(i.completed) of \(i.total) task(s) completed, \(i.failed) failed, \(i.pending + i.active) open"]
        let durations = tasks.compactMap(\.durationSeconds)
        if let mean = TelemetryFormat.mean(durations) { out.append(String(format: "mean task time %.3f s over %d task(s)", mean, durations.count)) }
        let breaches = tasks.filter { $0.slaMet == false }.count
        if breaches > 0 { out.append("\(breaches) task(s) breached their SLA") }
        for (error, count) in Dictionary(grouping: tasks.compactMap(\.error), by: { $0 }).mapValues(\.count).sorted(by: { $0.value > $1.value }).prefix(3) {
            out.append("\(count)× failed: \(error)")
        }
        return out
    }

    private func suggestionRow(_ s: LearningStore.Suggestion) -> JSONValue {
        ["suggestion_id": .string(s.id), "policy_area": .string(s.policyArea), "suggestion": .string(s.suggestion),
         "confidence": TelemetryFormat.number(s.confidence, places: 2), "supporting_evidence": TelemetryFormat.strings(s.evidence),
         "created_at": TelemetryFormat.iso(s.createdAt), "rule": .string(s.rule), "status": .string(s.status)]
    }

    private func respond(id: String, action: String, notes: String?) throws -> Response {
        guard let suggestion = try module.learningStore.suggestion(id) else {
            throw telemetryError(.notFound, "Policy suggestion \(id) not found", code: "SUGGESTION_NOT_FOUND")
        }
        guard suggestion.status == "pending" else {
            throw telemetryError(.conflict, "Policy suggestion \(id) is \(suggestion.status), not pending", code: "SUGGESTION_NOT_PENDING")
        }
        let now = module.host.clock.now()
        let status = ["accept": "accepted", "review": "under_review"][action] ?? "rejected"
        let followUp = action == "review" ? now.timeIntervalSince1970 + LearningLoop.reviewDelaySeconds : nil
        // One transaction: the answer and (for accept) its task land together or not at all.
        let (taskID, nextSteps) = try module.database.writeTransaction { _ -> (String?, [String]) in
            guard try module.learningStore.respond(id, status: status, notes: notes, followUpAt: followUp, at: now.timeIntervalSince1970) else {
                throw telemetryError(.conflict, "Policy suggestion \(id) was answered concurrently", code: "SUGGESTION_NOT_PENDING")
            }
            switch action {
            case "accept":
                let submitted = try module.queue.submit(goal: "Implement policy \(id): \(suggestion.suggestion)", origin: "remote", tasks: [
                    NewTask(kind: .policyCheck, description: "Verify rule \(suggestion.rule) for \(id)", priority: .normal, sizeBytes: 0,
                            payload: TaskPayload(suggestionID: id, rule: suggestion.rule)),
                ])
                let task = submitted.tasks[0].id
                try module.learningStore.attachTask(id, task: task)
                return (task, ["Implementation task created: \(task) (intent \(submitted.intentID))",
                               "The task re-checks rule \(suggestion.rule) against current state when a kernel runs it"])
            case "review":
                return (nil, ["Review scheduled for \(TelemetryFormat.iso(Date(timeIntervalSince1970: followUp!))); the suggestion returns to pending then"])
            default:
                return (nil, ["Suggestion closed; rule \(suggestion.rule) stays quiet for 24 hours"])
            }
        }
        module.publish("policy_responded", ["suggestion_id": .string(id), "action": .string(action)])
        return .json(["suggestion_id": .string(id), "action": .string(action), "status": "processed",
                      "suggestion_status": .string(status), "next_steps": TelemetryFormat.strings(nextSteps),
                      "task_id": taskID.map { .string($0) } ?? .null, "follow_up_at": TelemetryFormat.iso(followUp)])
    }
}
