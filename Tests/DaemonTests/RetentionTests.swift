import Foundation
import Testing
@testable import Daemon

/// Retention settings reach the stores, and pruning bounds what the database holds (docs/retention.md).
@Suite struct RetentionTests {
    @Test func flags_ReachTheFeedAndHistoryStores() throws {
        let c = try DaemonConfiguration.resolve(flags: ["retention-days": "2", "risk-retention-days": "3", "retention-interval": "30"],
                                                environment: ["ARGUS_HISTORY_RETENTION_DAYS": "7", "ARGUS_RETENTION_DAYS": "99"])
        #expect(c.feedStoreConfiguration.retentionSeconds == 2 * 86_400)
        #expect(c.feedStoreConfiguration.retentionIntervalSeconds == 30)
        #expect(c.historyConfiguration.retentionSeconds == 7 * 86_400)
        #expect(c.historyConfiguration.riskSampleRetentionSeconds == 3 * 86_400)
        #expect(c.historyConfiguration.retentionIntervalSeconds == 30)
        let defaults = try DaemonConfiguration.resolve(flags: [:], environment: [:])
        #expect(defaults.feedStoreConfiguration.retentionSeconds == 90 * 86_400)
        #expect(defaults.historyConfiguration.riskSampleRetentionSeconds == 35 * 86_400)
        #expect(defaults.historyConfiguration.retentionIntervalSeconds == 600)
        for bad in [["retention-days": "0"], ["risk-retention-days": "x"], ["retention-interval": "0"]] {
            #expect(throws: DaemonConfiguration.Problem.self) { try DaemonConfiguration.resolve(flags: bad, environment: [:]) }
        }
    }

    @Test func riskSamples_ShorterThanAMonthArePruned() throws {
        var configuration = HistoryConfiguration()
        configuration.riskSampleRetentionSeconds = 86_400
        let f = try HistoryFixture(configuration: configuration)
        defer { f.directory.cleanup() }
        // 49 hourly ticks (two days): the samples of the first day before the newest tick's 24 h go.
        let base: Int64 = 1_736_900_000
        for i in 0..<49 { try f.store.record(.scores(base + Int64(i) * 3_600, ["a": 10])) }
        #expect(try f.store.pruneExpired() == 24)
        let oldest = try f.database.read { try $0.scalar("SELECT min(ts) FROM history_risk_samples")?.int64 }
        #expect(oldest == base + 24 * 3_600)
    }

    /// Deleted rows' pages go on SQLite's freelist and later inserts reuse them: pruning keeps the file
    /// from growing, though it never shrinks it (docs/retention.md, "File size").
    @Test func metricsFile_StopsGrowingOncePruned() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var config = FeedStoreConfiguration.test(window: 16, warmup: 2, fill: 1)
        config.retentionSeconds = 0   // clamped to window + fill + 1 = 18 steps
        let store = try FeedStore.open(dataDirectory: dir.url, configuration: config)
        defer { store.close() }
        let servers = (0..<40).map { "srv\($0)" }
        func pages() throws -> Int64 { try store.database.read { try $0.pragma("page_count")?.int64 ?? 0 } }
        func feed(_ steps: Range<Int>) throws {
            for first in stride(from: steps.lowerBound, to: steps.upperBound, by: 20) {
                let records = (first..<min(first + 20, steps.upperBound)).flatMap { Feed.fleet(servers, at: Feed.base + Int64($0) * 300) }
                _ = try store.ingest(body: Feed.body(records))
            }
        }
        try feed(0..<200)
        #expect(try store.pruneExpired() > 0)
        let afterFirstPrune = try pages()
        // Three more rounds of as many rows as were pruned: the freed pages take them.
        for round in 1...3 {
            try feed((round * 200)..<((round + 1) * 200))
            try store.pruneExpired()
        }
        let rows = try store.database.read { try $0.scalar("SELECT count(*) FROM metrics")?.int64 ?? 0 }
        #expect(rows <= Int64(servers.count * 19))
        #expect(try pages() <= afterFirstPrune + afterFirstPrune / 10 + 4)
    }

    /// A server that stops reporting loses its band calibration once it is a window behind the fleet, in
    /// memory and in `calibration.sqlite`; the servers still reporting keep theirs.
    @Test func bandCalibration_ForgetsServersThatLeftTheFleet() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var d: TestDaemon? = try TestDaemon(dir: dir, configure: { $0.rollingWindowSize = 32 })
        try d!.feed(["ppdb001", "ppdb002"], steps: 0..<20)
        #expect(try d!.get("/predictions/calibration?server=ppdb002").status == 200)
        try d!.feed(["ppdb001"], steps: 20..<56)   // ppdb002's newest step (19) is now 36 steps behind
        #expect(try d!.get("/predictions/calibration?server=ppdb002").status == 404)
        #expect(try d!.get("/predictions/calibration?server=ppdb001").status == 200)
        d!.stop()
        d = try TestDaemon(dir: dir, configure: { $0.rollingWindowSize = 32 })
        defer { d?.stop() }
        #expect(d!.daemon.calibration?.calibration(server: "ppdb002") == nil)
        #expect(d!.daemon.calibration?.calibration(server: "ppdb001") != nil)
    }

    /// The history's per-server state machines: a quiet server that left the fleet is forgotten, one in an
    /// open episode is kept (its episode must still be resolvable and is never pruned).
    @Test func historyTrackers_OfQuietServersThatLeftAreDropped() throws {
        let f = try HistoryFixture()
        defer { f.directory.cleanup() }
        let base: Int64 = 1_736_900_000
        try f.store.record(.scores(base, ["a": 10, "b": 10, "c": 90]))
        #expect(f.store.trackedServers == 3)
        try f.store.record(.scores(base + 300, ["a": 10]))
        #expect(f.store.trackedServers == 2)          // b (quiet) dropped, c (critical, open episode) kept
        #expect(f.store.trackedLevel("c") == .critical)
        try f.store.record(.scores(base + 600, ["a": 10, "b": 80]))
        #expect(f.store.trackedLevel("b") != .healthy)   // a returning server starts a new episode as before
    }
}
