import Foundation
import HTTPServer

/// `/api/v1/providers/*`: the registry, health from recorded calls, execution through a routing strategy.
extension SupervisorRoutes {
    /// `\z`, not `$`: ICU's `$` also matches before a final newline, which the documented (ECMA) pattern refuses.
    static let providerIDPattern = try! NSRegularExpression(pattern: #"^[a-z0-9][a-z0-9_\-]{0,63}\z"#)
    static let providerIDSchema: JSONValue = ["type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"]

    func addProviderRoutes() {
        let core = self.core
        let read = api("providers:read"), manage = api("providers:manage")
        @Sendable func existing(_ id: String) throws -> SupervisorCore.ProviderRow {
            guard let row = try core.provider(id) else { throw SupervisorError.notFound("Provider \(id) not found") }
            return row
        }
        read.get("/providers", docs: doc("All providers", "providers")) { _, _ in .json(.array(try core.providers().map(core.providerJSON))) }
        read.get("/providers/status", docs: doc("Provider health overview", "providers")) { _, _ in
            let all = try core.providers().map(core.providerJSON)
            return .json(["providers": .array(all), "total": .int(all.count), "healthy": .int(all.filter { $0["status"] == "healthy" }.count),
                          "timestamp": .string(core.iso(core.now))])
        }
        read.get("/providers/analytics", docs: doc("Cross-provider call statistics", "providers")) { _, _ in
            let dashboard = try core.providerDashboard()
            return .json(["providers": .array(dashboard),
                          "total_requests": .int(dashboard.compactMap { $0["total_requests"]?.intValue }.reduce(0, +)),
                          "total_cost_usd": .double(dashboard.compactMap { $0["total_cost_usd"]?.doubleValue }.reduce(0, +))])
        }
        manage.post("/providers/{provider_id}/register", docs: doc("Register a provider (types other than local ones are declared but unreachable offline)", "providers", created: "The registered provider",
                                                                   fields: [.choice("type", SupervisorCore.providerTypes, required: true), .object("config"), .int("priority", range: 1...10), .bool("enabled")],
                                                                   body: ["type": "anthropic", "config": ["model": "…"], "priority": 5, "enabled": true],
                                                                   path: ["provider_id": Self.providerIDSchema],
                                                                   errors: [409: "Provider exists"])) { request, context in
            let id = context.parameters["provider_id"] ?? ""
            var body = try BodyReader(request)
            let type = body.choice("type", SupervisorCore.providerTypes, required: true)
            let config = body.object("config").map(JSONValue.object) ?? .object([])
            let priority = body.int("priority", range: 1...10) ?? 5
            let enabled = body.bool("enabled") ?? true
            if Self.providerIDPattern.firstMatch(in: id, range: NSRange(id.startIndex..., in: id)) == nil {
                body.fail("provider_id", "lowercase letters, digits, '-' and '_', at most 64", "value_error.str.regex")
            }
            try body.finish()
            guard try core.provider(id) == nil else { throw SupervisorError.conflict("Provider \(id) already registered") }
            try core.database.write { c in
                try c.run("INSERT INTO providers (id, type, config, priority, enabled, built_in, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
                          [.text(id), .text(type!), JSONColumn.text(config), .integer(Int64(priority)), .integer(enabled ? 1 : 0), .real(core.now)])
            }
            core.audit("PROVIDER_REGISTERED", userID: try principal(request).userID, details: ["provider_id": .string(id), "type": .string(type!)])
            return .created(try core.providerJSON(try existing(id)))
        }
        manage.delete("/providers/{provider_id}", docs: doc("Unregister a provider", "providers", errors: [404: "Provider not found", 409: "Built-in provider"])) { _, context in
            let id = context.parameters["provider_id"] ?? ""
            let row = try existing(id)
            guard !row.builtIn else { throw SupervisorError.conflict("Provider \(id) is built in and cannot be removed") }
            try core.database.write { try $0.run("DELETE FROM providers WHERE id = ?", [.text(id)]) }
            return .json(["message": "Provider unregistered", "provider_id": .string(id)])
        }
        read.get("/providers/{provider_id}/health", docs: doc("One provider's health", "providers", errors: [404: "Provider not found"])) { _, context in
            let row = try existing(context.parameters["provider_id"] ?? "")
            let (status, score, reason) = try core.providerHealth(row)
            let stats = try core.providerStats(row.id)
            return .json(["provider_id": .string(row.id), "status": .string(status), "health_score": .double(score), "reason": .string(reason),
                          "success_rate": .double(stats.successRate), "average_response_time_ms": .double(stats.averageMilliseconds),
                          "checked_at": .string(core.iso(core.now))])
        }
        read.get("/providers/{provider_id}/usage", docs: doc("One provider's usage (last hour, day, all time)", "providers", errors: [404: "Provider not found"])) { _, context in
            let row = try existing(context.parameters["provider_id"] ?? "")
            func window(_ seconds: Double?) throws -> JSONValue {
                let s = try core.providerStats(row.id, window: seconds)
                return ["requests": .int(s.calls), "successes": .int(s.successes), "cost_usd": .double(s.costUSD), "average_response_time_ms": .double(s.averageMilliseconds)]
            }
            return .json(["provider_id": .string(row.id), "last_hour": try window(3_600), "last_day": try window(86_400), "all_time": try window(nil)])
        }
        let execute = api("tasks:execute")
        // Keep in step with `executionFields`.
        @Sendable func readExecution(_ body: inout BodyReader) -> (String?, JSONValue, String, String?) {
            let type = body.choice("task_type", TaskTypes.all, required: true)
            let payload = body.object("payload").map(JSONValue.object) ?? .object([])
            let strategy = body.choice("routing_strategy", SupervisorCore.routingStrategies) ?? "priority"
            let provider = body.string("provider_id", maxLength: 64)
            return (type, payload, strategy, provider)
        }
        @Sendable func run(_ type: String, _ payload: JSONValue, _ strategy: String, _ provider: String?) -> JSONValue {
            let started = DispatchTime.now().uptimeNanoseconds
            let (providerID, outcome) = core.executeWithProvider(taskType: type, payload: payload, strategy: strategy, preferred: provider)
            return ["provider_id": .string(providerID), "success": .bool(outcome.success), "result": outcome.output,
                    "error": outcome.error.map(JSONValue.string) ?? .null, "tokens_in": .int(outcome.tokensIn), "tokens_out": .int(outcome.tokensOut),
                    "cost_usd": .double(outcome.costUSD), "execution_time_ms": .double(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)]
        }
        execute.post("/providers/execute", docs: doc("Execute one task through a provider now", "providers",
                                                     fields: Self.executionFields,
                                                     body: ["task_type": "ISSUE_SUMMARY", "payload": ["title": "Crash on start"], "routing_strategy": "priority"])) { request, _ in
            var body = try BodyReader(request)
            let (type, payload, strategy, provider) = readExecution(&body)
            try body.finish()
            return .json(run(type!, payload, strategy, provider))
        }
        execute.post("/providers/execute/batch", docs: doc("Execute several tasks, at most max_concurrent at once", "providers",
                                                           fields: [.array("tasks", required: true, minCount: 1, maxCount: 100, items: BodyField.schema(Self.executionFields)), .int("max_concurrent", range: 1...20)],
                                                           body: ["tasks": [["task_type": "CODE_ANALYSIS", "payload": ["code": "if x {}"]]], "max_concurrent": 5])) { request, _ in
            var body = try BodyReader(request)
            let items = body.array("tasks", required: true, maxCount: 100) ?? []
            let concurrency = body.int("max_concurrent", range: 1...20) ?? 5
            var jobs: [(String, JSONValue, String, String?)] = []
            for (index, item) in items.enumerated() {
                guard case .object(let members) = item else { body.fail("tasks", "tasks[\(index)] is not a valid dict", "type_error.dict"); continue }
                var one = BodyReader(object: members, prefix: ["body", "tasks", .index(index)])
                let (type, payload, strategy, provider) = readExecution(&one)
                body.absorb(one)
                if let type { jobs.append((type, payload, strategy, provider)) }
            }
            if body.has("tasks") && items.isEmpty { body.fail("tasks", "ensure this value has at least 1 items", "value_error.list.min_items") }
            try body.finish()
            let results = ResultSlots(count: jobs.count)
            let semaphore = DispatchSemaphore(value: concurrency)
            let group = DispatchGroup()
            for (index, job) in jobs.enumerated() {
                semaphore.wait()
                DispatchQueue.global().async(group: group) {
                    results.set(index, run(job.0, job.1, job.2, job.3))
                    semaphore.signal()
                }
            }
            group.wait()
            let all = results.values
            return .json(["results": .array(all), "total": .int(all.count), "succeeded": .int(all.filter { $0["success"] == .bool(true) }.count),
                          "max_concurrent": .int(concurrency)])
        }
        read.post("/providers/recommendations", docs: doc("Providers ranked for a task type (0.4·health + 0.4·performance + 0.2·cost)", "providers",
                                                          fields: [.choice("task_type", TaskTypes.all, required: true)],
                                                          body: ["task_type": "CODE_ANALYSIS"])) { request, _ in
            var body = try BodyReader(request)
            let type = body.choice("task_type", TaskTypes.all, required: true)
            try body.finish()
            let ranked = try core.providers().map { row -> JSONValue in
                ["provider_id": .string(row.id), "type": .string(row.type), "recommendation_score": .double(try core.recommendationScore(row, taskType: type!)),
                 "supports_task_type": .bool(row.executor?.supports(type!) ?? false)]
            }.sorted { ($0["recommendation_score"]?.doubleValue ?? 0) > ($1["recommendation_score"]?.doubleValue ?? 0) }
            return .json(["task_type": .string(type!), "recommendations": .array(ranked)])
        }
    }
}

/// Results written by concurrent batch jobs, each into its own slot.
final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [JSONValue]
    init(count: Int) { slots = Array(repeating: .null, count: count) }
    func set(_ index: Int, _ value: JSONValue) { lock.withLock { slots[index] = value } }
    var values: [JSONValue] { lock.withLock { slots } }
}

extension SupervisorRoutes {
    /// What `readExecution` accepts (one execution, or one item of a batch), for the OpenAPI document.
    static let executionFields: [BodyField] = [.choice("task_type", TaskTypes.all, required: true), .object("payload"),
                                               .choice("routing_strategy", SupervisorCore.routingStrategies),
                                               .string("provider_id", maxLength: 64)]
}
