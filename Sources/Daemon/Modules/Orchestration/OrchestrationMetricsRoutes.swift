import HTTPServer

/// `/api/metrics/*` (spec §4), all computed from stored tasks and per-call events.
struct OrchestrationMetricsRoutes: Sendable {
    static let periods = ["7d": 7.0, "30d": 30.0, "90d": 90.0]
    let services: OrchestrationServices

    func addRoutes(to router: some RouterMethods<BasicRequestContext>) {
        let s = services
        let tags = ["metrics"]
        let projectParameter = OpenAPIParameter(query: "project_id")
        let periodParameter = OpenAPIParameter(query: "period", schema: JSONSchema.enumeration(["7d", "30d", "90d"]))
        @Sendable func project(_ v: inout Validator, _ request: Request) -> String? { v.queryString(request, "project_id", maxLength: 100) }
        @Sendable func since(_ v: inout Validator, _ request: Request, default fallback: String?) -> (String?, Double?) {
            guard let period = v.queryString(request, "period", oneOf: ["7d", "30d", "90d"]) ?? fallback else { return (nil, nil) }
            return (period, s.store.now() - Self.periods[period]! * 86_400)
        }

        router.get("/api/metrics/dashboard", docs: OpenAPIOperation(summary: "Dashboard: projects, active tasks, today's cost, performance, cost", tags: tags)) { _, _ in
            .json(try s.store.dashboard())
        }
        router.get("/api/metrics/quality", docs: OpenAPIOperation(summary: "Daily quality of completed tasks (default: last 30 days)", tags: tags,
            queryParameters: [projectParameter, OpenAPIParameter(query: "start_date", schema: JSONSchema.dateTime),
                              OpenAPIParameter(query: "end_date", schema: JSONSchema.dateTime)])) { request, _ in
            var v = Validator()
            let projectID = project(&v, request)
            let end = v.queryDate(request, "end_date") ?? s.store.now() + 1
            let start = v.queryDate(request, "start_date") ?? end - 30 * 86_400
            if v.issues.isEmpty && start > end { v.fail(["query", "start_date"], "start_date must not be after end_date", "value_error.range") }
            try v.check()
            return .json(.array(try s.store.qualityTrend(projectID: projectID, start: start, end: end)))
        }
        router.get("/api/metrics/cost", docs: OpenAPIOperation(summary: "Cost over a period (7d, 30d, 90d; default 30d)", tags: tags,
            queryParameters: [projectParameter, periodParameter])) { request, _ in
            var v = Validator()
            let projectID = project(&v, request)
            let (period, start) = since(&v, request, default: "30d")
            try v.check()
            let cost = try s.store.cost(projectID: projectID, since: start)
            return .json(cost.setting("period", .string(period ?? "30d")).setting("project_id", projectID.map(JSONValue.string) ?? .null))
        }
        router.get("/api/metrics/agents", docs: OpenAPIOperation(summary: "Per-agent tasks, success rate, quality, cost and time", tags: tags,
            queryParameters: [projectParameter, periodParameter])) { request, _ in
            var v = Validator()
            let projectID = project(&v, request)
            let (_, start) = since(&v, request, default: nil)
            try v.check()
            return .json(.array(try s.store.agentPerformance(projectID: projectID, since: start)))
        }
        router.get("/api/metrics/performance", docs: OpenAPIOperation(summary: "Averages over finished tasks", tags: tags,
            queryParameters: [projectParameter])) { request, _ in
            var v = Validator()
            let projectID = project(&v, request)
            try v.check()
            return .json(try s.store.performance(projectID: projectID))
        }
    }
}
