import Foundation
import Synchronization
import Testing
@testable import HTTPServer

extension RawClient {
    /// Performs the opening handshake and returns the 101 response.
    func upgrade(path: String = "/ws", key: String = "dGhlIHNhbXBsZSBub25jZQ==") -> RawClient.ParsedResponse? {
        send("GET \(path) HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        return readResponse()
    }

    func sendFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            frame.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        if masked { frame += mask }
        frame += payload.enumerated().map { masked ? $0.element ^ mask[$0.offset % 4] : $0.element }
        send(frame)
    }

    /// Reads one server frame (servers never mask).
    func readFrame() -> (opcode: UInt8, payload: [UInt8])? {
        guard let header = readBytes(2) else { return nil }
        var length = Int(header[1] & 0x7F)
        if length == 126 {
            guard let extended = readBytes(2) else { return nil }
            length = Int(extended[0]) << 8 | Int(extended[1])
        } else if length == 127 {
            guard let extended = readBytes(8) else { return nil }
            length = extended.reduce(0) { $0 << 8 | Int($1) }
        }
        guard let payload = readBytes(length) else { return nil }
        return (header[0] & 0x0F, payload)
    }

    func readCloseCode() -> UInt16? {
        guard let frame = readFrame(), frame.opcode == 0x8, frame.payload.count >= 2 else { return nil }
        return UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1])
    }
}

/// An echo endpoint plus a hub channel, recording close codes.
private final class EchoApp: Sendable {
    let router = Router(context: BasicRequestContext.self)
    let hub: WebSocketHub
    let closeCodes = Mutex<[UInt16]>([])

    init(policy: WebSocketHub.SlowConsumerPolicy = .disconnect) {
        hub = WebSocketHub(slowConsumerPolicy: policy)
        let hub = self.hub
        router.webSocket("/ws") { [self] _, _ in
            WebSocketHandler(
                onOpen: { hub.subscribe($0, to: "news") },
                onMessage: { socket, message in
                    switch message {
                    case .text(let text): socket.send(text: "echo: " + text)
                    case .binary(let bytes): socket.send(binary: bytes)
                    }
                },
                onClose: { _, code in self.closeCodes.withLock { $0.append(code.rawValue) } })
        }
        let protected = router.group("/private", middleware: [APIKeyMiddleware(keys: ["k"])])
        protected.webSocket("/ws") { _, _ in WebSocketHandler() }
    }
}

struct WebSocketServerTests {
    @Test func handshake_Echo_Fragments_Ping_AndCleanClose() throws {
        let app = EchoApp()
        let server = try TestServer(router: app.router)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        let handshake = try #require(client.upgrade())
        #expect(handshake.status == 101)
        #expect(handshake.headers["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(handshake.headers["Upgrade"] == "websocket")

        client.sendFrame(0x1, Array("hello".utf8))
        #expect(client.readFrame().map { String(decoding: $0.payload, as: UTF8.self) } == "echo: hello")

        client.sendFrame(0x1, Array("frag".utf8), fin: false)
        client.sendFrame(0x9, Array("are you there".utf8))
        client.sendFrame(0x0, Array("mented é".utf8), fin: true)
        let pong = try #require(client.readFrame())
        #expect(pong.opcode == 0xA)
        #expect(pong.payload == Array("are you there".utf8))
        #expect(client.readFrame().map { String(decoding: $0.payload, as: UTF8.self) } == "echo: fragmented é")

        let binary = (0..<70_000).map { UInt8(truncatingIfNeeded: $0) }
        client.sendFrame(0x1, Array("x".utf8), fin: false)
        client.sendFrame(0x0, Array("y".utf8))
        _ = client.readFrame()
        let app2Binary = Array(binary.prefix(60_000))
        client.sendFrame(0x2, app2Binary)
        #expect(client.readFrame()?.payload == app2Binary)

        client.sendFrame(0x8, [0x03, 0xE8] + Array("bye".utf8))
        #expect(client.readCloseCode() == 1000)
        #expect(client.isClosedByPeer())
        #expect(eventually { app.closeCodes.withLock { $0 } == [1000] })
        #expect(eventually { app.hub.subscriberCount(of: "news") == 0 })
    }

    @Test(arguments: [
        ("invalid UTF-8", 0x1 as UInt8, [0xC3, 0x28] as [UInt8], true, 1007 as UInt16),
        ("unmasked", 0x1, Array("hi".utf8), false, 1002),
        ("reserved opcode", 0x3, [1], true, 1002),
        ("frame too big", 0x2, [UInt8](repeating: 1, count: 70_000), true, 1009),
        ("bad close code", 0x8, [0x03, 0xED], true, 1002),
    ])
    func violations_AreAnsweredWithCloseCodes(name: String, opcode: UInt8, payload: [UInt8], masked: Bool, code: UInt16) throws {
        let app = EchoApp()
        let server = try TestServer(router: app.router)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        #expect(client.upgrade()?.status == 101)
        client.sendFrame(opcode, payload, masked: masked)
        #expect(client.readCloseCode() == code, "\(name)")
        #expect(client.isClosedByPeer())
        #expect(eventually { app.closeCodes.withLock { $0 } == [code] })
        #expect(server.logs.all.filter { $0.contains("websocket_failed") }.count == 1)
    }

