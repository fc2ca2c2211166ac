import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// The three WebSocket channels, driven by the Python `websockets` client: greetings, ping/pong, subscribe,
/// errors, auth, and real events pushed when the daemon does something.
@Suite struct SupervisorWebSocketTests {
    static let script = #"""
    import json, sys, urllib.request
    from websockets.sync.client import connect
    from websockets.exceptions import InvalidStatus
    port, token = sys.argv[1], sys.argv[2]
    base = f"http://127.0.0.1:{port}"
    def post(path, body):
        request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(request))
    def until(ws, wanted):
        while True:
            message = json.loads(ws.recv(timeout=20))
            if message["type"] == wanted:
                return message
    out = {}
    try:
        connect(f"ws://127.0.0.1:{port}/ws").close()
        out["unauthenticated"] = "accepted"
    except InvalidStatus as error:
        out["unauthenticated"] = error.response.status_code
    with connect(f"ws://127.0.0.1:{port}/ws", additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        out["greeting"] = json.loads(ws.recv(timeout=20))
        ws.send(json.dumps({"type": "ping"})); out["pong"] = json.loads(ws.recv(timeout=20))
        ws.send(json.dumps({"type": "subscribe", "subscription_type": "tasks"})); out["subscribed"] = json.loads(ws.recv(timeout=20))
        ws.send("not json"); out["error"] = json.loads(ws.recv(timeout=20))
        task = post("/api/v1/tasks", {"type": "DOCUMENTATION", "payload": {"code": "/// hi"}})
        while True:
            update = until(ws, "task_update")
            if update["data"]["id"] == task["id"] and update["data"]["status"] == "completed":
                out["task_update"] = update; break
        out["quota_update"] = until(ws, "quota_update")
    # Browser-style auth: the token in the query string.
    with connect(f"ws://127.0.0.1:{port}/api/v1/analytics/advanced/stream?token={token}") as ws:
        out["analytics_greeting"] = json.loads(ws.recv(timeout=20))
        out["analytics_summary"] = until(ws, "summary")
        post("/api/v1/analytics/collect/system", {})
        out["metric_update"] = until(ws, "metric_update")
    with connect(f"ws://127.0.0.1:{port}/api/v1/monitoring/stream", additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        json.loads(ws.recv(timeout=20))
        post("/api/v1/analytics/collect/system", {})
        out["metrics_update"] = until(ws, "metrics_update")
        ws.send(json.dumps({"type": "update_config", "sampling_interval": 7}))
        out["config_updated"] = until(ws, "config_updated")
    print(json.dumps(out))
    """#

    @Test func channelsGreetAnswerAndPushRealEvents() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let (status, output, errors) = try runTool("python3", ["-c", Self.script, String(d.port), d.adminToken], requires: "the websockets client (tools/requirements-test.txt)")
        #expect(status == 0, "python: \(errors)")
        let out = try #require(DecodedJSON.parse(Array(output.utf8)))
        #expect(out["unauthenticated"] == .int(401))
        #expect(out["greeting"]?["type"] == "connection_established" && out["greeting"]?["message"] == "Connected to Supervisor Coding Agent")
        #expect(out["pong"]?["type"] == "pong")
        #expect(out["subscribed"]?["type"] == "subscription_confirmed" && out["subscribed"]?["subscription_type"] == "tasks")
        #expect(out["error"]?["type"] == "error")
        #expect(out["task_update"]?["data"]?["result"]?["count"] == .int(1))
        #expect(out["quota_update"]?["data"]?["total_agents"] == .int(2))
        #expect(out["analytics_greeting"]?["type"] == "connection_established")
        #expect(out["analytics_summary"]?["data"]?["total_tasks"] == .int(1))
        #expect(out["metric_update"]?["data"]?["metric_type"] == "system_performance")
        #expect(out["metrics_update"]?["data"]?["cpu_cores"] != nil)
        #expect(out["config_updated"]?["sampling_interval"] == .int(7))
        #expect(try d.call("GET", "/api/v1/monitoring/config")["sampling_interval"] == .int(7))
    }
}
