import HTTPServer

/// The `/historical/*` routes (spec/argus-api.md, "Historical Data"). Read-only: nothing here writes.
public struct HistoryRoutes: Sendable {
    public let store: HistoryStore

    public init(store: HistoryStore) { self.store = store }

    static let rangeParameter = OpenAPIParameter(query: "time_range", schema: JSONSchema.enumeration(HistoryTimeRange.allCases.map(\.rawValue)),
                                                 description: "30m, 1h, 8h, 1d, 1w or 1M (30 days); ranges end at the newest tick")

    /// Any 64-bit integer, clamped to 0...maxAlertsPerResponse; a larger number is 422 (found by fuzzing: the document
    /// said `integer` with no bounds, so the fuzzer's 2^65 was valid data refused).
    static let limitParameter = OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: Int.min...Int.max),
                                                 description: "At most this many events (below 0 means 0; capped at maxAlertsPerResponse, 10000 by default)")

    /// Registers the five routes on `router` (a router or a group carrying auth and rate limits).
    public func addRoutes<R: RouterMethods>(to router: R) {
        let store = self.store
        router.get("/historical/summary", docs: OpenAPIOperation(
            summary: "Alert and fleet-health summary for a time range", tags: ["historical"],
            queryParameters: [Self.rangeParameter], responses: [200: .init("Summary (default time_range 1d)")])) { request, _ in
            .json(try store.summary(HistoryTimeRange.parse(request.query, default: .day1)))
        }
        router.get("/historical/alerts", docs: OpenAPIOperation(
            summary: "Alert events (escalated, de-escalated, resolved) in a time range, newest first", tags: ["historical"],
            queryParameters: [Self.rangeParameter, OpenAPIParameter(query: "server_name", description: "Only this server"),
                              Self.limitParameter],
            responses: [200: .init("Alert events (default time_range 1h)")])) { request, _ in
            let range = try HistoryTimeRange.parse(request.query, default: .hour1)
            let limit = try request.query.get("limit", as: Int.self)
            let server = request.query["server_name"].flatMap { $0.isEmpty ? nil : $0 }
            return .json(try store.alerts(range, server: server, limit: limit))
        }
        router.get("/historical/server/{server_name}", docs: OpenAPIOperation(
            summary: "One server's alert and risk history", tags: ["historical"],
            queryParameters: [Self.rangeParameter], responses: [200: .init("Server history (default time_range 1d)"),
                                                                404: .init("Server never recorded", schema: JSONSchema.errorDetail)])) { request, context in
            let name = try context.parameters.require("server_name")
            let range = try HistoryTimeRange.parse(request.query, default: .day1)
            guard let body = try store.server(name, range: range) else {
                throw HTTPError(.notFound, "Server \(name) not found in history")
            }
            return .json(body)
        }
        router.get("/historical/environment", docs: OpenAPIOperation(
            summary: "Fleet snapshots (one per tick) in a time range, oldest first", tags: ["historical"],
            queryParameters: [Self.rangeParameter], responses: [200: .init("Snapshots (default time_range 1h)")])) { request, _ in
            .json(try store.environment(HistoryTimeRange.parse(request.query, default: .hour1)))
        }
        router.get("/historical/export/{table}", docs: OpenAPIOperation(
            summary: "CSV export of alert events or environment snapshots", tags: ["historical"],
            queryParameters: [OpenAPIParameter(path: "table", schema: JSONSchema.enumeration(HistoryStore.ExportTable.allCases.map(\.rawValue))),
                              Self.rangeParameter], responses: [200: .init("CSV inside JSON (default time_range 1d)")])) { request, context in
            let raw = try context.parameters.require("table")
            guard let table = HistoryStore.ExportTable(rawValue: raw) else {
                throw ValidationError(location: ["path", "table"], message: "Input should be 'alerts' or 'environment'", type: "literal_error")
            }
            return .json(try store.export(table, range: HistoryTimeRange.parse(request.query, default: .day1)))
        }
    }
}
