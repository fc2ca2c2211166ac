import Dispatch
import Foundation

extension FeedStore {
    /// Deletes metrics rows older than `effectiveRetentionSeconds` before the fleet clock, in transactions
    /// of `retentionBatchSize` rows so an ingest waits at most one small batch. Returns rows deleted.
    @discardableResult
    public func pruneExpired() throws -> Int {
        guard let clockTs = status().fleetStepTimestamp else { return 0 }
        return try prune(olderThan: clockTs - configuration.effectiveRetentionSeconds)
    }

    /// Deletes metrics rows with `step_ts < cutoff` in small batches. Rows inside live windows are never
    /// touched because the cutoff is clamped to the oldest step any window can hold.
    @discardableResult
    public func prune(olderThan cutoff: Int64) throws -> Int {
        let floor: Int64
        if let clockTs = status().fleetStepTimestamp {
            floor = clockTs - Int64(configuration.rollingWindowSize + configuration.maxForwardFillSteps) * configuration.stepSeconds
        } else {
            floor = .min
        }
        let effective = min(cutoff, floor)
        var deleted = 0
        while true {
            let n = try database.write { connection in
                try connection.transaction(.immediate) {
                    try MetricsTable.pruneBatch(olderThan: effective, limit: configuration.retentionBatchSize, on: connection)
                }
            }
            deleted += n
            if n < configuration.retentionBatchSize { break }
        }
        return deleted
    }

    /// Runs `pruneExpired` every `retentionIntervalSeconds` on a background queue (off the ingest path).
    public func startRetention() {
        lock.withLock {
            guard retentionTimer == nil else { return }
            let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "argus.feed.retention", qos: .utility))
            let interval = configuration.retentionIntervalSeconds
            timer.schedule(deadline: .now() + interval, repeating: interval)
            timer.setEventHandler { [weak self] in _ = try? self?.pruneExpired() }
            timer.resume()
            retentionTimer = timer
        }
    }

    public func stopRetention() {
        lock.withLock {
            retentionTimer?.cancel()
            retentionTimer = nil
        }
    }
}
