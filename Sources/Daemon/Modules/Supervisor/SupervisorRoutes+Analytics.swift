import Foundation
import HTTPServer

/// `/api/v1/analytics/*` and `/api/v1/analytics/advanced/*`.
extension SupervisorRoutes {
    func addAnalyticsRoutes() {
        let core = self.core
        let read = api("analytics:read")
        read.get("/analytics/summary", docs: doc("Dashboard summary from stored tasks and measurements", "analytics")) { _, _ in .json(try core.summary()) }
        read.post("/analytics/query", docs: doc("Aggregate a metric over a time range", "analytics",
                                                fields: [.choice("metric_type", SupervisorCore.metricTypes, required: true), .choice("time_range", SupervisorCore.timeRanges.keys.sorted()), .choice("aggregation", SupervisorCore.aggregations), .choice("group_by", ["none", "name", "hour", "day"]), .object("filters"), .int("limit", range: 1...10_000)],
                                                body: ["metric_type": "task_execution", "time_range": "24h", "aggregation": "average", "group_by": "name"])) { request, _ in
            var body = try BodyReader(request)
            let type = body.choice("metric_type", SupervisorCore.metricTypes, required: true)
            let range = body.choice("time_range", SupervisorCore.timeRanges.keys.sorted()) ?? "24h"
            let aggregation = body.choice("aggregation", SupervisorCore.aggregations) ?? "average"
            let groupBy = body.choice("group_by", ["none", "name", "hour", "day"]) ?? "none"
            let filters = body.object("filters") ?? []
            let limit = body.int("limit", range: 1...10_000) ?? 1_000
            try body.finish()
            var points = try core.points(type!, since: core.now - SupervisorCore.timeRanges[range]!)
            for (key, value) in filters {
                points = points.filter { key == "name" ? JSONValue.string($0.name) == value : $0.labels[key] == value }
            }
            let groups = Dictionary(grouping: points) { p -> String in
                switch groupBy {
                case "name": p.name
                case "hour": core.iso((p.at / 3_600).rounded(.down) * 3_600)
                case "day": core.iso((p.at / 86_400).rounded(.down) * 86_400)
                default: "all"
                }
            }
            let results: [JSONValue] = groups.sorted { $0.key < $1.key }.prefix(limit).map {
                ["group": .string($0.key), "value": .double(SupervisorCore.aggregate($0.value.map(\.value), aggregation)), "count": .int($0.value.count)]
            }
            return .json(["metric_type": .string(type!), "time_range": .string(range), "aggregation": .string(aggregation), "group_by": .string(groupBy),
                          "results": .array(results), "total_points": .int(points.count), "generated_at": .string(core.iso(core.now))])
        }
        read.get("/analytics/insights", docs: doc("Rule-based insights (error rate, CPU, queue depth)", "analytics")) { _, _ in .json(.array(try core.insights())) }
        read.get("/analytics/trends/{metric_type}", docs: doc("Least-squares trend over hourly means of the last 7 days", "analytics",
                                                              path: ["metric_type": JSONSchema.enumeration(SupervisorCore.metricTypes)], query: [.int("prediction_hours", 1...168)])) { request, context in
            let type = context.parameters["metric_type"] ?? ""
            guard SupervisorCore.metricTypes.contains(type) else {
                throw ValidationError(location: ["path", "metric_type"], message: "value is not a valid enumeration member; permitted: "
                                      + SupervisorCore.metricTypes.joined(separator: ", "), type: "type_error.enum")
            }
            var query = QueryReader(request)
            let hours = query.int("prediction_hours", default: 24, range: 1...168)
            try query.finish()
            return .json(try core.trend(type, predictionHours: hours))
        }
        read.get("/analytics/metrics", docs: doc("Raw metric entries, newest first", "analytics", query: [.choice("metric_type", ["task_execution", "system_performance", "workflow_performance", "provider_call"]), .int("limit", 1...10_000)])) { request, _ in
            var query = QueryReader(request)
            let limit = query.int("limit", default: 100, range: 1...10_000)
            let type = query.choice("metric_type", ["task_execution", "system_performance", "workflow_performance", "provider_call"])
            try query.finish()
            let rows = try core.database.write { c in
                try c.query("SELECT id, metric_type, name, value, labels, recorded_at FROM metric_entries WHERE (?1 IS NULL OR metric_type = ?1) ORDER BY id DESC LIMIT ?2",
                            [type.map(SQLiteValue.text) ?? .null, .integer(Int64(limit))]) { r -> JSONValue in
                    .object([("id", .int(Int(r.int64(0)))), ("metric_type", .string(r.string(1) ?? "")), ("name", .string(r.string(2) ?? "")),
                             ("value", .double(r.double(3))), ("labels", JSONColumn.value(r.string(4))), ("timestamp", JSONColumn.iso(r.double(5)))])
                }
            }
            return .json(.array(rows))
        }
        read.post("/analytics/collect/task/{task_id}", docs: doc("Record a task's metrics from its stored sessions", "analytics", created: "The task's recorded metrics",
                                                                 errors: [404: "Task not found"])) { _, context in
            let id = try context.parameters.id("task_id", what: "Task")
            guard let task = try core.task(id) else { throw SupervisorError.notFound("Task \(id) not found") }
            let (runs, seconds) = try core.database.write { c in
                (Int(try c.scalar("SELECT count(*) FROM task_sessions WHERE task_id = ?", [.integer(Int64(id))])?.int64 ?? 0),
                 try c.scalar("SELECT total(execution_time_seconds) FROM task_sessions WHERE task_id = ?", [.integer(Int64(id))])?.double ?? 0)
            }
            let labels: JSONValue = ["task_id": .int(id), "status": task["status"] ?? .null, "sessions": .int(runs), "collected": true]
            core.record("task_metrics", task["type"]?.stringValue ?? "", seconds * 1_000, labels: labels)
            return .created(["task_id": .int(id), "execution_time_ms": .double(seconds * 1_000), "sessions": .int(runs), "status": task["status"] ?? .null])
        }
        read.post("/analytics/collect/system", docs: doc("Sample this host now and store the measurements", "analytics", created: "The stored sample")) { _, _ in
            .created(try core.sampleNow())
        }
        read.get("/analytics/providers/dashboard", docs: doc("Per-provider requests, success rate, latency, cost", "analytics")) { _, _ in
            .json(["providers": .array(try core.providerDashboard()), "generated_at": .string(core.iso(core.now))])
        }
        read.get("/analytics/providers/cost-optimization", docs: doc("Cost recommendations from recorded provider calls", "analytics")) { _, _ in
            let dashboard = try core.providerDashboard()
            let total = dashboard.compactMap { $0["total_cost_usd"]?.doubleValue }.reduce(0, +)
            let recommendations: [JSONValue] = dashboard.compactMap { p in
                guard let rate = p["success_rate"]?.doubleValue, let calls = p["total_requests"]?.intValue, calls >= 5, rate < 0.8 else { return nil }
                return ["provider_id": p["provider_id"] ?? .null, "recommendation": .string("route away: success rate \(Int(rate * 100)) % wastes retries"),
                        "estimated_savings_usd": .double((p["total_cost_usd"]?.doubleValue ?? 0) * (1 - rate))]
            }
            return .json(["total_cost_usd": .double(total), "recommendations": .array(recommendations), "generated_at": .string(core.iso(core.now))])
        }
        read.get("/analytics/providers/performance-comparison", docs: doc("Providers ranked by success rate, then latency", "analytics")) { _, _ in
            let ranked = try core.providerDashboard().sorted {
                let a = ($0["success_rate"]?.doubleValue ?? 0, -($0["average_response_time_ms"]?.doubleValue ?? 0))
                let b = ($1["success_rate"]?.doubleValue ?? 0, -($1["average_response_time_ms"]?.doubleValue ?? 0))
                return a > b
            }
            return .json(["ranking": .array(ranked), "generated_at": .string(core.iso(core.now))])
        }
        read.get("/analytics/providers/{provider_id}/metrics", docs: doc("One provider's recorded calls", "analytics", errors: [404: "Provider not found"])) { _, context in
            let id = context.parameters["provider_id"] ?? ""
            guard let entry = try core.providerDashboard().first(where: { $0["provider_id"] == .string(id) }) else {
                throw SupervisorError.notFound("Provider \(id) not found")
            }
            return .json(entry)
        }
    }

