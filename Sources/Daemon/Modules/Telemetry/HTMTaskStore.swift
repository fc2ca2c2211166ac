import Foundation

/// SQL for intents and HTM tasks. The queue keeps dispatch order in memory; every state change lands here
/// first, so a restart finds each task where it was.
struct HTMTaskStore: Sendable {
    let database: SQLiteDatabase

    static let columns = """
        id, intent_id, origin, kind, description, status, priority, size_bytes, payload, kernel_affinity, kernel_id, \
        sla_ms, sla_met, escalated_at, attempt, created_at, started_at, completed_at, duration_seconds, error
        """

    /// Inserts the tasks, and their intent unless it exists (`INSERT OR IGNORE`: stress tests add to one intent).
    func insert(intentID: String, goal: String, origin: String, tasks: [HTMTask], at: Double) throws {
        try database.writeTransaction { c in
            try c.run("INSERT OR IGNORE INTO intents (id, goal, origin, created_at) VALUES (?, ?, ?, ?)",
                      [.text(intentID), .text(goal), .text(origin), .real(at)])
            for t in tasks {
                try c.run("""
                    INSERT INTO htm_tasks (id, intent_id, origin, kind, description, status, priority, size_bytes, payload,
                                           kernel_affinity, sla_ms, created_at)
                    VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)
                    """, [.text(t.id), .text(intentID), .text(t.origin), .text(t.kind.rawValue), .text(t.description),
                          .text(t.priority.rawValue), .integer(Int64(t.sizeBytes)), .text(TelemetryFormat.encode(t.payload)),
                          t.kernelAffinity.map { .text($0) } ?? .null, .integer(Int64(t.slaMilliseconds)), .real(t.createdAt)])
            }
        }
    }

    func markActive(_ id: String, kernel: String, at: Double) throws {
        try database.write { c in
            try c.run("UPDATE htm_tasks SET status = 'active', kernel_id = ?, started_at = ? WHERE id = ?",
                      [.text(kernel), .real(at), .text(id)])
        }
    }

    func markFinished(_ task: HTMTask, result: String?) throws {
        try database.write { c in
            try c.run("""
                UPDATE htm_tasks SET status = ?, completed_at = ?, duration_seconds = ?, sla_met = ?, result = ?, error = ?
                WHERE id = ?
                """, [.text(task.status), task.completedAt.map { .real($0) } ?? .null,
                      task.durationSeconds.map { .real($0) } ?? .null, .integer(task.slaMet == true ? 1 : 0),
                      result.map { .text($0) } ?? .null, task.error.map { .text($0) } ?? .null, .text(task.id)])
        }
    }

    func setPriority(_ id: String, from old: TaskPriority, to new: TaskPriority, reason: String, client: String, at: Double) throws {
        try database.writeTransaction { c in
            try c.run("UPDATE htm_tasks SET priority = ?, sla_ms = ? WHERE id = ?",
                      [.text(new.rawValue), .integer(Int64(new.slaMilliseconds)), .text(id)])
            try c.run("INSERT INTO priority_overrides (task_id, old_priority, new_priority, reason, client, at) VALUES (?, ?, ?, ?, ?, ?)",
                      [.text(id), .text(old.rawValue), .text(new.rawValue), .text(reason), .text(client), .real(at)])
        }
    }

    /// The SLA enforcer's escalation: raises the priority and records the breach.
    func escalate(_ id: String, to priority: TaskPriority, at: Double) throws {
        try database.write { c in
            try c.run("UPDATE htm_tasks SET priority = ?, sla_met = 0, escalated_at = COALESCE(escalated_at, ?) WHERE id = ?",
                      [.text(priority.rawValue), .real(at), .text(id)])
        }
    }

    /// Synthetic (stress) tasks do not outlive the test that made them: a restart fails the unfinished ones.
    func failUnfinishedSynthetic(at: Double) throws -> Int {
        try database.write { c in
            try c.run("""
                UPDATE htm_tasks SET status = 'failed', error = 'stress test interrupted by a daemon restart', completed_at = ?
                WHERE kind = 'synthetic' AND status IN ('pending', 'active')
                """, [.real(at)])
            return c.changes
        }
    }

    /// Tasks a crash left active go back to pending with the next attempt number.
    func requeueInterrupted() throws -> Int {
        try database.write { c in
            try c.run("UPDATE htm_tasks SET status = 'pending', kernel_id = NULL, started_at = NULL, attempt = attempt + 1 WHERE status = 'active'")
            return c.changes
        }
    }

    func tasks(where clause: String, _ values: [SQLiteValue] = [], orderBy: String = "created_at DESC", limit: Int? = nil) throws -> [HTMTask] {
        let limitSQL = limit.map { " LIMIT \($0)" } ?? ""
        return try database.read { c in
            try c.query("SELECT \(Self.columns) FROM htm_tasks WHERE \(clause) ORDER BY \(orderBy)\(limitSQL)", values, Self.task)
        }
    }

    func task(_ id: String) throws -> HTMTask? { try tasks(where: "id = ?", [.text(id)]).first }

