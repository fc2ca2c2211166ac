import Foundation
import Synchronization
import Testing
@testable import HTTPServer

private struct Item: Codable {
    var name: String
    var price: Double
}

private struct Boom: Error {
    let secret = "database password is hunter2"
}

/// The router most end-to-end tests use.
private func makeRouter(logs: LogCapture? = nil) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self, logger: logs?.logger ?? Logger(sink: .discard))
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: CORSMiddleware(allowedOrigins: .list(["https://dash.example"])))
    router.get("/health", execution: .eventLoop) { _, _ in .json(["status": "ok"]) }
    router.post("/echo") { request, _ in Response(status: .ok, contentType: "application/octet-stream", body: request.body) }
    router.get("/servers/{id}") { _, context in try .json(["id": .string(context.parameters.require("id"))]) }
    router.get("/servers/active") { _, _ in .json(["active": true]) }
    router.get("/numbers/{n}") { _, context in try .json(["n": .int(context.parameters.require("n", as: Int.self))]) }
    router.get("/search") { request, _ in
        try .json(["q": .string(request.query["q"] ?? ""), "limit": .int(request.query.get("limit", as: Int.self) ?? 10)])
    }
    router.get("/boom") { _, _ in throw Boom() }
    router.get("/big") { _, _ in Response(status: .ok, contentType: "application/octet-stream",
                                          body: [UInt8](repeating: 0x61, count: 8 * 1024 * 1024)) }
    router.post("/items") { request, _ in
        let item = try request.decode(Item.self)
        return try .json(encoding: item, status: .created)
    }
    let api = router.group("/api", middleware: [APIKeyMiddleware(keys: ["secret-key"]),
                                                // 3 per hour: no token refills while a loaded machine runs the test.
                                                RateLimitMiddleware(limit: 3, per: .seconds(3600))])
    api.get("/data") { _, context in .json(["client": .string(context.core.clientIdentity)]) }
    return router
}

