import Foundation
import HTTPServer

/// Where approval requests are announced. Telegram is unreachable offline, so the built-in notifier sends
/// nothing and says so; a real one implements this protocol.
protocol ApprovalNotifier: Sendable {
    /// Announces the request; returns nil when sent, else why not.
    func notify(approvalID: Int, runID: String, phaseID: String, context: String) -> String?
}

struct NoApprovalNotifier: ApprovalNotifier {
    func notify(approvalID: Int, runID: String, phaseID: String, context: String) -> String? { "telegram not configured" }
}

extension AutopackStore {
    static let approvalContexts = ["build113_risky_decision", "build113_ambiguous_decision", "troubleshoot"]

    /// Stores a pending request (or an auto-approved one when `AUTO_APPROVE_BUILD113` is set outside
    /// production) and returns the spec's answer `{status, reason, approval_id, telegram_sent, timeout_at}`.
    func createApproval(_ c: SQLiteConnection, runID: String, phaseID: String, context: String, decisionInfo: JSONValue,
                        deletionInfo: JSONValue?, origin: String, notifier: any ApprovalNotifier = NoApprovalNotifier()) throws -> JSONValue {
        let now = self.now
        let timeout = now + settings.approvalTimeoutMinutes * 60
        let auto = settings.autoApprove && !settings.production && origin == "api"
        try c.run("""
            INSERT INTO approvals (run_id, phase_id, context, decision_info, deletion_info, status, requested_at, responded_at,
                                   timeout_at, approval_reason, response_method, origin)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(runID), .text(phaseID), .text(context), .text(decisionInfo.encodedString), .of(deletionInfo?.encodedString),
                  .text(auto ? "approved" : "pending"), .real(now), auto ? .real(now) : .null, .real(timeout),
                  .of(auto ? "auto-approved (AUTO_APPROVE_BUILD113)" : nil), .of(auto ? "auto" : nil), .text(origin)])
        let id = Int(try c.scalar("SELECT last_insert_rowid()")?.int64 ?? 0)
        if auto {
            return .object([("status", "approved"), ("reason", "auto-approved (AUTO_APPROVE_BUILD113)"), ("approval_id", .int(id)),
                            ("telegram_sent", false), ("timeout_at", .null)])
        }
        let failure = notifier.notify(approvalID: id, runID: runID, phaseID: phaseID, context: context)
        try c.run("UPDATE approvals SET telegram_sent = ?, telegram_error = ? WHERE id = ?", [.of(failure == nil), .of(failure), .of(id)])
        publish("approval_requested", ["approval_id": .int(id), "run_id": .string(runID), "phase_id": .string(phaseID)])
        return .object([("status", "pending"), ("reason", "awaiting human approval"), ("approval_id", .int(id)),
                        ("telegram_sent", .bool(failure == nil)), ("telegram_error", failure.map { .string($0) } ?? .null),
                        ("timeout_at", .string(AutopackTime.iso(timeout)))])
    }

    /// `POST /approval/request`.
    func requestApproval(runID: String, phaseID: String, context: String, decisionInfo: JSONValue, deletionInfo: JSONValue?) throws -> JSONValue {
        try transaction { c in
            try createApproval(c, runID: runID, phaseID: phaseID, context: context, decisionInfo: decisionInfo,
                               deletionInfo: deletionInfo, origin: "api")
        }
    }

    /// Expires pending requests whose `timeout_at` has passed (status `timeout`, decided per
    /// `APPROVAL_DEFAULT_ON_TIMEOUT`). Run by the sweeper and before every approval read, so answers never
    /// show an expired request as pending. Returns how many expired.
    @discardableResult
    func expireApprovals() throws -> Int {
        let now = self.now
        return try transaction { c in
            let expired = try c.query("SELECT id FROM approvals WHERE status = 'pending' AND timeout_at <= ?", [.real(now)]) { $0.int(0) }
            for id in expired {
                try resolveApproval(c, id: id, approved: settings.approveOnTimeout, method: "timeout", status: "timeout",
                                    reason: "no response before the timeout; default \(settings.approveOnTimeout ? "approve" : "reject")")
            }
            return expired.count
        }
    }

    /// Decides a pending request. An auditor escalation also decides its phase: approved → COMPLETE,
    /// otherwise FAILED (when the run and phase are still waiting for it).
    func resolveApproval(_ c: SQLiteConnection, id: Int, approved: Bool, method: String, status: String? = nil, reason: String) throws {
        let rows = try c.query("SELECT run_id, phase_id, origin, status FROM approvals WHERE id = ?", [.of(id)]) {
            (run: $0.string(0) ?? "", phase: $0.string(1) ?? "", origin: $0.string(2) ?? "", status: $0.string(3) ?? "")
        }
        guard let row = rows.first else { throw notFound("Approval \(id) not found") }
        guard row.status == "pending" else {
            throw HTTPError(.conflict, "Approval \(id) is already \(row.status)", extra: [("current_state", .string(row.status))])
        }
        try c.run("""
            UPDATE approvals SET status = ?, responded_at = ?, response_method = ?,
                approval_reason = CASE WHEN ? THEN ? ELSE NULL END, rejected_reason = CASE WHEN ? THEN NULL ELSE ? END
            WHERE id = ?
            """, [.text(status ?? (approved ? "approved" : "rejected")), .real(now), .text(method),
                  .of(approved), .text(reason), .of(approved), .text(reason), .of(id)])
        publish("approval_decided", ["approval_id": .int(id), "approved": .bool(approved), "method": .string(method)])
        guard row.origin == "auditor_escalation", let run = try? requireRun(c, row.run), !run.state.isTerminal,
              let phase = try? requirePhase(c, runID: row.run, phaseID: row.phase), phase.state == .gate || phase.state == .ciRunning
        else { return }
        try c.run("UPDATE phases SET quality_blocked = 0 WHERE run_id = ? AND phase_id = ?", [.text(row.run), .text(row.phase)])
        try movePhase(c, run: run, phase: phase, to: approved ? .complete : .failed, reason: "escalation \(status ?? (approved ? "approved" : "rejected")): \(reason)")
    }

    func approvalJSON(_ s: SQLiteStatement) -> JSONValue {
        .object([("approval_id", .int(s.int(0))), ("run_id", .string(s.string(1) ?? "")), ("phase_id", .string(s.string(2) ?? "")),
                 ("context", .string(s.string(3) ?? "")), ("status", .string(s.string(4) ?? "")),
                 ("requested_at", AutopackTime.json(s.double(5))), ("responded_at", AutopackTime.json(s.optionalDouble(6))),
                 ("timeout_at", AutopackTime.json(s.double(7))), ("approval_reason", s.optionalString(8)),
                 ("rejected_reason", s.optionalString(9)), ("response_method", s.optionalString(10)),
                 ("decision_info", JSONValue.parse(s.string(11))), ("deletion_info", JSONValue.parse(s.string(12))),
                 ("telegram_sent", .bool(s.int(13) != 0))])
    }

    static let approvalColumns = """
        id, run_id, phase_id, context, status, requested_at, responded_at, timeout_at, approval_reason, rejected_reason,
        response_method, decision_info, deletion_info, telegram_sent
        """

    func approval(id: Int) throws -> JSONValue {
        try expireApprovals()
        return try read { c in
            guard let row = try c.query("SELECT \(Self.approvalColumns) FROM approvals WHERE id = ?", [.of(id)], approvalJSON).first else {
                throw notFound("Approval \(id) not found")
            }
            return row
        }
    }

    func pendingApprovals() throws -> JSONValue {
        try expireApprovals()
        return try read { c in
            let rows = try c.query("SELECT \(Self.approvalColumns) FROM approvals WHERE status = 'pending' ORDER BY id", [], approvalJSON)
            return .object([("count", .int(rows.count)), ("requests", .array(rows))])
        }
    }

    /// Telegram callback `approve:{phase_id}` / `reject:{phase_id}`: decides the newest pending request for the phase.
    func decideNewestPending(phaseID: String, approved: Bool, by user: String) throws -> Int {
        try expireApprovals()
        return try transaction { c in
            guard let id = try c.scalar("SELECT id FROM approvals WHERE phase_id = ? AND status = 'pending' ORDER BY id DESC LIMIT 1",
                                        [.text(phaseID)])?.int64 else {
                throw notFound("No pending approval for phase \(phaseID)")
            }
            try resolveApproval(c, id: Int(id), approved: approved, method: "telegram",
                                reason: "\(approved ? "approved" : "rejected") via Telegram by \(user)")
            return Int(id)
        }
    }
}
