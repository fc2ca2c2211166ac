import Foundation
import Testing
import Training
@testable import Daemon

/// End to end over real sockets on 127.0.0.1 (ephemeral ports): feed → tick → TFT → snapshot → HTTP.
@Suite struct DaemonAPITests {
    let servers = ["ppdb001", "ppml0001", "ppweb001"]

    @Test func health_Status_AndAuthOnEveryProtectedRoute() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        let health = try d.get("/health", key: nil)
        #expect(health.status == 200)
        // The core's members come first, unchanged; autopack's and the modules' follow (AutopackHealthTests).
        #expect(health.text.hasPrefix(#"{"status":"healthy","service":"tft_inference_daemon","running":true,"#))
        let status = try d.get("/status", key: nil)
        #expect(status.status == 200)
        #expect(status.object["model_loaded"] as? Bool == false)
        #expect(status.object["mode"] as? String == "no_model")
        #expect(status.object["rolling_window_size"] as? Int == 64)
        #expect(status.object["servers_tracked"] as? Int == 0)
        #expect(status.object["warmup_complete"] as? Bool == false)
        #expect(status.object["uptime_seconds"] is Int)
        for (method, path) in [("GET", "/predictions/current"), ("GET", "/alerts/active"), ("POST", "/feed/data"),
                               ("GET", "/admin/models"), ("POST", "/admin/reload-model"), ("POST", "/admin/trigger-training"),
                               ("GET", "/admin/training-status"), ("GET", "/admin/training-stats"), ("POST", "/admin/cancel-training")] {
            for key: String? in [nil, "wrong-key"] {
                let reply = try d.request(method, path, key: key)
                #expect(reply.status == 401, "\(method) \(path) with key \(key ?? "none")")
                #expect(reply.text == #"{"detail":"Invalid or missing API key"}"#)
            }
        }
        // Without a model the feed still works and predictions say why there are none.
        #expect(try d.post("/feed/data", Feed.body(Feed.fleet(servers, at: Feed.base))).status == 200)
        let predictions = try d.get("/predictions/current")
        #expect(predictions.status == 503)
        #expect(predictions.object["error"] as? String == "Model not loaded")
    }

    @Test func feed_BadInputMatrix_Answers4xxWithLocAndStoresNothing() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let good = Feed.record(server: "ppdb001")
        let cases: [(Data, [Any])] = [
            (Feed.body([Feed.record(removing: ["mem_used_pct"])]), ["body", "records", 0, "mem_used_pct"]),
            (Feed.body([Feed.record(overrides: ["cpu_user_pct": "high"])]), ["body", "records", 0, "cpu_user_pct"]),
            (Feed.body([Feed.record(overrides: ["mem_used_pct": 101])]), ["body", "records", 0, "mem_used_pct"]),
            (Feed.body([Feed.record(status: "on_fire")]), ["body", "records", 0, "status"]),
            (Feed.body([Feed.record(timestamp: "yesterday")]), ["body", "records", 0, "timestamp"]),
            (Feed.body([good, good, Feed.record(server: "ppdb002", overrides: ["uptime_days": 5.5])]), ["body", "records", 2, "uptime_days"]),
            (Feed.body([] as [[String: Any]]), ["body", "records"]),
            (Data(#"{"records": [{"cpu_user_pct": NaN}]}"#.utf8), ["body"]),
            (Data("{not json".utf8), ["body"]),
        ]
        for (body, loc) in cases {
            let reply = try d.post("/feed/data", body)
            #expect(reply.status == 422, "\(reply.text)")
            let detail = reply.object["detail"] as? [[String: Any]] ?? []
            #expect(detail.contains { ($0["loc"] as? [Any]).map { "\($0)" } == "\(loc)" }, "\(loc) not in \(reply.text)")
            #expect(detail.allSatisfy { $0["msg"] is String && $0["type"] is String })
        }
        // Oversized batch (more than 10,000 records): refused before anything is stored.
        let oversized = try d.post("/feed/data", Feed.body(Array(repeating: good, count: 10_001)))
        #expect((400..<500).contains(oversized.status), "\(oversized.status)")
        #expect(oversized.object["detail"] != nil)
        let status = try d.get("/status", key: nil)
        #expect(status.object["servers_tracked"] as? Int == 0)
        #expect(status.object["total_records"] as? Int == 0)
    }

    @Test func predictions_WarmUpErrorThenTrueFutureForecasts() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<5)
        let warming = try d.get("/predictions/current")
        #expect(warming.status == 200)
        #expect(warming.object["error"] as? String == "insufficient_data")
        #expect(warming.object["message"] as? String == "Need at least 12 records, have 5")
        #expect((warming.object["predictions"] as? [String: Any])?.isEmpty == true)
        let feedReply = try d.post("/feed/data", Feed.body(Feed.fleet(servers, at: Feed.base + 5 * 300)))
        #expect(feedReply.object["status"] as? String == "warming_up")
        #expect(feedReply.object["progress"] as? String == "50% (need 12 records minimum)")

        try d.feed(servers, steps: 6..<20)
        let reply = try d.get("/predictions/current")
        #expect(reply.status == 200)
        let body = reply.object
        let predictions = try #require(body["predictions"] as? [String: [String: Any]])
        #expect(Set(predictions.keys) == Set(servers))
        let db = try #require(predictions["ppdb001"])
        #expect(db["profile"] as? String == "Database")
        #expect(predictions["ppml0001"]?["profile"] as? String == "ML Compute")
        let risk = try #require(db["risk_score"] as? Double)
        let alert = try #require(db["alert"] as? [String: Any])
        #expect(alert["score"] as? Double == risk)
        #expect(alert["level"] as? String == AlertLevel(score: risk).rawValue)
        #expect(alert["color"] as? String == AlertLevel(score: risk).color)
        #expect(alert["emoji"] as? String == AlertLevel(score: risk).emoji)
        #expect(alert["label"] as? String == AlertLevel(score: risk).label)
        let display = try #require(db["display_metrics"] as? [String: String])
        #expect(display["cpu"] == "35.6%")             // 100 − idle 64.4
        #expect(display["memory"] == "\(50 + 19 % 7).0%")
        #expect(display["disk_io"] != nil)
        let forecast = try #require(db["forecast"] as? [String: Any])
        for key in ["cpu_pct", "mem_pct", "iowait_pct", "swap_pct", "disk_pct", "load_average"] {
            #expect((forecast[key] as? [Double])?.count == TinyModel.horizon, "\(key)")
        }
        #expect(forecast["p10"] == nil)
        // True future: the first forecast step is one step after the last observation.
        let timestamps = try #require(forecast["timestamps"] as? [String])
        #expect(timestamps.count == TinyModel.horizon)
        #expect(timestamps.first == Feed.iso(Feed.base + 20 * 300))
        #expect(timestamps.last == Feed.iso(Feed.base + Int64(19 + TinyModel.horizon) * 300))
        #expect(body["timestamp"] as? String == Feed.iso(Feed.base + 19 * 300))
        let summary = try #require(body["summary"] as? [String: Any])
        #expect(summary["total_servers"] as? Int == 3)
        let counts = ["critical", "warning", "degraded", "healthy"].compactMap { summary[$0] as? Int }
        #expect(counts.count == 4 && counts.reduce(0, +) == 3)
        let health = try #require(summary["fleet_health"] as? Double)
        #expect((0...100).contains(health))
        for p in ["prob_30m", "prob_8h"] { #expect((summary[p] as? Double).map { (0...1).contains($0) } == true) }
        #expect(body["alerts"] is [Any])

        // Filter, compact and bands.
        let one = try d.get("/predictions/current?server=ppweb001").object
        #expect((one["predictions"] as? [String: Any]).map { Array($0.keys) } == ["ppweb001"])
        let compact = try d.get("/predictions/current?compact=true").object
        #expect((compact["predictions"] as? [String: [String: Any]])?["ppdb001"]?["forecast"] == nil)
        #expect((compact["predictions"] as? [String: [String: Any]])?["ppdb001"]?["risk_score"] as? Double == risk)
        let bands = try d.get("/predictions/current?bands=true&server=ppdb001").object
        let bandForecast = (bands["predictions"] as? [String: [String: Any]])?["ppdb001"]?["forecast"] as? [String: Any]
        let p10 = try #require((bandForecast?["p10"] as? [String: [Double]])?["mem_pct"])
        let p90 = try #require((bandForecast?["p90"] as? [String: [Double]])?["mem_pct"])
        let p50 = try #require(bandForecast?["mem_pct"] as? [Double])
        #expect(p10.count == TinyModel.horizon && p90.count == TinyModel.horizon && p50.count == TinyModel.horizon)
        // The bands are the served model's own 0.1 and 0.9 quantiles (a random-weight model's may cross, so
        // their order is not the check): each equals the snapshot's forecast at that level, to the JSON's 2 decimals.
        let served = try #require(d.daemon.engine.latest?.servers.first { $0.serverName == "ppdb001" })
        let mem = try #require(served.forecastKeys.firstIndex(of: "mem_pct"))
        func quantile(_ level: Float) -> [Double] {
            let q = served.quantiles.indices.min { abs(served.quantiles[$0] - level) < abs(served.quantiles[$1] - level) }!
            return served.forecast[mem][q].map(Double.init)
        }
        for (band, level) in [(p10, Float(0.1)), (p50, 0.5), (p90, 0.9)] {
            #expect(zip(band, quantile(level)).allSatisfy { abs($0 - $1) <= 0.0051 }, "level \(level): \(band) vs \(quantile(level))")
        }
        #expect(p10 != p90)
        #expect(try d.get("/predictions/current?server=nope").status == 404)

        // Predictions are computed per tick, never per GET.
        let runs = d.daemon.engine.runCount
        for _ in 0..<5 { _ = try d.get("/alerts/active") }
        #expect(d.daemon.engine.runCount == runs)
        let alerts = try d.get("/alerts/active").object
        #expect(alerts["count"] as? Int == (alerts["alerts"] as? [Any])?.count)
        #expect(alerts["timestamp"] as? String == Feed.iso(Feed.base + 19 * 300))

        let status = try d.get("/status", key: nil).object
        #expect(status["model_loaded"] as? Bool == true)
        #expect(status["mode"] as? String == "tft")
        #expect(status["warmup_complete"] as? Bool == true)
        #expect(status["servers_tracked"] as? Int == 3)
        #expect(status["last_prediction"] is String)
        #expect((status["model_path"] as? String)?.hasSuffix("tft_model_20250115_100001") == true)
    }

    @Test func alerts_OneActiveAlertPerServerAndMetric() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        // ppdb001's memory is critical now (99 % ≥ 98 %); the others are fine.
        try d.feed(servers, steps: 0..<16) { s, _ in s == "ppdb001" ? 99 : 40 }
        let body = try d.get("/alerts/active").object
        let alerts = try #require(body["alerts"] as? [[String: Any]])
        let pairs = alerts.map { "\($0["server_name"] ?? "")/\($0["metric"] ?? "")" }
        #expect(Set(pairs).count == pairs.count)                     // no duplicates
        let memory = try #require(alerts.first { $0["server_name"] as? String == "ppdb001" && $0["metric"] as? String == "memory" })
        #expect(memory["level"] as? String == "critical")
        #expect(memory["profile"] as? String == "Database")
        #expect(memory["message"] as? String == "Memory exhaustion now")
        #expect(memory["time_to_issue"] as? String == "now")
        #expect(memory["risk_score"] as? Double ?? 0 >= 80)
        let predictions = try d.get("/predictions/current").object
        let summary = try #require(predictions["summary"] as? [String: Any])
        #expect(summary["critical"] as? Int ?? 0 >= 1)
        #expect((predictions["alerts"] as? [[String: Any]])?.contains { $0["server_name"] as? String == "ppdb001" } == true)
        let filtered = try d.get("/alerts/active?server=ppweb001").object
        #expect((filtered["alerts"] as? [[String: Any]])?.allSatisfy { $0["server_name"] as? String == "ppweb001" } == true)
    }

    @Test func rateLimit_FeedAnswers429WithRetryAfter() throws {
        let d = try TestDaemon(withModel: false) { $0.feedRateLimit = 2 }
        defer { d.stop(); d.dir.cleanup() }
        let body = Feed.body(Feed.fleet(servers, at: Feed.base))
        #expect(try d.post("/feed/data", body).status == 200)
        #expect(try d.post("/feed/data", body).status == 200)
        let limited = try d.post("/feed/data", body)
        #expect(limited.status == 429)
        #expect((limited.object["detail"] as? String)?.hasPrefix("Rate limit exceeded. Try again in") == true)
    }

    @Test func openAPI_ListsTheCoreRoutes() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        let doc = try d.get("/openapi.json", key: nil).object
        let paths = try #require(doc["paths"] as? [String: Any])
        for p in ["/health", "/status", "/feed/data", "/predictions/current", "/alerts/active", "/admin/models",
                  "/admin/reload-model", "/admin/trigger-training", "/admin/training-status", "/admin/training-stats",
                  "/admin/cancel-training"] {
            #expect(paths[p] != nil, "\(p)")
        }
    }
}
