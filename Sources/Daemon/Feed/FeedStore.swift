import Dispatch
import Foundation
import Synchronization

/// Feed ingestion and rolling windows: validates `POST /feed/data` bodies, buckets records on the step
/// grid, commits each batch to SQLite in one transaction **before** returning, then updates the in-memory
/// per-server ring buffers that the inference engine reads.
///
/// Concurrency: every mutation runs on the database's writer queue (so the commit order and the window
/// update order are the same); the in-memory state is additionally guarded by `lock`, which readers
/// (`snapshot`, `status`) take only briefly. `@unchecked Sendable` because of that discipline: `servers`,
/// `tick`, `fleetStep`, `totalRecords` and `warmupLatched` are only read or written while holding `lock`,
/// and only written from inside `database.write`.
public final class FeedStore: @unchecked Sendable {
    public let configuration: FeedStoreConfiguration
    /// The shared database (other subsystems may run their own writes through it).
    public let database: SQLiteDatabase
    public let validator: FeedValidator

    final class ServerState {
        let name: String
        var profile: String?
        var window: MetricWindow
        init(name: String, profile: String?, window: MetricWindow) {
            self.name = name
            self.profile = profile
            self.window = window
        }
    }

    let lock = NSLock()
    var servers: [String: ServerState] = [:]
    /// Closed steps so far (see `docs/storage.md`, "Tick").
    var tick: Int64 = 0
    /// Step number of the newest step seen across the fleet.
    var fleetStep: Int64?
    var totalRecords: Int64 = 0
    var warmupLatched = false
    private var tickHandler: (@Sendable (TickEvent) -> Void)?
    /// Tick notifications handed out by ``ingestDeferringTick(body:)`` and not made yet.
    private let deferredTicks = Atomic<Int>(0)
    var retentionTimer: DispatchSourceTimer?

    enum MetaKey {
        static let tick = "feed.tick"
        static let fleetStep = "feed.fleet_step_ts"
        static let totalRecords = "feed.total_records"
        static let warmupComplete = "feed.warmup_complete"
    }

