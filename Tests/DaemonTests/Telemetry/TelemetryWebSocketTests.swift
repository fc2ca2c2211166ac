import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// `/ws/telemetry` with the real Python `websockets` client (tools/requirements-test.txt).
@Suite struct TelemetryWebSocketTests {
    @Test func telemetrySocket_SendsStateFramesEventsAndPongs() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let script = """
        import asyncio, json, sys, websockets
        url, key = sys.argv[1], sys.argv[2]
        async def main():
            try:
                async with websockets.connect(url) as ws:
                    print("unauthenticated connected")
            except websockets.exceptions.InvalidStatus as e:
                print("unauthenticated", e.response.status_code)
            async with websockets.connect(url, additional_headers={"X-API-Key": key}) as ws:
                first = json.loads(await ws.recv())
                print("initial", first["type"], first["kernels"]["total"], first["kernels"]["active"], first["htm"]["queue_depth"],
                      first["crypto"]["status"], first["crypto"]["signatures_validated"] >= 4, "timestamp" in first)
                await ws.send("ping")
                seen = set()
                while {"pong", "telemetry", "kernel_control"} - seen:
                    message = json.loads(await ws.recv())
                    kind = message.get("event") if message["type"] == "event" else message["type"]
                    if kind == "pong" and "pong" not in seen:
                        print("pong", message == {"type": "pong"})
                        print("ready")
                    if kind == "kernel_control" and kind not in seen:
                        print("event", message["source"], message["payload"]["action"])
                    seen.add(kind)
                print("periodic frame seen")
        asyncio.run(main())
        """
        let client = try PythonClient(script: script, arguments: ["ws://127.0.0.1:\(d.port)/ws/telemetry", TestDaemon.key])
        var lines: [String] = []
        while let line = client.readLine() {
            lines.append(line)
            if line == "ready" {
                // A control action on a real kernel: its event reaches the socket through the daemon's event flow.
                #expect(try d.control(try #require(try d.kernelIDs().first), "restart").status == 200)
            }
        }
        let (status, rest, errors) = client.finish()
        lines += rest
        #expect(status == 0, "\(errors)")
        #expect(lines.contains("unauthenticated 401"))
        #expect(lines.contains("initial telemetry 3 3 0 healthy True True"))
        #expect(lines.contains("pong True"))
        #expect(lines.contains("event telemetry restart"))
        #expect(lines.last == "periodic frame seen")
    }

    @Test func slowConsumer_IsDropped_WhileOthersKeepReceiving() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        // A raw socket with a tiny receive buffer upgrades and then never reads; a websockets client reads everything.
        let script = """
        import asyncio, base64, json, os, socket, sys, websockets
        port, key = sys.argv[1], sys.argv[2]
        async def main():
            stuck = socket.socket()
            stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            stuck.connect(("127.0.0.1", int(port)))
            nonce = base64.b64encode(os.urandom(16)).decode()
            stuck.sendall(("GET /ws/telemetry HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
                           f"Sec-WebSocket-Key: {nonce}\\r\\nSec-WebSocket-Version: 13\\r\\nX-API-Key: {key}\\r\\n\\r\\n").encode())
            head = b""
            while b"\\r\\n\\r\\n" not in head:
                head += stuck.recv(1)
            print("stuck upgraded", b" 101 " in head)
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/telemetry", additional_headers={"X-API-Key": key}, max_size=None) as ws:
                await ws.recv()
                print("ready")
                bulk = 0
                while True:
                    message = json.loads(await ws.recv())
                    if message.get("event") == "bulk":
                        bulk += 1
                    if message.get("event") == "done":
                        break
                print("healthy received", bulk)
            stuck.settimeout(20)
            try:
                while stuck.recv(1 << 16):
                    pass
                print("stuck closed")
            except ConnectionResetError:
                print("stuck closed")
            except socket.timeout:
                print("stuck still open")
        asyncio.run(main())
        """
        let client = try PythonClient(script: script, arguments: [String(d.port), TestDaemon.key])
        #expect(client.readLine() == "stuck upgraded True")
        #expect(client.readLine() == "ready")
        let broadcaster = d.telemetry.broadcaster
        #expect(waitUntil { broadcaster.subscribers == 2 })
        let payload = JSONValue.string(String(repeating: "x", count: 16 * 1024))
        var published = 0
        // Publish on the daemon's event flow until the hub has dropped the stuck reader (bounded at 32 MiB).
        while broadcaster.subscribers == 2 && published < 2_000 {
            d.daemon.events.publish(.module(module: "test", type: "bulk", payload: payload))
            published += 1
            usleep(3_000)
        }
        #expect(broadcaster.subscribers == 1)
        // The healthy client keeps receiving after the drop.
        for _ in 0..<20 {
            d.daemon.events.publish(.module(module: "test", type: "bulk", payload: payload))
            published += 1
        }
        d.daemon.events.publish(.module(module: "test", type: "done", payload: .null))
        let (status, lines, errors) = client.finish()
        #expect(status == 0, "\(errors)")
        #expect(lines == ["healthy received \(published)", "stuck closed"])
    }
}
