import HTTPServer

/// `/api/hrm/*` (spec §6): per-project (and per-task) HRM configs that the task runner obeys, their history,
/// presets with usage statistics from real runs, and the impact simulator.
struct HRMRoutes: Sendable {
    let services: OrchestrationServices

    func addRoutes(to router: some RouterMethods<BasicRequestContext>) {
        let s = services
        let tags = ["hrm"]
        router.post("/api/hrm/config", docs: OpenAPIOperation(
            summary: "Validate and store a project's (or task's) HRM config; apply_immediately makes running tasks re-read it",
            tags: tags)) { request, _ in try Self.updateConfig(request, s) }
        router.get("/api/hrm/config", docs: OpenAPIOperation(summary: "Effective HRM config: task's, else project's, else the balanced preset",
            tags: tags, queryParameters: [OpenAPIParameter(query: "project_id"), OpenAPIParameter(query: "task_id")])) { request, _ in
            var v = Validator()
            let projectID = v.queryString(request, "project_id", maxLength: 100)
            let taskID = v.queryString(request, "task_id", maxLength: 100)
            try v.check()
            if let projectID, try s.store.projectConfig(projectID) == nil { throw OrchestrationServices.notFound("Project") }
            let effective = try s.store.effectiveHRMConfig(projectID: projectID, taskID: taskID)
            return .json(.object([("config_id", effective.configID.map(JSONValue.string) ?? .null), ("config", effective.config),
                                  ("preset_name", effective.presetName.map(JSONValue.string) ?? .null),
                                  ("last_updated", OrchestrationStore.iso(effective.updatedAt)),
                                  ("updated_by", effective.updatedBy.map(JSONValue.string) ?? .null),
                                  ("source", .string(effective.configID == nil ? "preset" : "stored"))]))
        }
        router.get("/api/hrm/config/presets", docs: OpenAPIOperation(summary: "Presets with usage statistics from the tasks run under them", tags: tags)) { _, _ in
            .json(.array(try s.store.presets()))
        }
        router.post("/api/hrm/config/presets", docs: OpenAPIOperation(summary: "Create a custom preset (400 on a duplicate name)", tags: tags,
            responses: [201: OpenAPIResponse("Created")])) { request, _ in
            let preset = try Self.preset(try Validator.body(request), existing: nil)
            try s.store.savePreset(preset, isNew: true)
            return .json(try s.store.presets().first { $0["id"] == .string(preset.id) } ?? .null, status: .created)
        }
        router.put("/api/hrm/config/presets/{preset_id}", docs: OpenAPIOperation(summary: "Update a custom preset (built-ins: 400)", tags: tags)) { request, context in
            let id = try context.parameters.require("preset_id")
            guard let existing = try s.store.preset(id) else { throw OrchestrationServices.notFound("Preset") }
            guard !existing.builtin else { throw HTTPError(.badRequest, "Built-in presets cannot be modified") }
            let preset = try Self.preset(try Validator.body(request), existing: existing)
            try s.store.savePreset(preset, isNew: false)
            return .json(try s.store.presets().first { $0["id"] == .string(id) } ?? .null)
        }
        router.delete("/api/hrm/config/presets/{preset_id}", docs: OpenAPIOperation(summary: "Delete a custom preset (built-ins: 400)", tags: tags)) { _, context in
            let id = try context.parameters.require("preset_id")
            guard let existing = try s.store.preset(id) else { throw OrchestrationServices.notFound("Preset") }
            guard !existing.builtin else { throw HTTPError(.badRequest, "Cannot delete built-in presets") }
            try s.store.deletePreset(id)
            return .json(.object([("status", "deleted"), ("preset_id", .string(id))]))
        }
        router.post("/api/hrm/config/presets/{preset_id}/apply", docs: OpenAPIOperation(summary: "Apply a preset to a project", tags: tags,
            queryParameters: [OpenAPIParameter(query: "project_id", required: true),
                              OpenAPIParameter(query: "apply_immediately", schema: JSONSchema.boolean)])) { request, context in
            let id = try context.parameters.require("preset_id")
            var v = Validator()
            let projectID = v.queryString(request, "project_id", required: true, maxLength: 100)
            let immediately = v.queryBool(request, "apply_immediately") ?? false
            try v.check()
            guard let preset = try s.store.preset(id) else { throw OrchestrationServices.notFound("Preset") }
            guard try s.store.projectConfig(projectID!) != nil else { throw OrchestrationServices.notFound("Project") }
            let current = try s.store.effectiveHRMConfig(projectID: projectID, taskID: nil).config
            let impact = HRMImpact(current: current, proposed: preset.config)
            let configID = try s.store.saveHRMConfig(projectID: projectID!, taskID: nil, config: preset.config, presetName: preset.name,
                                                     changeType: "preset_applied", impact: impact, changedBy: Self.actor(request))
            try s.store.markPresetUsed(id)
            let active = try s.store.activeTaskCount(projectID: projectID!)
            if immediately { s.runner.requestReload(projectID: projectID!) }
            let channel = OrchestrationFeed.project(projectID!)
            s.feed.publish("hrm_preset_applied", [("project_id", .string(projectID!)), ("preset_name", .string(preset.name)),
                                                  ("config", preset.config)], to: [channel])
            s.feed.publish("hrm_config_update", [("project_id", .string(projectID!)), ("config_id", .string(configID)),
                                                 ("config", preset.config), ("impact", impact.json)], to: [channel])
            if immediately && active > 0 {
                s.feed.systemAlert("Preset '\(preset.name)' applied to \(active) running task(s)", severity: "success")
            }
            return .json(.object([("status", .string(immediately ? "applied" : "saved")), ("config_id", .string(configID)),
                                  ("preset_id", .string(id)), ("preset_name", .string(preset.name)), ("applied_at", s.feed.timestamp),
                                  ("impact_estimate", impact.json), ("active_tasks_affected", .int(immediately ? active : 0)),
                                  ("future_tasks_affected", true)]))
        }
        router.post("/api/hrm/simulate", docs: OpenAPIOperation(summary: "Predict the impact of a config change", tags: tags)) { request, _ in
            try Self.simulate(request, s)
        }
        router.get("/api/hrm/config/history/{config_id}", docs: OpenAPIOperation(summary: "Changes of one config, newest first", tags: tags,
            queryParameters: [OpenAPIParameter(query: "limit", schema: JSONSchema.integer)])) { request, context in
            let id = try context.parameters.require("config_id")
            var v = Validator()
            let limit = v.queryInt(request, "limit", range: 1...100) ?? 20
            try v.check()
            guard try s.store.hrmConfigExists(id) else { throw OrchestrationServices.notFound("Config") }
            return .json(.array(try s.store.hrmHistory(configID: id, limit: limit)))
        }
    }