    static func task(_ s: SQLiteStatement) -> HTMTask {
        HTMTask(id: s.string(0) ?? "", intentID: s.string(1) ?? "", origin: s.string(2) ?? "",
                kind: TaskKind(rawValue: s.string(3) ?? "") ?? .synthetic, description: s.string(4) ?? "",
                status: s.string(5) ?? "", priority: TaskPriority(rawValue: s.string(6) ?? "") ?? .normal,
                sizeBytes: Int(s.int64(7)), payload: TelemetryFormat.decode(TaskPayload.self, s.string(8)) ?? TaskPayload(),
                kernelAffinity: s.string(9), kernelID: s.string(10), slaMilliseconds: Int(s.int64(11)),
                slaMet: s.isNull(12) ? nil : s.int64(12) == 1, escalatedAt: s.isNull(13) ? nil : s.double(13),
                attempt: Int(s.int64(14)), createdAt: s.double(15), startedAt: s.isNull(16) ? nil : s.double(16),
                completedAt: s.isNull(17) ? nil : s.double(17), durationSeconds: s.isNull(18) ? nil : s.double(18),
                error: s.string(19))
    }
}

extension HTMTaskStore {
    /// Tasks run and failed per kernel (all time).
    func kernelTotals() throws -> [String: (tasks: Int, errors: Int)] {
        let rows = try database.read { c in
            try c.query("""
                SELECT kernel_id, COUNT(*), SUM(status = 'failed') FROM htm_tasks
                WHERE kernel_id IS NOT NULL AND status IN ('completed', 'failed') GROUP BY kernel_id
                """) { s in (s.string(0) ?? "", Int(s.int64(1)), Int(s.int64(2))) }
        }
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.0, (tasks: $0.1, errors: $0.2)) })
    }

    struct DayStats: Sendable {
        var completed = 0, failed = 0, slaBreaches = 0, escalations = 0
        var averageWaitSeconds: Double?
        var p95DurationSeconds: Double?
        var averageSizeMegabytes: Double?
    }

    /// The queue's figures since `since` (the start of the UTC day).
    func dayStats(since: Double) throws -> DayStats {
        try database.read { c in
            var stats = try c.query("""
                SELECT COALESCE(SUM(status = 'completed' AND completed_at >= ?1), 0), COALESCE(SUM(status = 'failed' AND completed_at >= ?1), 0),
                       COALESCE(SUM(sla_met = 0), 0), COALESCE(SUM(escalated_at >= ?1), 0),
                       AVG(CASE WHEN started_at IS NOT NULL THEN started_at - created_at END), AVG(size_bytes)
                FROM htm_tasks WHERE created_at >= ?1 OR completed_at >= ?1
                """, [.real(since)]) { s in
                DayStats(completed: Int(s.int64(0)), failed: Int(s.int64(1)), slaBreaches: Int(s.int64(2)), escalations: Int(s.int64(3)),
                         averageWaitSeconds: s.isNull(4) ? nil : s.double(4),
                         averageSizeMegabytes: s.isNull(5) ? nil : s.double(5) / 1_048_576)
            }.first ?? DayStats()
            let durations = try c.query("SELECT duration_seconds FROM htm_tasks WHERE completed_at >= ? AND duration_seconds IS NOT NULL",
                                        [.real(since)]) { $0.double(0) }
            stats.p95DurationSeconds = TelemetryFormat.percentile(durations, 0.95)
            return stats
        }
    }

    struct IntentSummary: Sendable {
        var id, goal, origin: String
        var createdAt: Double
        var total, pending, active, completed, failed: Int
        var lastCompletedAt: Double?
        var meanDuration: Double?

        var status: String {
            if pending + active > 0 { return active > 0 || completed + failed > 0 ? "active" : "pending" }
            return failed > 0 ? "failed" : "completed"
        }
        var completionPercent: Double { total == 0 ? 100 : Double(completed + failed) / Double(total) * 100 }
    }

    private static let intentSQL = """
        SELECT i.id, i.goal, i.origin, i.created_at, COUNT(t.id), COALESCE(SUM(t.status = 'pending'), 0),
               COALESCE(SUM(t.status = 'active'), 0), COALESCE(SUM(t.status = 'completed'), 0), COALESCE(SUM(t.status = 'failed'), 0),
               MAX(t.completed_at), AVG(t.duration_seconds)
        FROM intents i LEFT JOIN htm_tasks t ON t.intent_id = i.id
        """

    private static func intent(_ s: SQLiteStatement) -> IntentSummary {
        IntentSummary(id: s.string(0) ?? "", goal: s.string(1) ?? "", origin: s.string(2) ?? "", createdAt: s.double(3),
                      total: Int(s.int64(4)), pending: Int(s.int64(5)), active: Int(s.int64(6)), completed: Int(s.int64(7)),
                      failed: Int(s.int64(8)), lastCompletedAt: s.isNull(9) ? nil : s.double(9), meanDuration: s.isNull(10) ? nil : s.double(10))
    }

    /// Intents with unfinished tasks, newest first.
    func activeIntents(limit: Int) throws -> [IntentSummary] {
        try database.read { c in
            try c.query(Self.intentSQL + """
                 WHERE i.id IN (SELECT intent_id FROM htm_tasks WHERE status IN ('pending', 'active'))
                GROUP BY i.id ORDER BY i.created_at DESC, i.id LIMIT ?
                """, [.integer(Int64(limit))], Self.intent)
        }
    }

    func intent(_ id: String) throws -> IntentSummary? {
        try database.read { c in try c.query(Self.intentSQL + " WHERE i.id = ? GROUP BY i.id", [.text(id)], Self.intent).first }
    }
}
