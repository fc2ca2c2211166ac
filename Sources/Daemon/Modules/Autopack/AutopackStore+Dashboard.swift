import Foundation
import Glibc
import HTTPServer

extension AutopackStore {
    // MARK: Model mappings

    static let roles = ["builder", "auditor"]
    static let categories = ["general", "tests", "docs", "refactor", "feature", "security_auth_change"]
    static let complexities = ["low", "medium", "high"]

    /// The built-in mapping (the original's defaults): sonnet everywhere, opus for high-complexity audits.
    static func defaultModel(role: String, complexity: String) -> String {
        role == "auditor" && complexity == "high" ? "claude-opus-4-5" : "claude-sonnet-4-5"
    }

    static func provider(of model: String) -> String {
        if model.hasPrefix("claude") { return "anthropic" }
        if model.hasPrefix("gpt") || model.hasPrefix("o1") || model.hasPrefix("o3") { return "openai" }
        if model.hasPrefix("gemini") { return "google" }
        return "local"
    }

    /// The model in force: the newest run override, else the newest global override, else the default.
    func model(_ c: SQLiteConnection, role: String, category: String?, complexity: String?, runID: String?) throws -> (String, String) {
        let category = category ?? "general", complexity = complexity ?? "medium"
        let rows = try c.query("""
            SELECT model, scope FROM model_overrides
            WHERE role = ? AND category = ? AND complexity = ? AND (scope = 'global' OR (scope = 'run' AND run_id = ?))
            ORDER BY scope = 'run' DESC, id DESC LIMIT 1
            """, [.text(role), .text(category), .text(complexity), .of(runID)]) { ($0.string(0) ?? "", $0.string(1) ?? "") }
        return rows.first ?? (Self.defaultModel(role: role, complexity: complexity), "default")
    }

    /// Token usage of a builder or auditor step, attributed to the model in force for the phase.
    func recordUsage(_ c: SQLiteConnection, runID: String, phaseID: String, role: String, category: String?, complexity: String?,
                     tokens: Int) throws {
        guard tokens > 0 else { return }
        let (model, _) = try model(c, role: role, category: category, complexity: complexity, runID: runID)
        // The executor reports one total per step; it is stored as completion tokens (prompt tokens unknown).
        try c.run("""
            INSERT INTO usage_events (run_id, phase_id, role, provider, model, prompt_tokens, completion_tokens, created_at)
            VALUES (?, ?, ?, ?, ?, 0, ?, ?)
            """, [.text(runID), .text(phaseID), .text(role), .text(Self.provider(of: model)), .text(model), .of(tokens), .real(now)])
    }

    func modelMappings(runID: String?) throws -> JSONValue {
        try read { c in
            if let runID { _ = try requireRun(c, runID) }
            var categories = Self.categories
            categories += try c.query("SELECT DISTINCT category FROM model_overrides ORDER BY category") { $0.string(0) ?? "" }
                .filter { !categories.contains($0) }
            var items: [JSONValue] = []
            for role in Self.roles {
                for category in categories {
                    for complexity in Self.complexities {
                        let (model, source) = try model(c, role: role, category: category, complexity: complexity, runID: runID)
                        items.append(.object([("role", .string(role)), ("category", .string(category)),
                                              ("complexity", .string(complexity)), ("model", .string(model)),
                                              ("scope", .string(source == "run" ? "run" : "global")), ("source", .string(source))]))
                    }
                }
            }
            return .array(items)
        }
    }