    /// Who made a change: the `X-User` header when a UI sends one, else the client address (no auth in the spec).
    static func actor(_ request: Request) -> String {
        if let user = request.headers["X-User"], !user.isEmpty, user.count <= 200 { return user }
        return "client:" + request.remoteAddress
    }

    static func updateConfig(_ request: Request, _ s: OrchestrationServices) throws -> Response {
        let body = try Validator.body(request)
        var v = Validator()
        v.rejectUnknown(body, ["body"], allowed: ["project_id", "task_id", "config", "apply_immediately", "persist"])
        let projectID = v.string(body["project_id"], ["body", "project_id"], required: true, minLength: 1, maxLength: 100)
        let taskID = v.string(body["task_id"], ["body", "task_id"], minLength: 1, maxLength: 100)
        let immediately = v.bool(body["apply_immediately"], ["body", "apply_immediately"]) ?? true
        let persist = v.bool(body["persist"], ["body", "persist"]) ?? true
        if body["config"] == nil { v.fail(["body", "config"], "field required", "value_error.missing") }
        if let projectID, v.issues.isEmpty, try s.store.projectConfig(projectID) == nil {
            v.fail(["body", "project_id"], "project \(projectID) does not exist", "value_error.not_found")
        }
        if let taskID, let projectID, v.issues.isEmpty {
            if try s.store.task(taskID)?["project_id"] != .string(projectID) {
                v.fail(["body", "task_id"], "task \(taskID) does not exist in project \(projectID)", "value_error.not_found")
            }
        }
        try v.check()
        let current = try s.store.effectiveHRMConfig(projectID: projectID, taskID: taskID)
        let config = HRMConfigSchema.schema.normalize(body["config"], over: current.config, at: ["body", "config"], into: &v)
        try v.check()
        let impact = HRMImpact(current: current.config, proposed: config)
        let active = try s.store.activeTaskCount(projectID: projectID!)
        guard persist else {
            return .json(.object([("status", "preview"), ("config_id", current.configID.map(JSONValue.string) ?? .null),
                                  ("applied_at", .null), ("impact_estimate", impact.json), ("active_tasks_affected", .int(0)),
                                  ("future_tasks_affected", false), ("config", config)]))
        }
        let configID = try s.store.saveHRMConfig(projectID: projectID!, taskID: taskID, config: config, presetName: nil, changeType: nil,
                                                 impact: impact, changedBy: actor(request))
        if immediately { s.runner.requestReload(projectID: projectID!) }
        s.feed.publish("hrm_config_update", [("project_id", .string(projectID!)), ("config_id", .string(configID)), ("config", config),
                                             ("impact", impact.json)], to: [OrchestrationFeed.project(projectID!)])
        if immediately && active > 0 { s.feed.systemAlert("HRM config applied to \(active) running task(s)", severity: "info") }
        return .json(.object([("status", .string(immediately ? "applied" : "saved")), ("config_id", .string(configID)),
                              ("applied_at", s.feed.timestamp), ("impact_estimate", impact.json),
                              ("active_tasks_affected", .int(immediately ? active : 0)), ("future_tasks_affected", true)]))
    }

