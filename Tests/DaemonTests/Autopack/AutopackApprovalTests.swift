import Foundation
import Testing
@testable import Daemon

/// §6 approvals and the Telegram callback, §7 governance.
@Suite struct AutopackApprovalTests {
    static func request(_ run: String = "r", _ phase: String = "P1") -> [String: Any] {
        ["run_id": run, "phase_id": phase, "context": "build113_risky_decision", "decision_info": ["action": "delete model"]]
    }

    @Test func request_IsPending_StatusAndPendingRead_ThenTimesOutOnTheClock() throws {
        let clock = ManualClock()
        let s = try AutopackServer(clock: clock)
        defer { s.stopAndClean() }
        try s.startRun("r")
        let created = try s.post("/approval/request", Self.request())
        #expect(created.status == 200)
        #expect(created.object["status"] as? String == "pending")
        #expect(created.object["telegram_sent"] as? Bool == false)
        let id = try #require(created.object["approval_id"] as? Int)
        let status = try s.get("/approval/status/\(id)").object
        #expect(status["status"] as? String == "pending")
        #expect(status["run_id"] as? String == "r")
        #expect(try s.get("/approval/pending").object["count"] as? Int == 1)
        clock.advance(by: 15 * 60 + 1)
        let expired = try s.get("/approval/status/\(id)").object
        #expect(expired["status"] as? String == "timeout")
        #expect(expired["response_method"] as? String == "timeout")
        #expect(expired["rejected_reason"] is String)          // default on timeout: reject
        #expect(try s.get("/approval/pending").object["count"] as? Int == 0)
        #expect(try s.get("/approval/status/999").status == 404)
        #expect(try s.get("/approval/status/abc").status == 404)
        #expect(try s.post("/approval/request", Self.request("missing")).status == 404)
    }

    @Test func autoApprove_OutsideProductionOnly() throws {
        let dev = try AutopackServer(settings: AutopackServer.settings { $0.autoApprove = true })
        defer { dev.stopAndClean() }
        try dev.startRun("r")
        #expect(try dev.post("/approval/request", Self.request()).object["status"] as? String == "approved")
        let production = try AutopackServer(settings: AutopackServer.settings { $0.autoApprove = true; $0.production = true })
        defer { production.stopAndClean() }
        try production.startRun("r")
        #expect(try production.post("/approval/request", Self.request()).object["status"] as? String == "pending")
    }

    @Test func telegramWebhook_ChecksTheSecret_AndDecidesTheNewestPendingRequest() throws {
        let s = try AutopackServer(settings: AutopackServer.settings { $0.telegramWebhookSecret = "hook-secret" })
        defer { s.stopAndClean() }
        try s.startRun("r")
        let id = try #require(try s.post("/approval/request", Self.request()).object["approval_id"] as? Int)
        let update: [String: Any] = ["update_id": 1, "callback_query": ["id": "q", "data": "approve:P1", "from": ["id": 7, "username": "ops"]]]
        #expect(try s.post("/telegram/webhook", update).status == 403)
        #expect(try s.post("/telegram/webhook", update, headers: ["X-Telegram-Bot-Api-Secret-Token": "wrong"]).status == 403)
        let ok = try s.post("/telegram/webhook", update, headers: ["X-Telegram-Bot-Api-Secret-Token": "hook-secret"])
        #expect(ok.status == 200)
        #expect(ok.object["handled"] as? Bool == true)
        let decided = try s.get("/approval/status/\(id)").object
        #expect(decided["status"] as? String == "approved")
        #expect(decided["response_method"] as? String == "telegram")
        // A second tap finds nothing pending: answered (not retried by Telegram), not applied twice.
        let again = try s.post("/telegram/webhook", update, headers: ["X-Telegram-Bot-Api-Secret-Token": "hook-secret"])
        #expect(again.object["ok"] as? Bool == false)
        // Production without a configured secret refuses the webhook.
        let production = try AutopackServer(settings: AutopackServer.settings { $0.production = true })
        defer { production.stopAndClean() }
        #expect(try production.post("/telegram/webhook", update).status == 403)
    }