    func addModelOverride(scope: String, runID: String?, role: String, category: String, complexity: String, model: String) throws -> JSONValue {
        try transaction { c in
            if let runID { _ = try requireRun(c, runID) }
            try c.run("""
                INSERT INTO model_overrides (scope, run_id, role, category, complexity, model, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(scope), .of(runID), .text(role), .text(category), .text(complexity), .text(model), .real(now)])
            let id = Int(try c.scalar("SELECT last_insert_rowid()")?.int64 ?? 0)
            return .object([("status", "updated"), ("message", .string("Model override stored (\(scope))")), ("override_id", .int(id)),
                            ("scope", .string(scope)), ("run_id", runID.map { .string($0) } ?? .null), ("role", .string(role)),
                            ("category", .string(category)), ("complexity", .string(complexity)), ("model", .string(model))])
        }
    }

    // MARK: Usage

    /// `GET /dashboard/usage?period=day|week|month` (anything else: week), grouped by provider and by model.
    func usage(period: String) throws -> JSONValue {
        let seconds: Double = switch period { case "day": 86_400; case "month": 30 * 86_400; default: 7 * 86_400 }
        let label = ["day", "week", "month"].contains(period) ? period : "week"
        let since = now - seconds
        let cap = 5_000_000
        return try read { c in
            let providers = try c.query("""
                SELECT provider, SUM(prompt_tokens), SUM(completion_tokens) FROM usage_events WHERE created_at >= ?
                GROUP BY provider ORDER BY provider
                """, [.real(since)]) { s -> JSONValue in
                let total = s.int(1) + s.int(2)
                return .object([("provider", .string(s.string(0) ?? "")), ("period", .string(label)),
                                ("prompt_tokens", .int(s.int(1))), ("completion_tokens", .int(s.int(2))), ("total_tokens", .int(total)),
                                ("cap_tokens", .int(cap)), ("percent_of_cap", .double((Double(total) / Double(cap) * 10_000).rounded() / 100))])
            }
            let models = try c.query("""
                SELECT provider, model, SUM(prompt_tokens), SUM(completion_tokens) FROM usage_events WHERE created_at >= ?
                GROUP BY provider, model ORDER BY provider, model
                """, [.real(since)]) { s -> JSONValue in
                .object([("provider", .string(s.string(0) ?? "")), ("model", .string(s.string(1) ?? "")),
                         ("prompt_tokens", .int(s.int(2))), ("completion_tokens", .int(s.int(3))),
                         ("total_tokens", .int(s.int(2) + s.int(3)))])
            }
            return .object([("period", .string(label)), ("since", .string(AutopackTime.iso(since))),
                            ("providers", .array(providers)), ("models", .array(models))])
        }
    }

    // MARK: Run dashboards

    func dashboardStatus(runID: String) throws -> JSONValue {
        try read { c in
            let run = try requireRun(c, runID)
            let phases = try c.query("""
                SELECT p.name, p.phase_index, p.state, p.quality_level, p.quality_blocked, t.name, t.tier_index, p.tier_id
                FROM phases p JOIN tiers t ON t.run_id = p.run_id AND t.tier_id = p.tier_id
                WHERE p.run_id = ? ORDER BY p.phase_index, p.id
                """, [.text(runID)]) { s in
                (name: s.string(0) ?? "", index: s.int(1), state: PhaseState(rawValue: s.string(2) ?? "") ?? .queued,
                 quality: s.string(3), blocked: s.int(4) != 0, tierName: s.string(5) ?? "", tierIndex: s.int(6), tier: s.string(7) ?? "")
            }
            let tiers = try c.query("SELECT state FROM tiers WHERE run_id = ?", [.text(runID)]) { $0.string(0) ?? "" }
            let counts = try c.query("SELECT minor_issues_count, major_issues_count FROM runs WHERE id = ?", [.text(runID)]) {
                ($0.int(0), $0.int(1))
            }.first ?? (0, 0)
            let done = phases.filter { $0.state == .complete || $0.state == .skipped }.count
            let current = phases.first { $0.state != .complete && $0.state != .skipped }
            let completedTiers = tiers.filter { $0 == TierState.complete.rawValue || $0 == TierState.skipped.rawValue }.count
            func percent(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : (Double(part) / Double(whole) * 10_000).rounded() / 100 }
            let warnings = phases.filter { $0.quality == "needs_review" || $0.blocked }.map { JSONValue.string("phase \($0.name): \($0.blocked ? "blocked" : "needs review")") }
            let level = phases.contains { $0.blocked || $0.quality == "blocked" } ? "blocked"
                : phases.contains { $0.quality == "needs_review" } ? "needs_review" : "ok"
            return .object([
                ("run_id", .string(runID)), ("state", .string(run.state.rawValue)),
                ("current_tier_name", current.map { .string($0.tierName) } ?? .null),
                ("current_phase_name", current.map { .string($0.name) } ?? .null),
                ("current_tier_index", current.map { .int($0.tierIndex) } ?? .null),
                ("current_phase_index", current.map { .int($0.index) } ?? .null),
                ("total_tiers", .int(tiers.count)), ("total_phases", .int(phases.count)),
                ("completed_tiers", .int(completedTiers)), ("completed_phases", .int(done)),
                ("percent_complete", .double(percent(done, phases.count))),
                ("tiers_percent_complete", .double(percent(completedTiers, tiers.count))),
                ("tokens_used", .int(run.tokensUsed)), ("token_cap", .int(run.tokenCap)),
                ("token_utilization", .double(percent(run.tokensUsed, run.tokenCap))),
                ("minor_issues_count", .int(counts.0)), ("major_issues_count", .int(counts.1)),
                ("quality_level", .string(level)), ("quality_blocked", .bool(level == "blocked")),
                ("quality_warnings", .array(warnings)), ("token_efficiency", .null),
            ])
        }
    }

    /// Legacy TokenEfficiencyStats. The local pipeline has no context-budgeting stage (artifact substitution,
    /// semantic/lexical file selection), so those counters are 0 and `context_budgeting` says so.
    func tokenEfficiency(runID: String) throws -> JSONValue {
        try read { c in
            let run = try requireRun(c, runID)
            let phases = Int(try c.scalar("SELECT COUNT(*) FROM phases WHERE run_id = ?", [.text(runID)])?.int64 ?? 0)
            return .object([
                ("run_id", .string(runID)), ("total_phases", .int(phases)), ("total_artifact_substitutions", 0),
                ("total_tokens_saved_artifacts", 0), ("total_budget_used", .int(run.tokensUsed)),
                ("total_budget_cap", .int(run.tokenCap)), ("total_files_kept", 0), ("total_files_omitted", 0),
                ("semantic_mode_count", 0), ("lexical_mode_count", 0), ("avg_artifact_substitutions_per_phase", 0),
                ("avg_tokens_saved_per_phase", 0),
                ("budget_utilization", .double(run.tokenCap == 0 ? 0 : Double(run.tokensUsed) / Double(run.tokenCap))),
                ("context_budgeting", "not_available"),
            ])
        }
    }

    /// Legacy Phase6Stats, computed from the run's phases and error reports: retried phases count as failure
    /// hardening, error types as failure patterns, phases carrying `intention_refs` as intention context.
    func phase6Stats(runID: String) throws -> JSONValue {
        try read { c in
            _ = try requireRun(c, runID)
            let retried = Int(try c.scalar("SELECT COUNT(*) FROM phases WHERE run_id = ? AND builder_attempts > 1", [.text(runID)])?.int64 ?? 0)
            let patterns = try c.query("SELECT error_type, COUNT(*) FROM errors WHERE run_id = ? GROUP BY error_type ORDER BY error_type",
                                       [.text(runID)]) { ($0.string(0) ?? "", JSONValue.int($0.int(1))) }
            let intention = try c.query("""
                SELECT COUNT(*), COALESCE(SUM(LENGTH(intention_refs)), 0) FROM phases
                WHERE run_id = ? AND intention_refs IS NOT NULL AND intention_refs <> 'null'
                """, [.text(runID)]) { ($0.int(0), $0.int(1)) }.first ?? (0, 0)
            return .object([
                ("run_id", .string(runID)), ("failure_hardening_triggered_count", .int(retried)),
                ("failure_patterns_detected", .object(patterns)), ("doctor_calls_skipped_count", 0),
                ("total_doctor_tokens_avoided_estimate", 0), ("estimate_coverage_stats", .object([])),
                ("intention_context_injected_count", .int(intention.0)), ("total_intention_context_chars", .int(intention.1)),
                ("avg_intention_context_chars_per_phase", .double(intention.0 == 0 ? 0 : Double(intention.1) / Double(intention.0))),
                ("plan_normalization_used", false), ("telemetry_enabled", .bool(settings.isEnabled("phase6_metrics"))),
            ])
        }
    }

    /// ConsolidatedTokenMetrics: spend from `usage_events` (the page of events follows `limit`/`offset`), the
    /// A/B delta from `ab_test_results`; avoided-token categories are 0 (no such mechanism runs here).
    func consolidatedMetrics(runID: String, limit: Int, offset: Int) throws -> JSONValue {
        try read { c in
            _ = try requireRun(c, runID)
            let totals = try c.query("""
                SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),
                       COALESCE(SUM(CASE WHEN role = 'doctor' THEN prompt_tokens + completion_tokens END), 0), COUNT(*)
                FROM usage_events WHERE run_id = ?
                """, [.text(runID)]) { ($0.int(0), $0.int(1), $0.int(2), $0.int(3)) }.first ?? (0, 0, 0, 0)
            let phases = try c.query("SELECT COUNT(*), COALESCE(SUM(state = 'COMPLETE'), 0) FROM phases WHERE run_id = ?", [.text(runID)]) {
                ($0.int(0), $0.int(1))
            }.first ?? (0, 0)
            let ab = try c.query("""
                SELECT control_run_id, treatment_run_id, token_delta FROM ab_test_results
                WHERE (control_run_id = ?1 OR treatment_run_id = ?1) AND is_valid = 1 LIMIT 1
                """, [.text(runID)]) { ($0.string(0) ?? "", $0.string(1) ?? "", $0.int(2)) }.first
            let events = try c.query("""
                SELECT id, phase_id, role, provider, model, prompt_tokens, completion_tokens, created_at FROM usage_events
                WHERE run_id = ? ORDER BY id LIMIT ? OFFSET ?
                """, [.text(runID), .of(limit), .of(offset)]) { s -> JSONValue in
                .object([("id", .int(s.int(0))), ("phase_id", s.optionalString(1)), ("role", .string(s.string(2) ?? "")),
                         ("provider", .string(s.string(3) ?? "")), ("model", .string(s.string(4) ?? "")),
                         ("prompt_tokens", .int(s.int(5))), ("completion_tokens", .int(s.int(6))),
                         ("created_at", AutopackTime.json(s.double(7)))])
            }
            return .object([
                ("run_id", .string(runID)), ("total_tokens_spent", .int(totals.0 + totals.1)),
                ("total_prompt_tokens", .int(totals.0)), ("total_completion_tokens", .int(totals.1)),
                ("doctor_tokens_spent", .int(totals.2)), ("artifact_tokens_avoided", 0), ("artifact_substitutions_count", 0),
                ("doctor_tokens_avoided_estimate", 0), ("doctor_calls_skipped_count", 0), ("estimate_coverage_n", 0),
                ("estimate_source", "none"), ("ab_delta_tokens_saved", ab.map { .int(-$0.2) } ?? .null),
                ("ab_control_run_id", ab.map { .string($0.0) } ?? .null), ("ab_treatment_run_id", ab.map { .string($0.1) } ?? .null),
                ("total_phases", .int(phases.0)), ("completed_phases", .int(phases.1)),
                ("events_total", .int(totals.3)), ("limit", .int(limit)), ("offset", .int(offset)), ("events", .array(events)),
            ])
        }
    }

    // MARK: A/B results

    /// When both runs of an A/B pair have finished, compares them (tokens, time, phase success rate) into
    /// `ab_test_results`. Invalid when the two runs do not have the same phases.
    func recordABResultIfComplete(_ c: SQLiteConnection, runID: String) throws {
        guard let test = try c.scalar("SELECT ab_test_id FROM runs WHERE id = ?", [.text(runID)])?.string else { return }
        let runs = try c.query("""
            SELECT id, ab_role, state, tokens_used, COALESCE(completed_at, updated_at) - COALESCE(started_at, created_at),
                   (SELECT COUNT(*) FROM phases p WHERE p.run_id = r.id AND p.state = 'COMPLETE'),
                   (SELECT COUNT(*) FROM phases p WHERE p.run_id = r.id AND p.state = 'FAILED'),
                   (SELECT COUNT(*) FROM phases p WHERE p.run_id = r.id),
                   (SELECT GROUP_CONCAT(phase_id) FROM (SELECT phase_id FROM phases p WHERE p.run_id = r.id ORDER BY phase_id))
            FROM runs r WHERE ab_test_id = ? ORDER BY created_at
            """, [.text(test)]) { s in
            (id: s.string(0) ?? "", role: s.string(1) ?? "", terminal: RunState(rawValue: s.string(2) ?? "")?.isTerminal ?? false,
             tokens: s.int(3), seconds: s.double(4), complete: s.int(5), failed: s.int(6), total: s.int(7), ids: s.string(8) ?? "")
        }
        guard let control = runs.last(where: { $0.role == "control" }), let treatment = runs.last(where: { $0.role == "treatment" }),
              control.terminal, treatment.terminal else { return }
        var errors: [JSONValue] = []
        if control.ids != treatment.ids { errors.append("control and treatment runs have different phases") }
        if runs.filter({ $0.role == "control" }).count > 1 || runs.filter({ $0.role == "treatment" }).count > 1 {
            errors.append("more than one run per role; the newest of each was compared")
        }
        func rate(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }
        try c.run("""
            INSERT OR REPLACE INTO ab_test_results (test_id, control_run_id, treatment_run_id, is_valid, validity_errors, token_delta,
                time_delta_seconds, success_rate_delta, control_total_tokens, treatment_total_tokens, control_phases_complete,
                treatment_phases_complete, control_phases_failed, treatment_phases_failed, created_at, created_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'autopack')
            """, [.text(test), .text(control.id), .text(treatment.id), .of(errors.isEmpty), .text(JSONValue.array(errors).encodedString),
                  .of(treatment.tokens - control.tokens), .real(treatment.seconds - control.seconds),
                  .real(rate(treatment.complete, treatment.total) - rate(control.complete, control.total)),
                  .of(control.tokens), .of(treatment.tokens), .of(control.complete), .of(treatment.complete),
                  .of(control.failed), .of(treatment.failed), .real(now)])
    }

    func abResults(testID: String?, validOnly: Bool, limit: Int) throws -> JSONValue {
        try read { c in
            let rows = try c.query("""
                SELECT test_id, control_run_id, treatment_run_id, is_valid, validity_errors, token_delta, time_delta_seconds,
                       success_rate_delta, control_total_tokens, treatment_total_tokens, control_phases_complete,
                       treatment_phases_complete, control_phases_failed, treatment_phases_failed, created_at, created_by
                FROM ab_test_results WHERE (?1 IS NULL OR test_id = ?1) AND (?2 = 0 OR is_valid = 1)
                ORDER BY created_at DESC LIMIT ?3
                """, [.of(testID), .of(validOnly), .of(limit)]) { s -> JSONValue in
                .object([("test_id", .string(s.string(0) ?? "")), ("control_run_id", .string(s.string(1) ?? "")),
                         ("treatment_run_id", .string(s.string(2) ?? "")), ("is_valid", .bool(s.int(3) != 0)),
                         ("validity_errors", JSONValue.parse(s.string(4))), ("token_delta", .int(s.int(5))),
                         ("time_delta_seconds", .double(s.double(6))), ("success_rate_delta", .double(s.double(7))),
                         ("control_total_tokens", .int(s.int(8))), ("treatment_total_tokens", .int(s.int(9))),
                         ("control_phases_complete", .int(s.int(10))), ("treatment_phases_complete", .int(s.int(11))),
                         ("control_phases_failed", .int(s.int(12))), ("treatment_phases_failed", .int(s.int(13))),
                         ("created_at", AutopackTime.json(s.double(14))), ("created_by", .string(s.string(15) ?? ""))])
            }
            return .object([("count", .int(rows.count)), ("results", .array(rows))])
        }
    }

    // MARK: Human notes

    /// Appends `## <time>\n**Run:** <id>\n<note>` to `<data-dir>/autopack/human_notes.md` (fsynced) and keeps
    /// the note in the database.
    func addHumanNote(_ note: String, runID: String?) throws -> JSONValue {
        let now = self.now
        let stamp = AutopackTime.iso(now)
        return try transaction { c in
            if let runID { _ = try requireRun(c, runID) }
            try c.run("INSERT INTO human_notes (run_id, note, created_at) VALUES (?, ?, ?)", [.of(runID), .text(note), .real(now)])
            let id = Int(try c.scalar("SELECT last_insert_rowid()")?.int64 ?? 0)
            let entry = "\n## \(stamp)\n**Run:** \(runID ?? "-")\n\n\(note)\n"
            let path = folder.appendingPathComponent("human_notes.md").path
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw POSIXError(.EIO) }
            defer { close(fd) }
            let bytes = Array(entry.utf8)
            guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count, fsync(fd) == 0 else {
                throw POSIXError(.EIO)
            }
            return .object([("message", "Note added"), ("note_id", .int(id)), ("timestamp", .string(stamp)),
                            ("run_id", runID.map { .string($0) } ?? .null), ("notes_file", "autopack/human_notes.md")])
        }
    }
}
