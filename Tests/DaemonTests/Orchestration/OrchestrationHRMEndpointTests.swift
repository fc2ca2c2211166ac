import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// One test per endpoint of spec §6: configs the runner obeys, history, presets, simulate.
@Suite struct OrchestrationHRMEndpointTests {
    @Test func updateConfig_StoresValidatesAndTheRunnerObeysIt() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let project = try d.createProject()
        let reply = try d.post("/api/hrm/config", #"{"project_id":"\#(project)","task_id":null,"config":{"ml_iteration_prediction":{"max_iterations":3},"agent_switching":{"strategy":"quality_first"}},"apply_immediately":true,"persist":true}"#)
        #expect(reply.status == 200)
        #expect(reply["status"] == "applied")
        #expect(reply["impact_estimate"]?["cost_change"] == 0.13)   // +0.35 quality_first − 0.10 aggressive cache − 0.12 auto mode
        #expect(reply["active_tasks_affected"] == 0)
        let run = try d.execute(#""prompt":"Write a parser","project_id":"\#(project)""#)
        #expect(run["metadata"]?["selected_agent"] == "claude")   // quality_first
        let task = try d.get("/api/tasks/\(run["task_id"]!.stringValue!)")
        #expect(task["max_iterations"] == 3)
        let bad = try d.post("/api/hrm/config", #"{"project_id":"\#(project)","config":{"latent_reasoning":{"dimensionality":64},"agent_switching":{"strategy":"yolo"},"caching":{"max_size_mb":"big"}}}"#)
        #expect(Set(bad.locs) == ["body.config.latent_reasoning.dimensionality", "body.config.agent_switching.strategy",
                                  "body.config.caching.max_size_mb"])
        #expect(try d.post("/api/hrm/config", #"{"project_id":"nope","config":{}}"#).locs == ["body.project_id"])
        #expect(try d.post("/api/hrm/config", #"{"project_id":"\#(project)"}"#).locs == ["body.config"])
        let preview = try d.post("/api/hrm/config", #"{"project_id":"\#(project)","config":{},"persist":false}"#)
        #expect(preview["status"] == "preview")
        #expect(try d.get("/api/hrm/config?project_id=\(project)")["config"]?["ml_iteration_prediction"]?["max_iterations"] == 3)
    }

    @Test func getConfig_FallsBackFromTaskToProjectToBalanced() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let project = try d.createProject()
        let fallback = try d.get("/api/hrm/config?project_id=\(project)")
        #expect(fallback["preset_name"] == "balanced")
        #expect(fallback["config_id"] == .null)
        #expect(fallback["config"]?["latent_reasoning"]?["dimensionality"] == 512)
        let saved = try d.post("/api/hrm/config", #"{"project_id":"\#(project)","config":{"latent_reasoning":{"dimensionality":256}}}"#, )
        let stored = try d.request("GET", "/api/hrm/config?project_id=\(project)")
        #expect(stored["config_id"] == saved["config_id"])
        #expect(stored["config"]?["latent_reasoning"]?["dimensionality"] == 256)
        #expect(stored["updated_by"]?.stringValue?.hasPrefix("client:") == true)
        #expect(try d.get("/api/hrm/config?project_id=nope").status == 404)
    }

    @Test func presets_ListBuiltinsWithUsageFromRealRuns() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        _ = try d.execute()
        guard case .array(let presets) = try d.get("/api/hrm/config/presets").json else { Issue.record("list"); return }
        #expect(presets.map { $0["name"] } == ["balanced", "cost_optimized", "quality_first", "speed"])
        #expect(presets.allSatisfy { $0["builtin"] == true })
        #expect(presets[0]["usage_stats"]?["tasks"] == 1)   // the task ran under the balanced default
        #expect(presets[0]["usage_stats"]?["avg_quality"] != .null)
        #expect(presets[1]["usage_stats"]?["avg_quality"] == .null)
    }

    @Test func createPreset_ValidatesAndRejectsDuplicateNames() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let body = ##"{"name":"My Custom Preset","description":"Optimized for my workflow","icon":"custom","color":"#10b981","visibility":"private","config":{"caching":{"max_size_mb":1000}}}"##
        let created = try d.post("/api/hrm/config/presets", body)
        #expect(created.status == 201)
        #expect(created["builtin"] == false)
        #expect(created["config"]?["caching"]?["max_size_mb"] == 1000)
        #expect(try d.post("/api/hrm/config/presets", body).status == 400)
        let bad = try d.post("/api/hrm/config/presets", #"{"name":"x","color":"green","visibility":"secret"}"#)
        #expect(Set(bad.locs) == ["body.color", "body.visibility", "body.config"])
    }

