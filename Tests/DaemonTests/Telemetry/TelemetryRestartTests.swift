import Foundation
import Testing
@testable import Daemon

/// What a client created survives `kill -9`: the child (this test binary, filtered to `crashChild`) builds state
/// over HTTP, records what it was told, and SIGKILLs itself; the parent reopens the same data directory.
@Suite struct TelemetryRestartTests {
    static let childDirectoryVariable = "ARGUS_TELEMETRY_CRASH_DIR"

    struct Acknowledged: Codable {
        var secretID = ""
        var stoppedKernel = ""
        var taskID = ""
        var suggestionID = ""
        var stressTestID = ""
    }

    /// Child side: a no-op unless started by `sigkill_KeepsEverythingAClientCreated`.
    @Test func crashChild() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childDirectoryVariable] else { return }
        let dir = TemporaryDirectory(existing: URL(fileURLWithPath: path))
        let d = try TestDaemon(dir: dir)
        var ack = Acknowledged()
        let stored = try d.json("POST", "/api/secrets/store", ["name": "CRASH_TOKEN", "value": "t0k3n", "category": "token", "consent_given": true])
        precondition(stored.status == 200)
        ack.secretID = stored.object["secret_id"] as! String
        // All kernels stopped (persisted); a file dropped → a pending task; its priority overridden.
        try d.stopAllKernels()
        ack.stoppedKernel = try d.kernelIDs()[0]
        try d.drop("crash.bin", Data(count: 100))
        precondition(waitUntil { (try? d.tasks("&status=pending").count) == 1 })
        ack.taskID = try d.tasks("&status=pending")[0]["task_id"] as! String
        let ok = try d.json("POST", "/api/telemetry/htm/tasks/\(ack.taskID)/priority", ["priority": "critical"]).status == 200; precondition(ok)
        // Three failures → a policy suggestion, reviewed.
        _ = try d.control(ack.stoppedKernel, "start")
        precondition(waitUntil { (try? d.tasks("&status=completed").count) == 1 })
        _ = try d.control(ack.stoppedKernel, "stop")
        for i in 0..<3 { try d.drop("gone-\(i).bin", Data(count: 5)) }
        precondition(waitUntil { (try? d.tasks("&status=pending").count) == 3 })
        let work = d.daemon.configuration.dataDirectory.appendingPathComponent("telemetry/work")
        for name in try FileManager.default.contentsOfDirectory(atPath: work.path) { try FileManager.default.removeItem(at: work.appendingPathComponent(name)) }
        _ = try d.control(ack.stoppedKernel, "start")
        precondition(waitUntil { (try? d.tasks("&status=failed").count) == 3 })
        _ = try d.control(ack.stoppedKernel, "stop")
        let suggestions = try d.get("/api/telemetry/learning/policy_suggestions").object["suggestions"] as! [[String: Any]]
        ack.suggestionID = suggestions.first { $0["rule"] as? String == "failed_tasks" }!["suggestion_id"] as! String
        let reviewed = try d.json("POST", "/api/telemetry/learning/policy_suggestions/\(ack.suggestionID)/respond", ["action": "review"]).status == 200; precondition(reviewed)
        // One more pending task with an override, and a long stress test still running at the kill.
        try d.drop("after.bin", Data(count: 100))
        precondition(waitUntil { (try? d.tasks("&status=pending").count) == 1 })
        ack.taskID = try d.tasks("&status=pending")[0]["task_id"] as! String
        let overridden = try d.json("POST", "/api/telemetry/htm/tasks/\(ack.taskID)/priority", ["priority": "critical"]).status == 200; precondition(overridden)
        let stress = try d.json("POST", "/api/stress/run", ["test_type": "htm_queue", "duration_minutes": 30, "intensity": "low"])
        ack.stressTestID = stress.object["stress_test_id"] as! String
        try JSONEncoder().encode(ack).write(to: dir.url.appendingPathComponent("ack.json"))
        kill(getpid(), SIGKILL)
    }

    @Test func sigkill_KeepsEverythingAClientCreated() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let process = try runTestChild(filter: "TelemetryRestartTests/crashChild", environment: [Self.childDirectoryVariable: dir.path])
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGKILL)
        let ack = try JSONDecoder().decode(Acknowledged.self, from: Data(contentsOf: dir.url.appendingPathComponent("ack.json")))

        let d = try TestDaemon(dir: dir)
        defer { d.stop() }
        // The vault key and the sealed secret came back, and still open.
        let secrets = try d.get("/api/telemetry/secrets/status").object
        #expect(secrets["total_secrets"] as? Int == 1)
        #expect(secrets["encrypted_count"] as? Int == 1)
        #expect(try d.json("POST", "/api/secrets/store", ["name": "CRASH_TOKEN", "value": "x", "category": "token", "consent_given": true]).status == 409)
        // Kernels the operator stopped stay stopped.
        let kernels = try d.get("/api/telemetry/kernels/status").object
        #expect(kernels["idle"] as? Int == TelemetryModule.kernelCount)
        // The pending task kept its overridden priority and is still queued.
        let task = try #require(try d.tasks().first { $0["task_id"] as? String == ack.taskID })
        #expect(task["status"] as? String == "pending")
        #expect(task["priority"] as? String == "critical")
        #expect(try d.get("/api/telemetry/htm/queue").object["pending_tasks"] as? Int == 1)
        // The review is remembered: the suggestion is not pending, and no duplicate was filed.
        #expect(try d.get("/api/telemetry/learning/policy_suggestions").object["total"] as? Int == 0)
        let status = try d.telemetry.database.read { c in
            try c.scalar("SELECT status FROM policy_suggestions WHERE id = ?", [.text(ack.suggestionID)])?.string
        }
        #expect(status == "under_review")
        // The stress test the kill interrupted is failed, not left running; its leftover tasks are failed too.
        let stress = try d.get("/api/stress/\(ack.stressTestID)/status").object
        #expect(stress["status"] as? String == "failed")
        #expect(stress["error"] as? String == "interrupted by a daemon restart")
        #expect(try d.json("POST", "/api/stress/run", ["test_type": "htm_queue", "duration_minutes": 0.01, "intensity": "low"]).status == 200)
        // Starting a kernel drains the restored task.
        _ = try d.control(ack.stoppedKernel, "start")
        #expect(waitUntil { (try? d.tasks().first { $0["task_id"] as? String == ack.taskID }?["status"] as? String) == "completed" })
    }
}
