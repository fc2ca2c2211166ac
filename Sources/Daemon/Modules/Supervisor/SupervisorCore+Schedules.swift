import Foundation
import HTTPServer

/// Cron schedules and the ticker that fires them on the daemon's clock.
///
/// Missed-run policy (the original's): **no catch-up**. When the ticker finds a schedule whose `next_run_at` has
/// passed — by one minute or by a week of downtime — it runs the workflow **once**, then sets `next_run_at` to the
/// first cron time after *now*. Schedules are rows, so they survive restarts and `kill -9`.
extension SupervisorCore {
    static let scheduleColumns = "id, workflow_id, name, cron_expression, timezone, status, context, next_run_at, last_run_at, run_count, created_at, updated_at"
    static let scheduleStatuses = ["ACTIVE", "PAUSED", "DISABLED"]

    func scheduleJSON(_ r: SQLiteStatement) -> JSONValue {
        .object([("id", .string(r.string(0) ?? "")), ("workflow_id", .string(r.string(1) ?? "")), ("name", .string(r.string(2) ?? "")),
                 ("cron_expression", .string(r.string(3) ?? "")), ("timezone", .string(r.string(4) ?? "")), ("status", .string(r.string(5) ?? "")),
                 ("context", JSONColumn.value(r.string(6))), ("next_run_at", r.isNull(7) ? .null : JSONColumn.iso(r.double(7))),
                 ("last_run_at", r.isNull(8) ? .null : JSONColumn.iso(r.double(8))), ("run_count", .int(Int(r.int64(9)))),
                 ("created_at", JSONColumn.iso(r.double(10))), ("updated_at", JSONColumn.iso(r.double(11)))])
    }

    func schedule(_ id: String) throws -> JSONValue? {
        try database.write { try $0.query("SELECT \(Self.scheduleColumns) FROM schedules WHERE id = ?", [.text(id)], scheduleJSON).first }
    }

    func nextRun(cron: String, timezone: String, after seconds: Double) -> Double? {
        guard let zone = TimeZone(identifier: timezone), let expression = try? CronExpression(cron, timeZone: zone) else { return nil }
        return expression.next(after: Date(timeIntervalSince1970: seconds))?.timeIntervalSince1970
    }

    /// One scheduler pass: due schedules fire once each; retry-due tasks are re-queued; monitoring samples when due.
    func tick() {
        let at = now
        do {
            let due = try database.write { c in
                try c.query("SELECT id, workflow_id, cron_expression, timezone, context FROM schedules WHERE status = 'ACTIVE' AND next_run_at IS NOT NULL AND next_run_at <= ? ORDER BY next_run_at",
                            [.real(at)]) { ($0.string(0) ?? "", $0.string(1) ?? "", $0.string(2) ?? "", $0.string(3) ?? "UTC", JSONColumn.value($0.string(4))) }
            }
            for (id, workflowID, cron, zone, context) in due {
                let next = nextRun(cron: cron, timezone: zone, after: at)
                try database.write { c in
                    try c.run("UPDATE schedules SET last_run_at = ?, next_run_at = ?, run_count = run_count + 1, updated_at = ? WHERE id = ?",
                              [.real(at), next.map(SQLiteValue.real) ?? .null, .real(at), .text(id)])
                }
                do {
                    _ = try startExecution(workflowID: workflowID, context: context, triggeredBy: "schedule:\(id)")
                } catch {
                    logger.warning("schedule_run_failed", ["schedule_id": .string(id), "error": .string("\(error)")])
                }
            }
            try enqueueDueRetries()
            try sampleIfDue()
        } catch {
            logger.error("scheduler_tick_failed", ["error": .string("\(error)")])
        }
    }
}
