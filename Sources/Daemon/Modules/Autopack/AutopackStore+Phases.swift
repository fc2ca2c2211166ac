import Foundation
import HTTPServer

struct PhaseRow {
    var phaseID: String
    var tierID: String
    var index: Int
    var name: String
    var state: PhaseState
    var tokensUsed: Int
    var builderAttempts: Int
    var auditorAttempts: Int
    var category: String?
    var complexity: String?
    var lastRecommendation: String?
}

extension AutopackStore {
    func requirePhase(_ c: SQLiteConnection, runID: String, phaseID: String) throws -> PhaseRow {
        let rows = try c.query("""
            SELECT phase_id, tier_id, phase_index, name, state, tokens_used, builder_attempts, auditor_attempts,
                   task_category, complexity, last_recommendation
            FROM phases WHERE run_id = ? AND phase_id = ?
            """, [.text(runID), .text(phaseID)]) { s in
            PhaseRow(phaseID: s.string(0) ?? "", tierID: s.string(1) ?? "", index: s.int(2), name: s.string(3) ?? "",
                     state: PhaseState(rawValue: s.string(4) ?? "") ?? .queued, tokensUsed: s.int(5), builderAttempts: s.int(6),
                     auditorAttempts: s.int(7), category: s.string(8), complexity: s.string(9), lastRecommendation: s.string(10))
        }
        guard let phase = rows.first else { throw notFound("Phase \(phaseID) not found in run \(runID)") }
        return phase
    }

    /// 409 when the run has finished: a DONE run's phases never change again.
    func requireActive(_ run: RunRow) throws {
        if run.state.isTerminal {
            throw HTTPError(.conflict, "Run \(run.id) is finished (\(run.state.rawValue))",
                            extra: [("current_state", .string(run.state.rawValue))])
        }
    }

    /// Moves a phase along the state machine (409 with the current state when the move is illegal), records
    /// a failure as an error report, and settles its tier and run.
    func movePhase(_ c: SQLiteConnection, run: RunRow, phase: PhaseRow, to next: PhaseState, reason: String? = nil) throws {
        guard phase.state.canMove(to: next) else {
            throw illegalTransition("phase", from: phase.state.rawValue, to: next.rawValue)
        }
        try c.run("UPDATE phases SET state = ?, updated_at = ? WHERE run_id = ? AND phase_id = ?",
                  [.text(next.rawValue), .real(now), .text(run.id), .text(phase.phaseID)])
        if next == .failed && phase.state != .failed {
            try recordError(c, runID: run.id, phaseID: phase.phaseID, source: "phase", type: "phase_failed",
                            message: reason ?? "Phase \(phase.phaseID) failed", details: nil)
        }
        try settle(c, runID: run.id, activity: next.runStateWhileActive)
        if next != phase.state {
            publish("phase_state", ["run_id": .string(run.id), "phase_id": .string(phase.phaseID),
                                    "from": .string(phase.state.rawValue), "to": .string(next.rawValue)])
        }
    }

    /// Recomputes the roll-ups (tokens, issue counts, tier states) and moves the run: budget exhausted,
    /// finished (every phase terminal), or following the phase activity when that move is legal.
    func settle(_ c: SQLiteConnection, runID: String, activity: RunState? = nil) throws {
        let now = self.now
        try c.run("""
            UPDATE runs SET tokens_used = (SELECT COALESCE(SUM(tokens_used), 0) FROM phases WHERE run_id = ?1),
                            minor_issues_count = (SELECT COALESCE(SUM(minor_issues_count), 0) FROM phases WHERE run_id = ?1),
                            major_issues_count = (SELECT COALESCE(SUM(major_issues_count), 0) FROM phases WHERE run_id = ?1),
                            updated_at = ?2
            WHERE id = ?1
            """, [.text(runID), .real(now)])
        let tiers = try c.query("SELECT tier_id FROM tiers WHERE run_id = ?", [.text(runID)]) { $0.string(0) ?? "" }
        for tier in tiers {
            let states = try c.query("SELECT state FROM phases WHERE run_id = ? AND tier_id = ?", [.text(runID), .text(tier)]) {
                PhaseState(rawValue: $0.string(0) ?? "") ?? .queued
            }
            try c.run("""
                UPDATE tiers SET state = ?,
                    minor_issues_count = (SELECT COALESCE(SUM(minor_issues_count), 0) FROM phases WHERE run_id = ?2 AND tier_id = ?3),
                    major_issues_count = (SELECT COALESCE(SUM(major_issues_count), 0) FROM phases WHERE run_id = ?2 AND tier_id = ?3)
                WHERE run_id = ?2 AND tier_id = ?3
                """, [.text(TierState.derive(from: states).rawValue), .text(runID), .text(tier)])
        }
        let run = try requireRun(c, runID)
        if !run.state.isTerminal {
            let phases = try c.query("SELECT state FROM phases WHERE run_id = ?", [.text(runID)]) {
                PhaseState(rawValue: $0.string(0) ?? "") ?? .queued
            }
            var next: RunState?
            var reason: String?
            if run.tokensUsed > run.tokenCap {
                next = .doneBudgetExhausted
                reason = "token budget exhausted: \(run.tokensUsed) tokens used of a cap of \(run.tokenCap)"
            } else if let final = finalRunState(for: phases) {
                next = final
                if final == .doneHumanReview { reason = "one or more phases failed" }
            } else if let activity, activity != run.state, run.state.canMove(to: activity) {
                next = activity
            }
            if let next {
                try c.run("UPDATE runs SET state = ?, failure_reason = COALESCE(?, failure_reason), completed_at = ? WHERE id = ?",
                          [.text(next.rawValue), .of(reason), next.isTerminal ? .real(now) : .null, .text(runID)])
                if next.isTerminal {
                    publish("run_finished", ["run_id": .string(runID), "state": .string(next.rawValue)])
                    try recordABResultIfComplete(c, runID: runID)
                }
            }
        }
        try writeSummaries(c, runID: runID)
    }

