import Foundation
import HTTPServer

/// `GET /metrics`: the Prometheus text exposition (docs/metrics.md).
///
/// Protected by the daemon's API key, presented either as `X-API-Key` or as `Authorization: Bearer <key>`:
/// the metrics name servers and their risk, and Prometheus sends a bearer token natively
/// (`authorization: {credentials_file: …}` in a scrape config) but no custom headers.
struct MetricsRoutes: Sendable {
    let metrics: DaemonMetrics
    let auth: APIKeyMiddleware<BasicRequestContext>
    let state: @Sendable () -> ScrapeState

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.group("", middleware: [BearerAsAPIKey(auth: auth)]).get("/metrics", docs: OpenAPIOperation(
            summary: "Prometheus metrics (text exposition 0.0.4); X-API-Key or Authorization: Bearer <key>", tags: ["service"],
            responses: [200: OpenAPIResponse("Metrics in the Prometheus text format")])
        ) { [metrics, state] _, _ in
            Response(status: .ok, contentType: PrometheusText.contentType, body: Array(metrics.render(state()).utf8))
        }
    }
}

/// Accepts `Authorization: Bearer <key>` as the API key (then checks it with the daemon's own
/// ``APIKeyMiddleware``: same keys, same constant-time comparison, same 401).
struct BearerAsAPIKey: Middleware {
    typealias Context = BasicRequestContext
    let auth: APIKeyMiddleware<BasicRequestContext>

    func handle(_ request: Request, context: inout BasicRequestContext, next: MiddlewareNext<BasicRequestContext>) throws -> Response {
        var request = request
        if request.headers[auth.headerName] == nil, let authorization = request.headers["Authorization"] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                request.head.headers.replaceOrAdd(name: auth.headerName, value: parts[1].trimmingCharacters(in: .whitespaces))
            }
        }
        return try auth.handle(request, context: &context, next: next)
    }

    func document(_ operation: inout OpenAPIOperation) {
        auth.document(&operation)
        operation.security.append("BearerKey")
        operation.securitySchemes["BearerKey"] = ["type": "http", "scheme": "bearer"]
    }
}
