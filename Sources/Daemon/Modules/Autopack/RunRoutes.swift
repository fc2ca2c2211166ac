import HTTPServer

/// §1 run lifecycle (start, read), §4 issues, §5 errors, §10 runs inbox and progress.
struct RunRoutes {
    let ctx: AutopackRouteContext
    typealias Docs = AutopackRouteContext

    func addRoutes(to router: Router<BasicRequestContext>) {
        let store = ctx.store
        ctx.group(router, ctx.key, perMinute: ctx.settings.runStartPerMinute).post("/runs/start", docs: Docs.docs(
            "Create and initialise a run with its tiers (PENDING) and phases (QUEUED)", "runs",
            body: OpenAPIBody("RunStartRequest {run, tiers, phases}; tier and phase ids unique, each phase's tier_id one of the "
                              + "tiers, at most run.max_phases phases (default 25): rules between fields a schema cannot state",
                              schema: JSONSchema.object([
                "run": JSONSchema.object([
                    "run_id": Docs.identifier, "safety_profile": Docs.orNull(JSONSchema.enumeration(["normal", "safety_critical"])),
                    "run_scope": Docs.orNull(JSONSchema.enumeration(["multi_tier", "single_tier"])),
                    "token_cap": Docs.orNull(JSONSchema.integer(in: 1...Int.max)), "max_phases": Docs.orNull(JSONSchema.integer(in: 1...1000)),
                    "max_duration_minutes": Docs.orNull(JSONSchema.integer(in: 1...Int.max)),
                ], required: ["run_id"]),
                "tiers": Docs.orNull(JSONSchema.array(of: JSONSchema.object([
                    "tier_id": Docs.identifier, "tier_index": JSONSchema.integer(in: 0...Int.max), "name": ["type": "string", "minLength": 1],
                ], required: ["tier_id", "tier_index", "name"]))),
                "phases": Docs.orNull(JSONSchema.array(of: JSONSchema.object([
                    "phase_id": Docs.identifier, "phase_index": JSONSchema.integer(in: 0...Int.max), "tier_id": Docs.identifier,
                    "name": ["type": "string", "minLength": 1], "complexity": Docs.orNull(JSONSchema.enumeration(RunStartRequest.complexities)),
                ], required: ["phase_id", "phase_index", "tier_id", "name"]))),
            ], required: ["run"]),
                              example: ["run": ["run_id": "build-1"], "tiers": [["tier_id": "T1", "tier_index": 0, "name": "core"]],
                                        "phases": [["phase_id": "P1", "phase_index": 0, "tier_id": "T1", "name": "prep"]]]),
            responses: [201: "RunResponse", 409: "Run already exists", 422: "Invalid request"])
        ) { request, _ in
            let body = try request.decode(RunStartRequest.self)
            try body.validate()
            return .json(try store.startRun(body), status: .created)
        }

        let open = ctx.group(router, [])
        open.get("/runs/{run_id}", docs: Docs.docs(
            "Run details with all tiers and phases", "runs", responses: [404: "Run not found"])
        ) { _, context in
            .json(try store.run(try context.parameters.require("run_id")))
        }
        open.get("/runs/{run_id}/issues/index", docs: Docs.docs(
            "The run's issue index", "issues", responses: [404: "Run not found"])
        ) { _, context in
            .json(try store.issueIndex(runID: try context.parameters.require("run_id")))
        }
        open.get("/project/issues/backlog", docs: Docs.docs("Project issue backlog across runs, with aging", "issues")) { _, _ in
            .json(try store.backlog())
        }
        open.get("/runs/{run_id}/errors", docs: Docs.docs(
            "All error reports of a run", "errors", responses: [404: "Run not found"])
        ) { _, context in
            .json(try store.errors(runID: try context.parameters.require("run_id")))
        }
        open.get("/runs/{run_id}/errors/summary", docs: Docs.docs(
            "Error summary of a run", "errors", responses: [404: "Run not found"])
        ) { _, context in
            .json(try store.errorSummary(runID: try context.parameters.require("run_id")))
        }

        let inbox = ctx.group(router, ctx.read)
        inbox.get("/runs", docs: Docs.docs("Runs inbox, newest first, with phase counts", "operator surface", query: [
            OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: 1...100), description: "default 20"),
            OpenAPIParameter(query: "offset", schema: JSONSchema.integer(in: 0...Int(Int32.max)), description: "default 0"),
        ], responses: [422: "Bad pagination"])) { request, _ in
            let limit = try request.query.integer("limit", in: 1...100, default: 20)
            let offset = try request.query.integer("offset", in: 0...Int(Int32.max), default: 0)
            return .json(try store.listRuns(limit: limit, offset: offset))
        }
        inbox.get("/runs/{run_id}/progress", docs: Docs.docs("Phase-by-phase progress of a run", "operator surface",
                                                             responses: [404: "Run not found"])) { _, context in
            .json(try store.progress(runID: try context.parameters.require("run_id")))
        }
    }
}