    // MARK: Routes' operations

    /// `update_status`: the move, then the metrics. Returns `{message, phase, run_state}`.
    func updatePhaseStatus(runID: String, phaseID: String, update: PhaseStatusUpdate, to next: PhaseState) throws -> JSONValue {
        try transaction { c in
            let run = try requireRun(c, runID)
            let phase = try requirePhase(c, runID: runID, phaseID: phaseID)
            try requireActive(run)
            guard phase.state.canMove(to: next) else { throw illegalTransition("phase", from: phase.state.rawValue, to: next.rawValue) }
            try c.run("""
                UPDATE phases SET builder_attempts = COALESCE(?, builder_attempts), tokens_used = COALESCE(?, tokens_used),
                    minor_issues_count = COALESCE(?, minor_issues_count), major_issues_count = COALESCE(?, major_issues_count),
                    quality_level = COALESCE(?, quality_level), quality_blocked = COALESCE(?, quality_blocked)
                WHERE run_id = ? AND phase_id = ?
                """, [.of(update.builder_attempts), .of(update.tokens_used), .of(update.minor_issues_count),
                      .of(update.major_issues_count), .of(update.quality_level), update.quality_blocked.map { .of($0) } ?? .null,
                      .text(runID), .text(phaseID)])
            try movePhase(c, run: run, phase: phase, to: next)
            return try phaseReply(c, runID: runID, phaseID: phaseID, message: "Phase \(phaseID) updated to \(next.rawValue)")
        }
    }

    func phaseReply(_ c: SQLiteConnection, runID: String, phaseID: String, message: String,
                    extra: [(String, JSONValue)] = []) throws -> JSONValue {
        let phase = try phaseResponses(c, runID: runID).first { $0.json["phase_id"] == .string(phaseID) }?.json ?? .null
        let run = try requireRun(c, runID)
        return .object([("message", .string(message)), ("run_id", .string(runID)), ("phase_id", .string(phaseID)),
                        ("phase_state", phase["state"] ?? .null), ("run_state", .string(run.state.rawValue)),
                        ("phase", phase)] + extra)
    }

