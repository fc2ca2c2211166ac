import Foundation
import HTTPServer
import Synchronization

/// Counts requests per (method, route) and their latency, for `phantom_api_*` on `/api/metrics`.
final class RequestMetrics: Sendable {
    static let buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    struct Series: Sendable { var count = 0; var sum = 0.0; var buckets = [Int](repeating: 0, count: RequestMetrics.buckets.count) }
    private let series = Mutex<[String: Series]>([:])

    func record(method: String, route: String, seconds: Double) {
        series.withLock { all in
            var s = all[method + " " + route] ?? Series()
            s.count += 1
            s.sum += seconds
            for (i, bound) in Self.buckets.enumerated() where seconds <= bound { s.buckets[i] += 1 }
            all[method + " " + route] = s
        }
    }

    var snapshot: [(String, Series)] { series.withLock { $0.sorted { $0.key < $1.key } } }
}

struct RequestMetricsMiddleware: Middleware {
    let metrics: RequestMetrics
    func handle(_ request: Request, context: inout BasicRequestContext, next: MiddlewareNext<BasicRequestContext>) throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let response = next(request, &context)
        metrics.record(method: request.method.rawValue, route: context.core.route ?? "unmatched",
                       seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        return response
    }
}

/// `/api/health` and `/api/metrics` (spec §8).
struct SystemRoutes: Sendable {
    let services: OrchestrationServices

    /// `/api/health` stays public (probes); `/api/metrics` goes on `protected` (the API-key group when bound
    /// beyond loopback).
    func addRoutes(public router: some RouterMethods<BasicRequestContext>, protected: some RouterMethods<BasicRequestContext>) {
        let s = services
        router.get("/api/health", docs: OpenAPIOperation(summary: "Module health: database round trip, queue, uptime (public)", tags: ["system"])) { _, _ in
            let database: String
            do { _ = try s.store.db.read { try $0.scalar("SELECT COUNT(*) FROM projects") }; database = "connected" } catch { database = "error: \(error)" }
            let depth = s.queue.depth
            return .json(.object([
                ("status", .string(database == "connected" ? "healthy" : "unhealthy")), ("database", .string(database)),
                ("redis", "not_used"), ("timestamp", s.feed.timestamp),
                ("uptime_seconds", .int(Int(Date().timeIntervalSince(s.startedAt)))),
                ("queued_tasks", .int(depth.queued)), ("running_tasks", .int(depth.running)),
            ]), status: database == "connected" ? .ok : .serviceUnavailable)
        }
        protected.get("/api/metrics", docs: OpenAPIOperation(summary: "Prometheus text: API requests and task counters", tags: ["system"])) { _, _ in
            Response(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(try Self.prometheus(s).utf8))
        }
    }

    static func label(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func prometheus(_ s: OrchestrationServices) throws -> String {
        var out = "# HELP phantom_api_requests_total Total API requests\n# TYPE phantom_api_requests_total counter\n"
        let series = s.requests.snapshot
        for (key, value) in series {
            let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
            out += "phantom_api_requests_total{method=\"\(parts[0])\",endpoint=\"\(label(parts[1]))\"} \(value.count)\n"
        }
        out += "# HELP phantom_api_duration_seconds API response time\n# TYPE phantom_api_duration_seconds histogram\n"
        for (key, value) in series {
            let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
            let labels = "method=\"\(parts[0])\",endpoint=\"\(label(parts[1]))\""
            for (i, bound) in RequestMetrics.buckets.enumerated() {
                out += "phantom_api_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(value.buckets[i])\n"
            }
            out += "phantom_api_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(value.count)\n"
            out += "phantom_api_duration_seconds_sum{\(labels)} \(value.sum)\nphantom_api_duration_seconds_count{\(labels)} \(value.count)\n"
        }
        let counters = try s.store.prometheusCounters()
        out += "# HELP lazybird_tasks_completed_total Tasks by project type and status\n# TYPE lazybird_tasks_completed_total gauge\n"
        for (type, status, count) in counters.tasks {
            out += "lazybird_tasks_completed_total{project_type=\"\(label(type))\",status=\"\(label(status))\"} \(count)\n"
        }
        out += "# HELP lazybird_tokens_used_total Tokens used by successful provider calls\n# TYPE lazybird_tokens_used_total counter\n"
        for (agent, tokens) in counters.tokens { out += "lazybird_tokens_used_total{agent_type=\"\(label(agent))\"} \(tokens)\n" }
        out += "# HELP lazybird_cost_usd_total Cost of provider calls\n# TYPE lazybird_cost_usd_total counter\nlazybird_cost_usd_total \(counters.cost)\n"
        out += "# HELP lazybird_agent_switches_total Agent switches\n# TYPE lazybird_agent_switches_total counter\n"
        for (from, to, reason, count) in counters.switches {
            out += "lazybird_agent_switches_total{from=\"\(label(from))\",to=\"\(label(to))\",reason=\"\(label(reason))\"} \(count)\n"
        }
        out += "# HELP lazybird_circuit_breaker_open Whether an agent's circuit breaker is open\n# TYPE lazybird_circuit_breaker_open gauge\n"
        for (agent, breaker) in s.breakers.snapshot(known: try s.knownAgents()) {
            out += "lazybird_circuit_breaker_open{agent=\"\(label(agent))\"} \(breaker.state == .open ? 1 : 0)\n"
        }
        return out
    }
}
