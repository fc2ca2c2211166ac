import Foundation
import Testing
@testable import Daemon

/// §3 dashboard endpoints.
@Suite struct AutopackDashboardTests {
    @Test func runStatus_ComputesPercentagesAndCurrentPhase() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 4, tokenCap: 1000)
        try s.move("r", "P1", to: "SKIPPED")
        try s.move("r", "P2", to: "EXECUTING", ["tokens_used": 250, "quality_level": "needs_review"])
        let status = try s.get("/dashboard/runs/r/status").object
        #expect(status["percent_complete"] as? Int == 25)
        #expect(status["current_phase_name"] as? String == "phase 2")
        #expect(status["token_utilization"] as? Int == 25)
        #expect(status["quality_level"] as? String == "needs_review")
        #expect(status["total_phases"] as? Int == 4)
        #expect(try s.get("/dashboard/runs/x/status").status == 404)
    }

    @Test func usage_GroupsByProviderAndModel_WithinThePeriod() throws {
        let clock = ManualClock()
        let s = try AutopackServer(clock: clock)
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 2)
        _ = try s.post("/runs/r/phases/P1/builder_result", Fixtures.builder("r", "P1", tokens: 1000))
        clock.advance(by: 2 * 86_400)
        _ = try s.post("/runs/r/phases/P2/builder_result", Fixtures.builder("r", "P2", tokens: 500))
        let week = try s.get("/dashboard/usage?period=week").object
        let providers = (week["providers"] as? [[String: Any]]) ?? []
        #expect(providers.count == 1)
        #expect(providers.first?["provider"] as? String == "anthropic")
        #expect(providers.first?["total_tokens"] as? Int == 1500)
        #expect((week["models"] as? [[String: Any]])?.first?["model"] as? String == "claude-sonnet-4-5")
        let day = try s.get("/dashboard/usage?period=day").object
        #expect(((day["providers"] as? [[String: Any]])?.first)?["total_tokens"] as? Int == 500)
        #expect(try s.get("/dashboard/usage?period=decade").object["period"] as? String == "week")
    }

    @Test func models_AndOverrides_ArePersisted_AndUsedForUsage() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        let mappings = try s.get("/dashboard/models").array
        #expect(mappings.count == 2 * AutopackStore.categories.count * 3)
        let highAudit = mappings.first { $0["role"] as? String == "auditor" && $0["complexity"] as? String == "high" }
        #expect(highAudit?["model"] as? String == "claude-opus-4-5")
        let override = try s.post("/dashboard/models/override", ["role": "builder", "category": "tests", "complexity": "low",
                                                                 "model": "gpt-5-mini", "scope": "global"])
        #expect(override.status == 200)
        #expect(override.object["status"] as? String == "updated")
        let after = try s.get("/dashboard/models").array.first {
            $0["role"] as? String == "builder" && $0["category"] as? String == "tests" && $0["complexity"] as? String == "low"
        }
        #expect(after?["model"] as? String == "gpt-5-mini")
        try s.startRun("r", phases: 1)
        #expect(try s.post("/dashboard/models/override", ["role": "builder", "category": "tests", "complexity": "low", "model": "local-tft",
                                                          "scope": "run", "run_id": "r"]).status == 200)
        #expect(try s.post("/dashboard/models/override", ["role": "builder", "model": "m", "scope": "run", "run_id": "zz"]).status == 404)
        _ = try s.post("/runs/r/phases/P1/builder_result", Fixtures.builder("r", "P1", tokens: 10))
        let usage = try s.get("/dashboard/usage").object
        #expect(((usage["models"] as? [[String: Any]])?.first)?["model"] as? String == "local-tft")
        #expect(((usage["providers"] as? [[String: Any]])?.first)?["provider"] as? String == "local")
    }

    @Test func humanNotes_AppendToTheNotesFile() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r")
        let reply = try s.post("/dashboard/human-notes", ["note": "check the P2 probe", "run_id": "r"])
        #expect(reply.status == 200)
        #expect(reply.object["timestamp"] is String)
        _ = try s.post("/dashboard/human-notes", ["note": "second"])
        let file = try String(contentsOf: s.dir.url.appendingPathComponent("data/autopack/human_notes.md"), encoding: .utf8)
        #expect(file.contains("**Run:** r\n\ncheck the P2 probe"))
        #expect(file.contains("second"))
        #expect(try s.post("/dashboard/human-notes", ["note": "x", "run_id": "nope"]).status == 404)
    }

    @Test func consolidatedMetrics_KillSwitch503_Pagination400_Unknown404() throws {
        let off = try AutopackServer()
        defer { off.stopAndClean() }
        try off.startRun("r")
        #expect(try off.get("/dashboard/runs/r/consolidated-metrics").status == 503)
        var settings = AutopackServer.settings()
        settings.killSwitches = settings.killSwitches.map { ($0.0, $0.0 == "consolidated_metrics") }
        let s = try AutopackServer(settings: settings)
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 2)
        _ = try s.post("/runs/r/phases/P1/builder_result", Fixtures.builder("r", "P1", tokens: 300))
        _ = try s.post("/runs/r/phases/P1/auditor_result", Fixtures.auditor("r", "P1", tokens: 20))
        let metrics = try s.get("/dashboard/runs/r/consolidated-metrics?limit=1").object
        #expect(metrics["total_tokens_spent"] as? Int == 320)
        #expect(metrics["completed_phases"] as? Int == 1)
        #expect(metrics["events_total"] as? Int == 2)
        #expect((metrics["events"] as? [Any])?.count == 1)
        #expect(try s.get("/dashboard/runs/r/consolidated-metrics?limit=10001").status == 400)
        #expect(try s.get("/dashboard/runs/r/consolidated-metrics?offset=-1").status == 400)
        #expect(try s.get("/dashboard/runs/zz/consolidated-metrics").status == 404)
    }

    @Test func legacyStats_NeedTheKey_AndComeFromStoredPhases() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 2, tokenCap: 1000)
        _ = try s.post("/runs/r/phases/P1/builder_result", Fixtures.builder("r", "P1", status: "failed", tokens: 100))
        for path in ["/dashboard/runs/r/token-efficiency", "/dashboard/runs/r/phase6-stats"] {
            #expect(try s.get(path).status == 403)
        }
        let efficiency = try s.get("/dashboard/runs/r/token-efficiency", headers: s.key).object
        #expect(efficiency["total_budget_used"] as? Int == 100)
        #expect(efficiency["budget_utilization"] as? Double == 0.1)
        let phase6 = try s.get("/dashboard/runs/r/phase6-stats", headers: s.key).object
        #expect((phase6["failure_patterns_detected"] as? [String: Int])?["phase_failed"] == 1)
        #expect(try s.get("/dashboard/runs/zz/phase6-stats", headers: s.key).status == 404)
    }

    @Test func abResults_ComparePairedRunsOnceBothFinish() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("ctl", phases: 1, extra: ["ab_test_id": "t1", "ab_role": "control"])
        try s.startRun("trt", phases: 1, extra: ["ab_test_id": "t1", "ab_role": "treatment"])
        for (run, tokens) in [("ctl", 1000), ("trt", 600)] {
            _ = try s.post("/runs/\(run)/phases/P1/builder_result", Fixtures.builder(run, "P1", tokens: tokens))
            #expect(try s.get("/dashboard/ab-results").object["count"] as? Int == 0)
            _ = try s.post("/runs/\(run)/phases/P1/auditor_result", Fixtures.auditor(run, "P1", tokens: 0))
        }
        let results = try s.get("/dashboard/ab-results?test_id=t1").object
        let first = try #require((results["results"] as? [[String: Any]])?.first)
        #expect(first["token_delta"] as? Int == -400)
        #expect(first["is_valid"] as? Bool == true)
        #expect(try s.get("/dashboard/ab-results?test_id=other").object["count"] as? Int == 0)
        #expect(try s.get("/dashboard/ab-results?limit=1001").status == 422)
    }
}
