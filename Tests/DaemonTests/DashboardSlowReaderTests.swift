import Foundation
import Glibc
import HTTPServer
import Synchronization
import Testing
@testable import Daemon

/// The dashboard push (`/dashboard/ws`) against a client that authenticates and then never reads
/// (issue 15): the hub disconnects it once its unread output passes the server's cap, logs that
/// once for any number of such clients, and keeps pushing to the dashboards that do read.
@Suite struct DashboardSlowReaderTests {
    /// A blocking WebSocket client on a raw socket: the stuck one must really never call recv.
    final class Client {
        let fd: Int32
        private var buffer: [UInt8] = []

        init(port: Int, receiveBuffer: Int32? = nil) throws {
            do { fd = try Loopback.connect(port: port, receiveTimeout: 60, receiveBuffer: receiveBuffer) } catch { throw SocketError(call: "connect") }
        }

        deinit { Glibc.close(fd) }

        func send(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        private func fill(_ count: Int) -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            while buffer.count < count {
                let got = recv(fd, &chunk, chunk.count, 0)
                if got <= 0 { return false }
                buffer.append(contentsOf: chunk[0..<got])
            }
            return true
        }

        private func take(_ count: Int) -> [UInt8]? {
            guard fill(count) else { return nil }
            defer { buffer.removeFirst(count) }
            return Array(buffer[0..<count])
        }

        /// Upgrades and sends the auth message; reads only the 101 head (never past it).
        func upgradeAndAuthenticate(key: String) -> Bool {
            send(Array(("GET /dashboard/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) {
                guard recv(fd, &byte, 1, 0) == 1 else { return false }
                head.append(byte)
            }
            guard String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 101") else { return false }
            let payload = Array(#"{"type":"auth","key":"\#(key)"}"#.utf8)
            let mask: [UInt8] = [1, 2, 3, 4]
            send([0x81, 0x80 | UInt8(payload.count)] + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })
            return true
        }

        /// The next text message (servers never mask).
        func readText() -> String? {
            guard let header = take(2) else { return nil }
            var length = Int(header[1] & 0x7F)
            if length == 126 { guard let more = take(2) else { return nil }; length = Int(more[0]) << 8 | Int(more[1]) }
            if length == 127 { guard let more = take(8) else { return nil }; length = more.reduce(0) { $0 << 8 | Int($1) } }
            return take(length).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    @Test func dashboardClientsThatNeverRead_AreDisconnected_LoggedOnce_OthersKeepGettingPushes() throws {
        let events = DaemonEvents()
        let push = DashboardPush(events: events, auth: .init(keys: ["k"]), logger: .init(label: "t", sink: .discard))
        push.start(latestSnapshot: { nil }, trainingStatus: { TrainingService.Status(active: false, state: "idle") })
        defer { push.stop() }
        let router = Router(context: BasicRequestContext.self)
        router.get("/health", execution: .eventLoop) { _, _ in .json(["status": "ok"]) }
        router.webSocket("/dashboard/ws") { _, _ in push.handler() }
        let lines = Mutex<[String]>([])
        var configuration = HTTPServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.logger = Logger(label: "http", sink: Logger.Sink { bytes in
            lines.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) }
        })
        configuration.webSocket.maxBufferedBytes = 256 * 1024
        let server = try HTTPServer(configuration: configuration, responder: router)
        try server.start()
        defer { server.shutdown(gracePeriod: .seconds(1)) }
        let port = server.port!

        let stuck = try (0..<5).map { _ in try Client(port: port, receiveBuffer: 4096) }
        for client in stuck { #expect(client.upgradeAndAuthenticate(key: "k")) }
        let reader = try Client(port: port)
        #expect(reader.upgradeAndAuthenticate(key: "k"))
        #expect(reader.readText()?.contains("hello") == true)
        #expect(reader.readText()?.contains("training") == true)
        #expect(waitUntil { push.subscriberCount == 6 })

        // Real pushes through the daemon's event bus: model_loaded with a long (60 KB) name.
        let name = String(repeating: "m", count: 60_000)
        var pushes = 0
        while push.subscriberCount > 1 && pushes < 2_000 {
            events.publish(.modelLoaded(name: name, path: "/models/\(pushes)"))
            pushes += 1
            #expect(reader.readText()?.contains("/models/\(pushes - 1)") == true)
        }
        #expect(push.subscriberCount == 1)
        #expect(server.rejections.first { $0.kind == .webSocketSlowConsumer }?.count == 5)
        #expect(lines.withLock { $0 }.filter { $0.contains("websocket_slow_consumer") }.count == 1)
        // The dashboard that reads still gets the next push, and plain requests are served.
        events.publish(.modelLoaded(name: "after", path: "/models/after"))
        #expect(reader.readText()?.contains("/models/after") == true)
        let health = try Client(port: port)
        health.send(Array("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        var first = [UInt8](repeating: 0, count: 12)
        #expect(recv(health.fd, &first, 12, Int32(MSG_WAITALL)) == 12 && String(decoding: first, as: UTF8.self) == "HTTP/1.1 200")
    }
}
