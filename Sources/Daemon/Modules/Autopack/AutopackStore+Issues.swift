import Foundation
import HTTPServer

extension AutopackStore {
    /// Records an issue against a phase; a repeated key increments `occurrence_count`. The phase's minor/major
    /// counts are the number of distinct issues of each severity, and roll up into the tier and the run.
    @discardableResult
    func recordIssue(_ c: SQLiteConnection, runID: String, phase: PhaseRow, key: String, severity: String, source: String,
                     category: String, evidence: [String]) throws -> Int {
        let now = self.now
        try c.run("""
            INSERT INTO issues (run_id, phase_id, tier_id, issue_key, severity, source, category, task_category, complexity,
                                evidence_refs, occurrence_count, first_seen, last_seen)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
            ON CONFLICT (run_id, phase_id, issue_key) DO UPDATE SET occurrence_count = occurrence_count + 1,
                last_seen = excluded.last_seen, evidence_refs = excluded.evidence_refs,
                severity = CASE WHEN excluded.severity = 'major' THEN 'major' ELSE issues.severity END
            """, [.text(runID), .text(phase.phaseID), .text(phase.tierID), .text(key), .text(severity), .text(source),
                  .text(category), .of(phase.category), .of(phase.complexity),
                  .text(JSONValue.array(evidence.map { .string($0) }).encodedString), .real(now), .real(now)])
        try c.run("""
            UPDATE phases SET
                minor_issues_count = (SELECT COUNT(*) FROM issues WHERE run_id = ?1 AND phase_id = ?2 AND severity = 'minor'),
                major_issues_count = (SELECT COUNT(*) FROM issues WHERE run_id = ?1 AND phase_id = ?2 AND severity = 'major')
            WHERE run_id = ?1 AND phase_id = ?2
            """, [.text(runID), .text(phase.phaseID)])
        return Int(try c.scalar("SELECT occurrence_count FROM issues WHERE run_id = ? AND phase_id = ? AND issue_key = ?",
                                [.text(runID), .text(phase.phaseID), .text(key)])?.int64 ?? 1)
    }

    /// `record_issue` (query parameters, as in the original). Allowed on finished runs too: issues found
    /// after the fact still belong in the backlog.
    func recordIssue(runID: String, phaseID: String, key: String, severity: String, source: String, category: String,
                     evidence: [String]) throws -> JSONValue {
        try transaction { c in
            _ = try requireRun(c, runID)
            let phase = try requirePhase(c, runID: runID, phaseID: phaseID)
            let count = try recordIssue(c, runID: runID, phase: phase, key: key, severity: severity, source: source,
                                        category: category, evidence: evidence)
            try settle(c, runID: runID)
            let counts = try c.query("SELECT minor_issues_count, major_issues_count FROM phases WHERE run_id = ? AND phase_id = ?",
                                     [.text(runID), .text(phaseID)]) { ($0.int(0), $0.int(1)) }.first ?? (0, 0)
            let state = counts.1 > 0 ? "has_major_issues" : counts.0 > 0 ? "has_minor_issues" : "no_issues"
            publish("issue_recorded", ["run_id": .string(runID), "phase_id": .string(phaseID), "issue_key": .string(key)])
            return .object([("message", "Issue recorded"), ("run_id", .string(runID)), ("phase_id", .string(phaseID)),
                            ("issue_key", .string(key)), ("severity", .string(severity)), ("occurrence_count", .int(count)),
                            ("issue_state", .string(state)), ("minor_issues_count", .int(counts.0)),
                            ("major_issues_count", .int(counts.1))])
        }
    }

    /// `GET /runs/{id}/issues/index`: every issue of the run, by phase.
    func issueIndex(runID: String) throws -> JSONValue {
        try read { c in
            _ = try requireRun(c, runID)
            let issues = try c.query("""
                SELECT issue_key, phase_id, tier_id, severity, source, category, evidence_refs, occurrence_count, first_seen, last_seen
                FROM issues WHERE run_id = ? ORDER BY first_seen, issue_key
                """, [.text(runID)]) { s -> JSONValue in
                .object([("issue_key", .string(s.string(0) ?? "")), ("phase_id", .string(s.string(1) ?? "")),
                         ("tier_id", .string(s.string(2) ?? "")), ("severity", .string(s.string(3) ?? "")),
                         ("source", .string(s.string(4) ?? "")), ("category", .string(s.string(5) ?? "")),
                         ("evidence_refs", JSONValue.parse(s.string(6))), ("occurrence_count", .int(s.int(7))),
                         ("first_seen", AutopackTime.json(s.double(8))), ("last_seen", AutopackTime.json(s.double(9)))])
            }
            var byPhase: [(String, JSONValue)] = []
            for issue in issues {
                let phase = issue["phase_id"]?.stringValue ?? ""
                if let i = byPhase.firstIndex(where: { $0.0 == phase }), case .array(let list) = byPhase[i].1 {
                    byPhase[i].1 = .array(list + [issue["issue_key"] ?? .null])
                } else {
                    byPhase.append((phase, [issue["issue_key"] ?? .null]))
                }
            }
            let minor = issues.filter { $0["severity"] == "minor" }.count
            return .object([("run_id", .string(runID)), ("total_issues", .int(issues.count)),
                            ("minor_issues_count", .int(minor)), ("major_issues_count", .int(issues.count - minor)),
                            ("issues", .array(issues)), ("issues_by_phase", .object(byPhase))])
        }
    }