    func addAdvancedAnalyticsRoutes() {
        let core = self.core
        let read = api("analytics:read")
        read.get("/analytics/advanced/metrics/real-time", docs: doc("Latest host sample with anomalies and a one-hour prediction", "analytics")) { _, _ in
            let (_, sample) = core.hostSample()
            return .json(["metrics": sample, "anomalies": .array(try core.anomalies("system_performance")),
                          "predictions": try core.trend("system_performance", predictionHours: 1), "timestamp": .string(core.iso(core.now))])
        }
        read.get("/analytics/advanced/dashboard/data", docs: doc("Summary, trends, insights and providers in one document", "analytics")) { _, _ in
            .json(["summary": try core.summary(), "insights": .array(try core.insights()),
                   "trends": .object(try ["task_execution", "error_rate"].map { ($0, try core.trend($0, predictionHours: 24)) }),
                   "providers": .array(try core.providerDashboard()), "generated_at": .string(core.iso(core.now))])
        }
        read.get("/analytics/advanced/insights", docs: doc("Insights with anomalies (z-score > 3) and recommendations", "analytics")) { _, _ in
            let anomalies = try SupervisorCore.metricTypes.flatMap { try core.anomalies($0) }
            return .json(["insights": .array(try core.insights()), "anomalies": .array(anomalies), "generated_at": .string(core.iso(core.now))])
        }
        api("analytics:export").get("/analytics/advanced/export", docs: doc("Export metric entries as JSON, CSV or Excel-readable CSV", "analytics",
                                                                             query: [.choice("format", ["json", "csv", "excel"]), .choice("metric_type", SupervisorCore.metricTypes),
                                                                                     .choice("time_range", SupervisorCore.timeRanges.keys.sorted())])) { request, _ in
            var query = QueryReader(request)
            let format = query.choice("format", ["json", "csv", "excel"], default: "json")!
            let type = query.choice("metric_type", SupervisorCore.metricTypes, default: "task_execution")!
            let range = query.choice("time_range", SupervisorCore.timeRanges.keys.sorted(), default: "24h")!
            try query.finish()
            let points = try core.points(type, since: core.now - SupervisorCore.timeRanges[range]!)
            if format == "json" {
                return .json(["metric_type": .string(type), "time_range": .string(range), "count": .int(points.count),
                              "data": .array(points.map { ["timestamp": .string(core.iso($0.at)), "name": .string($0.name), "value": .double($0.value), "labels": $0.labels] })])
            }
            func cell(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            let csv = "timestamp,metric_type,name,value,labels\r\n" + points.map {
                [core.iso($0.at), type, cell($0.name), String($0.value), cell($0.labels.encodedString)].joined(separator: ",")
            }.joined(separator: "\r\n")
            var response = Response(status: .ok, contentType: format == "csv" ? "text/csv; charset=utf-8" : "application/vnd.ms-excel", body: Array(csv.utf8))
            response.headers.add(name: "Content-Disposition", value: "attachment; filename=\"\(type)-\(range).\(format == "csv" ? "csv" : "xls.csv")\"")
            return response
        }
    }
}
