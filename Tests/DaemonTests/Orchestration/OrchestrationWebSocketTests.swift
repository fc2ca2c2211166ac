import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// The spec's channels driven by a real Python `websockets` client (pinned in tools/requirements-test.txt).
@Suite struct OrchestrationWebSocketTests {
    static let common = """
    import asyncio, json, sys, urllib.request, websockets
    base = sys.argv[1]

    def http(method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://" + base + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as reply:
            return json.loads(reply.read())

    async def until(ws, predicate, limit=500):
        seen = []
        for _ in range(limit):
            event = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
            seen.append(event)
            if predicate(event):
                return seen
        raise AssertionError("never saw the event; got " + str([e["type"] for e in seen]))

    """

    @Test func globalChannel_PingSubscribeAndTaskUpdates() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let script = Self.common + """
        async def main():
            async with websockets.connect("ws://" + base + "/ws") as ws:
                hello = json.loads(await ws.recv())
                assert hello["type"] == "connection_status" and hello["connected"] is True and hello["channel"] == "global", hello
                await ws.send(json.dumps({"type": "ping"}))
                assert json.loads(await ws.recv())["type"] == "pong"
                await ws.send(json.dumps({"type": "subscribe", "channel": "project_abc"}))
                assert json.loads(await ws.recv()) ["type"] == "subscribed"
                health = http("GET", "/api/ws/health")
                assert health["native_ws"]["total_connections"] == 1, health
                assert health["native_ws"]["channel_counts"] == {"global": 1, "project_abc": 1}, health
                await ws.send(json.dumps({"type": "unsubscribe", "channel": "project_abc"}))
                assert json.loads(await ws.recv())["type"] == "unsubscribed"
                await ws.send("not json")
                assert json.loads(await ws.recv())["type"] == "error"
                result = await asyncio.to_thread(http, "POST", "/api/orchestration/execute", {"prompt": "Write a date parser"})
                seen = await until(ws, lambda e: e["type"] == "task_update" and e["status"] == "completed")
                updates = [e for e in seen if e["type"] == "task_update"]
                assert updates[0]["status"] == "in_progress" and updates[0]["task_id"] == result["task_id"], updates[0]
                assert [e["current_iteration"] for e in updates[1:-1]] == list(range(1, len(updates) - 1)), updates
                assert updates[-1]["current_quality"] == result["metadata"]["final_quality"]
            print("OK")
        asyncio.run(main())
        """
        let (status, output, errors) = try Orch.python(script, ["127.0.0.1:\(d.port)"])
        #expect(status == 0 && output.contains("OK"), "\(output)\(errors)")
    }

    @Test func taskAndProjectChannels_CarryTheirEvents() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let project = try d.createProject()
        let task = try #require(try d.execute(#""prompt":"Refactor the scheduler\n- split\n- test\n- document","project_id":"\#(project)""#)["task_id"]?.stringValue)
        let script = Self.common + """
        project, task = sys.argv[2], sys.argv[3]
        async def main():
            async with websockets.connect("ws://" + base + "/ws/task/" + task) as t, \\
                       websockets.connect("ws://" + base + "/ws/project/" + project) as p:
                assert json.loads(await t.recv())["channel"] == "task_" + task
                assert json.loads(await p.recv())["channel"] == "project_" + project
                await t.send(json.dumps({"type": "ping"}))
                assert json.loads(await t.recv())["type"] == "pong"
                await t.send(json.dumps({"type": "subscribe", "channel": "global"}))
                assert json.loads(await t.recv())["type"] == "error"   # only /ws takes subscriptions
                http("POST", "/api/tasks/" + task + "/retry")
                seen = await until(t, lambda e: e["type"] in ("task_completed", "task_failed"))
                types = {e["type"] for e in seen}
                for expected in ("task_update", "agent_selected", "feedback_loop", "hrm_impact_update", "hrm_checkpoint_reached"):
                    assert expected in types, (expected, types)
                checkpoints = [e["checkpoint"]["progress"] for e in seen if e["type"] == "hrm_checkpoint_reached"]
                assert checkpoints == sorted(checkpoints) and checkpoints[0] == 0.33, checkpoints
                assert all(e.get("task_id") == task for e in seen if "task_id" in e)
                http("POST", "/api/hrm/config/presets/preset_speed/apply?project_id=" + project)
                seen = await until(p, lambda e: e["type"] == "hrm_config_update")
                applied = [e for e in seen if e["type"] == "hrm_preset_applied"]
                assert applied and applied[0]["preset_name"] == "speed" and applied[0]["project_id"] == project, seen
                assert seen[-1]["config"]["agent_switching"]["strategy"] == "speed_optimized"
            print("OK")
        asyncio.run(main())
        """
        let (status, output, errors) = try Orch.python(script, ["127.0.0.1:\(d.port)", project, task])
        #expect(status == 0 && output.contains("OK"), "\(output)\(errors)")
    }

    @Test func slowConsumer_DoesNotHoldBackOthers() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let script = Self.common + """
        async def main():
            # The slow client subscribes to the global channel and reads nothing until the end.
            async with websockets.connect("ws://" + base + "/ws", max_queue=1) as slow, \\
                       websockets.connect("ws://" + base + "/ws") as fast:
                await fast.recv()
                ids = []
                for i in range(12):
                    ids.append((await asyncio.to_thread(http, "POST", "/api/orchestration/execute", {"prompt": "task %d" % i}))["task_id"])
                done = set()
                while len(done) < len(ids):
                    event = json.loads(await asyncio.wait_for(fast.recv(), timeout=30))
                    if event["type"] == "task_update" and event["status"] == "completed":
                        done.add(event["task_id"])
                assert done == set(ids)
                assert http("GET", "/api/ws/health")["native_ws"]["total_connections"] == 2
                # The slow client, reading at last, gets the greeting and then the events in order.
                first = json.loads(await slow.recv())
                assert first["type"] == "connection_status", first
                second = json.loads(await slow.recv())
                assert second["type"] == "task_update" and second["task_id"] == ids[0], second
            print("OK")
        asyncio.run(main())
        """
        let (status, output, errors) = try Orch.python(script, ["127.0.0.1:\(d.port)"])
        #expect(status == 0 && output.contains("OK"), "\(output)\(errors)")
    }
}
