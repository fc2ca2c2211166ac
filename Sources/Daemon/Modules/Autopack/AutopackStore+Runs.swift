import Foundation
import HTTPServer

/// The columns of a run that the state machine and the summaries need.
struct RunRow {
    var id: String
    var state: RunState
    var tokenCap: Int
    var tokensUsed: Int
    var createdAt: Double
    var startedAt: Double?
    var completedAt: Double?
}

extension AutopackStore {
    // MARK: Start

    /// Creates the run, its tiers (PENDING) and phases (QUEUED) in one transaction, writes the run summary
    /// artifact, and returns the RunResponse. 409 when the run id exists.
    func startRun(_ request: RunStartRequest) throws -> JSONValue {
        let now = self.now
        let run = request.run
        let phases = request.phases ?? []
        let response = try transaction { c -> JSONValue in
            if try c.scalar("SELECT 1 FROM runs WHERE id = ?", [.text(run.run_id)]) != nil {
                throw HTTPError(.conflict, "Run \(run.run_id) already exists")
            }
            try c.run("""
                INSERT INTO runs (id, state, safety_profile, run_scope, token_cap, max_phases, max_duration_minutes,
                                  max_minor_issues_total, ab_test_id, ab_role, created_at, started_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(run.run_id), .text(RunState.runCreated.rawValue), .text(run.safety_profile ?? "normal"),
                      .text(run.run_scope ?? "multi_tier"), .of(run.token_cap ?? 5_000_000), .of(run.max_phases ?? 25),
                      .of(run.max_duration_minutes ?? 120), .of(phases.count * 3), .of(run.ab_test_id), .of(run.ab_role),
                      .real(now), .real(now), .real(now)])
            for tier in request.tiers ?? [] {
                try c.run("INSERT INTO tiers (run_id, tier_id, tier_index, name, description, state) VALUES (?, ?, ?, ?, ?, ?)",
                          [.text(run.run_id), .text(tier.tier_id), .of(tier.tier_index), .text(tier.name),
                           .of(tier.description), .text(TierState.pending.rawValue)])
            }
            for phase in phases {
                let scope = RunStartRequest.normalizedScope(phase.scope?.value ?? .null) ?? .null
                try c.run("""
                    INSERT INTO phases (run_id, phase_id, tier_id, phase_index, name, description, task_category, complexity,
                                        builder_mode, scope, intention_refs, state, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(run.run_id), .text(phase.phase_id), .text(phase.tier_id), .of(phase.phase_index),
                          .text(phase.name), .of(phase.description), .of(phase.task_category), .of(phase.complexity),
                          .of(phase.builder_mode), .text(scope.encodedString), .of(phase.intention_refs?.value.encodedString),
                          .text(PhaseState.queued.rawValue), .real(now)])
            }
            try writeSummaries(c, runID: run.run_id)
            return try runResponse(c, id: run.run_id)!
        }
        publish("run_started", ["run_id": .string(run.run_id), "phases": .int(phases.count)])
        return response
    }

    // MARK: Reads

    func requireRun(_ c: SQLiteConnection, _ id: String) throws -> RunRow {
        let rows = try c.query("SELECT id, state, token_cap, tokens_used, created_at, started_at, completed_at FROM runs WHERE id = ?",
                               [.text(id)]) { s in
            RunRow(id: s.string(0) ?? "", state: RunState(rawValue: s.string(1) ?? "") ?? .queued, tokenCap: s.int(2),
                   tokensUsed: s.int(3), createdAt: s.double(4), startedAt: s.optionalDouble(5), completedAt: s.optionalDouble(6))
        }
        guard let run = rows.first else { throw notFound("Run \(id) not found") }
        return run
    }

    func run(_ id: String) throws -> JSONValue {
        try read { c in
            guard let response = try runResponse(c, id: id) else { throw notFound("Run \(id) not found") }
            return response
        }
    }

    /// The spec's RunResponse: the run, its tiers (each with its phases) and all phases.
    func runResponse(_ c: SQLiteConnection, id: String) throws -> JSONValue? {
        let phases = try phaseResponses(c, runID: id)
        let tiers = try c.query("""
            SELECT id, tier_id, name, state, tier_index, minor_issues_count, major_issues_count, description
            FROM tiers WHERE run_id = ? ORDER BY tier_index, id
            """, [.text(id)]) { s -> JSONValue in
            let tierID = s.string(1) ?? ""
            let major = s.int(6)
            return .object([
                ("id", .int(s.int(0))), ("tier_id", .string(tierID)), ("name", .string(s.string(2) ?? "")),
                ("description", s.optionalString(7)), ("state", .string(s.string(3) ?? "")), ("tier_index", .int(s.int(4))),
                ("cleanliness", .string(major == 0 ? "clean" : "not_clean")),
                ("minor_issues_count", .int(s.int(5))), ("major_issues_count", .int(major)),
                ("phases", .array(phases.filter { $0.tierKey == tierID }.map(\.json))),
            ])
        }
        let rows = try c.query("""
            SELECT id, state, safety_profile, run_scope, created_at, started_at, completed_at, tokens_used, ci_runs_used,
                   minor_issues_count, major_issues_count, failure_reason, token_cap, max_phases, max_duration_minutes,
                   max_minor_issues_total, ab_test_id, ab_role
            FROM runs WHERE id = ?
            """, [.text(id)]) { s -> JSONValue in
            let state = s.string(1) ?? ""
            let minor = s.int(9), major = s.int(10)
            return .object([
                ("id", .string(s.string(0) ?? "")), ("state", .string(state)),
                ("safety_profile", .string(s.string(2) ?? "")), ("run_scope", .string(s.string(3) ?? "")),
                ("created_at", AutopackTime.json(s.double(4))), ("started_at", AutopackTime.json(s.optionalDouble(5))),
                ("completed_at", AutopackTime.json(s.optionalDouble(6))), ("tokens_used", .int(s.int(7))),
                ("ci_runs_used", .int(s.int(8))), ("minor_issues_count", .int(minor)), ("major_issues_count", .int(major)),
                ("promotion_eligible_to_main", .string(state == RunState.doneSuccess.rawValue && major == 0 ? "true" : "false")),
                ("debt_status", .string(major > 0 ? "major_issues" : minor > s.int(15) ? "excess_minor_issues" : "clean")),
                ("failure_reason", s.optionalString(11)), ("token_cap", .int(s.int(12))), ("max_phases", .int(s.int(13))),
                ("max_duration_minutes", .int(s.int(14))), ("ab_test_id", s.optionalString(16)), ("ab_role", s.optionalString(17)),
            ])
        }
        guard case .object(var members)? = rows.first else { return nil }
        members.append(("tiers", .array(tiers)))
        members.append(("phases", .array(phases.map(\.json))))
        return .object(members)
    }

    struct PhaseJSON {
        var tierKey: String
        var json: JSONValue
    }

    func phaseResponses(_ c: SQLiteConnection, runID: String) throws -> [PhaseJSON] {
        try c.query("""
            SELECT p.id, p.phase_id, p.run_id, t.id, p.name, p.description, p.state, p.task_category, p.complexity,
                   p.builder_mode, p.phase_index, p.scope, p.intention_refs, p.tokens_used, p.builder_attempts,
                   p.auditor_attempts, p.minor_issues_count, p.major_issues_count, p.quality_level, p.quality_blocked,
                   p.tier_id, p.updated_at
            FROM phases p JOIN tiers t ON t.run_id = p.run_id AND t.tier_id = p.tier_id
            WHERE p.run_id = ? ORDER BY p.phase_index, p.id
            """, [.text(runID)]) { s in
            PhaseJSON(tierKey: s.string(20) ?? "", json: .object([
                ("id", .int(s.int(0))), ("phase_id", .string(s.string(1) ?? "")), ("run_id", .string(s.string(2) ?? "")),
                ("tier_id", .int(s.int(3))), ("tier_key", .string(s.string(20) ?? "")), ("name", .string(s.string(4) ?? "")),
                ("description", s.optionalString(5)), ("state", .string(s.string(6) ?? "")),
                ("task_category", s.optionalString(7)), ("complexity", s.optionalString(8)),
                ("builder_mode", s.optionalString(9)), ("phase_index", .int(s.int(10))),
                ("scope", JSONValue.parse(s.string(11))), ("intention_refs", JSONValue.parse(s.string(12))),
                ("tokens_used", .int(s.int(13))), ("builder_attempts", .int(s.int(14))), ("auditor_attempts", .int(s.int(15))),
                ("minor_issues_count", .int(s.int(16))), ("major_issues_count", .int(s.int(17))),
                ("quality_level", s.optionalString(18)), ("quality_blocked", .bool(s.int(19) != 0)),
                ("updated_at", AutopackTime.json(s.double(21))),
            ]))
        }
    }

    /// `GET /runs`: newest first, with phase counts (one grouped query, not the original's N+1).
    func listRuns(limit: Int, offset: Int) throws -> JSONValue {
        try read { c in
            let total = try c.scalar("SELECT COUNT(*) FROM runs")?.int64 ?? 0
            let runs = try c.query("""
                SELECT r.id, r.state, r.created_at, r.tokens_used, r.token_cap,
                       (SELECT COUNT(*) FROM phases p WHERE p.run_id = r.id),
                       (SELECT COUNT(*) FROM phases p WHERE p.run_id = r.id AND p.state = 'COMPLETE'),
                       (SELECT p.name FROM phases p WHERE p.run_id = r.id AND p.state NOT IN ('COMPLETE', 'SKIPPED')
                        ORDER BY p.phase_index, p.id LIMIT 1)
                FROM runs r ORDER BY r.created_at DESC, r.id LIMIT ? OFFSET ?
                """, [.of(limit), .of(offset)]) { s -> JSONValue in
                .object([("id", .string(s.string(0) ?? "")), ("state", .string(s.string(1) ?? "")),
                         ("created_at", AutopackTime.json(s.double(2))), ("tokens_used", .int(s.int(3))),
                         ("token_cap", .int(s.int(4))), ("phases_total", .int(s.int(5))),
                         ("phases_completed", .int(s.int(6))), ("current_phase_name", s.optionalString(7))])
            }
            return .object([("runs", .array(runs)), ("total", .int(Int(total))), ("limit", .int(limit)), ("offset", .int(offset))])
        }
    }

    /// `GET /runs/{id}/progress`.
    func progress(runID: String) throws -> JSONValue {
        let now = self.now
        return try read { c in
            let run = try requireRun(c, runID)
            let phases = try c.query("""
                SELECT phase_id, name, state, phase_index, tokens_used, builder_attempts FROM phases
                WHERE run_id = ? ORDER BY phase_index, id
                """, [.text(runID)]) { s in
                (state: s.string(2) ?? "", json: JSONValue.object([
                    ("phase_id", .string(s.string(0) ?? "")), ("name", .string(s.string(1) ?? "")),
                    ("state", .string(s.string(2) ?? "")), ("phase_index", .int(s.int(3))),
                    ("tokens_used", .int(s.int(4))), ("builder_attempts", .int(s.int(5))),
                ]))
            }
            func count(_ states: [PhaseState]) -> JSONValue { .int(phases.filter { p in states.contains { $0.rawValue == p.state } }.count) }
            let start = run.startedAt ?? run.createdAt
            return .object([
                ("run_id", .string(run.id)), ("state", .string(run.state.rawValue)),
                ("phases_total", .int(phases.count)), ("phases_completed", count([.complete])),
                ("phases_in_progress", count([.executing])), ("phases_pending", count([.queued])),
                ("phases_failed", count([.failed])), ("phases_skipped", count([.skipped])),
                ("phases", .array(phases.map(\.json))), ("tokens_used", .int(run.tokensUsed)), ("token_cap", .int(run.tokenCap)),
                ("started_at", AutopackTime.json(run.startedAt)), ("completed_at", AutopackTime.json(run.completedAt)),
                ("elapsed_seconds", .double((((run.completedAt ?? now) - start) * 1000).rounded() / 1000)),
            ])
        }
    }
}
