import Foundation
import Testing
@testable import Daemon

@Suite struct FeedStoreTests {
    let servers = ["ppdb001", "ppml0001", "ppweb001"]

    func open(_ dir: TemporaryDirectory, _ configuration: FeedStoreConfiguration = .test()) throws -> FeedStore {
        try FeedStore.open(dataDirectory: dir.url, configuration: configuration)
    }

    func rowCount(_ store: FeedStore) throws -> Int64 {
        try store.database.read { try $0.scalar("SELECT count(*) FROM metrics")?.int64 ?? -1 }
    }

    @Test func responses_FollowTheSpecThroughWarmUp() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try open(dir)  // warm-up 4 steps
        let first = try store.ingest(body: Feed.body(Feed.fleet(servers, at: Feed.base)))
        #expect(first == IngestResponse(status: .warmingUp, recordsReceived: 3, tick: 0, rollingWindowSize: 16,
                                        warmupComplete: false, progress: "25% (need 4 records minimum)", tickAdvanced: false))
        #expect(String(decoding: first.jsonBody, as: UTF8.self)
                == #"{"status":"warming_up","records_received":3,"tick":0,"warmup_complete":false,"progress":"25% (need 4 records minimum)"}"#)
        var last = first
        for i in 1...3 { last = try store.ingest(body: Feed.body(Feed.fleet(servers, at: Feed.base + Int64(i) * 300))) }
        #expect(last.status == .accepted)
        #expect(last.tick == 3)
        #expect(last.warmupComplete)
        #expect(String(decoding: last.jsonBody, as: UTF8.self)
                == #"{"status":"accepted","records_received":3,"tick":3,"rolling_window_size":16,"warmup_complete":true}"#)
        let status = store.status()
        #expect(status.serversTracked == 3)
        #expect(status.totalRecords == 12)
        #expect(status.fleetStepTimestamp == Feed.base + 900)
    }

    @Test func warmUp_WaitsForLiveServersOnlyAndLatches() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var config = FeedStoreConfiguration.test(window: 64, warmup: 4)
        config.warmupLivenessSteps = 2
        let store = try open(dir, config)
        _ = try store.ingest(body: Feed.body(Feed.fleet(["a", "dead"], at: Feed.base)))
        // "dead" never reports again; "a" reports 3 more steps: once "dead" is no longer live, "a" decides.
        var r = try store.ingest(body: Feed.body(Feed.fleet(["a"], at: Feed.base + 300)))
        #expect(r.progress == "25% (need 4 records minimum)")  // dead (1 step) is still live
        r = try store.ingest(body: Feed.body(Feed.fleet(["a"], at: Feed.base + 600)))
        r = try store.ingest(body: Feed.body(Feed.fleet(["a"], at: Feed.base + 900)))
        #expect(r.progress == "25% (need 4 records minimum)" || r.status == .accepted)
        r = try store.ingest(body: Feed.body(Feed.fleet(["a"], at: Feed.base + 1_200)))
        #expect(r.status == .accepted)
        // A new server after warm-up does not send the fleet back to warming up; it is individually cold.
        r = try store.ingest(body: Feed.body(Feed.fleet(["a", "new"], at: Feed.base + 1_500)))
        #expect(r.status == .accepted && r.warmupComplete)
        let snapshot = store.snapshot(lastSteps: 8)
        #expect(snapshot.servers.first { $0.serverName == "new" }?.isWarm == false)
        #expect(snapshot.servers.first { $0.serverName == "a" }?.isWarm == true)
        #expect(store.snapshot(lastSteps: 8, onlyWarm: true).servers.map(\.serverName) == ["a"])
    }

    @Test func fiveSecondCollector_BucketsAcrossRequests_TickPerClosedStep() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try open(dir)
        var ticks: [Int64] = []
        // 2 steps + 1 sample of every 5 s, one request per sample.
        for i in 0..<121 {
            let t = Feed.base + Int64(i * 5)
            let record = Feed.record(server: "s1", timestamp: Feed.iso(t),
                                     overrides: ["mem_used_pct": Double(i % 60), "back_close_wait": i == 7 ? 40 : 1])
            ticks.append(try store.ingest(body: Feed.body([record])).tick)
        }
        #expect(ticks[0] == 0 && ticks[59] == 0 && ticks[60] == 1 && ticks[119] == 1 && ticks[120] == 2)
        let rows = try store.database.read { c in
            try c.query("SELECT step_ts, mem_used_pct, back_close_wait, sample_count FROM metrics ORDER BY step_ts") {
                ($0.int64(0), $0.double(1), $0.int64(2), $0.int64(3))
            }
        }
        #expect(rows.count == 3)
        #expect(rows[0] == (Feed.base, 29.5, 40, 60))
        #expect(rows[1] == (Feed.base + 300, 29.5, 1, 60))
        #expect(rows[2].3 == 1)
        let w = try #require(store.window(server: "s1"))
        #expect(w.value(.memUsedPct, at: Feed.base / 300) == 29.5)
        #expect(w.value(.backCloseWait, at: Feed.base / 300) == 40)
    }

    @Test func oneBadRecord_StoresNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try open(dir)
        _ = try store.ingest(body: Feed.body(Feed.fleet(servers, at: Feed.base)))
        var records = Feed.fleet(servers + ["new1"], at: Feed.base + 300)
        records[2]["mem_used_pct"] = 140
        #expect(throws: FeedValidationFailure.self) { try store.ingest(body: Feed.body(records)) }
        #expect(try rowCount(store) == 3)
        #expect(store.status().tick == 0)
        #expect(store.status().totalRecords == 3)
        #expect(store.serverNames == servers.sorted())
        let serverRows = try store.database.read { try $0.scalar("SELECT count(*) FROM servers")?.int64 }
        #expect(serverRows == 3)
    }

    @Test func snapshot_GivesContiguousLatestStepsPerMetric() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try open(dir, .test(window: 8, warmup: 2, fill: 2))
        for i in 0..<11 {  // wraps the 8-step ring
            var records = Feed.fleet(["b", "a"], at: Feed.base + Int64(i) * 300, mem: Double(i))
            records[0]["profile"] = i == 3 ? "Database" : nil
            records[1]["cpu_idle_pct"] = Double(90 - i)
            _ = try store.ingest(body: Feed.body(records))
        }
        let snap = store.snapshot(lastSteps: 5)
        #expect(snap.tick == 10)
        #expect(snap.fleetStepTimestamp == Feed.base + 3_000)
        #expect(snap.servers.map(\.serverName) == ["a", "b"])
        let a = snap.servers[0]
        #expect(a.length == 5 && a.windowCount == 8)
        #expect(Array(a.series(.memUsedPct)) == [6, 7, 8, 9, 10])
        #expect(Array(a.series(.cpuIdlePct)) == [84, 83, 82, 81, 80])
        #expect(a.values.count == 5 * MetricField.count)
        #expect(a.timestamps == (6...10).map { Feed.base + Int64($0) * 300 })
        #expect(a.observed == [1, 1, 1, 1, 1])
        #expect(a.latestStatus == .healthy)
        #expect(a.profile == nil)
        #expect(snap.servers[1].profile == "Database")  // sent once, kept
        #expect(store.snapshot(lastSteps: 100).servers[0].length == 8)
        #expect(store.snapshot(lastSteps: 3, servers: ["b"]).servers.map(\.serverName) == ["b"])
    }

    @Test func staleServers_LeaveTheTrackedSet() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try open(dir, .test(window: 4, warmup: 2, fill: 1))
        _ = try store.ingest(body: Feed.body(Feed.fleet(["old", "live"], at: Feed.base)))
        for i in 1...4 { _ = try store.ingest(body: Feed.body(Feed.fleet(["live"], at: Feed.base + Int64(i) * 300))) }
        #expect(store.serverNames == ["live"])
        #expect(store.status().serversTracked == 1)
    }

    @Test func tickHandler_FiresWhenAStepCloses() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try open(dir)
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var events: [TickEvent] = []
        }
        let box = Box()
        store.setTickHandler { event in box.lock.withLock { box.events.append(event) } }
        _ = try store.ingest(body: Feed.body(Feed.fleet(servers, at: Feed.base)))
        _ = try store.ingest(body: Feed.body(Feed.fleet(servers, at: Feed.base + 10)))
        _ = try store.ingest(body: Feed.body(Feed.fleet(servers, at: Feed.base + 300)))
        // A backfill batch spanning three steps closes the open step and two more.
        let backfill = (2...4).flatMap { Feed.fleet(servers, at: Feed.base + Int64($0) * 300) }
        _ = try store.ingest(body: Feed.body(backfill))
        #expect(box.events == [
            TickEvent(tick: 1, stepsClosed: 1, closedStepTimestamp: Feed.base, openStepTimestamp: Feed.base + 300),
            TickEvent(tick: 4, stepsClosed: 3, closedStepTimestamp: Feed.base + 900, openStepTimestamp: Feed.base + 1_200),
        ])
    }

    @Test func restart_RestoresTheSameWindowsTickAndServers() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let config = FeedStoreConfiguration.test(window: 12, warmup: 3, fill: 2)
        let before: FeedSnapshot
        let statusBefore: FeedStatus
        do {
            let store = try open(dir, config)
            for i in 0..<30 where i != 20 && i != 21 && !(24...27).contains(i) {  // a short gap and a long gap
                var records = Feed.fleet(["x", "y"], at: Feed.base + Int64(i) * 300, mem: Double(i))
                records[1]["status"] = i % 2 == 0 ? "heavy_load" : "healthy"
                if i == 5 { records[0]["profile"] = "ML Compute" }
                _ = try store.ingest(body: Feed.body(records))
            }
            // 5-second samples in the open step, and a late sample into the short gap.
            _ = try store.ingest(body: Feed.body([Feed.record(server: "x", timestamp: Feed.iso(Feed.base + 29 * 300 + 5),
                                                              overrides: ["mem_used_pct": 50])]))
            _ = try store.ingest(body: Feed.body([Feed.record(server: "y", timestamp: Feed.iso(Feed.base + 21 * 300),
                                                              overrides: ["mem_used_pct": 77])]))
            before = store.snapshot(lastSteps: 12)
            statusBefore = store.status()
            store.close()
        }
        let store = try open(dir, config)
        let after = store.snapshot(lastSteps: 12)
        #expect(store.status() == statusBefore)
        #expect(after.tick == before.tick && after.tick == 23)  // 24 distinct steps with data; the newest is open
        #expect(after.servers.count == 2)
        for (a, b) in zip(after.servers, before.servers) {
            #expect(a.serverName == b.serverName)
            #expect(a.profile == b.profile)
            #expect(a.length == b.length && a.windowCount == b.windowCount)
            #expect(a.firstStepTimestamp == b.firstStepTimestamp)
            #expect(a.values == b.values)
            #expect(a.status == b.status)
            #expect(a.observed == b.observed)
        }
        #expect(after.servers[0].profile == "ML Compute")
        // x: long gap 24–27 restarted its window at 28.
        #expect(after.servers[0].windowCount == 2)
        #expect(Array(after.servers[0].series(.memUsedPct)) == [28, 39.5])  // (29 + 50) / 2 at step 29
    }

    @Test func lateDataBeforeTheSegment_RebuildsLikeARestart() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let config = FeedStoreConfiguration.test(window: 16, warmup: 2, fill: 2)
        let store = try open(dir, config)
        for i in [0, 1, 6, 7] { _ = try store.ingest(body: Feed.body(Feed.fleet(["s"], at: Feed.base + Int64(i) * 300, mem: Double(i)))) }
        #expect(store.window(server: "s")?.count == 2)  // gap of 4 > 2 restarted the window
        // Steps 3 and 4 arrive late: the gaps become 1 and 1, so the window spans 0…7 again.
        _ = try store.ingest(body: Feed.body([Feed.fleet(["s"], at: Feed.base + 900, mem: 3)[0],
                                              Feed.fleet(["s"], at: Feed.base + 1_200, mem: 4)[0]]))
        let live = store.snapshot(lastSteps: 16).servers[0]
        #expect(live.windowCount == 8)
        #expect(Array(live.series(.memUsedPct)) == [0, 1, 1, 3, 4, 4, 6, 7])
        #expect(live.observed == [1, 1, 0, 1, 1, 0, 1, 1])
        store.close()
        let reopened = try open(dir, config).snapshot(lastSteps: 16).servers[0]
        #expect(reopened.values == live.values && reopened.observed == live.observed)
    }

    @Test func retention_PrunesOldRowsButNeverWindowRows() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var config = FeedStoreConfiguration.test(window: 4, warmup: 2, fill: 1)
        config.retentionSeconds = 0  // clamped to window + fill + 1 = 6 steps
        config.retentionBatchSize = 3
        let store = try open(dir, config)
        let backfill = (0..<20).flatMap { Feed.fleet(["a", "b"], at: Feed.base + Int64($0) * 300) }
        _ = try store.ingest(body: Feed.body(backfill))
        #expect(try rowCount(store) == 40)
        let deleted = try store.pruneExpired()
        #expect(deleted == 26)  // steps 0…12 of 2 servers; the last 6 steps (14…19) + step 13 stay
        let oldest = try store.database.read { try $0.scalar("SELECT min(step_ts) FROM metrics")?.int64 }
        #expect(oldest == Feed.base + 13 * 300)
        let windowBefore = store.snapshot(lastSteps: 4).servers.map(\.values)
        store.close()
        #expect(try open(dir, config).snapshot(lastSteps: 4).servers.map(\.values) == windowBefore)
    }

    @Test func uncleanShutdown_WithoutCheckpoint_LosesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var store: FeedStore? = try open(dir)
        for i in 0..<5 { _ = try store!.ingest(body: Feed.body(Feed.fleet(servers, at: Feed.base + Int64(i) * 300))) }
        // Data lives in the WAL; copy the files as a crash would leave them (no close, no checkpoint).
        let crashed = try TemporaryDirectory()
        defer { crashed.cleanup() }
        for name in ["argus.sqlite", "argus.sqlite-wal"] {
            try FileManager.default.copyItem(at: dir.url.appendingPathComponent(name), to: crashed.url.appendingPathComponent(name))
        }
        let walSize = try FileManager.default.attributesOfItem(atPath: crashed.path + "/argus.sqlite-wal")[.size] as? Int
        #expect((walSize ?? 0) > 0)
        store = nil
        let reopened = try open(crashed)
        #expect(try rowCount(reopened) == 15)
        #expect(reopened.status().tick == 4)
        #expect(reopened.serverNames == servers.sorted())
    }

    // MARK: kill -9

    static let childDirectoryVariable = "ARGUS_CRASH_CHILD_DIR"

    /// Child side of `sigkill_AfterAcknowledgement_LosesNothing`, enabled only when started by it.
    /// Ingests batches in a loop and appends the number of each acknowledged batch to `acks`, then kills
    /// itself with SIGKILL right after the 25th acknowledgement (the parent may kill it earlier). In a normal
    /// run it is reported as skipped, not as a pass.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[childDirectoryVariable] != nil, "the child side of sigkill_AfterAcknowledgement_LosesNothing"))
    func crashChild() throws {
        let path = try #require(ProcessInfo.processInfo.environment[Self.childDirectoryVariable])
        let dir = URL(fileURLWithPath: path)
        let store = try FeedStore.open(dataDirectory: dir, configuration: .test(window: 64, warmup: 4))
        let acks = try FileHandle(forWritingTo: dir.appendingPathComponent("acks"))
        for i in 0..<25 {
            _ = try store.ingest(body: Feed.body(Feed.fleet(servers, at: Feed.base + Int64(i) * 300, mem: Double(i))))
            try acks.write(contentsOf: Data("\(i)\n".utf8))
        }
        kill(getpid(), SIGKILL)
    }

    @Test func sigkill_AfterAcknowledgement_LosesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        _ = FileManager.default.createFile(atPath: dir.path + "/acks", contents: nil)
        let process = try runTestChild(filter: "crashChild", environment: [Self.childDirectoryVariable: dir.path])
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGKILL)

        let acked = String(decoding: try Data(contentsOf: dir.url.appendingPathComponent("acks")), as: UTF8.self)
            .split(separator: "\n").compactMap { Int($0) }
        #expect(acked == Array(0..<25))
        let store = try open(dir, .test(window: 64, warmup: 4))
        #expect(store.status().totalRecords == 75)
        #expect(store.status().tick == 24)
        #expect(try rowCount(store) == 75)
        let snap = store.snapshot(lastSteps: 64)
        #expect(snap.servers.map(\.serverName) == servers.sorted())
        for series in snap.servers { #expect(Array(series.series(.memUsedPct)) == (0..<25).map(Float.init)) }
        #expect(snap.warmup.complete)
    }
}
