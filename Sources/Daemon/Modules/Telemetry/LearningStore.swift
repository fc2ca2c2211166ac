import Foundation

/// SQL for retrospectives, playbook executions, policy suggestions and the module's settings.
struct LearningStore: Sendable {
    let database: SQLiteDatabase

    struct Retrospective: Sendable {
        var id, cycleName: String
        var insights, improvements: [String]
        var metrics: [String: Double]
        var at: Double
    }

    struct Suggestion: Sendable {
        var id, rule, policyArea, suggestion, status: String
        var confidence: Double
        var evidence: [String]
        var createdAt: Double
        var followUpAt: Double?
        var taskID: String?
    }

    func addRetrospective(_ r: Retrospective) throws {
        try database.write { c in
            try c.run("INSERT INTO retrospectives (id, cycle_name, insights, improvements, metrics, at) VALUES (?, ?, ?, ?, ?, ?)",
                      [.text(r.id), .text(r.cycleName), .text(TelemetryFormat.encode(r.insights)),
                       .text(TelemetryFormat.encode(r.improvements)), .text(TelemetryFormat.encode(r.metrics)), .real(r.at)])
        }
    }

    func retrospectives(limit: Int) throws -> [Retrospective] {
        try database.read { c in
            try c.query("SELECT id, cycle_name, insights, improvements, metrics, at FROM retrospectives ORDER BY at DESC, id LIMIT ?",
                        [.integer(Int64(limit))]) { s in
                Retrospective(id: s.string(0) ?? "", cycleName: s.string(1) ?? "",
                              insights: TelemetryFormat.decode([String].self, s.string(2)) ?? [],
                              improvements: TelemetryFormat.decode([String].self, s.string(3)) ?? [],
                              metrics: TelemetryFormat.decode([String: Double].self, s.string(4)) ?? [:], at: s.double(5))
            }
        }
    }

    func recordPlaybook(_ name: String, success: Bool, seconds: Double, detail: String, at: Double) throws {
        try database.write { c in
            try c.run("INSERT INTO playbook_executions (playbook_name, success, duration_seconds, detail, at) VALUES (?, ?, ?, ?, ?)",
                      [.text(name), .integer(success ? 1 : 0), .real(seconds), .text(detail), .real(at)])
        }
    }

    struct PlaybookStats: Sendable {
        var name: String
        var total, successful: Int
        var averageSeconds: Double
        var lastRunAt: Double
    }

    func playbookStats() throws -> [PlaybookStats] {
        try database.read { c in
            try c.query("""
                SELECT playbook_name, COUNT(*), SUM(success), AVG(duration_seconds), MAX(at) FROM playbook_executions
                GROUP BY playbook_name ORDER BY playbook_name
                """) { s in
                PlaybookStats(name: s.string(0) ?? "", total: Int(s.int64(1)), successful: Int(s.int64(2)),
                              averageSeconds: s.double(3), lastRunAt: s.double(4))
            }
        }
    }

    // MARK: Policy suggestions

    func addSuggestion(_ s: Suggestion) throws {
        try database.write { c in
            try c.run("""
                INSERT INTO policy_suggestions (id, rule, policy_area, suggestion, confidence, evidence, status, created_at)
                VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
                """, [.text(s.id), .text(s.rule), .text(s.policyArea), .text(s.suggestion), .real(s.confidence),
                      .text(TelemetryFormat.encode(s.evidence)), .real(s.createdAt)])
        }
    }

    private static let suggestionColumns = "id, rule, policy_area, suggestion, status, confidence, evidence, created_at, follow_up_at, task_id"

    private static func suggestion(_ s: SQLiteStatement) -> Suggestion {
        Suggestion(id: s.string(0) ?? "", rule: s.string(1) ?? "", policyArea: s.string(2) ?? "", suggestion: s.string(3) ?? "",
                   status: s.string(4) ?? "", confidence: s.double(5), evidence: TelemetryFormat.decode([String].self, s.string(6)) ?? [],
                   createdAt: s.double(7), followUpAt: s.isNull(8) ? nil : s.double(8), taskID: s.string(9))
    }

    func suggestions(status: String) throws -> [Suggestion] {
        try database.read { c in
            try c.query("SELECT \(Self.suggestionColumns) FROM policy_suggestions WHERE status = ? ORDER BY confidence DESC, created_at DESC",
                        [.text(status)], Self.suggestion)
        }
    }

    func suggestion(_ id: String) throws -> Suggestion? {
        try database.read { c in
            try c.query("SELECT \(Self.suggestionColumns) FROM policy_suggestions WHERE id = ?", [.text(id)], Self.suggestion).first
        }
    }

    /// Whether `rule` already has an open suggestion, or one answered within `quietSeconds`.
    func ruleIsQuiet(_ rule: String, since: Double) throws -> Bool {
        try database.read { c in
            (try c.scalar("""
                SELECT COUNT(*) FROM policy_suggestions WHERE rule = ?
                AND (status IN ('pending', 'under_review') OR COALESCE(responded_at, created_at) >= ?)
                """, [.text(rule), .real(since)])?.int64 ?? 0) > 0
        }
    }

    /// Answers a pending suggestion; false when it was no longer pending.
    func respond(_ id: String, status: String, notes: String?, followUpAt: Double?, at: Double) throws -> Bool {
        try database.write { c in
            try c.run("""
                UPDATE policy_suggestions SET status = ?, notes = ?, follow_up_at = ?, responded_at = ?
                WHERE id = ? AND status = 'pending'
                """, [.text(status), notes.map { .text($0) } ?? .null, followUpAt.map { .real($0) } ?? .null, .real(at), .text(id)])
            return c.changes == 1
        }
    }

    func attachTask(_ id: String, task: String) throws {
        try database.write { c in try c.run("UPDATE policy_suggestions SET task_id = ? WHERE id = ?", [.text(task), .text(id)]) }
    }

    /// Suggestions under review whose follow-up date has come are pending again.
    func reopenDueReviews(at: Double) throws -> Int {
        try database.write { c in
            try c.run("UPDATE policy_suggestions SET status = 'pending' WHERE status = 'under_review' AND follow_up_at <= ?", [.real(at)])
            return c.changes
        }
    }

    // MARK: Settings

    func setting(_ key: String) throws -> String? {
        try database.read { c in try c.scalar("SELECT value FROM settings WHERE key = ?", [.text(key)])?.string }
    }

    func setSetting(_ key: String, _ value: String?) throws {
        try database.write { c in
            if let value {
                try c.run("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                          [.text(key), .text(value)])
            } else {
                try c.run("DELETE FROM settings WHERE key = ?", [.text(key)])
            }
        }
    }
}