    @Test func auditorEscalation_WaitsForApproval_ThenCompletesOrFails() throws {
        let s = try AutopackServer(settings: AutopackServer.settings { $0.telegramWebhookSecret = "k" })
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 2)
        for phase in ["P1", "P2"] {
            _ = try s.post("/runs/r/phases/\(phase)/builder_result", Fixtures.builder("r", phase))
            let escalated = try s.post("/runs/r/phases/\(phase)/auditor_result", Fixtures.auditor("r", phase, "escalate"))
            #expect(escalated.object["phase_state"] as? String == "GATE")
            #expect((escalated.object["approval"] as? [String: Any])?["status"] as? String == "pending")
        }
        let headers = ["X-Telegram-Bot-Api-Secret-Token": "k"]
        _ = try s.post("/telegram/webhook", ["callback_query": ["data": "approve:P1"]], headers: headers)
        _ = try s.post("/telegram/webhook", ["callback_query": ["data": "reject:P2"]], headers: headers)
        let phases = (try s.get("/runs/r").object["phases"] as? [[String: Any]]) ?? []
        #expect(phases.map { $0["state"] as? String } == ["COMPLETE", "FAILED"])
        #expect(try s.get("/runs/r").object["state"] as? String == "DONE_FAILED_REQUIRES_HUMAN_REVIEW")
    }

    @Test func governance_FilesOutsideAllowedPaths_NeedApproval_BeforeThePhaseCompletes() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 2)
        let outside = Fixtures.builder("r", "P1", extra: ["allowed_paths": ["src/"], "files_changed": ["src/a.py", "config/prod.yaml"],
                                                          "lines_added": 3, "lines_removed": 1])
        let built = try s.post("/runs/r/phases/P1/builder_result", outside).object
        let request = try #require(built["governance_request"] as? [String: Any])
        #expect(request["risk_level"] as? String == "critical")
        #expect(request["auto_approved"] as? Bool == false)
        let id = try #require(request["request_id"] as? String)
        let pending = try s.get("/governance/pending").object
        #expect(pending["count"] as? Int == 1)
        // The auditor approves, but the phase waits for governance.
        let audited = try s.post("/runs/r/phases/P1/auditor_result", Fixtures.auditor("r", "P1")).object
        #expect(audited["phase_state"] as? String == "GATE")
        #expect(try s.post("/governance/approve/\(id)?approved=true").locations == ["query.user_id"])
        let approved = try s.post("/governance/approve/\(id)?approved=true&user_id=alice")
        #expect(approved.status == 200)
        #expect(approved.object["approved_by"] as? String == "alice")
        #expect(((try s.get("/runs/r").object["phases"] as? [[String: Any]])?.first)?["state"] as? String == "COMPLETE")
        let twice = try s.post("/governance/approve/\(id)?approved=false&user_id=bob")
        #expect(twice.status == 409)
        #expect(twice.object["current_state"] as? String == "approved")
        #expect(try s.post("/governance/approve/gov-nope?approved=true&user_id=a").status == 404)
        // Tests/docs-only, small changes are auto-approved by policy.
        let docs = Fixtures.builder("r", "P2", extra: ["allowed_paths": ["src/"], "files_changed": ["docs/guide.md", "tests/test_x.py"]])
        let auto = try s.post("/runs/r/phases/P2/builder_result", docs).object["governance_request"] as? [String: Any]
        #expect(auto?["auto_approved"] as? Bool == true)
        #expect(auto?["status"] as? String == "approved")
    }

    @Test func governance_ApproverComesFromTheBearerToken() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r")
        let built = try s.post("/runs/r/phases/P1/builder_result", Fixtures.builder("r", "P1", extra: ["allowed_paths": ["src/"], "files_changed": ["lib/a.c"]]))
        let id = try #require((built.object["governance_request"] as? [String: Any])?["request_id"] as? String)
        let token = try #require(try s.request("POST", "/api/auth/login", body: Array("username=admin&password=\(AutopackServer.adminPassword)".utf8),
                                               headers: ["Content-Type": "application/x-www-form-urlencoded"]).object["access_token"] as? String)
        #expect(try s.post("/governance/approve/\(id)?approved=false", headers: ["Authorization": "Bearer garbage"]).status == 401)
        let denied = try s.post("/governance/approve/\(id)?approved=false&user_id=spoofed", headers: ["Authorization": "Bearer \(token)"])
        #expect(denied.object["approved_by"] as? String == "admin")
        #expect(((try s.get("/runs/r").object["phases"] as? [[String: Any]])?.first)?["state"] as? String == "FAILED")
    }

    @Test func approvalRequest_RateLimit10_Webhook30_PerMinute() throws {
        let s = try AutopackServer(settings: AutopackServer.settings { $0.approvalRequestPerMinute = 10; $0.webhookPerMinute = 30 })
        defer { s.stopAndClean() }
        try s.startRun("r")
        for _ in 0..<10 { #expect(try s.post("/approval/request", Self.request()).status == 200) }
        #expect(try s.post("/approval/request", Self.request()).status == 429)
        for _ in 0..<30 { #expect(try s.post("/telegram/webhook", ["update_id": 1]).status == 200) }
        #expect(try s.post("/telegram/webhook", ["update_id": 1]).status == 429)
    }
}
