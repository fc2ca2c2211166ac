import Foundation
import Glibc
import Testing
@testable import HTTPServer

/// Hostile clients (issue 15): each is bounded, logged at most once, and others are still served.
struct HostileClientTests {
    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self, logger: Logger(sink: .discard))
        router.get("/health", execution: .eventLoop) { _, _ in .json(["status": "ok"]) }
        return router
    }

    private func health(_ server: TestServer) throws -> Int? {
        let client = try RawClient(port: server.port)
        client.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return client.readResponse()?.status
    }

    /// Closes with RST instead of FIN: SO_LINGER with a zero timeout.
    private func reset(_ client: RawClient) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    @Test func tenThousandConnectionsOpenedAndDropped_LeaveNoTraceButServeOthers() throws {
        let server = try TestServer(router: makeRouter())
        defer { server.stop() }
        let linesBefore = server.logs.all.count
        // Batches of 200 keep this process far below a 1,024 descriptor limit.
        for batch in 0..<50 {
            var clients: [RawClient] = []
            for index in 0..<200 {
                let client = try RawClient(port: server.port)
                switch index % 4 {
                case 0: break                                            // connect, then FIN
                case 1: client.send("GET /health HTTP/1.1\r\nHo")         // half a head, then FIN
                case 2: client.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nab"); reset(client)
                default: reset(client)                                   // connect, then RST
                }
                clients.append(client)
            }
            clients.removeAll()                                          // deinit closes every descriptor
            if batch % 10 == 9 { #expect(try health(server) == 200) }
        }
        #expect(try health(server) == 200)
        #expect(eventually { server.server.connectionCount == 0 })
        // Dropped connections are the client's business: no per-connection lines (10,000 would be spam).
        let lines = server.logs.all.dropFirst(linesBefore)
        #expect(lines.count <= 10, "\(lines.count) log lines, first: \(lines.prefix(3))")
    }

    @Test func manySlowlorisHeads_AreTimedOut_WhileANormalClientIsServed() throws {
        let server = try TestServer(router: makeRouter()) { $0.headerTimeout = .seconds(3) }
        defer { server.stop() }
        let attackers = try (0..<200).map { index in
            let client = try RawClient(port: server.port)
            client.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow-\(index): ")
            return client
        }
        #expect(eventually { server.server.connectionCount >= 200 })
        #expect(try health(server) == 200)
        // Every half-sent head ends with 408 and a close, and the server holds nothing afterwards.
        var timedOut = 0
        for attacker in attackers where attacker.readResponse()?.status == 408 && attacker.isClosedByPeer() { timedOut += 1 }
        #expect(timedOut == 200)
        #expect(eventually { server.server.connectionCount == 0 })
        // 200 timeouts, one line: the first is logged, the rest wait for the interval's summary.
        let rejections = server.logs.all.filter { $0.contains("request_rejected") }.count
        #expect(rejections == 1, "\(rejections) request_rejected lines")
        #expect(server.server.rejections.first { $0.kind == .headerTimeout }?.count == 200)
    }

    /// 60 connections of each kind of bad request: every one is answered with its status, and each kind
    /// is logged once (the interval is longer than the test) but counted 60 times.
    @Test func eachKindOfBadRequest_IsRejectedEveryTime_ButLoggedOncePerInterval() throws {
        let server = try TestServer(router: makeRouter()) { configuration in
            configuration.rejectionLogInterval = .seconds(3600)
            configuration.headerTimeout = .seconds(1)
            configuration.bodyTimeout = .seconds(1)
            configuration.parserLimits.maxHeaderBytes = 2048
            configuration.parserLimits.maxBodyBytes = 1024
        }
        defer { server.stop() }
        let attacks: [(kind: ConnectionRejection, request: String, status: Int)] = [
            (.headerTooLarge, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 4096))\r\n\r\n", 431),
            (.bodyTooLarge, "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413),
            (.malformedRequest, "GET /health HTTP/1.1\r\n\r\n", 400),
            (.headerTimeout, "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ", 408),
            (.bodyTimeout, "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 408),
        ]
        let perKind = 60
        for attack in attacks {
            let clients = try (0..<perKind).map { _ in
                let client = try RawClient(port: server.port)
                client.send(attack.request)
                return client
            }
            let answered = clients.filter { $0.readResponse()?.status == attack.status }.count
            #expect(answered == perKind, "\(attack.kind): \(answered) of \(perKind) got \(attack.status)")
            #expect(try health(server) == 200)
        }
        let lines = server.logs.all.filter { $0.contains("request_rejected") }
        for attack in attacks {
            let logged = lines.filter { $0.contains("\"kind\":\"\(attack.kind.rawValue)\"") }.count
            #expect(logged == 1, "\(attack.kind): \(logged) lines")
            #expect(server.server.rejections.first { $0.kind == attack.kind }?.count == UInt64(perKind))
        }
        #expect(lines.count == attacks.count, "\(lines)")
    }

    /// With a short interval the suppressed events come back as summaries whose counts add up.
    @Test func suppressedRejections_AreSummarisedWithACount() throws {
        let server = try TestServer(router: makeRouter()) { $0.rejectionLogInterval = .milliseconds(500) }
        defer { server.stop() }
        for _ in 0..<100 {
            let client = try RawClient(port: server.port)
            client.send("GET /health HTTP/1.1\r\n\r\n")
            #expect(client.readResponse()?.status == 400)
        }
        func logged() -> [String] { server.logs.all.filter { $0.contains("\"kind\":\"malformed_request\"") } }
        func repeatedTotal() -> Int {
            logged().compactMap { line -> Int? in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
                return object["repeated"] as? Int
            }.reduce(0, +)
        }
        // The sweep writes the last summary after the interval even though no further event comes.
        #expect(eventually { 1 + repeatedTotal() == 100 }, "\(logged())")
        #expect(logged().filter { !$0.contains("\"summary\":true") }.count >= 1)
        #expect(logged().count < 100)
    }

    /// WebSocket clients that upgrade and then never read while the server pushes: each is disconnected
    /// once its unread output passes the cap (one line for all of them), and others are still served.
    @Test func webSocketClientsThatNeverRead_AreDisconnected_LoggedOnce() throws {
        let hub = WebSocketHub()
        let router = makeRouter()
        router.webSocket("/ws") { _, _ in WebSocketHandler(onOpen: { hub.subscribe($0, to: "push") }) }
        let server = try TestServer(router: router) { $0.webSocket.maxBufferedBytes = 128 * 1024 }
        defer { server.stop() }
        let stuck = try (0..<10).map { _ in
            let client = try RawClient(port: server.port)
            var small: Int32 = 4096
            setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, 4)
            #expect(client.upgrade()?.status == 101)
            return client
        }
        let reader = try RawClient(port: server.port)
        #expect(reader.upgrade()?.status == 101)
        #expect(eventually { hub.subscriberCount(of: "push") == 11 })
        let message = String(repeating: "p", count: 60_000)
        var pushes = 0
        // The kernel takes some MB per stuck socket before the server's own queue starts to grow.
        while hub.subscriberCount(of: "push") > 1 && pushes < 2_000 {
            hub.broadcast(text: message, to: "push")
            pushes += 1
            #expect(reader.readFrame()?.payload.count == 60_000)
            if pushes % 100 == 0 { #expect(try health(server) == 200) }
        }
        #expect(hub.subscriberCount(of: "push") == 1)
        #expect(try health(server) == 200)
        #expect(eventually { server.server.connectionCount == 1 })
        #expect(server.server.rejections.first { $0.kind == .webSocketSlowConsumer }?.count == 10)
        let lines = server.logs.all.filter { $0.contains("websocket_slow_consumer") }
        #expect(lines.count == 1, "\(lines)")
    }
}
