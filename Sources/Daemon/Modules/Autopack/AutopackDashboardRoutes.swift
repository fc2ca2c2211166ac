import Foundation
import HTTPServer

/// §3 dashboard endpoints.
struct AutopackDashboardRoutes {
    let ctx: AutopackRouteContext
    typealias Docs = AutopackRouteContext

    struct HumanNote: Decodable {
        var note: String
        var run_id: String?
    }

    struct ModelOverride: Decodable {
        var role: String
        var category: String?
        var complexity: String?
        var model: String
        var scope: String?
        var run_id: String?
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        let store = ctx.store
        let settings = ctx.settings
        let open = ctx.group(router, [])
        open.get("/dashboard/runs/{run_id}/status", docs: Docs.docs(
            "DashboardRunStatus", "dashboard", responses: [404: "Run not found"])
            ) { _, context in
            .json(try store.dashboardStatus(runID: try context.parameters.require("run_id")))
            }
            open.get("/dashboard/usage", docs: Docs.docs("Token usage by provider and model", "dashboard", query: [
            OpenAPIParameter(query: "period", description: "day, week or month; any other value means week (a test pins it)"),
            ])
        ) { request, _ in
            .json(try store.usage(period: request.query["period"] ?? "week"))
        }
        open.get("/dashboard/models", docs: Docs.docs(
            "Current model mappings (overrides applied)", "dashboard",
            query: [OpenAPIParameter(query: "run_id", description: "apply this run's overrides too")],
            responses: [404: "Run not found"])
        ) { request, _ in
            .json(try store.modelMappings(runID: request.query["run_id"]))
        }
        open.get("/dashboard/runs/{run_id}/consolidated-metrics", docs: Docs.docs(
            "Consolidated token metrics (kill switch AUTOPACK_ENABLE_CONSOLIDATED_METRICS=1)", "dashboard", query: [
                OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: 1...10_000), description: "default 1000"),
                OpenAPIParameter(query: "offset", schema: JSONSchema.integer(in: 0...Int.max), description: "default 0"),
            ], responses: [400: "Bad pagination", 404: "Run not found", 503: "Kill switch off"])
        ) { request, context in
            guard settings.isEnabled("consolidated_metrics") else {
                throw HTTPError(.serviceUnavailable, "Consolidated metrics are disabled (set AUTOPACK_ENABLE_CONSOLIDATED_METRICS=1)")
            }
            let limit = try request.query.get("limit", as: Int.self) ?? 1000
            let offset = try request.query.get("offset", as: Int.self) ?? 0
            guard (1...10_000).contains(limit) else { throw HTTPError(.badRequest, "limit must be between 1 and 10000") }
            guard offset >= 0 else { throw HTTPError(.badRequest, "offset must be >= 0") }
            return .json(try store.consolidatedMetrics(runID: try context.parameters.require("run_id"), limit: limit, offset: offset))
        }
        open.get("/dashboard/ab-results", docs: Docs.docs(
            "A/B comparisons of paired runs", "dashboard", query: [
            OpenAPIParameter(query: "test_id"), OpenAPIParameter(query: "valid_only", schema: JSONSchema.boolean, description: "default true"),
            OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: 1...1000), description: "default 100"),
            ], responses: [422: "Invalid query"])
        ) { request, _ in
            let limit = try request.query.integer("limit", in: 1...1000, default: 100)
            return .json(try store.abResults(testID: request.query["test_id"], validOnly: try request.query.boolean("valid_only") ?? true, limit: limit))
        }
        open.post("/dashboard/human-notes", docs: Docs.docs(
            "Append a human note to the notes file", "dashboard",
            body: OpenAPIBody("{note, run_id?}", schema: JSONSchema.object([
                "note": ["type": "string", "maxLength": 10_000, "pattern": "\\S"], "run_id": Docs.orNull(JSONSchema.string),
            ], required: ["note"]), example: ["note": "check P2", "run_id": "build-1"]),
            responses: [404: "Run not found", 422: "Invalid request"])
        ) { request, _ in
            let body = try request.decode(HumanNote.self)
            var checks = Checks()
            checks.check(!body.note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && body.note.utf8.count <= 10_000,
                         ["body", "note"], "must be 1-10000 bytes of text")
            try checks.throwIfAny()
            return .json(try store.addHumanNote(body.note, runID: body.run_id))
        }
        open.post("/dashboard/models/override", docs: Docs.docs(
            "Add a model override (global or per run), persisted", "dashboard",
            body: OpenAPIBody("ModelOverrideRequest (run_id exactly when scope is run)", schema: Self.overrideSchema,
            example: ["role": "builder", "category": "tests", "complexity": "low", "model": "claude-haiku-4-5", "scope": "global"]),
            responses: [404: "Run not found", 422: "Invalid request"])
        ) { request, _ in
            let body = try request.decode(ModelOverride.self)
            var checks = Checks()
            let scope = body.scope ?? "global"
            checks.oneOf(scope, ["global", "run"], ["body", "scope"])
            checks.oneOf(body.role, AutopackStore.roles, ["body", "role"])
            checks.oneOf(body.complexity, AutopackStore.complexities, ["body", "complexity"])
            checks.identifier(body.category ?? "general", ["body", "category"])
            checks.check(!body.model.isEmpty && body.model.unicodeScalars.count <= 128, ["body", "model"], "must be 1-128 characters")
            if scope == "run" { checks.check(body.run_id != nil, ["body", "run_id"], "required when scope is run", type: "value_error.missing") }
            if scope == "global" { checks.check(body.run_id == nil, ["body", "run_id"], "only allowed when scope is run") }
            try checks.throwIfAny()
            return .json(try store.addModelOverride(scope: scope, runID: body.run_id, role: body.role, category: body.category ?? "general",
                                                    complexity: body.complexity ?? "medium", model: body.model))
        }

        let keyed = ctx.group(router, ctx.key)
        keyed.get("/dashboard/runs/{run_id}/token-efficiency", docs: {
            var d = Docs.docs("Token efficiency (legacy; prefer consolidated-metrics)", "dashboard", responses: [404: "Run not found"])
            d.deprecated = true
            return d
        }()) { _, context in
            .json(try store.tokenEfficiency(runID: try context.parameters.require("run_id")))
        }
        keyed.get("/dashboard/runs/{run_id}/phase6-stats", docs: {
            var d = Docs.docs("Phase 6 stats (legacy; prefer consolidated-metrics)", "dashboard", responses: [404: "Run not found"])
            d.deprecated = true
            return d
        }()) { _, context in
            .json(try store.phase6Stats(runID: try context.parameters.require("run_id")))
        }
    }
}

extension AutopackDashboardRoutes {
    /// What `/dashboard/models/override` accepts: a global override has no run_id, a run override needs one.
    static let overrideSchema: JSONValue = {
        let fields = JSONSchema.object([
            "role": JSONSchema.enumeration(AutopackStore.roles), "category": Docs.orNull(Docs.identifier),
            "complexity": Docs.orNull(JSONSchema.enumeration(AutopackStore.complexities)), "model": JSONSchema.string(length: 1...128),
        ], required: ["role", "model"])
        return ["allOf": [fields, ["oneOf": [
            ["properties": ["scope": ["enum": ["global", .null]], "run_id": ["type": "null"]]],
            ["properties": ["scope": ["const": "run"], "run_id": JSONSchema.string], "required": ["scope", "run_id"]],
        ]]]]
    }()
}