    @Test func fragmentedMessageOverLimit_Is1009() throws {
        let app = EchoApp()
        let server = try TestServer(router: app.router) { $0.webSocket.maxMessageBytes = 1000 }
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        #expect(client.upgrade()?.status == 101)
        client.sendFrame(0x2, [UInt8](repeating: 0, count: 600), fin: false)
        client.sendFrame(0x0, [UInt8](repeating: 0, count: 600), fin: true)
        #expect(client.readCloseCode() == 1009)
    }

    @Test func badHandshakes_AreRefused() throws {
        let app = EchoApp()
        let server = try TestServer(router: app.router)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponse()?.status == 426)
        client.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: nope\r\nSec-WebSocket-Version: 13\r\n\r\n")
        #expect(client.readResponse()?.status == 400)
        client.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
        let version = try #require(client.readResponse())
        #expect(version.status == 426)
        #expect(version.headers["Sec-WebSocket-Version"] == "13")
        // Middleware runs before the upgrade.
        #expect(client.upgrade(path: "/private/ws")?.status == 401)
    }

    @Test func hub_BroadcastsToSubscribers_AndServerShutdownSends1001() throws {
        let app = EchoApp()
        let server = try TestServer(router: app.router)
        let clients = try (0..<5).map { _ in try RawClient(port: server.port) }
        for client in clients { #expect(client.upgrade()?.status == 101) }
        #expect(eventually { app.hub.subscriberCount(of: "news") == 5 })
        let message = String(repeating: "z", count: 1024)
        #expect(app.hub.broadcast(text: message, to: "news") == 5)
        for client in clients { #expect(client.readFrame()?.payload == Array(message.utf8)) }
        #expect(app.hub.broadcast(text: "nobody", to: "other") == 0)

        let stopped = DispatchSemaphore(value: 0)
        Thread { server.stop(); stopped.signal() }.start()
        for client in clients {
            #expect(client.readCloseCode() == 1001)
            client.sendFrame(0x8, [0x03, 0xE9])
        }
        stopped.wait()
        #expect(server.server.connectionCount == 0)
    }

    @Test func slowConsumer_IsDisconnected_NotBuffered() throws {
        let app = EchoApp()
        let server = try TestServer(router: app.router) { $0.webSocket.maxBufferedBytes = 256 * 1024 }
        defer { server.stop() }
        let stuck = try RawClient(port: server.port)
        var small: Int32 = 4096
        setsockopt(stuck.fd, SOL_SOCKET, SO_RCVBUF, &small, 4)
        #expect(stuck.upgrade()?.status == 101)
        let healthy = try RawClient(port: server.port)
        #expect(healthy.upgrade()?.status == 101)
        #expect(eventually { app.hub.subscriberCount(of: "news") == 2 })
        let chunk = String(repeating: "q", count: 60_000)
        var sent = 0
        // The healthy client reads each message; the stuck one never reads. The kernel buffers what it can
        // (tcp_wmem, 4 MB by default) before the server's 256 KB queue fills; the cap allows 60 MB of that.
        while app.hub.subscriberCount(of: "news") == 2 && sent < 1_000 {
            app.hub.broadcast(text: chunk, to: "news")
            sent += 1
            #expect(healthy.readFrame()?.payload.count == 60_000)
        }
        #expect(app.hub.subscriberCount(of: "news") == 1)
        #expect(app.closeCodes.withLock { $0 }.contains(1008))
        #expect(server.logs.all.contains { $0.contains("websocket_slow_consumer") })
    }

    @Test func pythonWebsocketsClient_EchoesAndCloses() throws {
        let app = EchoApp()
        let server = try TestServer(router: app.router)
        defer { server.stop() }
        let script = """
        import asyncio, sys, websockets
        async def main():
            async with websockets.connect(sys.argv[1], max_size=None) as ws:
                await ws.send("hi")
                print(await ws.recv())
                await ws.send(b"\\x00\\x01" * 5000)
                print(len(await ws.recv()))
                pong = await ws.ping(b"p")
                await pong
                print("pong")
            print(ws.close_code)
        asyncio.run(main())
        """
        guard pythonHas("websockets") else { return }
        let (status, output, errors) = try runProcess("python3", ["-c", script, "ws://127.0.0.1:\(server.port)/ws"])
        #expect(status == 0, "\(errors)")
        #expect(output == "echo: hi\n10000\npong\n1000\n")
    }
}