    /// `GET /project/issues/backlog`: issues across all runs, aged as in the original: a minor issue seen in
    /// ≥ 3 runs or ≥ 2 tiers is promoted to major.
    func backlog() throws -> JSONValue {
        try read { c in
            let items = try c.query("""
                SELECT issue_key, MAX(severity = 'major'), MIN(category), COUNT(DISTINCT run_id),
                       COUNT(DISTINCT run_id || '/' || tier_id), SUM(occurrence_count), MIN(first_seen), MAX(last_seen)
                FROM issues GROUP BY issue_key ORDER BY SUM(occurrence_count) DESC, issue_key
                """) { s -> JSONValue in
                let major = s.int(1) == 1
                let runs = s.int(3), tiers = s.int(4)
                let promoted = !major && (runs >= 3 || tiers >= 2)
                return .object([("issue_key", .string(s.string(0) ?? "")),
                                ("severity", .string(major || promoted ? "major" : "minor")),
                                ("original_severity", .string(major ? "major" : "minor")), ("promoted", .bool(promoted)),
                                ("category", .string(s.string(2) ?? "")), ("runs_affected", .int(runs)),
                                ("tiers_affected", .int(tiers)), ("occurrence_count", .int(s.int(5))),
                                ("first_seen", AutopackTime.json(s.double(6))), ("last_seen", AutopackTime.json(s.double(7)))])
            }
            return .object([("total", .int(items.count)), ("aging_thresholds", ["runs": 3, "tiers": 2]), ("issues", .array(items))])
        }
    }

    /// `GET /runs/{id}/errors`.
    func errors(runID: String) throws -> JSONValue {
        try read { c in
            _ = try requireRun(c, runID)
            let errors = try c.query("""
                SELECT id, phase_id, source, error_type, message, details, created_at FROM errors WHERE run_id = ? ORDER BY id
                """, [.text(runID)]) { s -> JSONValue in
                .object([("id", .int(s.int(0))), ("phase_id", s.optionalString(1)), ("source", .string(s.string(2) ?? "")),
                         ("error_type", .string(s.string(3) ?? "")), ("message", .string(s.string(4) ?? "")),
                         ("details", JSONValue.parse(s.string(5))), ("created_at", AutopackTime.json(s.double(6)))])
            }
            return .object([("run_id", .string(runID)), ("error_count", .int(errors.count)), ("errors", .array(errors))])
        }
    }

    /// `GET /runs/{id}/errors/summary`.
    func errorSummary(runID: String) throws -> JSONValue {
        try read { c in
            _ = try requireRun(c, runID)
            func grouped(_ column: String) throws -> JSONValue {
                .object(try c.query("SELECT COALESCE(\(column), ''), COUNT(*) FROM errors WHERE run_id = ? GROUP BY 1 ORDER BY 1",
                                    [.text(runID)]) { ($0.string(0) ?? "", JSONValue.int($0.int(1))) })
            }
            let span = try c.query("SELECT COUNT(*), MIN(created_at), MAX(created_at) FROM errors WHERE run_id = ?", [.text(runID)]) {
                ($0.int(0), $0.optionalDouble(1), $0.optionalDouble(2))
            }.first ?? (0, nil, nil)
            return .object([("run_id", .string(runID)), ("summary", .object([
                ("total_errors", .int(span.0)), ("by_phase", try grouped("phase_id")), ("by_type", try grouped("error_type")),
                ("by_source", try grouped("source")), ("first_error_at", AutopackTime.json(span.1)),
                ("last_error_at", AutopackTime.json(span.2)),
            ]))])
        }
    }
}
