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
                // Each server replays its steps from `latest − span + step` (as `loadWindow` would); all of
                // them are read in one scan of the time-clustered table from the earliest such step.
                final class Replay {
                    let from: Int64
                    var window: MetricWindow
                    init(from: Int64, window: MetricWindow) { self.from = from; self.window = window }
                }
                var replays: [String: Replay] = [:]
                var profiles: [String: String?] = [:]
                for (name, profile) in rows {
                    guard let latest = try MetricsTable.latestStep(server: name, on: connection) else { continue }
                    replays[name] = Replay(from: latest - replaySpanSeconds + step,
                                           window: MetricWindow(capacity: configuration.rollingWindowSize,
                                                                maxFillGap: configuration.maxForwardFillSteps))
                    profiles[name] = profile
                }
                if let from = replays.values.map(\.from).min() {
                    try MetricsTable.forEachStep(from: from, on: connection) { name, stepTs, values, status in
                        guard let replay = replays[name], stepTs >= replay.from else { return }
                        _ = replay.window.apply(step: stepTs / step, values: values, status: status)
                    }
                }
                for (name, replay) in replays where replay.window.count > 0 {
                    restored[name] = ServerState(name: name, profile: profiles[name] ?? nil, window: replay.window)
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