/// §1 executor writes: phase status, builder and auditor results, issues.
struct PhaseRoutes {
    let ctx: AutopackRouteContext
    typealias Docs = AutopackRouteContext

    func addRoutes(to router: Router<BasicRequestContext>) {
        let store = ctx.store
        let group = ctx.group(router, ctx.executor)
        let conflicts: [Int: String] = [404: "Run or phase not found", 409: "Illegal transition (body names current_state)", 422: "Invalid request"]
        group.post("/runs/{run_id}/phases/{phase_id}/update_status", docs: Docs.docs(
            "Move a phase along its state machine and update its metrics", "phases",
            body: OpenAPIBody("PhaseStatusUpdate", schema: JSONSchema.object([
                "state": JSONSchema.enumeration(PhaseState.allCases.map(\.rawValue)),
                "builder_attempts": Docs.orNull(JSONSchema.integer(in: 0...Int.max)), "tokens_used": Docs.orNull(JSONSchema.integer(in: 0...Int.max)),
                "minor_issues_count": Docs.orNull(JSONSchema.integer(in: 0...Int.max)), "major_issues_count": Docs.orNull(JSONSchema.integer(in: 0...Int.max)),
                "quality_level": Docs.orNull(JSONSchema.enumeration(["ok", "needs_review", "blocked"])), "quality_blocked": Docs.orNull(JSONSchema.boolean),
            ], required: ["state"]), example: ["state": "EXECUTING", "tokens_used": 1200]),
            responses: conflicts)
        ) { request, context in
            let runID = try context.parameters.require("run_id"), phaseID = try context.parameters.require("phase_id")
            let update = try request.decode(PhaseStatusUpdate.self)
            let next = try update.validate()
            return .json(try store.updatePhaseStatus(runID: runID, phaseID: phaseID, update: update, to: next))
        }
        group.post("/runs/{run_id}/phases/{phase_id}/builder_result", docs: Docs.docs(
            "Submit a Builder result (patch stored as an artifact; success → GATE, failed → FAILED)", "phases",
            body: OpenAPIBody("BuilderResult (extra fields forbidden); run_id and phase_id equal the path's, each of files_changed "
                              + "a relative path inside the workspace", schema: BuilderResult.schema), responses: conflicts)
        ) { request, context in
            let runID = try context.parameters.require("run_id"), phaseID = try context.parameters.require("phase_id")
            let result = try request.decodeStrict(BuilderResult.self, allowed: BuilderResult.members)
            try result.validate(runID: runID, phaseID: phaseID)
            return .json(try store.recordBuilderResult(result))
        }
        group.post("/runs/{run_id}/phases/{phase_id}/auditor_result", docs: Docs.docs(
            "Submit an Auditor result (approve → COMPLETE, revise → EXECUTING, escalate → approval request)", "phases",
            body: OpenAPIBody("AuditorResult; run_id and phase_id equal the path's", schema: AuditorResult.schema), responses: conflicts)
        ) { request, context in
            let runID = try context.parameters.require("run_id"), phaseID = try context.parameters.require("phase_id")
            let result = try request.decode(AuditorResult.self)
            try result.validate(runID: runID, phaseID: phaseID)
            return .json(try store.recordAuditorResult(result))
        }
        group.post("/runs/{run_id}/phases/{phase_id}/record_issue", docs: Docs.docs(
            "Record an issue for a phase (repeated keys count occurrences)", "issues", query: [
                OpenAPIParameter(query: "issue_key", schema: JSONSchema.string(length: 1...200), required: true),
                OpenAPIParameter(query: "severity", schema: JSONSchema.enumeration(["minor", "major"]), required: true),
                OpenAPIParameter(query: "source"), OpenAPIParameter(query: "category"),
                OpenAPIParameter(query: "evidence_refs", description: "repeat or comma-separate"),
            ], responses: [404: "Run or phase not found", 422: "Invalid request"])
        ) { request, context in
            let runID = try context.parameters.require("run_id"), phaseID = try context.parameters.require("phase_id")
            let query = request.query
            var checks = Checks()
            let key = query["issue_key"] ?? "", severity = query["severity"] ?? ""
            if query["issue_key"] == nil { checks.fail(["query", "issue_key"], "field required", type: "value_error.missing") }
            // Code points, as the documented maxLength counts (found by fuzzing: 200 characters of combining marks passed).
            else { checks.check(!key.isEmpty && key.unicodeScalars.count <= 200, ["query", "issue_key"], "must be 1-200 characters") }
            if query["severity"] == nil { checks.fail(["query", "severity"], "field required", type: "value_error.missing") }
            else { checks.oneOf(severity, ["minor", "major"], ["query", "severity"]) }
            try checks.throwIfAny()
            let evidence = query.values(for: "evidence_refs").flatMap { $0.split(separator: ",").map(String.init) }
            return .json(try store.recordIssue(runID: runID, phaseID: phaseID, key: key, severity: severity,
                                               source: query["source"] ?? "executor", category: query["category"] ?? "general",
                                               evidence: evidence))
        }
    }
}
