import Foundation
import HTTPServer

/// `GET /predictions/current` and `GET /alerts/active`: serve the latest ``Snapshot``'s pre-encoded bytes
/// (on the event loop: no model work, no SQLite). Options:
/// - `server=a,b` (or repeated): only these servers (the summary stays the fleet's);
/// - `compact=true`: no forecast arrays (risk, alert, display metrics, probabilities) — for big fleets;
/// - `bands=true` (or `quantiles=p10,p50,p90`): adds `forecast.p10` / `forecast.p90` next to the p50 arrays.
struct PredictionRoutes: Sendable {
    let engine: InferenceEngine
    let models: ModelRegistry
    let store: FeedStore

    /// A documented boolean query flag: absent → false, `true`/`false` in any case, anything else a 422 naming it
    /// (the schema says boolean, so `compact=null` must not quietly mean false).
    static func flag(_ query: QueryParameters, _ name: String) throws -> Bool {
        guard let value = query[name]?.lowercased() else { return false }
        switch value {
        case "true": return true
        case "false": return false
        default: throw ValidationError(location: ["query", .key(name)], message: "Input should be a valid boolean", type: "bool_parsing")
        }
    }

    static func servers(_ query: QueryParameters) -> [String]? {
        let names = query.values(for: "server").flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty }
        return names.isEmpty ? nil : names
    }

    static let etagHeaders: [String: OpenAPIHeader] = [
        "ETag": OpenAPIHeader("Strong entity tag of this snapshot and query; send it back in `If-None-Match`"),
        "Cache-Control": OpenAPIHeader("`no-cache`: keep the body, revalidate before reuse"),
    ]

    /// The spec's warm-up answer, or 503/500 when the reason is not warm-up.
    func notReady() throws -> Response {
        guard models.current != nil else {
            throw HTTPError(.serviceUnavailable, "Model not loaded",
                            extra: [("error", "Model not loaded"), ("mode", "no_model")], headers: ["Retry-After": "30"])
        }
        if let error = engine.lastError {
            throw HTTPError(.internalServerError, "Internal server error", extra: [("error", .string("Inference failed: \(error)"))])
        }
        let warmup = store.warmup()
        var message = warmup.insufficientDataMessage
        if warmup.complete || warmup.warmServers > 0 {
            message = "Need at least \(warmup.requiredSteps) records, have \(warmup.haveSteps); the first forecast is being computed"
        }
        var w = JSONWriter(capacity: 160)
        w.raw("{\"error\":\"insufficient_data\",\"message\":"); w.string(message)
        w.raw(",\"predictions\":{}")
        w.raw(",\"warmup_progress\":"); w.string(warmup.progressText)
        w.raw("}")
        return .json(bytes: w.bytes)
    }

    func addPredictionRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get("current", execution: .eventLoop, docs: OpenAPIOperation(
            summary: "Latest forecasts, risk and alerts for every warmed server (computed per tick, never per request)",
            tags: ["predictions"],
            queryParameters: [
                OpenAPIParameter(query: "server", description: "Only these servers (comma-separated or repeated)"),
                OpenAPIParameter(query: "compact", schema: JSONSchema.boolean, description: "Leave out forecast arrays"),
                OpenAPIParameter(query: "bands", schema: JSONSchema.boolean, description: "Add p10/p90 forecast bands"),
                OpenAPIParameter(header: "If-None-Match", description: "An `ETag` from an earlier answer (or a list, or `*`): "
                                 + "304 with no body while the snapshot and query are the same (RFC 9110, weak comparison)"),
            ],
            responses: [200: .init("The snapshot's predictions. Carries `ETag` (one per snapshot and query) and "
                                   + "`Cache-Control: no-cache`", headers: Self.etagHeaders),
                        304: .init("Not Modified: `If-None-Match` matches the current snapshot's tag for this query; "
                                   + "no body", headers: Self.etagHeaders),
                        404: .init("Unknown server or not warmed up yet"), 503: .init("Model not loaded")])
        ) { [self] request, _ in
            let query = request.query
            let compact = try Self.flag(query, "compact"), bands = try Self.flag(query, "bands")
            guard let snapshot = engine.latest, models.current != nil else { return try notReady() }
            let names = Self.servers(query)
            if let names, !names.contains(where: { snapshot.index[$0] != nil }) {
                throw HTTPError(.notFound, "No prediction for server(s) \(names.joined(separator: ", ")) (unknown or not warmed up yet)")
            }
            let detail: Snapshot.ForecastDetail
            if compact { detail = .none }
            else if bands || (query["quantiles"].map { $0.contains("p10") || $0.contains("p90") } ?? false) { detail = .bands }
            else { detail = .median }
            // Conditional GET: a poller between ticks sends the tag back and gets a bodiless 304.
            let etag = EntityTag(snapshot.entityTag(servers: names, detail: detail))
            return Response.conditional(etag: etag, request: request) {
                .json(bytes: snapshot.predictionsBody(servers: names, detail: detail))
            }
        }
    }

    func addAlertRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get("active", execution: .eventLoop, docs: OpenAPIOperation(
            summary: "Active alerts: one per server and metric at its earliest predicted threshold crossing",
            tags: ["alerts"],
            queryParameters: [
                OpenAPIParameter(query: "server", description: "Only these servers (comma-separated or repeated)"),
                OpenAPIParameter(query: "level", schema: JSONSchema.enumeration(["critical", "warning"]), description: "Only this level"),
            ])
        ) { [self] request, _ in
            let query = request.query
            if let level = query["level"], level != "critical" && level != "warning" {
                throw ValidationError(location: ["query", .key("level")], message: "Input should be 'critical' or 'warning'", type: "enum")
            }
            guard let snapshot = engine.latest, models.current != nil else {
                var w = JSONWriter(capacity: 96)
                w.raw("{\"timestamp\":"); w.string(ISO8601Timestamp.format(Int64(Date().timeIntervalSince1970)))
                w.raw(",\"count\":0,\"alerts\":[],\"mode\":"); w.string(models.current == nil ? "no_model" : "warming_up")
                w.raw("}")
                return .json(bytes: w.bytes)
            }
            return .json(bytes: snapshot.activeAlertsBody(servers: Self.servers(query).map(Set.init), level: query["level"]))
        }
    }
}