    /// `builder_result`: stores the patch as an artifact, records probe failures, suggested issues, token
    /// usage and (for files outside `allowed_paths`) a governance request, then moves the phase:
    /// success → GATE, needs_review → GATE with quality `needs_review`, failed → FAILED.
    func recordBuilderResult(_ result: BuilderResult) throws -> JSONValue {
        try transaction { c in
            let run = try requireRun(c, result.run_id)
            var phase = try requirePhase(c, runID: result.run_id, phaseID: result.phase_id)
            try requireActive(run)
            let target: PhaseState = result.status == "failed" ? .failed : .gate
            guard phase.state == .queued || phase.state == .executing else {
                throw illegalTransition("phase", from: phase.state.rawValue, to: target.rawValue)
            }
            if phase.state == .queued {
                try movePhase(c, run: run, phase: phase, to: .executing)
                phase.state = .executing
            }
            let attempt = max(phase.builderAttempts + 1, result.builder_attempts ?? 0)
            let tokens = result.tokens_used ?? 0
            try c.run("""
                UPDATE phases SET builder_attempts = ?, tokens_used = tokens_used + ?, last_builder_status = ?,
                    quality_level = CASE WHEN ? = 'needs_review' THEN 'needs_review' ELSE quality_level END
                WHERE run_id = ? AND phase_id = ?
                """, [.of(attempt), .of(tokens), .text(result.status), .text(result.status), .text(run.id), .text(phase.phaseID)])
            try recordUsage(c, runID: run.id, phaseID: phase.phaseID, role: "builder", category: phase.category,
                            complexity: phase.complexity, tokens: tokens)
            if let patch = result.patch_content, !patch.isEmpty {
                try putArtifact(c, runID: run.id, path: "phases/\(phase.phaseID)/builder_attempt_\(attempt).patch", bytes: Array(patch.utf8))
            }
            for probe in result.probe_results ?? [] where probe.exit_code != 0 {
                try recordError(c, runID: run.id, phaseID: phase.phaseID, source: "builder_probe", type: probe.probe_type,
                                message: "probe \(probe.probe_type) exited with \(probe.exit_code)",
                                details: ["stdout": .string(String((probe.stdout ?? "").suffix(4000))),
                                          "stderr": .string(String((probe.stderr ?? "").suffix(4000)))])
            }
            for issue in result.suggested_issues ?? [] {
                try recordIssue(c, runID: run.id, phase: phase, key: issue.issue_key, severity: issue.severity,
                                source: issue.source ?? "cursor_self_doubt", category: issue.category, evidence: issue.evidence_refs ?? [])
            }
            var extra: [(String, JSONValue)] = []
            // Allowed paths are folders (`src/`) or files; a trailing slash is not an empty component here.
            let allowed = (result.allowed_paths ?? []).map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }.compactMap(ArtifactPath.normalize)
            let changed = (result.files_changed ?? []).compactMap(ArtifactPath.normalize)
            let outside = allowed.isEmpty ? [] : changed.filter { path in !allowed.contains { path == $0 || path.hasPrefix($0 + "/") } }
            if !outside.isEmpty {
                let request = try createGovernanceRequest(c, runID: run.id, phaseID: phase.phaseID, paths: outside,
                                                          linesChanged: (result.lines_added ?? 0) + (result.lines_removed ?? 0),
                                                          justification: result.notes ?? "builder changed files outside allowed_paths")
                extra.append(("governance_request", request))
            }
            if result.status == "failed" {
                try movePhase(c, run: run, phase: phase, to: .failed, reason: "builder attempt \(attempt) failed: \(result.notes ?? "no notes")")
            } else {
                try movePhase(c, run: run, phase: phase, to: .gate)
            }
            return try phaseReply(c, runID: run.id, phaseID: phase.phaseID, message: "Builder result recorded", extra: extra)
        }
    }

    /// `auditor_result`: approve → COMPLETE (unless a governance request for the phase is still open, or was
    /// denied → FAILED), revise → EXECUTING, escalate → an approval request; the phase waits in GATE for it.
    func recordAuditorResult(_ result: AuditorResult) throws -> JSONValue {
        try transaction { c in
            let run = try requireRun(c, result.run_id)
            let phase = try requirePhase(c, runID: result.run_id, phaseID: result.phase_id)
            try requireActive(run)
            let target: PhaseState = switch result.recommendation {
            case "approve": .complete
            case "revise": .executing
            default: .gate
            }
            guard phase.state == .gate || phase.state == .ciRunning else {
                throw illegalTransition("phase", from: phase.state.rawValue, to: target.rawValue)
            }
            let attempt = max(phase.auditorAttempts + 1, result.auditor_attempts ?? 0)
            let tokens = result.tokens_used ?? 0
            try c.run("""
                UPDATE phases SET auditor_attempts = ?, tokens_used = tokens_used + ?, last_recommendation = ?,
                    quality_blocked = ? WHERE run_id = ? AND phase_id = ?
                """, [.of(attempt), .of(tokens), .text(result.recommendation), .of(result.recommendation == "escalate"),
                      .text(run.id), .text(phase.phaseID)])
            try recordUsage(c, runID: run.id, phaseID: phase.phaseID, role: "auditor", category: phase.category,
                            complexity: phase.complexity, tokens: tokens)
            var review = "# Auditor review (attempt \(attempt))\n\nRecommendation: \(result.recommendation)"
            review += "\nConfidence: \(result.confidence ?? "unspecified")\n\n\(result.review_notes ?? "")\n"
            for item in result.issues_found ?? [] { review += "\n- issue: \(item.value.encodedString)" }
            for patch in result.suggested_patches ?? [] { review += "\n- suggested patch: \(patch.description ?? "")" }
            try putArtifact(c, runID: run.id, path: "phases/\(phase.phaseID)/auditor_attempt_\(attempt).md", bytes: Array(review.utf8))
            var extra: [(String, JSONValue)] = []
            var message = "Auditor result recorded"
            switch result.recommendation {
            case "approve":
                let governance = try governanceState(c, runID: run.id, phaseID: phase.phaseID)
                if governance.denied {
                    try movePhase(c, run: run, phase: phase, to: .failed, reason: "governance request denied")
                } else if governance.pending {
                    message = "Auditor approved; waiting for the phase's governance request"
                    try settle(c, runID: run.id)
                } else {
                    try movePhase(c, run: run, phase: phase, to: .complete)
                }
            case "revise":
                try movePhase(c, run: run, phase: phase, to: .executing)
            default:
                let approval = try createApproval(c, runID: run.id, phaseID: phase.phaseID, context: "build113_ambiguous_decision",
                                                  decisionInfo: ["source": "auditor", "review_notes": .string(result.review_notes ?? ""),
                                                                 "confidence": .string(result.confidence ?? "")],
                                                  deletionInfo: nil, origin: "auditor_escalation")
                message = "Auditor escalated; the phase waits for approval"
                extra.append(("approval", approval))
                try settle(c, runID: run.id)
            }
            return try phaseReply(c, runID: run.id, phaseID: phase.phaseID, message: message, extra: extra)
        }
    }

    // MARK: Errors and artifacts written by the lifecycle

    func recordError(_ c: SQLiteConnection, runID: String, phaseID: String?, source: String, type: String, message: String,
                     details: JSONValue?) throws {
        try c.run("INSERT INTO errors (run_id, phase_id, source, error_type, message, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  [.text(runID), .of(phaseID), .text(source), .text(type), .text(message), .of(details?.encodedString), .real(now)])
    }

    /// Stores `bytes` as the run's artifact at `path` (a normalised relative path); replaces an older version.
    func putArtifact(_ c: SQLiteConnection, runID: String, path: String, bytes: [UInt8]) throws {
        let sha = try artifacts.put(bytes)
        try c.run("""
            INSERT INTO artifacts (run_id, path, sha256, size_bytes, modified_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (run_id, path) DO UPDATE SET sha256 = excluded.sha256, size_bytes = excluded.size_bytes,
                modified_at = excluded.modified_at
            WHERE artifacts.sha256 <> excluded.sha256
            """, [.text(runID), .text(path), .text(sha), .of(bytes.count), .real(now)])
    }

    /// `run_summary.md` and one `phases/phase_NN_<id>.md` per phase, as the original's file layout wrote them.
    func writeSummaries(_ c: SQLiteConnection, runID: String) throws {
        let run = try requireRun(c, runID)
        let phases = try c.query("""
            SELECT phase_id, phase_index, name, state, tokens_used, builder_attempts, auditor_attempts, tier_id,
                   minor_issues_count, major_issues_count
            FROM phases WHERE run_id = ? ORDER BY phase_index, id
            """, [.text(runID)]) { s in
            (id: s.string(0) ?? "", index: s.int(1), name: s.string(2) ?? "", state: s.string(3) ?? "", tokens: s.int(4),
             builder: s.int(5), auditor: s.int(6), tier: s.string(7) ?? "", minor: s.int(8), major: s.int(9))
        }
        var summary = "# Run \(run.id)\n\nState: \(run.state.rawValue)\nTokens: \(run.tokensUsed) / \(run.tokenCap)\n\n"
        summary += "| # | phase | tier | state | tokens |\n|---|---|---|---|---|\n"
        for p in phases {
            summary += "| \(p.index) | \(p.id) | \(p.tier) | \(p.state) | \(p.tokens) |\n"
            let text = "# Phase \(p.id): \(p.name)\n\nTier: \(p.tier)\nState: \(p.state)\nTokens: \(p.tokens)\n"
                + "Builder attempts: \(p.builder)\nAuditor attempts: \(p.auditor)\nIssues: \(p.minor) minor, \(p.major) major\n"
            try putArtifact(c, runID: runID, path: "phases/phase_\(p.index < 10 ? "0" : "")\(p.index)_\(p.id).md", bytes: Array(text.utf8))
        }
        try putArtifact(c, runID: runID, path: "run_summary.md", bytes: Array(summary.utf8))
    }
}
