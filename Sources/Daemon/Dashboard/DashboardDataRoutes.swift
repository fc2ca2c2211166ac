import HTTPServer
import TFTCore

/// Two reads the dashboard needs that the spec's API lacks (additions, same auth and rate limit as
/// `/historical/*`): a server's observed history of the forecast targets, with its alert thresholds, so a
/// forecast can be drawn as the continuation of its past; and every server's risk samples, for sparklines.
struct DashboardDataRoutes: Sendable {
    let store: FeedStore
    let history: HistoryStore

    /// A forecast target as the API names it, the feed field it is observed as, and its graded metric.
    struct Target: Sendable {
        var key: String
        var field: MetricField
        var metric: ThresholdMetric
    }

    /// The keys of `/predictions/current`'s `forecast` (cpu busy is 100 − idle; load is graded per core).
    static let targets: [Target] = [
        Target(key: "cpu_pct", field: .cpuIdlePct, metric: .cpu),
        Target(key: "mem_pct", field: .memUsedPct, metric: .memory),
        Target(key: "iowait_pct", field: .cpuIowaitPct, metric: .iowait),
        Target(key: "swap_pct", field: .swapUsedPct, metric: .swap),
        Target(key: "disk_pct", field: .diskUsagePct, metric: .disk),
        Target(key: "load_average", field: .loadAverage, metric: .loadPerCore),
    ]

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        let store = self.store, history = self.history
        group.get("/historical/metrics/{server_name}", docs: OpenAPIOperation(
            summary: "A server's observed forecast targets (cpu_pct, mem_pct, …) per step, with its warning/critical thresholds",
            tags: ["historical"], queryParameters: [HistoryRoutes.rangeParameter],
            responses: [200: .init("Observed series, oldest first; null where the step was not observed (default time_range 8h)"),
                        404: .init("Unknown server", schema: JSONSchema.errorDetail)])) { request, context in
            let name = try context.parameters.require("server_name")
            let range = try HistoryTimeRange.parse(request.query, default: .hours8)
            guard let body = Self.metrics(store: store, server: name, range: range) else {
                throw HTTPError(.notFound, "Server \(name) not found")
            }
            return .json(body)
        }
        group.get("/historical/risk", docs: OpenAPIOperation(
            summary: "Every server's risk score per tick (for sparklines)", tags: ["historical"],
            queryParameters: [HistoryRoutes.rangeParameter],
            responses: [200: .init("Per server: timestamps and risk scores, oldest first (default time_range 1h)")])) { request, _ in
            .json(try Self.risk(history: history, range: HistoryTimeRange.parse(request.query, default: .hour1)))
        }
    }

    static func metrics(store: FeedStore, server: String, range: HistoryTimeRange) -> JSONValue? {
        let step = Int64(store.status().stepSeconds)
        let steps = Int(max(1, range.seconds / max(step, 1)))
        guard let s = store.snapshot(lastSteps: steps, servers: [server]).servers.first else { return nil }
        let profile = ServerProfile.resolve(serverName: s.serverName, override: s.profile)
        let thresholds = ProfileThresholds.for(profile)
        let cores = Double(profile.nominalCores)
        var series: [(String, JSONValue)] = []
        var limits: [(String, JSONValue)] = []
        for target in targets {
            let values: [JSONValue] = (0..<s.length).map { i in
                guard s.observed[i] != 0 else { return .null }
                let raw = Double(s.values[target.field.index * s.length + i])
                let value = target.field == .cpuIdlePct ? 100 - raw : raw
                return .double((value * 100).rounded() / 100)
            }
            series.append((target.key, .array(values)))
            let levels = thresholds[target.metric]
            let scale = target.metric == .loadPerCore ? cores : 1   // load thresholds are per core
            limits.append((target.key, .object([("warning", .double(levels.warning * scale)),
                                                ("critical", .double(levels.critical * scale))])))
        }
        series.append(("timestamps", .array(s.timestamps.map { .string(ISO8601Timestamp.format($0)) })))
        return .object([
            ("server_name", .string(s.serverName)),
            ("profile", .string(profile.displayName)),
            ("time_range", .string(range.rawValue)),
            ("step_seconds", .int(Int(s.stepSeconds))),
            ("metrics", .object(series)),
            ("thresholds", .object(limits)),
        ])
    }

    static func risk(history: HistoryStore, range: HistoryTimeRange) throws -> JSONValue {
        let (from, to) = range.bounds(end: history.clock)
        let rows = try history.database.read { c in
            try c.query("""
                SELECT server_name, ts, risk_score FROM history_risk_samples
                WHERE ts > ? AND ts <= ? ORDER BY server_name, ts
                """, [.integer(from), .integer(to)]) { ($0.string(0) ?? "", $0.int64(1), $0.double(2)) }
        }
        var servers: [(String, JSONValue)] = []
        var index = rows.startIndex
        while index < rows.endIndex {
            let name = rows[index].0
            var end = index
            while end < rows.endIndex && rows[end].0 == name { end += 1 }
            let slice = rows[index..<end]
            servers.append((name, .object([
                ("timestamps", .array(slice.map { .string(ISO8601Timestamp.format($0.1)) })),
                ("risk_score", .array(slice.map { .double($0.2) })),
            ])))
            index = end
        }
        return .object([("success", true), ("time_range", .string(range.rawValue)), ("servers", .object(servers))])
    }
}