    /// Opens (or creates) `dataDirectory/argus.sqlite`, migrates it and restores windows, tick and the
    /// server list from it.
    public static func open(dataDirectory: URL, configuration: FeedStoreConfiguration = FeedStoreConfiguration(),
                            now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws -> FeedStore
    {
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let path = dataDirectory.appendingPathComponent(configuration.databaseFileName).path
        let database = try SQLiteDatabase(path: path, options: configuration.database)
        return try FeedStore(database: database, configuration: configuration, now: now)
    }

    /// Uses an already-open, migrated database and restores state from it.
    public init(database: SQLiteDatabase, configuration: FeedStoreConfiguration = FeedStoreConfiguration(),
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws
    {
        configuration.validate()
        self.configuration = configuration
        self.database = database
        self.validator = FeedValidator(limits: configuration.validation, now: now)
        try restore()
    }

    /// Called (on the ingesting thread, after the response is decided) whenever a batch advances the tick.
    public func setTickHandler(_ handler: (@Sendable (TickEvent) -> Void)?) {
        lock.withLock { tickHandler = handler }
    }

    // MARK: Ingest

    /// Validates and ingests a raw request body.
    /// - Throws: ``FeedValidationFailure`` (answer 422 with `responseBody`) when any record is invalid —
    ///   nothing is stored then; ``SQLiteError`` when the commit fails — nothing is acknowledged then.
    /// - Returns: the spec's `accepted` / `warming_up` response; the data is durable when this returns.
    public func ingest(body: Data) throws -> IngestResponse {
        let batch = try validator.validate(body: body)
        return try ingest(batch)
    }

    /// Like ``ingest(body:)``, but instead of calling the tick handler it returns the call, for the caller to
    /// make once the acknowledgement is on its way: `POST /feed/data` runs it after the response has been
    /// written, so the inference run a tick starts never competes with the answer for the CPU. The data is
    /// durable when this returns, exactly as with ``ingest(body:)``; nil when the batch closed no step.
    public func ingestDeferringTick(body: Data) throws -> (response: IngestResponse, notifyTick: (@Sendable () -> Void)?) {
        let batch = try validator.validate(body: body)
        let (response, event) = try commit(batch)
        guard let event else { return (response, nil) }
        deferredTicks.add(1, ordering: .acquiringAndReleasing)
        let notification = OnceNotification { [self] in
            if let handler = lock.withLock({ tickHandler }) { handler(event) }
            deferredTicks.subtract(1, ordering: .acquiringAndReleasing)
        }
        return (response, { notification.fire() })
    }

    /// Tick notifications returned by ``ingestDeferringTick(body:)`` that have not been made yet (the
    /// inference engine's `drain()` waits for them: an answered POST's tick counts as requested).
    public var pendingTickNotifications: Int { deferredTicks.load(ordering: .acquiring) }

    /// Ingests an already validated batch (all or nothing).
    public func ingest(_ batch: FeedBatch) throws -> IngestResponse {
        let (response, event) = try commit(batch)
        if let event, let handler = lock.withLock({ tickHandler }) { handler(event) }
        return response
    }

    /// Validated batch → one SQLite transaction → windows; returns the response and the tick to announce.
    private func commit(_ batch: FeedBatch) throws -> (IngestResponse, TickEvent?) {
        guard !batch.records.isEmpty else {
            throw FeedValidationFailure(errors: [
                FeedValidationError(loc: ["body", "records"], msg: "List should have at least 1 item after validation, not 0",
                                    type: "too_short")
            ])
        }
        let step = configuration.stepSeconds
        let buckets = StepBucket.aggregate(batch.records, stepSeconds: step)

        // Per-server span and profile for the `servers` table.
        var spans: [String: (first: Double, last: Double, profile: String?, profileAt: Double)] = [:]
        for record in batch.records {
            if var span = spans[record.serverName] {
                span.first = min(span.first, record.timestamp)
                span.last = max(span.last, record.timestamp)
                if let p = record.profile, record.timestamp >= span.profileAt { span.profile = p; span.profileAt = record.timestamp }
                spans[record.serverName] = span
            } else {
                spans[record.serverName] = (record.timestamp, record.timestamp, record.profile,
                                            record.profile == nil ? -.infinity : record.timestamp)
            }
        }

        let (response, event) = try database.write { connection -> (IngestResponse, TickEvent?) in
            // Tick arithmetic from the current state (only this queue writes it).
            let (oldClock, oldTick, oldTotal) = lock.withLock { (fleetStep, tick, totalRecords) }
            let batchSteps = Set(buckets.map { $0.stepTimestamp / step })
            let newClock = max(oldClock ?? .min, batchSteps.max()!)
            var closed: Int64 = 0
            if let oldClock {
                if newClock > oldClock { closed = 1 + Int64(batchSteps.filter { $0 > oldClock && $0 < newClock }.count) }
            } else {
                closed = Int64(batchSteps.filter { $0 < newClock }.count)
            }
            let newTick = oldTick + closed
            let newTotal = oldTotal + Int64(batch.records.count)

            var merged: [MetricsTable.MergedRow] = []
            merged.reserveCapacity(buckets.count)
            var profiles: [String: String?] = [:]
            var firstSeen: Set<String> = []
            try connection.transaction(.immediate) {
                // Servers never seen before have no stored rows but this batch's: their windows are built
                // from the batch (no read). Only servers without a window are looked up.
                let untracked = lock.withLock { spans.keys.filter { servers[$0] == nil } }
                for name in untracked where try !MetricsTable.serverExists(name, on: connection) { firstSeen.insert(name) }
                for bucket in buckets { merged.append(try MetricsTable.upsert(bucket, on: connection)) }
                for (name, span) in spans {
                    profiles[name] = try MetricsTable.upsertServer(name: name, profile: span.profile, firstSeen: span.first,
                                                                   lastSeen: span.last, on: connection)
                }
                if closed > 0 { try MetricsTable.setMeta(MetaKey.tick, .integer(newTick), on: connection) }
                if newClock != oldClock { try MetricsTable.setMeta(MetaKey.fleetStep, .integer(newClock * step), on: connection) }
                try MetricsTable.setMeta(MetaKey.totalRecords, .integer(newTotal), on: connection)
            }
            // Committed: now (and only now) update the windows.
            let (warmup, latchedNow) = try applyCommitted(buckets: buckets, merged: merged, profiles: profiles,
                                                          firstSeen: firstSeen, tick: newTick, clock: newClock,
                                                          total: newTotal, connection: connection)
            if latchedNow { try MetricsTable.setMeta(MetaKey.warmupComplete, .integer(1), on: connection) }
            let response = IngestResponse(status: warmup.complete ? .accepted : .warmingUp,
                                          recordsReceived: batch.records.count, tick: newTick,
                                          rollingWindowSize: configuration.rollingWindowSize,
                                          warmupComplete: warmup.complete,
                                          progress: warmup.complete ? nil : warmup.progressText,
                                          tickAdvanced: closed > 0)
            var event: TickEvent?
            if closed > 0 {
                // The newest step that is now closed: the old clock or a step of this batch below the new clock.
                let candidates = batchSteps.filter { $0 < newClock } + (oldClock.map { [$0] } ?? [])
                event = TickEvent(tick: newTick, stepsClosed: closed, closedStepTimestamp: candidates.max()! * step,
                                  openStepTimestamp: newClock * step)
            }
            return (response, event)
        }
        return (response, event)
    }

    /// Applies committed buckets to the windows; rebuilds windows from storage where an in-order replay is
    /// needed (returning servers, data older than the window's segment) and builds those of `firstSeen`
    /// servers (no stored rows before this batch) from the batch itself. Runs on the writer queue.
    private func applyCommitted(buckets: [StepBucket], merged: [MetricsTable.MergedRow], profiles: [String: String?],
                                firstSeen: Set<String>, tick newTick: Int64, clock: Int64, total: Int64,
                                connection: SQLiteConnection) throws -> (WarmupStatus, Bool)
    {
        let step = configuration.stepSeconds
        // Windows of new servers are built before taking the lock (reads only; this queue is the only writer).
        var rebuilt: [String: MetricWindow] = [:]
        let (known, trackedCount) = lock.withLock { (Set(servers.keys), servers.count) }
        if !firstSeen.isEmpty {
            // Their stored rows are exactly this batch's merged rows: the same replay as `loadWindows`.
            var rows: [String: [Int]] = [:]
            for (i, bucket) in buckets.enumerated() where firstSeen.contains(bucket.serverName) {
                rows[bucket.serverName, default: []].append(i)
            }
            for (name, indices) in rows {
                let ordered = indices.sorted { buckets[$0].stepTimestamp < buckets[$1].stepTimestamp }
                let from = buckets[ordered.last!].stepTimestamp - replaySpanSeconds + step
                var window = emptyWindow()
                for i in ordered where buckets[i].stepTimestamp >= from {
                    _ = window.apply(step: buckets[i].stepTimestamp / step, values: merged[i].values, status: merged[i].status)
                }
                rebuilt[name] = window
            }
        }
        let returning = profiles.keys.filter { !known.contains($0) && !firstSeen.contains($0) }
        rebuilt.merge(try loadWindows(returning, trackedServers: trackedCount, on: connection)) { _, new in new }
        var needsRebuild: Set<String> = []
        lock.withLock {
            for (bucket, row) in zip(buckets, merged) {
                guard let state = servers[bucket.serverName] else { continue }
                if needsRebuild.contains(bucket.serverName) { continue }
                switch state.window.apply(step: bucket.stepTimestamp / step, values: row.values, status: row.status) {
                case .applied, .tooOld: break
                case .needsRebuild: needsRebuild.insert(bucket.serverName)
                }
            }
        }
        rebuilt.merge(try loadWindows(Array(needsRebuild), trackedServers: trackedCount, on: connection)) { _, new in new }
        return lock.withLock {
            for (name, window) in rebuilt {
                if let state = servers[name] {
                    state.window = window
                } else {
                    servers[name] = ServerState(name: name, profile: nil, window: window)
                }
            }
            for (name, profile) in profiles { servers[name]?.profile = profile }
            tick = newTick
            fleetStep = clock
            totalRecords = total
            evictStaleLocked()
            let wasLatched = warmupLatched
            let warmup = warmupLocked()
            if warmup.complete { warmupLatched = true }
            return (warmup, warmupLatched && !wasLatched)
        }
    }

    /// Drops windows whose newest step fell out of the fleet's window (their data stays in SQLite).
    func evictStaleLocked() {
        guard let fleetStep else { return }
        let oldest = fleetStep - Int64(configuration.rollingWindowSize) + 1
        servers = servers.filter { $0.value.window.count > 0 && $0.value.window.headStep >= oldest }
    }

    /// Seconds of stored steps a window is rebuilt from, ending at the server's newest step: the last
    /// `rollingWindowSize` steps plus `maxForwardFillSteps` before them to seed forward-fill.
    var replaySpanSeconds: Int64 {
        Int64(configuration.rollingWindowSize + configuration.maxForwardFillSteps) * configuration.stepSeconds
    }

    func emptyWindow() -> MetricWindow {
        MetricWindow(capacity: configuration.rollingWindowSize, maxFillGap: configuration.maxForwardFillSteps)
    }

    /// Rebuilds one server's window by replaying its stored steps in order (see `replaySpanSeconds`).
    func loadWindow(server: String, on connection: SQLiteConnection) throws -> MetricWindow {
        try loadWindows([server], trackedServers: .max, on: connection)[server] ?? emptyWindow()
    }

    /// Rebuilds the windows of `names` by replaying each server's stored steps in order, from its newest
    /// step back `replaySpanSeconds` (empty windows for servers without rows). `metrics` is clustered by
    /// time, so a server's steps are not contiguous: a few servers are read with a skip-scan each (one
    /// seek per step of the span, whatever the fleet size); from an eighth of the fleet on (`trackedServers`;
    /// restart passes 0), one time-range scan over all their spans is cheaper than that many skip-scans
    /// (a row visit costs roughly a tenth of a seek) and is used instead.
    ///
    /// `parallel` (restart): the time-range scan is split into one scan per core over disjoint ranges of
    /// server names, each on its own read connection (rows are clustered by time, so each walks the whole
    /// range but decodes only its servers' rows); the windows are the same.
    func loadWindows(_ names: [String], trackedServers: Int, parallel: Bool = false,
                     on connection: SQLiteConnection) throws -> [String: MetricWindow] {
        guard !names.isEmpty else { return [:] }
        let step = configuration.stepSeconds
        var result: [String: MetricWindow] = [:]
        var replays: [String: Int64] = [:]   // shared scan: each server's first step timestamp to replay
        var upTo = Int64.min
        let sharedScan = names.count >= 2 && names.count * 8 >= trackedServers
        for name in names {
            guard let latest = try MetricsTable.latestStep(server: name, stepSeconds: step, on: connection) else {
                result[name] = emptyWindow()
                continue
            }
            let from = latest - replaySpanSeconds + step
            if sharedScan {
                replays[name] = from
                upTo = max(upTo, latest)
            } else {
                var window = emptyWindow()
                for row in try MetricsTable.steps(server: name, from: from, to: latest + 1, on: connection) {
                    _ = window.apply(step: row.stepTimestamp / step, values: row.values, status: row.status)
                }
                result[name] = window
            }
        }
        if let from = replays.values.min() {
            // Rows are staged per server and replayed in blocks (`StagedWindowReplay`): same windows, far fewer cache misses.
            let parts = parallel ? min(Parallel.threads, replays.count / 1_000) : 1
            let ordered = replays.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            func replay(_ names: ArraySlice<String>) -> StagedWindowReplay {
                StagedWindowReplay(servers: names.map { (name: $0, from: replays[$0]!, window: emptyWindow()) },
                                   stepSeconds: step)
            }
            if parts <= 1 {
                let all = replay(ordered[...])
                try MetricsTable.forEachStepRow(from: from, to: upTo + 1, on: connection) { all.add($0) }
                for (name, window) in all.finish() { result[name] = window }
            } else {
                // Boundaries in SQLite's order (UTF-8 bytes), half-open: every row is in exactly one part, and
                // each part replays only its own servers.
                let cuts = (0...parts).map { ordered.count * $0 / parts }
                let bounds = cuts.map { $0 == 0 || $0 == ordered.count ? nil : ordered[$0] }
                let shares = (0..<parts).map { UncheckedBox(replay(ordered[cuts[$0]..<cuts[$0 + 1]])) }
                let database = self.database, end = upTo + 1
                let failures = Mutex<[any Error]>([])
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    do {
                        try database.read { reader in
                            let share = shares[part].value
                            try MetricsTable.forEachStepRow(from: from, to: end, namesFrom: bounds[part], namesBefore: bounds[part + 1],
                                                            on: reader) { share.add($0) }
                        }
                    } catch {
                        failures.withLock { $0.append(error) }
                    }
                }
                if let failure = failures.withLock({ $0.first }) { throw failure }
                for share in shares { for (name, window) in share.value.finish() { result[name] = window } }
            }
        }
        return result
    }

    // MARK: Warm-up and status

    /// Warm-up rule (documented in `docs/storage.md`): a server is warm when its window holds
    /// `warmupSteps` steps; the fleet is warm once every *live* server (newest step within
    /// `warmupLivenessSteps` of the fleet clock) is warm, and stays warm from then on.
    func warmupLocked() -> WarmupStatus {
        let required = configuration.warmupSteps
        var minimum = Int.max
        var warmCount = 0
        let liveFrom = (fleetStep ?? 0) - Int64(configuration.warmupLivenessSteps)
        for state in servers.values {
            let have = min(state.window.count, required)
            if have >= required { warmCount += 1 }
            if state.window.headStep >= liveFrom { minimum = min(minimum, have) }
        }
        let have = minimum == Int.max ? 0 : minimum
        let complete = warmupLatched || (minimum != Int.max && have >= required)
        let percent = complete ? 100 : (100 * have) / required
        return WarmupStatus(complete: complete, percent: percent, requiredSteps: required,
                            haveSteps: complete ? max(have, required) : have, warmServers: warmCount)
    }

    /// Current warm-up state.
    public func warmup() -> WarmupStatus { lock.withLock { warmupLocked() } }

    /// What `/status` reports from the feed.
    public func status() -> FeedStatus {
        lock.withLock {
            FeedStatus(serversTracked: servers.count, tick: tick, totalRecords: totalRecords,
                       rollingWindowSize: configuration.rollingWindowSize, stepSeconds: configuration.stepSeconds,
                       fleetStepTimestamp: fleetStep.map { $0 * configuration.stepSeconds }, warmup: warmupLocked())
        }
    }

    /// Names of tracked servers, sorted.
    public var serverNames: [String] { lock.withLock { servers.keys.sorted() } }

    // MARK: Snapshot

    /// Copies the latest `lastSteps` steps of every tracked server (fewer where a window holds fewer).
    /// Cost: one allocation per server and array, `lastSteps × 14` floats copied per server — never the
    /// whole window unless asked for.
    /// - Parameter servers: restrict to these names (nil = all).
    /// - Parameter onlyWarm: skip servers whose window holds fewer than `warmupSteps` steps.
    public func snapshot(lastSteps: Int, servers names: Set<String>? = nil, onlyWarm: Bool = false) -> FeedSnapshot {
        let step = configuration.stepSeconds
        return lock.withLock {
            var out: [ServerSeries] = []
            out.reserveCapacity(names?.count ?? servers.count)
            for (name, state) in servers {
                if let names, !names.contains(name) { continue }
                let window = state.window
                let isWarm = window.count >= configuration.warmupSteps
                if onlyWarm && !isWarm { continue }
                let n = max(0, min(lastSteps, window.count))
                var values = [Float](repeating: 0, count: n * MetricField.count)
                values.withUnsafeMutableBufferPointer { buffer in
                    for m in 0..<MetricField.count {
                        window.copyLatest(n, metric: m, into: UnsafeMutableBufferPointer(rebasing: buffer[(m * n)..<((m + 1) * n)]))
                    }
                }
                out.append(ServerSeries(serverName: name, profile: state.profile, length: n,
                                        firstStepTimestamp: (window.headStep - Int64(n) + 1) * step, stepSeconds: step,
                                        values: values, status: window.latest(n, of: window.status),
                                        observed: window.latest(n, of: window.observed), windowCount: window.count,
                                        isWarm: isWarm))
            }
            out.sort { $0.serverName < $1.serverName }
            return FeedSnapshot(tick: tick, stepSeconds: step, fleetStepTimestamp: fleetStep.map { $0 * step },
                                warmup: warmupLocked(), servers: out)
        }
    }

    /// A copy of one server's whole window (for tests and diagnostics).
    public func window(server: String) -> MetricWindow? { lock.withLock { servers[server]?.window } }

    /// Stops background work and closes the database. No checkpoint is forced: the WAL is recovered on
    /// the next open either way.
    public func close() {
        stopRetention()
        database.close()
    }
}

/// Runs its action exactly once: when fired, or — if every reference is dropped without firing (a response
/// that was never written because its connection or event loop went away) — when released. So a deferred
/// tick is never lost.
final class OnceNotification: Sendable {
    private let fired = Atomic<Bool>(false)
    private let action: @Sendable () -> Void

    init(_ action: @escaping @Sendable () -> Void) { self.action = action }

    func fire() {
        if !fired.exchange(true, ordering: .acquiringAndReleasing) { action() }
    }

    deinit { fire() }
}