    static func preset(_ body: JSONValue, existing: OrchestrationStore.Preset?) throws -> OrchestrationStore.Preset {
        var v = Validator()
        v.rejectUnknown(body, ["body"], allowed: ["name", "description", "icon", "color", "visibility", "config"])
        let isNew = existing == nil
        let name = v.string(body["name"], ["body", "name"], required: isNew, nullable: false, minLength: 1, maxLength: 100)
        let description = v.string(body["description"], ["body", "description"], maxLength: 500)
        let icon = v.string(body["icon"], ["body", "icon"], minLength: 1, maxLength: 50)
        let color = v.string(body["color"], ["body", "color"], minLength: 4, maxLength: 7)
        if let color, !(color.hasPrefix("#") && color.dropFirst().allSatisfy(\.isHexDigit) && (color.count == 4 || color.count == 7)) {
            v.fail(["body", "color"], "must be a hex colour like #10b981", "value_error.color")
        }
        let visibility = v.string(body["visibility"], ["body", "visibility"], oneOf: ["private", "shared", "public"])
        if isNew && body["config"] == nil { v.fail(["body", "config"], "field required", "value_error.missing") }
        let config = HRMConfigSchema.schema.normalize(body["config"], over: existing?.config, at: ["body", "config"], into: &v)
        try v.check()
        return OrchestrationStore.Preset(id: existing?.id ?? OrchestrationStore.newID(), name: name ?? existing!.name,
                                         description: description ?? existing?.description ?? "", icon: icon ?? existing?.icon ?? "custom",
                                         color: color ?? existing?.color ?? "#6b7280", visibility: visibility ?? existing?.visibility ?? "private",
                                         builtin: false, config: config)
    }

