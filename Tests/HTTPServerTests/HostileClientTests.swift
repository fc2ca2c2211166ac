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
        // One line per rejected connection at most: bounded by the attack, never repeated per byte or retry.
        let rejections = server.logs.all.filter { $0.contains("request_rejected") }.count
        #expect((1...200).contains(rejections), "\(rejections) request_rejected lines")
    }
}
