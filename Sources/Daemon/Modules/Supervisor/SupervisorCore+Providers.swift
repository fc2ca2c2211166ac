import Foundation
import HTTPServer

/// The provider registry: built-in local providers plus declared ones, their health from recorded calls, and the
/// original's selection and recommendation formulas.
extension SupervisorCore {
    struct ProviderRow: Sendable {
        var id: String
        var type: String
        var config: JSONValue
        var priority: Int
        var enabled: Bool
        var builtIn: Bool
        var createdAt: Double

        /// The executor behind the row; nil for declared remote types (unreachable: no network here).
        var executor: (any TaskProvider)? {
            switch type {
            case "local": LocalAnalysisProvider()
            case "local_mock": LocalMockProvider()
            default: nil
            }
        }
    }

    struct ProviderStats: Sendable {
        var calls = 0
        var successes = 0
        var averageMilliseconds = 0.0
        var costUSD = 0.0
        var lastUsed: Double?
        var successRate: Double { calls == 0 ? 1 : Double(successes) / Double(calls) }
    }

    static let providerTypes = ["local", "local_mock", "claude_cli", "anthropic", "openai", "remote"]

    func providers() throws -> [ProviderRow] {
        try database.write { c in
            try c.query("SELECT id, type, config, priority, enabled, built_in, created_at FROM providers ORDER BY priority, id", []) { r in
                ProviderRow(id: r.string(0) ?? "", type: r.string(1) ?? "", config: JSONColumn.value(r.string(2)), priority: Int(r.int64(3)),
                            enabled: r.int64(4) != 0, builtIn: r.int64(5) != 0, createdAt: r.double(6))
            }
        }
    }

    func provider(_ id: String) throws -> ProviderRow? { try providers().first { $0.id == id } }

    /// Calls recorded for `id` in the last `window` seconds (all time when nil).
    func providerStats(_ id: String, window: Double? = nil) throws -> ProviderStats {
        let since = window.map { now - $0 } ?? 0
        return try database.write { c in
            let rows = try c.query("SELECT value, labels, recorded_at FROM metric_entries WHERE metric_type = 'provider_call' AND name = ? AND recorded_at >= ? ORDER BY id",
                                   [.text(id), .real(since)]) { ($0.double(0), JSONColumn.value($0.string(1)), $0.double(2)) }
            var stats = ProviderStats()
            stats.calls = rows.count
            stats.successes = rows.filter { $0.1["success"] == .bool(true) }.count
            stats.averageMilliseconds = rows.isEmpty ? 0 : rows.map(\.0).reduce(0, +) / Double(rows.count)
            stats.costUSD = rows.compactMap { $0.1["cost_usd"]?.doubleValue }.reduce(0, +)
            stats.lastUsed = rows.last?.2
            return stats
        }
    }

    /// healthy / degraded (success rate under 80 % over the last 50 calls) / unhealthy (disabled or unreachable).
    func providerHealth(_ row: ProviderRow) throws -> (String, Double, String) {
        guard row.enabled else { return ("unhealthy", 0, "disabled") }
        guard row.executor != nil else { return ("unhealthy", 0, "\(row.type) needs network access, which argusd does not have here") }
        let recent = try providerStats(row.id)
        let score = recent.calls == 0 ? 1 : recent.successRate
        return (score >= 0.8 ? "healthy" : "degraded", score, recent.calls == 0 ? "no calls yet" : "success rate over recorded calls")
    }

    func providerJSON(_ row: ProviderRow) throws -> JSONValue {
        let (status, score, reason) = try providerHealth(row)
        return .object([("id", .string(row.id)), ("type", .string(row.type)), ("config", row.config), ("priority", .int(row.priority)),
                        ("enabled", .bool(row.enabled)), ("built_in", .bool(row.builtIn)), ("status", .string(status)),
                        ("health_score", .double(score)), ("health_reason", .string(reason)), ("created_at", JSONColumn.iso(row.createdAt))])
    }

    /// 0.4·health + 0.4·performance + 0.2·max(0, 1 − cost) (the original's recommendation score).
    func recommendationScore(_ row: ProviderRow, taskType: String) throws -> Double {
        guard let executor = row.executor, row.enabled, executor.supports(taskType) else { return 0 }
        let stats = try providerStats(row.id)
        let health = try providerHealth(row).1
        let performance = stats.calls == 0 ? 0.5 : stats.successRate
        let cost = stats.calls == 0 ? 0 : stats.costUSD / Double(stats.calls)
        return 0.4 * health + 0.4 * performance + 0.2 * max(0, 1 - cost)
    }

    static let routingStrategies = ["priority", "round_robin", "least_loaded", "fastest_response", "capability"]

    /// Picks a provider (preferred if usable) and runs the task; every call is recorded as a `provider_call` metric.
    func executeWithProvider(taskType: String, payload: JSONValue, strategy: String, preferred: String?) -> (String, ProviderOutcome) {
        // local-mock fabricates results, so it runs only when named (`provider_id`), never as an automatic
        // fallback that would mark real tasks completed.
        let candidates = ((try? providers()) ?? []).filter { row in
            row.enabled && (row.executor?.supports(taskType) ?? false) && (try? providerHealth(row).0) != "unhealthy"
                && (row.type != "local_mock" || row.id == preferred)
        }
        var chosen: ProviderRow?
        if let preferred { chosen = candidates.first { $0.id == preferred } }
        if chosen == nil {
            switch strategy {
            case "round_robin" where !candidates.isEmpty:
                chosen = candidates[roundRobin.wrappingAdd(1, ordering: .relaxed).oldValue % candidates.count]
            case "least_loaded":
                chosen = candidates.min { ((try? providerStats($0.id, window: 3_600).calls) ?? 0) < ((try? providerStats($1.id, window: 3_600).calls) ?? 0) }
            case "fastest_response":
                chosen = candidates.min { ((try? providerStats($0.id).averageMilliseconds) ?? 0) < ((try? providerStats($1.id).averageMilliseconds) ?? 0) }
            case "capability":
                chosen = candidates.first { $0.type == "local" } ?? candidates.first
            default:
                chosen = candidates.first   // ordered by priority
            }
        }
        guard let chosen, let executor = chosen.executor else {
            return ("none", ProviderOutcome(success: false, output: .null, error: "no provider can execute \(taskType) tasks offline"))
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let outcome = executor.execute(taskType: taskType, payload: payload)
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        record("provider_call", chosen.id, milliseconds, labels: ["task_type": .string(taskType), "success": .bool(outcome.success),
                                                                  "cost_usd": .double(outcome.costUSD), "tokens_in": .int(outcome.tokensIn),
                                                                  "tokens_out": .int(outcome.tokensOut)])
        return (chosen.id, outcome)
    }
}