    static func simulate(_ request: Request, _ s: OrchestrationServices) throws -> Response {
        let body = try Validator.body(request)
        var v = Validator()
        v.rejectUnknown(body, ["body"], allowed: ["current_config", "proposed_config", "task_context"])
        let current = HRMConfigSchema.schema.normalize(body["current_config"], over: nil, at: ["body", "current_config"], into: &v)
        if body["proposed_config"] == nil { v.fail(["body", "proposed_config"], "field required", "value_error.missing") }
        let proposed = HRMConfigSchema.schema.normalize(body["proposed_config"], over: current, at: ["body", "proposed_config"], into: &v)
        let context = body["task_context"] ?? .object([])
        if context.members == nil { v.fail(["body", "task_context"], "value is not a valid dict", "type_error.dict") }
        v.rejectUnknown(context, ["body", "task_context"], allowed: ["complexity", "estimated_duration", "current_quality", "current_cost",
                                                                     "current_tokens", "project_id"])
        let loc: [Loc] = ["body", "task_context"]
        let complexity = v.number(context["complexity"], loc + ["complexity"], range: 0...1_000) ?? 10
        let duration = v.number(context["estimated_duration"], loc + ["estimated_duration"], range: 0...1_000_000) ?? 450
        let quality = v.number(context["current_quality"], loc + ["current_quality"], range: 0...1) ?? 0.87
        var cost = v.number(context["current_cost"], loc + ["current_cost"], range: 0...1_000_000)
        var tokens = v.number(context["current_tokens"], loc + ["current_tokens"], range: 0...1e12)
        let projectID = v.string(context["project_id"], loc + ["project_id"], minLength: 1, maxLength: 100)
        try v.check()
        // The original hard-coded cost 2.50 and tokens 50000; here they are the averages of finished tasks, or null.
        let history = try s.store.taskAverages(projectID: projectID)
        cost = cost ?? history.cost
        tokens = tokens ?? history.tokens
        let impact = HRMImpact(current: current, proposed: proposed)
        let base = complexity < 15 ? 0.85 : 0.75
        func entry(_ current: Double?, _ predicted: Double?, _ change: Double, _ confidence: Double) -> JSONValue {
            .object([("current", OrchestrationStore.round(current)), ("predicted", OrchestrationStore.round(predicted)),
                     ("change_percent", .double((change * 1000).rounded() / 10)), ("confidence", OrchestrationStore.round(confidence, 2))])
        }
        var warnings: [String] = []
        var recommendations: [String] = []
        if impact.cost > 0.30 { warnings.append("Cost increase of \(Int((impact.cost * 100).rounded()))% predicted") }
        if impact.quality < -0.10 { warnings.append("Quality drop of \(Int((-impact.quality * 100).rounded()))% predicted") }
        if impact.cost < -0.20 { recommendations.append("Excellent cost optimization: \(Int((-impact.cost * 100).rounded()))% reduction predicted") }
        if impact.quality > 0.05 { recommendations.append("Quality improvement of \(Int((impact.quality * 100).rounded()))% predicted") }
        if impact.speed > 0.20 { recommendations.append("Speed improvement of \(Int((impact.speed * 100).rounded()))% predicted") }
        if impact.tokens > 0.30 { recommendations.append("Token usage reduced by \(Int((impact.tokens * 100).rounded()))%") }
        switch proposed["agent_switching"]?["strategy"]?.stringValue {
        case "cost_optimized": recommendations.append("cost_optimized prefers the cheapest agent; watch quality on complex tasks")
        case "quality_first": recommendations.append("quality_first prefers the strongest agent; expect higher cost")
        default: break
        }
        var notes: [(String, JSONValue)] = []
        if cost == nil { notes.append(("cost", "no finished tasks to average and no task_context.current_cost")) }
        if tokens == nil { notes.append(("tokens", "no finished tasks to average and no task_context.current_tokens")) }
        return .json(.object([
            ("impact_analysis", .object([
                ("cost", entry(cost, cost.map { $0 * (1 + impact.cost) }, impact.cost, base)),
                ("speed", entry(duration, duration * (1 - impact.speed), impact.speed, base - 0.05)),
                ("quality", entry(quality, min(1, quality * (1 + impact.quality)), impact.quality, base - 0.03)),
                ("tokens", entry(tokens, tokens.map { $0 * (1 - impact.tokens) }, -impact.tokens, base + 0.05)),
            ])),
            ("recommendations", .array(recommendations.map(JSONValue.string))), ("warnings", .array(warnings.map(JSONValue.string))),
            ("model", "static impact table (the original's formula)"), ("null_reasons", .object(notes)),
        ]))
    }
}

extension OrchestrationStore {
    /// Average cost and tokens of finished tasks (the simulator's "current" values), nil when none.
    func taskAverages(projectID: String?) throws -> (cost: Double?, tokens: Double?) {
        try db.read { c in
            let sql = "SELECT AVG(actual_cost), AVG(tokens) FROM tasks WHERE status IN ('completed', 'failed') AND current_iteration > 0"
                + (projectID == nil ? "" : " AND project_id = ?")
            return try c.query(sql, projectID.map { [SQLiteValue.text($0)] } ?? []) { ($0.optionalDouble(0), $0.optionalDouble(1)) }[0]
        }
    }
}
