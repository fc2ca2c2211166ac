import Foundation

extension FeedStore {
    /// Rebuilds tick, fleet clock, counters, the server list and every window from SQLite. Only servers
    /// whose newest step is inside the fleet window are loaded, each with its last `rollingWindowSize`
    /// steps (plus the forward-fill seed), replayed in order through the same rules as live ingestion (so
    /// the windows are identical to the ones before the restart) — all of them from one time-range scan.
    func restore() throws {
        let step = configuration.stepSeconds
        try database.write { connection in
            let tick = try MetricsTable.meta(MetaKey.tick, on: connection)?.int64 ?? 0
            let clock = try MetricsTable.meta(MetaKey.fleetStep, on: connection)?.int64.map { $0 / step }
            let total = try MetricsTable.meta(MetaKey.totalRecords, on: connection)?.int64 ?? 0
            let latched = (try MetricsTable.meta(MetaKey.warmupComplete, on: connection)?.int64 ?? 0) != 0
            var restored: [String: ServerState] = [:]
            if let clock {
                let oldestTs = (clock - Int64(configuration.rollingWindowSize) + 1) * step
                let rows = try connection.query("SELECT name, profile FROM servers WHERE last_seen >= ? ORDER BY name",
                                                [.real(Double(oldestTs))]) { ($0.string(0) ?? "", $0.string(1)) }
                let profiles = Dictionary(rows, uniquingKeysWith: { a, _ in a })
                // One time-range scan of the time-clustered table for all windows, split across the cores (see `loadWindows`).
                for (name, window) in try loadWindows(rows.map(\.0), trackedServers: 0, parallel: true, on: connection) where window.count > 0 {
                    restored[name] = ServerState(name: name, profile: profiles[name] ?? nil, window: window)
                }
            }
            lock.withLock {
                self.tick = tick
                self.fleetStep = clock
                self.totalRecords = total
                self.warmupLatched = latched
                self.servers = restored
                evictStaleLocked()
            }
        }
    }
}
