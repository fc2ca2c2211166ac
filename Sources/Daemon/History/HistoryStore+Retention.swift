import Dispatch
import Foundation

extension HistoryStore {
    /// Deletes history older than the configured retention before the newest tick, `retentionBatchSize`
    /// rows per short transaction on the shared writer, so a tick or an ingest waits at most one batch.
    /// Open episodes are never cut: events with `resolved_at IS NULL` stay. Returns rows deleted.
    @discardableResult
    public func pruneExpired() throws -> Int {
        guard let end = lastTick else { return 0 }
        let eventCutoff = end - configuration.retentionSeconds
        let sampleCutoff = end - max(configuration.riskSampleRetentionSeconds, HistoryTimeRange.day1.seconds)
        let batch = configuration.retentionBatchSize
        let statements = [
            ("DELETE FROM history_risk_samples WHERE (server_name, ts) IN (SELECT server_name, ts FROM history_risk_samples WHERE ts < ? LIMIT \(batch))", sampleCutoff),
            ("DELETE FROM history_environment WHERE ts IN (SELECT ts FROM history_environment WHERE ts < ? LIMIT \(batch))", eventCutoff),
            ("DELETE FROM history_alert_events WHERE id IN (SELECT id FROM history_alert_events WHERE ts < ? AND (resolved_at IS NOT NULL OR event_type = 'resolved') LIMIT \(batch))", eventCutoff),
        ]
        var deleted = 0
        for (sql, cutoff) in statements {
            while true {
                let n = try database.write { c -> Int in
                    try c.transaction(.immediate) {
                        try c.run(sql, [.integer(cutoff)])
                        return c.changes
                    }
                }
                deleted += n
                if n < batch { break }
            }
        }
        return deleted
    }

    /// Runs `pruneExpired` every `retentionIntervalSeconds` on a utility queue (off the tick and ingest paths).
    public func startRetention() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "argus.history.retention", qos: .utility))
        let interval = configuration.retentionIntervalSeconds
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in
            _ = try? self?.pruneExpired()
            // Ticks, reads and the pass's own deletes free memory that glibc keeps resident until trimmed:
            // without this the soak's RSS climbed 180–310 MiB a simulated day between trainings (docs/soak.md).
            HeapStats.trimAfterLargeRelease()
        }
        setRetentionTimer(timer)
        timer.resume()
    }

    public func stopRetention() { setRetentionTimer(nil) }
}