struct HTTPServerTests {
    @Test func keepAlive_ServesSeveralRequestsOnOneConnection() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        for _ in 0..<5 {
            client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try #require(client.readResponse())
            #expect(response.status == 200)
            #expect(response.text == #"{"status":"ok"}"#)
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(response.headers["X-Request-ID"] != nil)
            #expect(response.headers["Date"] != nil)
            #expect(response.headers["Connection"] == nil)
        }
    }

    @Test func pipelinedRequests_AreAnsweredInOrder_AcrossLoopAndPool() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
                    + "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
                    + "GET /servers/7 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponse()?.text == "one")
        #expect(client.readResponse()?.text == #"{"status":"ok"}"#)
        #expect(client.readResponse()?.text == "two")
        #expect(client.readResponse()?.text == #"{"id":"7"}"#)
    }

    @Test func connectionClose_IsHonoured() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let response = try #require(client.readResponse())
        #expect(response.headers["Connection"] == "close")
        #expect(client.isClosedByPeer())
        let old = try RawClient(port: server.port)
        old.send("GET /health HTTP/1.0\r\n\r\n")
        #expect(old.readResponse()?.status == 200)
        #expect(old.isClosedByPeer())
    }

    @Test func expectContinue_GetsInterimResponseBeforeBody() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        #expect(client.readResponse()?.status == 100)
        client.send("hello")
        #expect(client.readResponse()?.text == "hello")
    }

    @Test func head_HasGetHeadersButNoBody() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try #require(client.readResponse(headRequest: true))
        #expect(head.status == 200)
        #expect(head.headers["Content-Length"] == "15")
        // If a body had been sent, this next response would be misread.
        client.send("GET /servers/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponse()?.text == #"{"id":"1"}"#)
    }

    @Test func oversizedAndAmbiguousRequests_AreRejected_AndConnectionCloses() throws {
        let server = try TestServer(router: makeRouter()) { $0.parserLimits.maxBodyBytes = 1024 }
        defer { server.stop() }
        let cases: [(String, Int)] = [
            ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "a", count: 5000), 413),
            ("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 70_000) + "\r\n\r\n", 431),
            ("GET /" + String(repeating: "c", count: 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431),
            ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
            ("\u{01}\u{02}garbage\r\n\r\n", 400),
        ]
        for (raw, status) in cases {
            let client = try RawClient(port: server.port)
            client.send(raw)
            let response = try #require(client.readResponse(), "no response for a \(status) case")
            #expect(response.status == status)
            #expect(response.headers["Connection"] == "close")
            #expect(response.text.hasPrefix(#"{"detail":"#))
            #expect(client.isClosedByPeer())
        }
        // Each kind of rejection (413, 431, 400) is logged once per interval, and the server keeps serving.
        #expect(server.logs.all.filter { $0.contains("request_rejected") }.count == 3)
        let client = try RawClient(port: server.port)
        client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
    }

    @Test func routing_404_405_Options_ParamsAndQuery() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        func get(_ target: String, method: String = "GET") throws -> RawClient.ParsedResponse {
            client.send("\(method) \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
            return try #require(client.readResponse())
        }
        let missing = try get("/nope")
        #expect(missing.status == 404)
        #expect(missing.text == #"{"detail":"Not Found"}"#)
        let wrongMethod = try get("/health", method: "DELETE")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["Allow"] == "GET, HEAD, OPTIONS")
        #expect(try get("/health", method: "OPTIONS").status == 204)
        #expect(try get("/servers/active").text == #"{"active":true}"#)
        #expect(try get("/servers/web%2001").text == #"{"id":"web 01"}"#)
        #expect(try get("/search?q=a%20b+c&limit=5").text == #"{"q":"a b c","limit":5}"#)
        let badNumber = try get("/numbers/abc")
        #expect(badNumber.status == 422)
        #expect(badNumber.text == #"{"detail":[{"loc":["path","n"],"msg":"value is not a valid integer","type":"type_error.integer"}]}"#)
        #expect(try get("/search?limit=x").status == 422)
    }

    @Test func errors_AreMappedWithoutLeakingInternals() throws {
        let logs = LogCapture()
        let server = try TestServer(router: makeRouter(logs: logs))
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
        let failure = try #require(client.readResponse())
        #expect(failure.status == 500)
        #expect(failure.text == #"{"detail":"Internal server error"}"#)
        #expect(logs.all.contains { $0.contains("hunter2") && $0.contains("unhandled_error") })

        let body = #"{"name": "x", "price": "cheap"}"#
        client.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let invalid = try #require(client.readResponse())
        #expect(invalid.status == 422)
        #expect(invalid.text == #"{"detail":[{"loc":["body","price"],"msg":"value is not a valid float","type":"type_error.float"}]}"#)
        client.send("POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        #expect(client.readResponse()?.text.contains(#""loc":["body","name"],"msg":"field required","type":"value_error.missing""#) == true)
    }

    @Test func apiKeyAndRateLimit_ProtectTheGroup() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        for header in ["", "X-API-Key: wrong\r\n", "X-API-Key: secret-ke\r\n"] {
            client.send("GET /api/data HTTP/1.1\r\nHost: x\r\n\(header)\r\n")
            let response = try #require(client.readResponse())
            #expect(response.status == 401)
            #expect(response.text == #"{"detail":"Invalid or missing API key"}"#)
        }
        for _ in 0..<3 {
            client.send("GET /api/data HTTP/1.1\r\nHost: x\r\nX-API-Key: secret-key\r\n\r\n")
            #expect(client.readResponse()?.status == 200)
        }
        client.send("GET /api/data HTTP/1.1\r\nHost: x\r\nX-API-Key: secret-key\r\n\r\n")
        let limited = try #require(client.readResponse())
        #expect(limited.status == 429)
        let retryAfter = try #require(Int(limited.headers["Retry-After"] ?? ""))
        #expect(retryAfter >= 1 && retryAfter <= 1200)   // one token per 1,200 s
        #expect(limited.text == #"{"detail":"Rate limit exceeded. Try again in \#(retryAfter) seconds."}"#)
        // Public routes are not affected.
        client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
    }

    @Test func cors_AnswersPreflightAndDecoratesAllowedOrigins() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("OPTIONS /api/data HTTP/1.1\r\nHost: x\r\nOrigin: https://dash.example\r\nAccess-Control-Request-Method: GET\r\n\r\n")
        let preflight = try #require(client.readResponse())
        #expect(preflight.status == 204)
        #expect(preflight.headers["Access-Control-Allow-Origin"] == "https://dash.example")
        #expect(preflight.headers["Access-Control-Allow-Headers"]?.contains("X-API-Key") == true)
        client.send("GET /health HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n")
        #expect(client.readResponse()?.headers["Access-Control-Allow-Origin"] == nil)
        client.send("GET /nope HTTP/1.1\r\nHost: x\r\nOrigin: https://dash.example\r\n\r\n")
        #expect(client.readResponse()?.headers["Access-Control-Allow-Origin"] == "https://dash.example")
    }

    @Test func slowClients_TimeOut_WithoutStallingOthers() throws {
        // The well-behaved clients below must get their request in within the header timeout of connecting;
        // 3 s leaves room for a loaded machine to stall this thread between connect() and send().
        let server = try TestServer(router: makeRouter()) { configuration in
            configuration.headerTimeout = .seconds(3)
            configuration.bodyTimeout = .seconds(3)
            configuration.idleTimeout = .seconds(3)
        }
        defer { server.stop() }
        let slowHead = try RawClient(port: server.port)
        slowHead.send("GET /health HTTP/1.1\r\nHo")
        let slowBody = try RawClient(port: server.port)
        slowBody.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        let idle = try RawClient(port: server.port)
        idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(idle.readResponse()?.status == 200)

        let healthy = try RawClient(port: server.port)
        healthy.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(healthy.readResponse()?.status == 200)

        #expect(slowHead.readResponse()?.status == 408)
        #expect(slowHead.isClosedByPeer())
        #expect(slowBody.readResponse()?.status == 408)
        #expect(idle.isClosedByPeer())
    }

    @Test func clientThatNeverReads_IsDisconnected() throws {
        let server = try TestServer(router: makeRouter()) { $0.writeTimeout = .milliseconds(300) }
        defer { server.stop() }
        let stuck = try RawClient(port: server.port)
        var small: Int32 = 4096
        setsockopt(stuck.fd, SOL_SOCKET, SO_RCVBUF, &small, 4)
        stuck.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        let other = try RawClient(port: server.port)
        other.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(other.readResponse()?.status == 200)
        #expect(eventually { server.logs.all.contains { $0.contains("write_timeout") } })
    }

    @Test func gracefulShutdown_FinishesInFlightRequests() throws {
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let router = makeRouter()
        router.get("/slow") { _, _ in
            started.signal()
            release.wait()
            return .text("finished")
        }
        let server = try TestServer(router: router)
        let busy = try RawClient(port: server.port)
        busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        started.wait()
        let idle = try RawClient(port: server.port)
        idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(idle.readResponse()?.status == 200)

        // A grace period that a loaded machine cannot outlast before `release` is signalled (shutdown returns
        // as soon as the in-flight request is done, so a long one costs nothing).
        let stopped = DispatchSemaphore(value: 0)
        Thread { server.server.shutdown(gracePeriod: .seconds(120)); stopped.signal() }.start()
        #expect(idle.isClosedByPeer())
        release.signal()
        let response = try #require(busy.readResponse())
        #expect(response.text == "finished")
        #expect(response.headers["Connection"] == "close")
        stopped.wait()
        #expect(server.server.connectionCount == 0)
        #expect(throws: SocketError.self) { _ = try RawClient(port: server.port) }
    }

    @Test func manyConcurrentClients_AllGetCorrectAnswers() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            guard let client = try? RawClient(port: server.port) else { failures.withLock { $0 += 1 }; return }
            for request in 0..<25 {
                let body = "client \(index) request \(request)"
                client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                if client.readResponse()?.text != body { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }

    @Test func accessLog_WritesOneJSONLinePerRequest() throws {
        let logs = LogCapture()
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: AccessLogMiddleware(logger: logs.logger))
        router.get("/servers/{id}", execution: .eventLoop) { _, _ in .text("x") }
        let server = try TestServer(router: router)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /servers/9?token=abc HTTP/1.1\r\nHost: x\r\nX-Request-ID: trace-42\r\n\r\n")
        #expect(client.readResponse()?.headers["X-Request-ID"] == "trace-42")
        let line = try #require(logs.all.first { $0.contains(#""msg":"request""#) })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["request_id"] as? String == "trace-42")
        #expect(json["route"] as? String == "/servers/{id}")
        #expect(json["status"] as? Int == 200)
        #expect(!line.contains("token=abc"))
    }

    @Test func severalListeners_RunInOneProcess_OnIPv4AndIPv6() throws {
        let first = try TestServer(router: makeRouter())
        defer { first.stop() }
        let router = Router(context: BasicRequestContext.self)
        router.get("/health", execution: .eventLoop) { _, _ in .text("second") }
        var configuration = HTTPServer.Configuration(host: "::1", port: 0)
        configuration.logger = Logger(sink: .discard)
        let second = try HTTPServer(configuration: configuration, responder: router, eventLoopGroup: Shared.group,
                                    workerPool: Shared.pool)
        try second.start()
        defer { second.shutdown() }
        let (status, output, _) = try runProcess("curl", ["-s", "-g", "http://[::1]:\(second.port!)/health"])
        #expect(status == 0)
        #expect(output == "second")
        #expect(try runProcess("curl", ["-s", "\(first.baseURL)/health"]).1 == #"{"status":"ok"}"#)
    }
}
