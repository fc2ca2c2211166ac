import Foundation
import Testing
@testable import Daemon

/// Layer 3: intents, retrospectives, playbooks, policy suggestions and responses.
@Suite struct TelemetryLearningTests {
    @Test func intents_TrackTheirTasks_AndDetailsListThem() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try d.stopAllKernels()
        try d.drop("a.bin", Data(count: 10))
        try d.drop("b.bin", Data(count: 20))
        #expect(waitUntil { (try? d.tasks("&status=pending").count) == 2 })
        var body = try d.get("/api/telemetry/intent/active").object
        let intents = try #require(body["intents"] as? [[String: Any]])
        #expect(!intents.isEmpty)
        let intent = try #require(intents.first)
        let id = try #require(intent["intent_id"] as? String)
        #expect((intent["goal"] as? String)?.contains("inbox") == true)
        #expect(intent["status"] as? String == "pending")
        #expect(number(intent["completion_percent"]) == 0 || intent["completion_percent"] as? Int == 0)

        _ = try d.control(try #require(try d.kernelIDs().first), "start")
        #expect(waitUntil { (try? d.tasks("&status=completed").count) == 2 })
        body = try d.get("/api/telemetry/intent/\(id)/details").object
        #expect(body["status"] as? String == "completed")
        #expect(body["completion_percent"] as? Int == 100)
        let tasks = try #require(body["htm_tasks"] as? [[String: Any]])
        #expect(tasks.allSatisfy { $0["status"] as? String == "completed" })
        #expect(tasks.count == (body["htm_tasks_generated"] as? Int ?? -1))
        #expect((body["insights"] as? [String])?.first?.contains("completed") == true)
        #expect(try d.get("/api/telemetry/intent/active").object["total"] as? Int == 0)
        #expect(try d.get("/api/telemetry/intent/intent-000000000000/details").status == 404)
        #expect(try d.get("/api/telemetry/intent/active?limit=0").status == 422)
    }

    @Test func retrospectivesAndPlaybooks_ComeFromRealRuns() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try #require(try d.kernelIDs().first)
        #expect(try d.control(id, "stress").status == 200)
        #expect(try d.control(id, "restart").status == 200)
        let start = try d.json("POST", "/api/stress/run", ["test_type": "kernel_only", "duration_minutes": 0.01, "intensity": "low"])
        #expect(start.status == 200)
        let stress = try #require(start.object["stress_test_id"] as? String)
        #expect(waitUntil { (try? d.get("/api/stress/\(stress)/status").object["status"] as? String) == "completed" })

        let retros = try d.get("/api/telemetry/learning/retrospectives?limit=5").object
        let first = try #require((retros["retrospectives"] as? [[String: Any]])?.first)
        #expect(first["cycle_name"] as? String == "stress \(stress)")
        #expect((first["insights"] as? [String])?.first?.contains("tasks, avg response") == true)
        #expect(ISO8601Timestamp.parse(first["timestamp"] as? String ?? "") != nil)
        #expect(try d.get("/api/telemetry/learning/retrospectives?limit=101").status == 422)

        let playbooks = try #require(try d.get("/api/telemetry/learning/playbooks").object["playbooks"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: playbooks.map { ($0["playbook_name"] as? String ?? "", $0) })
        #expect(Set(byName.keys) == ["kernel_restart", "kernel_stress", "stress_test"])
        #expect(byName["kernel_stress"]?["success_rate_percent"] as? Int == 100)
        #expect(byName["kernel_stress"]?["total_executions"] as? Int == 1)
    }

    /// Three checksum tasks whose files vanished before a kernel ran them: three real failures.
    private func failThreeTasks(_ d: TestDaemon) throws {
        try d.stopAllKernels()
        for name in ["x.bin", "y.bin", "z.bin"] { try d.drop(name, Data(count: 8)) }
        #expect(waitUntil { (try? d.tasks("&status=pending").count) == 3 })
        let work = d.daemon.configuration.dataDirectory.appendingPathComponent("telemetry/work")
        for name in try FileManager.default.contentsOfDirectory(atPath: work.path) {
            try FileManager.default.removeItem(at: work.appendingPathComponent(name))
        }
        _ = try d.control(try #require(try d.kernelIDs().first), "start")
        #expect(waitUntil { (try? d.tasks("&status=failed").count) == 3 })
    }

    @Test func policySuggestions_FollowFailures_AndResponsesAreAtomic() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        #expect(try d.get("/api/telemetry/learning/policy_suggestions").object["total"] as? Int == 0)
        try failThreeTasks(d)
        var body = try d.get("/api/telemetry/learning/policy_suggestions").object
        let suggestions = try #require(body["suggestions"] as? [[String: Any]])
        let failed = try #require(suggestions.first { $0["rule"] as? String == "failed_tasks" })
        #expect(failed["policy_area"] as? String == "reliability")
        #expect(number(failed["confidence"]) == 0.65)
        #expect((failed["supporting_evidence"] as? [String])?.first == "3 task(s) failed in the last hour")
        let id = try #require(failed["suggestion_id"] as? String)
        // The same rule does not file a second suggestion while one is open.
        body = try d.get("/api/telemetry/learning/policy_suggestions").object
        #expect((body["suggestions"] as? [[String: Any]])?.filter { $0["rule"] as? String == "failed_tasks" }.count == 1)

        var reply = try d.json("POST", "/api/telemetry/learning/policy_suggestions/\(id)/respond", ["action": "approve"])
        #expect(reply.status == 422)
        #expect(reply.text.contains(#""loc":["body","action"]"#))
        reply = try d.json("POST", "/api/telemetry/learning/policy_suggestions/\(id)/respond", ["action": "accept", "notes": "ok"])
        #expect(reply.status == 200)
        #expect(reply.object["status"] as? String == "processed")
        let task = try #require(reply.object["task_id"] as? String)
        #expect((reply.object["next_steps"] as? [String])?.first?.contains(task) == true)
        #expect(waitUntil { (try? d.tasks().first { $0["task_id"] as? String == task }?["status"] as? String) == "completed" })
        #expect(try d.json("POST", "/api/telemetry/learning/policy_suggestions/\(id)/respond", ["action": "reject"]).status == 409)
        #expect(try d.json("POST", "/api/telemetry/learning/policy_suggestions/pol-000000000000/respond", ["action": "reject"]).status == 404)
        #expect(try d.get("/api/telemetry/learning/policy_suggestions").object["total"] as? Int == 0)
    }

    @Test func policyReview_SchedulesAFollowUp() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try failThreeTasks(d)
        let suggestions = try #require(try d.get("/api/telemetry/learning/policy_suggestions").object["suggestions"] as? [[String: Any]])
        let id = try #require(suggestions.first?["suggestion_id"] as? String)
        let reply = try d.json("POST", "/api/telemetry/learning/policy_suggestions/\(id)/respond", ["action": "review"])
        #expect(reply.status == 200)
        let followUp = try #require(ISO8601Timestamp.parse(reply.object["follow_up_at"] as? String ?? ""))
        #expect(abs(followUp - Date().timeIntervalSince1970 - LearningLoop.reviewDelaySeconds) < 3_600)
        #expect(reply.object["task_id"] is NSNull)
    }
}
