import Foundation
import HTTPServer

extension AutopackStore {
    /// Records a governance request for `paths`; auto-approved when ``GovernancePolicy`` allows it.
    func createGovernanceRequest(_ c: SQLiteConnection, runID: String, phaseID: String, paths: [String], linesChanged: Int,
                                 justification: String) throws -> JSONValue {
        let id = "gov-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let risk = GovernancePolicy.risk(of: paths)
        let auto = GovernancePolicy.autoApproves(paths, linesChanged: linesChanged)
        try c.run("""
            INSERT INTO governance_requests (request_id, run_id, phase_id, requested_paths, justification, risk_level,
                lines_changed, auto_approved, approved, approved_by, created_at, decided_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(id), .text(runID), .text(phaseID), .text(JSONValue.array(paths.map { .string($0) }).encodedString),
                  .text(justification), .text(risk), .of(linesChanged), .of(auto), auto ? .integer(1) : .null,
                  .of(auto ? "policy" : nil), .real(now), auto ? .real(now) : .null])
        publish("governance_requested", ["request_id": .string(id), "run_id": .string(runID), "auto_approved": .bool(auto)])
        return try governanceRow(c, id: id)!
    }

    func governanceRow(_ c: SQLiteConnection, id: String) throws -> JSONValue? {
        try c.query("""
            SELECT request_id, run_id, phase_id, requested_paths, justification, risk_level, lines_changed, auto_approved,
                   approved, approved_by, created_at, decided_at
            FROM governance_requests WHERE request_id = ?
            """, [.text(id)], governanceJSON).first
    }

    func governanceJSON(_ s: SQLiteStatement) -> JSONValue {
        let approved: JSONValue = s.isNull(8) ? .null : .bool(s.int(8) != 0)
        let status = s.isNull(8) ? "pending" : s.int(8) != 0 ? "approved" : "denied"
        return .object([("request_id", .string(s.string(0) ?? "")), ("run_id", .string(s.string(1) ?? "")),
                        ("phase_id", .string(s.string(2) ?? "")), ("requested_paths", JSONValue.parse(s.string(3))),
                        ("justification", .string(s.string(4) ?? "")), ("risk_level", .string(s.string(5) ?? "")),
                        ("lines_changed", .int(s.int(6))), ("auto_approved", .bool(s.int(7) != 0)), ("approved", approved),
                        ("status", .string(status)), ("approved_by", s.optionalString(9)),
                        ("created_at", AutopackTime.json(s.double(10))), ("decided_at", AutopackTime.json(s.optionalDouble(11)))])
    }

    /// Whether the phase has an open or a denied governance request.
    func governanceState(_ c: SQLiteConnection, runID: String, phaseID: String) throws -> (pending: Bool, denied: Bool) {
        let row = try c.query("""
            SELECT COALESCE(SUM(approved IS NULL), 0), COALESCE(SUM(approved = 0), 0) FROM governance_requests
            WHERE run_id = ? AND phase_id = ?
            """, [.text(runID), .text(phaseID)]) { ($0.int(0) > 0, $0.int(1) > 0) }
        return row.first ?? (false, false)
    }

    func pendingGovernance() throws -> JSONValue {
        try read { c in
            let rows = try c.query("""
                SELECT request_id, run_id, phase_id, requested_paths, justification, risk_level, lines_changed, auto_approved,
                       approved, approved_by, created_at, decided_at
                FROM governance_requests WHERE approved IS NULL ORDER BY created_at, request_id
                """, [], governanceJSON)
            return .object([("count", .int(rows.count)), ("pending_requests", .array(rows))])
        }
    }

    /// Decides a pending request (409 when already decided). A phase that the auditor approved and that only
    /// waited for this completes; a denial fails the phase.
    func decideGovernance(id: String, approved: Bool, by user: String) throws -> JSONValue {
        try transaction { c in
            guard let current = try governanceRow(c, id: id) else { throw notFound("Governance request \(id) not found") }
            guard current["status"] == "pending" else {
                let status = current["status"]?.stringValue ?? ""
                throw HTTPError(.conflict, "Governance request \(id) is already \(status)", extra: [("current_state", .string(status))])
            }
            try c.run("UPDATE governance_requests SET approved = ?, approved_by = ?, decided_at = ? WHERE request_id = ?",
                      [.of(approved), .text(user), .real(now), .text(id)])
            let runID = current["run_id"]?.stringValue ?? "", phaseID = current["phase_id"]?.stringValue ?? ""
            if let run = try? requireRun(c, runID), !run.state.isTerminal,
               let phase = try? requirePhase(c, runID: runID, phaseID: phaseID), phase.state == .gate || phase.state == .ciRunning {
                if !approved {
                    try movePhase(c, run: run, phase: phase, to: .failed, reason: "governance request \(id) denied by \(user)")
                } else if phase.lastRecommendation == "approve", try !governanceState(c, runID: runID, phaseID: phaseID).pending {
                    try movePhase(c, run: run, phase: phase, to: .complete)
                }
            }
            publish("governance_decided", ["request_id": .string(id), "approved": .bool(approved)])
            let row = try governanceRow(c, id: id)!
            return .object([("message", .string(approved ? "Request approved" : "Request denied")), ("request_id", .string(id)),
                            ("approved", .bool(approved)), ("approved_by", .string(user)), ("request", row)])
        }
    }
}