    @Test func updatePreset_ChangesCustomAndRefusesBuiltins() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try #require(try d.post("/api/hrm/config/presets", #"{"name":"mine","config":{}}"#)["id"]?.stringValue)
        let updated = try d.put("/api/hrm/config/presets/\(id)", #"{"description":"now documented","config":{"rl_refinement":{"epsilon":0.3}}}"#)
        #expect(updated["description"] == "now documented")
        #expect(updated["config"]?["rl_refinement"]?["epsilon"] == 0.3)
        #expect(try d.put("/api/hrm/config/presets/preset_balanced", #"{"description":"x"}"#).status == 400)
        #expect(try d.put("/api/hrm/config/presets/nope", #"{"description":"x"}"#).status == 404)
    }

    @Test func deletePreset_RefusesBuiltins() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let id = try #require(try d.post("/api/hrm/config/presets", #"{"name":"mine","config":{}}"#)["id"]?.stringValue)
        #expect(try d.delete("/api/hrm/config/presets/preset_speed").status == 400)
        #expect(try d.delete("/api/hrm/config/presets/\(id)").status == 200)
        #expect(try d.delete("/api/hrm/config/presets/\(id)").status == 404)
    }

    @Test func applyPreset_WritesTheProjectConfigAndCountsUsage() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let project = try d.createProject()
        let reply = try d.post("/api/hrm/config/presets/preset_cost_optimized/apply?project_id=\(project)&apply_immediately=true")
        #expect(reply["status"] == "applied")
        let config = try d.get("/api/hrm/config?project_id=\(project)")
        #expect(config["preset_name"] == "cost_optimized")
        #expect(config["config"]?["agent_switching"]?["strategy"] == "cost_optimized")
        let run = try d.execute(#""prompt":"x","project_id":"\#(project)""#)
        #expect(run.status == 200, "\(run.text)")
        #expect(run["metadata"]?["selected_agent"] == "gemini")   // the cheapest agent first (it may switch later)
        #expect(run["metadata"]?["selection_reason"] == "strategy:cost_optimized")
        guard case .array(let presets) = try d.get("/api/hrm/config/presets").json else { return }
        #expect(presets.first { $0["id"] == "preset_cost_optimized" }?["usage_stats"]?["usage_count"] == 1)
        #expect(try d.post("/api/hrm/config/presets/preset_speed/apply").locs == ["query.project_id"])
        #expect(try d.post("/api/hrm/config/presets/preset_speed/apply?project_id=\(project)&apply_immediately=maybe").locs == ["query.apply_immediately"])
        #expect(try d.post("/api/hrm/config/presets/nope/apply?project_id=\(project)").status == 404)
    }

    @Test func simulate_UsesTheImpactTableAndRealAverages() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let body = #"{"current_config":{},"proposed_config":{"agent_switching":{"strategy":"cost_optimized"}},"task_context":{"complexity":10.0,"estimated_duration":450,"current_quality":0.87}}"#
        let before = try d.post("/api/hrm/simulate", body)
        #expect(before["impact_analysis"]?["speed"]?["current"] == 450)
        #expect(before["impact_analysis"]?["cost"]?["current"] == .null)   // no finished tasks: no invented 2.50
        #expect(before["null_reasons"]?["cost"] != nil)
        #expect(before["impact_analysis"]?["cost"]?["confidence"] == 0.85)
        _ = try d.execute()
        let after = try d.post("/api/hrm/simulate", body)
        #expect(after["impact_analysis"]?["cost"]?["current"] == 0)
        #expect(after["impact_analysis"]?["tokens"]?["current"] != .null)
        #expect(try d.post("/api/hrm/simulate", #"{"proposed_config":{},"task_context":{"complexity":"hard"}}"#).locs == ["body.task_context.complexity"])
    }

    @Test func history_ListsChangesNewestFirst() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let project = try d.createProject()
        let first = try d.post("/api/hrm/config", #"{"project_id":"\#(project)","config":{}}"#)
        _ = try d.post("/api/hrm/config/presets/preset_speed/apply?project_id=\(project)")
        let id = try #require(first["config_id"]?.stringValue)
        guard case .array(let history) = try d.get("/api/hrm/config/history/\(id)?limit=10").json else { Issue.record("list"); return }
        #expect(history.map { $0["change_type"] } == ["preset_applied", "create"])
        #expect(history[0]["old_config"] == history[1]["new_config"])
        guard case .array(let one) = try d.get("/api/hrm/config/history/\(id)?limit=1").json else { return }
        #expect(one.count == 1)
        #expect(try d.get("/api/hrm/config/history/\(id)?limit=0").locs == ["query.limit"])
        #expect(try d.get("/api/hrm/config/history/nope").status == 404)
    }
}
