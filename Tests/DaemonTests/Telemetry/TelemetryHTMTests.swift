import Foundation
import Testing
@testable import Daemon

/// Layer 2: the HTM queue, task listing and filters, workload, and the priority override.
@Suite struct TelemetryHTMTests {
    /// Kernels stopped, `count` files dropped: that many pending checksum tasks.
    private func pendingTasks(_ d: TestDaemon, count: Int) throws -> [[String: Any]] {
        try d.stopAllKernels()
        for i in 0..<count { try d.drop("file-\(i).dat", Data(repeating: UInt8(i), count: 1_024 * (i + 1))) }
        #expect(waitUntil { (try? d.tasks("&status=pending").count) == count })
        return try d.tasks("&status=pending")
    }

    @Test func queue_CountsPendingAndServesDispatchOrder() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let pending = try pendingTasks(d, count: 3)
        let last = try #require(pending.last?["task_id"] as? String)
        #expect(try d.json("POST", "/api/telemetry/htm/tasks/\(last)/priority", ["priority": "high"]).status == 200)
        let body = try d.get("/api/telemetry/htm/queue").object
        #expect(body["queue_depth"] as? Int == 3)
        #expect(body["pending_tasks"] as? Int == 3)
        #expect(body["active_tasks"] as? Int == 0)
        let order = try #require(body["tasks"] as? [[String: Any]])
        #expect(order.first?["task_id"] as? String == last)   // the high-priority one goes first
        #expect(number(body["avg_task_size_mb"]) != nil)

        // Start one kernel: the queue drains and today's counters move.
        _ = try d.control(try #require(try d.kernelIDs().first), "start")
        #expect(waitUntil {
            let queue = (try? d.get("/api/telemetry/htm/queue").object) ?? [:]
            return queue["completed_today"] as? Int == 3 && queue["queue_depth"] as? Int == 0
        })
        let drained = try d.get("/api/telemetry/htm/queue").object
        #expect((number(drained["p95_duration_seconds"]) ?? -1) >= 0)
        #expect((number(drained["avg_wait_time_seconds"]) ?? -1) >= 0)
    }

    @Test func tasks_FilterByOriginAndStatus_AndValidateQuery() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        _ = try pendingTasks(d, count: 2)
        var body = try d.get("/api/telemetry/htm/tasks?origin=filesystem&status=pending&limit=1").object
        #expect(body["total"] as? Int == 2)
        let rows = try #require(body["tasks"] as? [[String: Any]])
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row["origin"] as? String == "filesystem")
        #expect(row["status"] as? String == "pending")
        #expect(row["priority"] as? String == "normal")
        #expect(row["size_mb"] is Double || row["size_mb"] is Int)
        #expect(row["completed_at"] is NSNull)
        body = try d.get("/api/telemetry/htm/tasks?origin=hunter").object
        #expect(body["total"] as? Int == 0)
        for bad in ["origin=disk", "status=running", "limit=0", "limit=501", "limit=ten"] {
            let reply = try d.get("/api/telemetry/htm/tasks?\(bad)")
            #expect(reply.status == 422, "\(bad)")
            #expect(reply.text.contains(#""loc":["query",""#))
        }
    }

    @Test func workload_IsBusyKernelsOverRunningKernels() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        var body = try d.get("/api/telemetry/htm/workload").object
        #expect(body["total_agents"] as? Int == TelemetryModule.kernelCount)
        #expect(body["running_agents"] as? Int == TelemetryModule.kernelCount)
        #expect(body["active_agents"] as? Int == 0)
        #expect(body["capacity_utilization_percent"] as? Int == 0)
        #expect(body["workload_status"] as? String == "normal")
        #expect(body["auto_escalations_today"] as? Int == 0)
        try d.stopAllKernels()
        body = try d.get("/api/telemetry/htm/workload").object
        #expect(body["running_agents"] as? Int == 0)
        #expect(body["workload_status"] as? String == "critical")   // no capacity at all
    }

    @Test func priorityOverride_OnlyForOpenTasks_AndPersisted() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let task = try #require(try pendingTasks(d, count: 1).first?["task_id"] as? String)
        var reply = try d.json("POST", "/api/telemetry/htm/tasks/\(task)/priority", ["priority": "critical", "reason": "User manual override"])
        #expect(reply.status == 200)
        #expect(reply.object["old_priority"] as? String == "normal")
        #expect(reply.object["new_priority"] as? String == "critical")
        #expect(reply.object["status"] as? String == "updated")
        #expect(try d.tasks().first?["priority"] as? String == "critical")
        let audit = try d.telemetry.database.read { c in try c.scalar("SELECT reason FROM priority_overrides WHERE task_id = ?", [.text(task)])?.string }
        #expect(audit == "User manual override")

        reply = try d.json("POST", "/api/telemetry/htm/tasks/\(task)/priority", ["priority": "urgent"])
        #expect(reply.status == 422)
        #expect(reply.text.contains(#""loc":["body","priority"]"#))
        #expect(try d.json("POST", "/api/telemetry/htm/tasks/\(task)/priority", ["reason": "x"]).status == 422)
        #expect(try d.request("POST", "/api/telemetry/htm/tasks/\(task)/priority", body: Data("{".utf8)).status == 422)
        #expect(try d.json("POST", "/api/telemetry/htm/tasks/task-000000000000/priority", ["priority": "low"]).status == 404)

        _ = try d.control(try #require(try d.kernelIDs().first), "start")
        #expect(waitUntil { (try? d.tasks("&status=completed").count) == 1 })
        reply = try d.json("POST", "/api/telemetry/htm/tasks/\(task)/priority", ["priority": "low"])
        #expect(reply.status == 400)
        #expect(reply.object["code"] as? String == "TASK_NOT_OPEN")
    }
}
