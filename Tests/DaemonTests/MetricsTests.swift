import Foundation
import HTTPServer
import Synchronization
import Testing
@testable import Daemon

/// `GET /metrics`, read the way Prometheus reads it: the exposition is parsed by the official Python
/// client's parser (`prometheus_client`, pinned in tools/requirements-test.txt) and the values must move
/// with what the daemon did.
@Suite("Metrics")
struct MetricsTests {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// Scrapes `/metrics` with `requests` and parses it with `prometheus_client.parser`; every sample as JSON.
    static func scrape(port: Int, header: (String, String)) throws -> [Sample] {
        let script = """
        import json, sys, requests
        from prometheus_client.parser import text_string_to_metric_families
        r = requests.get(sys.argv[1], headers={sys.argv[2]: sys.argv[3]})
        assert r.status_code == 200, (r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
        out = []
        for family in text_string_to_metric_families(r.text):
            for s in family.samples:
                out.append([s.name, s.labels, s.value])
        print(json.dumps(out))
        """
        let (status, output, errors) = try runTool("python3", ["-c", script, "http://127.0.0.1:\(port)/metrics", header.0, header.1], requires: "prometheus-client (bash tools/test.sh installs it)")
        try #require(status == 0, "scrape failed (run the suite through tools/test.sh for prometheus_client): \(errors)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Any]])
        return rows.map { Sample(name: $0[0] as! String, labels: $0[1] as! [String: String], value: ($0[2] as! NSNumber).doubleValue) }
    }


    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { s in s.name == name && labels.allSatisfy { k, v in s.labels[k] == v } }?.value
    }

    /// Histogram invariants: cumulative buckets never decrease and `+Inf` equals `_count`.
    static func checkHistogram(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        let buckets = samples.filter { s in s.name == name + "_bucket" && labels.allSatisfy { k, v in s.labels[k] == v } }
        guard let count = value(samples, name + "_count", labels), let inf = buckets.last, inf.labels["le"] == "+Inf" else { return nil }
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.value <= $1.value }, "\(name) buckets decrease")
        #expect(inf.value == count, "\(name): +Inf \(inf.value) != count \(count)")
        return count
    }

    @Test("feed, ticks and requests move the parsed metrics; routes are patterns; per-server series are capped")
    func metricsMoveWithTheDaemon() throws {
        let d = try TestDaemon(configure: { $0.metricsTopServers = 2 })
        defer { d.stop(); d.dir.cleanup() }
        let bearer = ("Authorization", "Bearer \(TestDaemon.key)")
        let before = try Self.scrape(port: d.port, header: bearer)
        #expect(Self.value(before, "argus_build_info", ["version": ArgusBuild.version]) == 1)
        #expect(Self.value(before, "argus_feed_records_total") == 0)
        let runsBefore = try #require(Self.value(before, "argus_inference_runs_total"))

        let servers = ["ppdb001", "ppdb002", "ppml001", "ppweb001", "ppweb002"]
        try d.feed(servers, steps: 0..<14)
        #expect(try d.post("/feed/data", Feed.body([Feed.record(removing: ["cpu_user_pct"])])).status == 422)
        #expect(try d.get("/explain/ppdb001").status == 200)
        #expect(try d.get("/no/such/route/\(UUID().uuidString)").status == 404)
        for _ in 0..<3 {   // no Host header: refused by the parser (400), never routed
            let raw = try DashboardSlowReaderTests.Client(port: d.port)
            raw.send(Array("GET /health HTTP/1.1\r\n\r\n".utf8))
            var status = [UInt8](repeating: 0, count: 12)
            #expect(recv(raw.fd, &status, 12, Int32(MSG_WAITALL)) == 12 && String(decoding: status, as: UTF8.self) == "HTTP/1.1 400")
        }
        d.daemon.engine.drain()

        let after = try Self.scrape(port: d.port, header: ("X-API-Key", TestDaemon.key))
        #expect(Self.value(after, "argus_feed_records_total") == Double(servers.count * 14))
        #expect(Self.value(after, "argus_feed_batches_total", ["outcome": "accepted"]) == 14)
        #expect(Self.value(after, "argus_feed_batches_total", ["outcome": "rejected"]) == 1)
        #expect(Self.checkHistogram(after, "argus_feed_ingest_duration_seconds") == 15)
        #expect(Self.value(after, "argus_http_requests_total", ["method": "POST", "route": "/feed/data", "status": "200"]) == 14)
        #expect(Self.value(after, "argus_http_requests_total", ["method": "POST", "route": "/feed/data", "status": "422"]) == 1)
        #expect(Self.value(after, "argus_http_requests_total", ["route": "/explain/{server_name}", "status": "200"]) == 1)
        #expect(Self.value(after, "argus_http_requests_total", ["route": "unmatched", "status": "404"]) == 1)
        #expect(!after.contains { ($0.labels["route"] ?? "").contains("ppdb001") || ($0.labels["route"] ?? "").contains("no/such") },
                "a raw path leaked into the route label")
        #expect(Self.checkHistogram(after, "argus_http_request_duration_seconds", ["method": "POST", "route": "/feed/data"]) == 15)
        #expect(Self.value(after, "argus_http_rejections_total", ["kind": "malformed_request"]) == 3)
        #expect(Self.value(after, "argus_http_rejections_total", ["kind": "header_timeout"]) == 0)
        // The first scrape itself was counted (its 200 is written after the scrape's text was built).
        #expect(Self.value(after, "argus_http_requests_total", ["method": "GET", "route": "/metrics", "status": "200"]) == 1)

        let runs = try #require(Self.value(after, "argus_inference_runs_total"))
        #expect(runs > runsBefore)
        for phase in DaemonMetrics.phases {
            #expect(Self.checkHistogram(after, "argus_inference_phase_duration_seconds", ["phase": phase]) == runs, "phase \(phase)")
        }
        #expect(Self.value(after, "argus_servers_tracked") == Double(servers.count))
        #expect(Self.value(after, "argus_servers_predicted") == Double(servers.count))
        let byLevel = after.filter { $0.name == "argus_servers_by_level" }.map(\.value).reduce(0, +)
        #expect(byLevel == Double(servers.count))
        #expect(after.filter { $0.name == "argus_alerts_active" }.count == 3)

        // Per-server series: exactly the 2 riskiest, with their snapshot scores.
        let risk = after.filter { $0.name == "argus_server_risk_score" }
        #expect(risk.count == 2)
        let snapshot = try #require(d.daemon.engine.latest)
        let ranked = snapshot.servers.sorted { $0.risk.score != $1.risk.score ? $0.risk.score > $1.risk.score : $0.serverName < $1.serverName }
        for (sample, prediction) in zip(risk, ranked) {
            #expect(sample.labels["server"] == prediction.serverName)
            #expect(abs(sample.value - prediction.risk.score) < 1e-9)
        }
        let forecastServers = Set(after.filter { $0.name == "argus_server_forecast_peak" }.compactMap { $0.labels["server"] })
        #expect(forecastServers == Set(ranked.prefix(2).map(\.serverName)))
        #expect(after.contains { $0.name == "argus_server_forecast_peak" && $0.labels["target"] == "cpu_pct" && $0.labels["quantile"] == "0.9" })

        // Forecast quality: the calibration's fleet figures, labelled by forecast key and horizon. Three more steps,
        // one tick each, score the 5-minute forecasts.
        for i in 14..<17 { try d.feed(servers, steps: i..<(i + 1)) }
        let scored = try Self.scrape(port: d.port, header: bearer)
        let summary = try #require(d.daemon.calibration?.summary())
        let keys = d.daemon.forecastKeys
        var skills = 0
        for t in summary {
            let target = keys[t.target] ?? t.target
            for (i, horizon) in ["5m", "30m", "2h", "8h"].enumerated() {
                let labels = ["target": target, "horizon": horizon]
                #expect(Self.value(scored, "argus_forecast_error_vs_last_value", labels) == t.medianErrorVsLastValue[i].map(Double.init))
                #expect(Self.value(scored, "argus_forecast_servers_beating_last_value_ratio", labels) == t.shareBeatingLastValue[i].map(Double.init))
                if t.medianErrorVsLastValue[i] != nil { skills += 1 }
            }
            #expect(Self.value(scored, "argus_forecast_band_coverage_ratio", ["target": target])
                    == (t.scored > 0 ? Double(t.insideServed) / Double(t.scored) : nil))
        }
        #expect(skills >= 1 && summary.contains { keys[$0.target] == "mem_pct" && $0.medianErrorVsLastValue[0] != nil })

        #expect(Self.value(after, "argus_model_loaded") == 1)
        #expect(Self.value(after, "argus_training_active") == 0)
        #expect((Self.value(after, "process_resident_memory_bytes") ?? 0) > 0)
        #expect((Self.value(after, "process_cpu_seconds_total") ?? -1) >= 0)
    }

    @Test("/metrics needs the API key, as X-API-Key or Bearer; a wrong key is 401 either way")
    func metricsAuth() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.get("/metrics", key: nil).status == 401)
        #expect(try d.get("/metrics", key: "wrong").status == 401)
        #expect(try d.get("/metrics").status == 200)
        for value in ["Bearer wrong", "Basic \(TestDaemon.key)", "Bearer"] {
            let (status, _) = try LoopbackHTTPClient.send(port: d.port, method: "GET", path: "/metrics", headers: ["Authorization": value])
            #expect(status == 401, "\(value)")
        }
        let (status, body) = try LoopbackHTTPClient.send(port: d.port, method: "GET", path: "/metrics",
                                                         headers: ["Authorization": "bearer \(TestDaemon.key)"])
        #expect(status == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("# TYPE argus_http_requests_total counter"))
    }

    @Test("label values are escaped and histograms are cumulative in the text format")
    func textFormat() throws {
        var text = PrometheusText()
        text.family("x_total", "counter", "help with \\ and\nnewline")
        text.sample("x_total", [("server", "a\"b\\c\nd")], 3)
        let histogram = DurationHistogram(bounds: [0.001, 0.01])
        histogram.observe(seconds: 0.0005)
        histogram.observe(seconds: 0.005)
        histogram.observe(seconds: 5)
        text.family("y_seconds", "histogram", "h")
        text.histogram("y_seconds", [], histogram)
        #expect(text.text.contains(#"x_total{server="a\"b\\c\nd"} 3"#))
        #expect(text.text.contains("# HELP x_total help with \\\\ and\\nnewline"))
        #expect(text.text.contains(#"y_seconds_bucket{le="0.001"} 1"#))
        #expect(text.text.contains(#"y_seconds_bucket{le="0.01"} 2"#))
        #expect(text.text.contains(#"y_seconds_bucket{le="+Inf"} 3"#))
        #expect(text.text.contains("y_seconds_count 3"))
        #expect(text.text.contains("y_seconds_sum 5.0055"))
    }

    @Test("daemon_started is one line naming the listen address, dashboard and metrics URLs, model and key file")
    func startupSummary() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var c = TestDaemon.configuration(dir)
        c.apiKey = nil
        c.apiKeyFile = dir.url.appendingPathComponent("key")
        try "file-key-0123456789\n".write(to: c.apiKeyFile!, atomically: true, encoding: .utf8)
        let model = try TinyModel.write(into: c.modelsDirectory)
        let lines = Mutex<[String]>([])
        let daemon = try ArgusDaemon(configuration: c, logSink: Logger.Sink { bytes in
            lines.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) }
        })
        try daemon.start()
        defer { daemon.shutdown() }
        let started = try #require(lines.withLock { $0 }.first { $0.contains("\"daemon_started\"") })
        #expect(!started.dropLast().contains("\n"), "one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(started.utf8)) as? [String: Any])
        let base = "http://127.0.0.1:\(daemon.port!)"
        #expect(object["listen"] as? String == base)
        #expect(object["dashboard"] as? String == base + "/dashboard")
        #expect(object["metrics"] as? String == base + "/metrics")
        #expect(object["model"] as? String == model.lastPathComponent)
        #expect(object["api_key_file"] as? String == c.apiKeyFile!.path)
        #expect(object["servers_tracked"] as? Int == 0)
        #expect(!started.contains("file-key-0123456789"), "the key itself is never logged")
    }
}
