import Foundation
import Testing
@testable import Daemon

/// §1 run lifecycle, §4 issues, §5 errors, §10 inbox/progress — over real sockets.
@Suite struct AutopackRunTests {
    @Test func start_Returns201WithTiersAndPhases_AndGetAnswersFromTheDatabase() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        let run = try s.startRun("run-1", phases: 3)
        #expect(run["id"] as? String == "run-1")
        #expect(run["state"] as? String == "RUN_CREATED")
        #expect(run["token_cap"] as? Int == 5_000_000)
        let phases = try #require(run["phases"] as? [[String: Any]])
        #expect(phases.map { $0["state"] as? String } == ["QUEUED", "QUEUED", "QUEUED"])
        #expect((phases[0]["scope"] as? [String: Any])?["read_only_context"] as? [[String: String]] == [["path": "docs/readme.md", "reason": ""]])
        let tiers = try #require(run["tiers"] as? [[String: Any]])
        #expect(tiers.first?["state"] as? String == "PENDING")
        #expect((tiers.first?["phases"] as? [Any])?.count == 3)

        let fetched = try s.get("/runs/run-1")
        #expect(fetched.status == 200)
        #expect(fetched.object["id"] as? String == "run-1")
        #expect(try s.get("/runs/nope").status == 404)
        // Duplicate run id → 409.
        let again = try s.post("/runs/start", Fixtures.runStart("run-1"), headers: s.key)
        #expect(again.status == 409)
    }

    @Test func start_NeedsTheKey_403ForMissingOrWrong_DaemonKeyAccepted() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        #expect(try s.post("/runs/start", Fixtures.runStart("a")).status == 403)
        let wrong = try s.post("/runs/start", Fixtures.runStart("a"), headers: ["X-API-Key": "nope"])
        #expect(wrong.status == 403)
        #expect(wrong.detail == "Invalid or missing API key")
        #expect(try s.post("/runs/start", Fixtures.runStart("a"), headers: ["X-API-Key": AutopackServer.daemonKey]).status == 201)
        #expect(try s.post("/runs/start", Fixtures.runStart("b"), headers: s.key).status == 201)
    }

    @Test func phases_FollowTheStateMachine_IllegalMovesAre409WithTheCurrentState() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 2)
        // QUEUED → COMPLETE is not a legal move.
        let illegal = try s.post("/runs/r/phases/P1/update_status", ["state": "COMPLETE"])
        #expect(illegal.status == 409)
        #expect(illegal.object["current_state"] as? String == "QUEUED")
        try s.move("r", "P1", to: "EXECUTING", ["tokens_used": 10])
        #expect(try s.get("/runs/r").object["state"] as? String == "PHASE_EXECUTION")
        try s.move("r", "P1", to: "GATE")
        #expect(try s.get("/runs/r").object["state"] as? String == "GATE")
        try s.move("r", "P1", to: "COMPLETE")
        #expect(try s.get("/runs/r").object["state"] as? String == "PHASE_QUEUEING")
        // Terminal phases never move again.
        let reopen = try s.post("/runs/r/phases/P1/update_status", ["state": "EXECUTING"])
        #expect(reopen.status == 409)
        #expect(reopen.object["current_state"] as? String == "COMPLETE")
        try s.move("r", "P2", to: "SKIPPED")
        let run = try s.get("/runs/r").object
        #expect(run["state"] as? String == "DONE_SUCCESS")
        #expect(run["completed_at"] is String)
        #expect((run["tiers"] as? [[String: Any]])?.first?["state"] as? String == "COMPLETE")
        // A finished run refuses further phase updates with its state.
        let after = try s.post("/runs/r/phases/P2/update_status", ["state": "SKIPPED"])
        #expect(after.status == 409)
        #expect(after.object["current_state"] as? String == "DONE_SUCCESS")
        #expect(try s.post("/runs/r/phases/P9/update_status", ["state": "EXECUTING"]).status == 404)
    }

    @Test func aFailedPhase_EndsTheRunForHumanReview_AndIsAnErrorReport() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 2)
        try s.move("r", "P1", to: "EXECUTING")
        try s.move("r", "P1", to: "FAILED")
        try s.move("r", "P2", to: "SKIPPED")
        let run = try s.get("/runs/r").object
        #expect(run["state"] as? String == "DONE_FAILED_REQUIRES_HUMAN_REVIEW")
        #expect((run["tiers"] as? [[String: Any]])?.first?["state"] as? String == "FAILED")
        let errors = try s.get("/runs/r/errors").object
        #expect(errors["error_count"] as? Int == 1)
        #expect(((errors["errors"] as? [[String: Any]])?.first)?["error_type"] as? String == "phase_failed")
        let summary = try s.get("/runs/r/errors/summary").object["summary"] as? [String: Any]
        #expect(summary?["total_errors"] as? Int == 1)
        #expect((summary?["by_phase"] as? [String: Int])?["P1"] == 1)
        #expect(try s.get("/runs/nope/errors").status == 404)
        #expect(try s.get("/runs/nope/errors/summary").status == 404)
    }

    @Test func builderThenAuditor_DriveThePhase_AndRecordPatchUsageAndProbeErrors() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 1)
        let probe: [String: Any] = ["probe_type": "pytest", "exit_code": 1, "stdout": "", "stderr": "1 failed"]
        let built = try s.post("/runs/r/phases/P1/builder_result", Fixtures.builder("r", "P1", extra: ["probe_results": [probe]]))
        #expect(built.status == 200, "\(built.text)")
        #expect(built.object["phase_state"] as? String == "GATE")
        // The auditor may not act on a phase that has not been built… here it has: approve → COMPLETE.
        let audited = try s.post("/runs/r/phases/P1/auditor_result", Fixtures.auditor("r", "P1"))
        #expect(audited.object["phase_state"] as? String == "COMPLETE")
        #expect(audited.object["run_state"] as? String == "DONE_SUCCESS")
        let run = try s.get("/runs/r").object
        #expect(run["tokens_used"] as? Int == 150)
        let index = try s.get("/runs/r/artifacts/index").object
        let paths = ((index["artifacts"] as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String }
        #expect(paths.contains("phases/P1/builder_attempt_1.patch"))
        #expect(paths.contains("phases/P1/auditor_attempt_1.md"))
        #expect(paths.contains("run_summary.md"))
        #expect(try s.get("/runs/r/errors").object["error_count"] as? Int == 1)
        // A builder result for a finished run: 409.
        #expect(try s.post("/runs/r/phases/P1/builder_result", Fixtures.builder("r", "P1")).status == 409)
    }

    @Test func auditorBeforeBuilder_Is409_ReviseReturnsToExecuting() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 1)
        let early = try s.post("/runs/r/phases/P1/auditor_result", Fixtures.auditor("r", "P1"))
        #expect(early.status == 409)
        #expect(early.object["current_state"] as? String == "QUEUED")
        _ = try s.post("/runs/r/phases/P1/builder_result", Fixtures.builder("r", "P1"))
        let revise = try s.post("/runs/r/phases/P1/auditor_result", Fixtures.auditor("r", "P1", "revise"))
        #expect(revise.object["phase_state"] as? String == "EXECUTING")
        let failed = try s.post("/runs/r/phases/P1/builder_result", Fixtures.builder("r", "P1", status: "failed"))
        #expect(failed.object["phase_state"] as? String == "FAILED")
        #expect((try s.get("/runs/r").object["phases"] as? [[String: Any]])?.first?["builder_attempts"] as? Int == 2)
    }

    @Test func tokenCap_ExhaustsTheBudget() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r", phases: 2, tokenCap: 100)
        _ = try s.post("/runs/r/phases/P1/builder_result", Fixtures.builder("r", "P1", tokens: 150))
        let run = try s.get("/runs/r").object
        #expect(run["state"] as? String == "DONE_FAILED_BUDGET_EXHAUSTED")
        #expect((run["failure_reason"] as? String)?.contains("150") == true)
        #expect(try s.post("/runs/r/phases/P2/update_status", ["state": "EXECUTING"]).status == 409)
    }

    @Test func recordIssue_CountsOccurrences_RollsUp_AndAgesInTheBacklog() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        for run in ["a", "b", "c"] { try s.startRun(run, phases: 1) }
        for run in ["a", "b", "c"] {
            let r = try s.post("/runs/\(run)/phases/P1/record_issue?issue_key=flaky_test&severity=minor&category=tests&evidence_refs=log1,log2")
            #expect(r.status == 200)
            #expect(r.object["issue_state"] as? String == "has_minor_issues")
        }
        let again = try s.post("/runs/a/phases/P1/record_issue?issue_key=flaky_test&severity=minor")
        #expect(again.object["occurrence_count"] as? Int == 2)
        _ = try s.post("/runs/a/phases/P1/record_issue?issue_key=secret_leak&severity=major")
        let run = try s.get("/runs/a").object
        #expect(run["minor_issues_count"] as? Int == 1)
        #expect(run["major_issues_count"] as? Int == 1)
        let index = try s.get("/runs/a/issues/index").object
        #expect(index["total_issues"] as? Int == 2)
        #expect((index["issues_by_phase"] as? [String: [String]])?["P1"]?.sorted() == ["flaky_test", "secret_leak"])
        #expect(try s.get("/runs/zzz/issues/index").status == 404)
        let backlog = try s.get("/project/issues/backlog").object
        let flaky = ((backlog["issues"] as? [[String: Any]]) ?? []).first { $0["issue_key"] as? String == "flaky_test" }
        #expect(flaky?["runs_affected"] as? Int == 3)
        #expect(flaky?["promoted"] as? Bool == true)          // minor in ≥ 3 runs → major
        #expect(flaky?["severity"] as? String == "major")
        #expect(try s.post("/runs/a/phases/P7/record_issue?issue_key=x&severity=minor").status == 404)
    }

    @Test func runsInbox_PaginatesNewestFirst_AndProgressCountsPhases() throws {
        let clock = ManualClock()
        let s = try AutopackServer(clock: clock)
        defer { s.stopAndClean() }
        for i in 1...3 {
            try s.startRun("run-\(i)", phases: 2)
            clock.advance(by: 10)
        }
        try s.move("run-3", "P1", to: "EXECUTING")
        let page = try s.get("/runs?limit=2&offset=0").object
        #expect(page["total"] as? Int == 3)
        #expect(((page["runs"] as? [[String: Any]]) ?? []).map { $0["id"] as? String } == ["run-3", "run-2"])
        #expect(((page["runs"] as? [[String: Any]])?.first)?["current_phase_name"] as? String == "phase 1")
        let rest = try s.get("/runs?limit=2&offset=2").object
        #expect(((rest["runs"] as? [[String: Any]]) ?? []).map { $0["id"] as? String } == ["run-1"])
        let progress = try s.get("/runs/run-3/progress").object
        #expect(progress["phases_total"] as? Int == 2)
        #expect(progress["phases_in_progress"] as? Int == 1)
        #expect(progress["phases_pending"] as? Int == 1)
        #expect(progress["elapsed_seconds"] as? Int == 10)         // started 10 s before the loop ended
        clock.advance(by: 30)
        #expect(try s.get("/runs/run-3/progress").object["elapsed_seconds"] as? Int == 40)
        #expect(try s.get("/runs/none/progress").status == 404)
    }

    @Test func operatorSurface_NeedsTheKey_UnlessPublicReadInDevelopment() throws {
        let locked = try AutopackServer(settings: AutopackServer.settings { $0.publicRead = false })
        defer { locked.stopAndClean() }
        try locked.startRun("r")
        for path in ["/runs", "/runs/r/progress", "/runs/r/artifacts/index", "/runs/r/artifacts/file?path=run_summary.md", "/runs/r/browser/artifacts"] {
            #expect(try locked.get(path).status == 403, "\(path)")
            #expect(try locked.get(path, headers: locked.key).status == 200, "\(path)")
        }
        // GET /runs/{id} is public per the spec.
        #expect(try locked.get("/runs/r").status == 200)
        let production = try AutopackServer(settings: AutopackServer.settings { $0.publicRead = true; $0.production = true })
        defer { production.stopAndClean() }
        #expect(try production.get("/runs").status == 403)
        // Executor writes are open as the spec says, unless the operator closes them.
        let closed = try AutopackServer(settings: AutopackServer.settings { $0.executorKeyRequired = true })
        defer { closed.stopAndClean() }
        try closed.startRun("r")
        #expect(try closed.post("/runs/r/phases/P1/update_status", ["state": "EXECUTING"]).status == 403)
        #expect(try closed.post("/runs/r/phases/P1/update_status", ["state": "EXECUTING"], headers: closed.key).status == 200)
    }

    /// Found by tools/fuzz_api.sh (ST202): a phase may only name one of the body's tiers, a rule between fields no
    /// schema can state. The document says it in words and types the phase's `tier_id` as the identifier it must be;
    /// tools/fuzz_hooks.py keeps the fuzzer's valid bodies consistent. Consistent bodies are created, others refused.
    @Test func runStart_PhasesNameTheBodysTiers_AsDocumented() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        let paths = try #require(s.get("/openapi.json").object["paths"] as? [String: Any])
        let post = (paths["/runs/start"] as? [String: Any])?["post"] as? [String: Any]
        let body = try #require(post?["requestBody"] as? [String: Any])
        #expect((body["description"] as? String ?? "").contains("each phase's tier_id one of the tiers"))
        let schema = try #require(((body["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any])
        let phases = (schema["properties"] as? [String: Any])?["phases"] as? [String: Any]
        let phase = ((phases?["anyOf"] as? [[String: Any]])?.first?["items"] as? [String: Any]) ?? [:]
        #expect(((phase["properties"] as? [String: Any])?["tier_id"] as? [String: Any])?["pattern"] as? String == "^[A-Za-z0-9._-]{1,128}$")
        func start(_ id: String, phaseTiers: [String]) throws -> HTTPReply {
            try s.post("/runs/start", ["run": ["run_id": id],
                                       "tiers": [["tier_id": "T1", "tier_index": 0, "name": "a"], ["tier_id": "T2", "tier_index": 1, "name": "b"]],
                                       "phases": phaseTiers.enumerated().map { ["phase_id": "P\($0.offset)", "phase_index": $0.offset, "tier_id": $0.element, "name": "p"] }],
                       headers: s.key)
        }
        #expect(try start("consistent", phaseTiers: ["T1", "T2", "T1"]).status == 201)
        for tiers in [["T1", "T9"], ["T1", "T 2"]] {
            let reply = try start("inconsistent", phaseTiers: tiers)
            #expect(reply.status == 422 && reply.locations == ["body.phases.1.tier_id"], "\(tiers): \(reply.text)")
        }
    }

    /// Found by tools/fuzz_api.sh (ST201): `issue_key` is documented with maxLength 200, which JSON Schema counts in code
    /// points; the route counted Swift characters, so 200 characters of combining marks (far more code points) passed.
    @Test func recordIssue_KeyLengthCountsCodePoints_AsDocumented() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        try s.startRun("r")
        func record(_ key: String) throws -> HTTPReply {
            let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return try s.post("/runs/r/phases/P1/record_issue?issue_key=\(encoded)&severity=minor")
        }
        let accented = String(repeating: "e\u{301}", count: 100)            // 100 characters, 200 code points
        #expect(try record(accented).status == 200)
        let longer = try record("a" + accented)                               // 101 characters, 201 code points
        #expect(longer.status == 422 && longer.locations == ["query.issue_key"], "\(longer.text)")
    }

    @Test func runStart_RateLimitIs10PerMinutePerClientIP_ForwardedForTrustedOnlyFromLoopback() throws {
        let s = try AutopackServer(settings: AutopackServer.settings { $0.runStartPerMinute = 10 })
        defer { s.stopAndClean() }
        var headers = s.key
        headers["X-Forwarded-For"] = "203.0.113.7"
        for i in 0..<10 { #expect(try s.post("/runs/start", Fixtures.runStart("r\(i)"), headers: headers).status == 201) }
        let limited = try s.post("/runs/start", Fixtures.runStart("r10"), headers: headers)
        #expect(limited.status == 429)
        #expect(limited.headers["retry-after"] != nil)
        // The key is checked first: the limited client without it is 403, not 429 (found by fuzzing, ST401).
        #expect(try s.post("/runs/start", Fixtures.runStart("r10"), headers: ["X-Forwarded-For": "203.0.113.7"]).status == 403)
        headers["X-Forwarded-For"] = "203.0.113.8"
        let other = try s.post("/runs/start", Fixtures.runStart("r11"), headers: headers)
        #expect(other.status == 201, "\(other.status) \(other.text)")
    }

    /// Child side of `killMinus9_AfterAcknowledgement_LosesNothing`: a no-op unless started by it.
    @Test func autopackCrashChild() throws {
        guard let path = ProcessInfo.processInfo.environment["AUTOPACK_CRASH_DIR"] else { return }
        let dir = TemporaryDirectory(existing: URL(fileURLWithPath: path))
        let s = try AutopackServer(dir: dir)
        let acks = try FileHandle(forWritingTo: dir.url.appendingPathComponent("acks"))
        try s.startRun("durable", phases: 2)
        try acks.write(contentsOf: Data("started\n".utf8))
        _ = try s.post("/runs/durable/phases/P1/builder_result", Fixtures.builder("durable", "P1"))
        try acks.write(contentsOf: Data("built\n".utf8))
        _ = try s.post("/approval/request", ["run_id": "durable", "phase_id": "P2", "context": "troubleshoot", "decision_info": ["x": 1]])
        try acks.write(contentsOf: Data("approval\n".utf8))
        kill(getpid(), SIGKILL)
    }

    @Test func killMinus9_AfterAcknowledgement_LosesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        _ = FileManager.default.createFile(atPath: dir.path + "/acks", contents: nil)
        let process = try runTestChild(filter: "autopackCrashChild", environment: ["AUTOPACK_CRASH_DIR": dir.path])
        #expect(process.terminationReason == .uncaughtSignal)
        let acks = String(decoding: try Data(contentsOf: dir.url.appendingPathComponent("acks")), as: UTF8.self)
        #expect(acks == "started\nbuilt\napproval\n")
        let s = try AutopackServer(dir: dir)
        defer { s.stop() }
        let run = try s.get("/runs/durable").object
        #expect((run["phases"] as? [[String: Any]])?.first?["state"] as? String == "GATE")
        #expect(try s.get("/approval/pending").object["count"] as? Int == 1)
        let patch = try s.get("/runs/durable/artifacts/file?path=phases/P1/builder_attempt_1.patch")
        #expect(patch.status == 200)
        #expect(patch.text.contains("+b"))
    }
}
