import Foundation
import HTTPServer
import Synchronization
import Testing
@testable import Daemon

/// The built-in dashboard: its files over a real socket, the live push (auth, ticks), training events and
/// the two reads it adds. The page itself is driven in a real browser by Tests/browser/test_dashboard.py.
@Suite struct DashboardTests {
    let servers = ["ppdb001", "ppml0001", "ppweb001"]

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let (status, output, errors) = try runTool(executable, arguments, requires: "\(executable) (curl from apt; Python clients from bash tools/test.sh)")
        return (status, output + errors)
    }

    @Test func pageAndAssets_ServedPubliclyWithTheirContentTypes() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let expected = ["/dashboard": "text/html", "/dashboard/app.css": "text/css", "/dashboard/app.js": "text/javascript",
                        "/dashboard/charts.js": "text/javascript", "/dashboard/views.js": "text/javascript"]
        for (path, type) in expected {
            // curl, no key: the files hold no data.
            let (status, output) = try Self.run("curl", ["-s", "-i", "http://127.0.0.1:\(d.port)\(path)"])
            #expect(status == 0)
            let head = output.components(separatedBy: "\r\n\r\n").first?.lowercased() ?? ""
            #expect(head.hasPrefix("http/1.1 200"), "\(path): \(head)")
            #expect(head.contains("content-type: \(type)"), "\(path): \(head)")
            #expect(head.contains("content-security-policy: default-src 'self'"), "\(path)")
            #expect(head.contains("x-content-type-options: nosniff"))
        }
        let page = try d.get("/dashboard", key: nil).text
        for script in ["/dashboard/charts.js", "/dashboard/views.js", "/dashboard/app.js", "/dashboard/app.css"] {
            #expect(page.contains("\"\(script)\""), "the page must load \(script)")
        }
        #expect(try d.get("/dashboard/missing.js", key: nil).status == 404)
        // The data behind it is not public.
        #expect(try d.get("/historical/risk", key: nil).status == 401)
    }

    @Test func webSocket_RefusesAWrongKeyAndPushesEachTickAfterAuth() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<14)
        let tickBefore = d.daemon.engine.latest?.tick ?? -1
        // A record that drives ppweb001 critical (memory far over its critical level), in the next step:
        // it closes the open step, so it makes one tick.
        let critical = Feed.record(server: "ppweb001", timestamp: Feed.iso(Feed.base + 14 * 300),
                                   overrides: ["mem_used_pct": 99.5, "swap_used_pct": 95.0])
        let body = String(decoding: Feed.body([critical]), as: UTF8.self)
        let script = """
        import asyncio, json, sys, requests, websockets
        port, key, body, before = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
        url = f"ws://127.0.0.1:{port}/dashboard/ws"
        async def main():
            async with websockets.connect(url) as ws:
                await ws.send(json.dumps({"type": "auth", "key": "wrong"}))
                print(json.loads(await ws.recv())["type"])
                try:
                    await ws.recv()
                except websockets.ConnectionClosed as closed:
                    print("closed", closed.rcvd.code)
            async with websockets.connect(url, max_size=None) as ws:
                await ws.send(json.dumps({"type": "auth", "key": key}))
                print(json.loads(await ws.recv())["type"])
                greeting = json.loads(await ws.recv())
                print(greeting["type"], greeting["tick"] == before, sorted(greeting["predictions"]["predictions"]))
                print(json.loads(await ws.recv())["type"])
                r = requests.post(f"http://127.0.0.1:{port}/feed/data", data=body,
                                  headers={"X-API-Key": key, "Content-Type": "application/json"})
                assert r.status_code == 200, r.text
                while True:
                    m = json.loads(await ws.recv())
                    if m["type"] == "tick" and m["tick"] > before:
                        break
                levels = {a["server_name"]: a["level"] for a in m["alerts"]["alerts"]}
                print("pushed", m["predictions"]["predictions"]["ppweb001"]["alert"]["level"], levels.get("ppweb001"))
        asyncio.run(main())
        """
        let (status, output) = try Self.run("python3", ["-c", script, "\(d.port)", TestDaemon.key, body, "\(tickBefore)"])
        #expect(status == 0, "\(output)")
        #expect(output == """
            error
            closed 4401
            hello
            tick True ['ppdb001', 'ppml0001', 'ppweb001']
            training
            pushed critical critical

            """)
        #expect(waitUntil { d.daemon.dashboard.subscriberCount == 0 })
    }

    @Test func webSocket_ClosesASocketThatNeverAuthenticates() throws {
        let push = DashboardPush(events: DaemonEvents(), auth: .init(keys: ["k"]), logger: .init(label: "t", sink: .discard),
                                 authTimeout: 0.2)
        let router = Router(context: BasicRequestContext.self)
        router.webSocket("/dashboard/ws") { _, _ in push.handler() }
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.logger = Logger(label: "http", sink: .discard)
        let server = try HTTPServer(configuration: configuration, responder: router)
        try server.start()
        defer { server.shutdown(gracePeriod: .seconds(1)) }
        let script = """
        import asyncio, sys, websockets
        async def main():
            async with websockets.connect(f"ws://127.0.0.1:{sys.argv[1]}/dashboard/ws") as ws:
                try:
                    await ws.recv()
                except websockets.ConnectionClosed as closed:
                    print(closed.rcvd.code, closed.rcvd.reason)
        asyncio.run(main())
        """
        let (status, output) = try Self.run("python3", ["-c", script, "\(server.port!)"])
        #expect(status == 0, "\(output)")
        #expect(output == "4401 authentication timeout\n")
    }

    @Test func training_PublishesEveryStateChangeAndItsProgress() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<90)
        let seen = Mutex<[TrainingService.Status]>([])
        let subscription = d.daemon.events.subscribe { event in
            if case .training(let status) = event { seen.withLock { $0.append(status) } }
        }
        defer { subscription.cancel() }
        #expect(try d.post("/admin/trigger-training?epochs=2&incremental=true").status == 200)
        d.daemon.training.waitUntilIdle()
        #expect(waitUntil { seen.withLock { $0.last?.state } == "completed" })
        let statuses = seen.withLock { $0 }
        var states: [String] = []
        for s in statuses where states.last != s.state { states.append(s.state) }
        #expect(states == ["preparing", "running", "completed"])
        let percents = statuses.map(\.percent)
        #expect(zip(percents, percents.dropFirst()).allSatisfy { $0 <= $1 }, "\(percents)")
        #expect(statuses.last?.percent == 100 && statuses.last?.active == false)
        #expect(statuses.contains { $0.state == "running" && $0.percent > 0 && $0.percent < 100 }, "progress between start and end")
    }

    @Test func trainingThrottle_PassesStateChangesAndAtMostOneProgressPerInterval() {
        var throttle = TrainingEventThrottle(minimumIntervalNanoseconds: 250)
        let decisions = [("preparing", 0), ("running", 10), ("running", 100), ("running", 259), ("running", 260), ("completed", 261)]
            .map { throttle.shouldPublish(state: $0.0, now: UInt64($0.1)) }
        // State changes always pass; progress in the same state waits for the interval; the end is never held back.
        #expect(decisions == [true, true, false, false, true, true])
    }

    @Test func historyReads_ObservedTargetsWithThresholdsAndRiskSamples() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(servers, steps: 0..<14, mem: { _, i in 40 + Double(i) })
        let metrics = try d.get("/historical/metrics/ppdb001?time_range=1h")
        #expect(metrics.status == 200, "\(metrics.text)")
        let series = metrics.object["metrics"] as? [String: Any] ?? [:]
        let memory = series["mem_pct"] as? [Double] ?? []
        #expect(memory == (2..<14).map { 40 + Double($0) }, "the last hour: 12 steps, oldest first")
        #expect((series["timestamps"] as? [String])?.last == Feed.iso(Feed.base + 13 * 300))
        #expect((series["cpu_pct"] as? [Double])?.count == 12)
        let limits = (metrics.object["thresholds"] as? [String: Any])?["mem_pct"] as? [String: Double]
        #expect(limits != nil && limits!["warning"]! < limits!["critical"]!)
        #expect(try d.get("/historical/metrics/nope").status == 404)
        #expect(try d.get("/historical/metrics/ppdb001?time_range=2h").status == 422)

        let risk = try d.get("/historical/risk?time_range=1d")
        #expect(risk.status == 200)
        let perServer = risk.object["servers"] as? [String: [String: Any]] ?? [:]
        #expect(Set(perServer.keys) == Set(servers))
        let samples = perServer["ppdb001"]?["risk_score"] as? [Double] ?? []
        #expect(!samples.isEmpty && samples.count == (perServer["ppdb001"]?["timestamps"] as? [String])?.count)
    }
}
