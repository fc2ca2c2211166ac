import Foundation
import Testing
import TFTCore
import Training
@testable import Daemon

/// Schema v4 (`metrics` clustered by `(step_ts, server_name)`): the migration from the v1 layout keeps
/// every row and gives the same windows; the per-server reads without a per-server index return what a
/// plain filtered scan returns.
@Suite struct MetricsSchemaMigrationTests {
    static let config = FeedStoreConfiguration.test(window: 12, warmup: 3, fill: 2)

    /// A fleet with every case the windows care about: dense, short and long gaps, a profile, several
    /// samples per step, a server that went stale, late data into a gap and before a segment.
    static func feedScenario(_ store: FeedStore) throws {
        for i in 0..<40 {
            var records: [[String: Any]] = []
            records += Feed.fleet(["a"], at: Feed.base + Int64(i) * 300, mem: Double(i))
            if i != 10 && i != 11 && !(20...25).contains(i) {
                var b = Feed.fleet(["b"], at: Feed.base + Int64(i) * 300, mem: Double(100 - i))[0]
                b["status"] = i % 3 == 0 ? "heavy_load" : "healthy"
                if i == 5 { b["profile"] = "ML Compute" }
                records.append(b)
            }
            if i < 16 { records += Feed.fleet(["c-stale"], at: Feed.base + Int64(i) * 300, mem: 50) }
            if i >= 30 { records += Feed.fleet(["d.new"], at: Feed.base + Int64(i) * 300 + 7, mem: Double(i) / 2) }
            _ = try store.ingest(body: Feed.body(records))
        }
        // Several samples in the open step, a late sample into b's short gap, late data before b's segment.
        for s in [5, 65, 125] {
            _ = try store.ingest(body: Feed.body([Feed.record(server: "d.new", timestamp: Feed.iso(Feed.base + 39 * 300 + Int64(s)),
                                                              overrides: ["mem_used_pct": Double(s) / 2])]))
        }
        _ = try store.ingest(body: Feed.body([Feed.record(server: "b", timestamp: Feed.iso(Feed.base + 11 * 300),
                                                          overrides: ["mem_used_pct": 77])]))
        _ = try store.ingest(body: Feed.body([Feed.record(server: "b", timestamp: Feed.iso(Feed.base + 24 * 300),
                                                          overrides: ["mem_used_pct": 66])]))
    }

    /// Every row of a table, all columns, in a fixed order.
    static func rows(_ table: String, orderBy: String, _ c: SQLiteConnection) throws -> [[SQLiteValue]] {
        try c.query("SELECT * FROM \(table) ORDER BY \(orderBy)") { s in (0..<s.columnCount).map { s.value($0) } }
    }

    static func metricsKey(_ c: SQLiteConnection) throws -> [String] {
        try c.query("SELECT name FROM pragma_table_info('metrics') WHERE pk > 0 ORDER BY pk") { $0.string(0) ?? "" }
    }

    static func indexNames(_ c: SQLiteConnection) throws -> [String] {
        try c.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'metrics' AND sql IS NOT NULL") { $0.string(0) ?? "" }
    }

    static func expectSameWindows(_ a: FeedSnapshot, _ b: FeedSnapshot) {
        #expect(a.tick == b.tick && a.fleetStepTimestamp == b.fleetStepTimestamp)
        #expect(a.servers.map(\.serverName) == b.servers.map(\.serverName))
        for (x, y) in zip(a.servers, b.servers) {
            #expect(x.profile == y.profile)
            #expect(x.length == y.length && x.windowCount == y.windowCount)
            #expect(x.firstStepTimestamp == y.firstStepTimestamp)
            #expect(x.values == y.values)
            #expect(x.status == y.status)
            #expect(x.observed == y.observed)
        }
    }

    /// A database at schema v3 (the server-clustered `metrics` of v1) holding exactly the rows of
    /// `source` — what a daemon built before v4 leaves on disk.
    static func makeVersion3Copy(of source: String, at path: String) throws {
        let db = try SQLiteDatabase(path: path, migrations: Array(ArgusMigrations.all.prefix(3)))
        try db.write { c throws in
            #expect(try c.pragma("user_version")?.int64 == 3)
            #expect(try metricsKey(c) == ["server_name", "step_ts"])
            try c.execute("ATTACH DATABASE '\(source)' AS src")
            try c.transaction {
                try c.execute("""
                    INSERT INTO metrics SELECT * FROM src.metrics ORDER BY server_name, step_ts;
                    INSERT INTO servers SELECT * FROM src.servers;
                    INSERT INTO meta SELECT * FROM src.meta;
                    """)
            }
            try c.execute("DETACH DATABASE src")
        }
        db.close()
    }

    @Test func migrationToV4_KeepsEveryRowAndTheSameWindowsAfterRestart() throws {
        let reference = try TemporaryDirectory(), old = try TemporaryDirectory()
        defer { reference.cleanup(); old.cleanup() }
        // The scenario through the current code, then its rows in a v3 database.
        let live = try FeedStore.open(dataDirectory: reference.url, configuration: Self.config)
        try Self.feedScenario(live)
        let expected = live.snapshot(lastSteps: 12)
        let expectedStatus = live.status()
        #expect(expected.servers.map(\.serverName) == ["a", "b", "d.new"])  // c-stale was evicted
        let referenceRows = try live.database.read { c throws in
            (try Self.rows("metrics", orderBy: "server_name, step_ts", c), try Self.rows("servers", orderBy: "name", c),
             try Self.rows("meta", orderBy: "key", c))
        }
        #expect(referenceRows.0.count == 40 + 32 + 16 + 10 + 2)
        let oldPath = old.path + "/argus.sqlite"
        try Self.makeVersion3Copy(of: reference.path + "/argus.sqlite", at: oldPath)
        try SQLiteDatabase(path: oldPath, migrations: Array(ArgusMigrations.all.prefix(3))).write { c throws in
            #expect(try Self.indexNames(c) == ["metrics_step_ts"])
            #expect(try Self.rows("metrics", orderBy: "server_name, step_ts", c) == referenceRows.0)
        }

        // Opening it with this build migrates (v4) and restores.
        let migrated = try FeedStore.open(dataDirectory: old.url, configuration: Self.config)
        try migrated.database.read { c throws in
            #expect(try c.pragma("user_version")?.int64 == Int64(ArgusMigrations.all.count))
            #expect(try Self.metricsKey(c) == ["step_ts", "server_name"])
            #expect(try Self.indexNames(c).isEmpty)
            #expect(try c.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'metrics_by_step'")?.int64 == 0)
            #expect(try Self.rows("metrics", orderBy: "server_name, step_ts", c) == referenceRows.0)
            #expect(try Self.rows("servers", orderBy: "name", c) == referenceRows.1)
            #expect(try Self.rows("meta", orderBy: "key", c) == referenceRows.2)
            #expect(try c.scalar("PRAGMA integrity_check")?.string == "ok")
        }
        #expect(migrated.status() == expectedStatus)
        Self.expectSameWindows(migrated.snapshot(lastSteps: 12), expected)

        // Both go on identically: a new step, a returning stale server, late data.
        let more = Feed.fleet(["a", "b", "c-stale", "d.new"], at: Feed.base + 40 * 300, mem: 12)
            + [Feed.record(server: "b", timestamp: Feed.iso(Feed.base + 21 * 300), overrides: ["mem_used_pct": 1])]
        #expect(try live.ingest(body: Feed.body(more)) == (try migrated.ingest(body: Feed.body(more))))
        Self.expectSameWindows(migrated.snapshot(lastSteps: 12), live.snapshot(lastSteps: 12))
        migrated.close()
        live.close()
        let reopened = try FeedStore.open(dataDirectory: old.url, configuration: Self.config)
        defer { reopened.close() }
        Self.expectSameWindows(reopened.snapshot(lastSteps: 12),
                               try FeedStore.open(dataDirectory: reference.url, configuration: Self.config).snapshot(lastSteps: 12))
    }

    @Test func failedMigrationToV4_LeavesTheV3DatabaseAsItWas() throws {
        let reference = try TemporaryDirectory(), old = try TemporaryDirectory()
        defer { reference.cleanup(); old.cleanup() }
        let live = try FeedStore.open(dataDirectory: reference.url, configuration: Self.config)
        try Self.feedScenario(live)
        live.close()
        let oldPath = old.path + "/argus.sqlite"
        try Self.makeVersion3Copy(of: reference.path + "/argus.sqlite", at: oldPath)
        // Something in the way of the migration's second statement: the whole migration rolls back.
        try SQLiteDatabase(path: oldPath, migrations: Array(ArgusMigrations.all.prefix(3))).write { c throws in
            try c.execute("CREATE TABLE metrics_by_step (x)")
        }
        #expect(throws: SQLiteError.self) { _ = try FeedStore.open(dataDirectory: old.url, configuration: Self.config) }
        try SQLiteDatabase(path: oldPath, migrations: Array(ArgusMigrations.all.prefix(3))).write { c throws in
            #expect(try c.pragma("user_version")?.int64 == 3)
            #expect(try Self.metricsKey(c) == ["server_name", "step_ts"])
            #expect(try Self.indexNames(c) == ["metrics_step_ts"])
            #expect(try c.scalar("SELECT count(*) FROM metrics")?.int64 == 100)
            try c.execute("DROP TABLE metrics_by_step")
        }
        // Once out of the way, it migrates.
        let migrated = try FeedStore.open(dataDirectory: old.url, configuration: Self.config)
        defer { migrated.close() }
        #expect(try migrated.database.read { try Self.metricsKey($0) } == ["step_ts", "server_name"])
        #expect(migrated.serverNames == ["a", "b", "d.new"])
    }

    @Test func perServerReads_MatchAFilteredScan_AndRestoreMatchesLoadWindow() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        do {
            let store = try FeedStore.open(dataDirectory: dir.url, configuration: Self.config)
            try Self.feedScenario(store)
            store.close()
        }
        let store = try FeedStore.open(dataDirectory: dir.url, configuration: Self.config)
        defer { store.close() }
        try store.database.write { c throws in
            let columns = MetricsTable.selectColumns
            for server in ["a", "b", "c-stale", "d.new", "unknown"] {
                let latest = try c.scalar("SELECT max(step_ts) FROM metrics WHERE server_name = ?", [.text(server)])?.int64
                #expect(try MetricsTable.latestStep(server: server, on: c) == latest)
                #expect(try MetricsTable.latestStep(server: server, stepSeconds: Self.config.stepSeconds, on: c) == latest)
                for (from, to) in [(Int64.min, Int64.max), (Feed.base + 3_000, Feed.base + 7_500), (Feed.base + 7_200, Feed.base + 7_201),
                                   (Feed.base + 12_000, Int64.max), (Feed.base + 99_000, Int64.max)] {
                    let scanned = try c.query("SELECT \(columns) FROM metrics WHERE server_name = ? AND step_ts >= ? AND step_ts < ? ORDER BY step_ts",
                                              [.text(server), .integer(from), .integer(to)], MetricsTable.storedStep)
                    #expect(try MetricsTable.steps(server: server, from: from, to: to, on: c) == scanned)
                }
            }
            // The one-scan restore built the same windows as a per-server rebuild.
            for server in store.serverNames {
                let restored = store.window(server: server)!, rebuilt = try store.loadWindow(server: server, on: c)
                #expect(restored.headStep == rebuilt.headStep && restored.count == rebuilt.count)
                #expect(restored.values == rebuilt.values && restored.status == rebuilt.status && restored.observed == rebuilt.observed)
            }
        }
    }

    @Test func restoreOfALargeFleet_SplitAcrossReaders_MatchesPerServerRebuilds() throws {
        // From 2,000 servers on, restart splits its scan into ranges of server names on separate readers.
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let names = (0..<2_100).map { String(format: "s%04d", $0) }
        do {
            let store = try FeedStore.open(dataDirectory: dir.url, configuration: Self.config)
            for i in 0..<40 {
                var records: [[String: Any]] = []
                for group in 0..<5 {
                    // Distinct values per group; every 7th server misses steps 30–31 (forward-filled).
                    let present = names.enumerated().filter { k, _ in k % 5 == group && !(k % 7 == 0 && (30...31).contains(i)) }.map(\.1)
                    records += Feed.fleet(present, at: Feed.base + Int64(i) * 300, mem: Double(i + 10 * group))
                }
                _ = try store.ingest(body: Feed.body(records))
            }
            try Self.feedScenario(store)
            store.close()
        }
        let store = try FeedStore.open(dataDirectory: dir.url, configuration: Self.config)
        defer { store.close() }
        #expect(store.serverNames.count == names.count + 3)   // + a, b, d.new (c-stale is out of the window)
        try store.database.write { c throws in
            for server in store.serverNames {
                let restored = store.window(server: server)!, rebuilt = try store.loadWindow(server: server, on: c)
                #expect(restored.headStep == rebuilt.headStep && restored.count == rebuilt.count)
                #expect(restored.values == rebuilt.values && restored.status == rebuilt.status && restored.observed == rebuilt.observed)
            }
        }
        #expect(store.window(server: "s0007")?.isObserved(Feed.base / 300 + 30) == false)
        #expect(store.window(server: "s0003")?.value(.memUsedPct, at: Feed.base / 300 + 39) == 69)
    }

    @Test func trainingExport_GivesTheSameSeriesAsAServerOrderedRead() throws {
        let dir = try TemporaryDirectory(), models = try TemporaryDirectory()
        defer { dir.cleanup(); models.cleanup() }
        let store = try FeedStore.open(dataDirectory: dir.url, configuration: Self.config)
        defer { store.close() }
        try Self.feedScenario(store)
        // Servers that appear late but sort first (byte order: upper case before lower case).
        for i in 30..<40 {
            _ = try store.ingest(body: Feed.body(Feed.fleet(["Zeta9", "B2"], at: Feed.base + Int64(i) * 300 + 60, mem: Double(i))))
        }
        let spec = FeatureSpec.standard
        let service = try TrainingService(database: store.database, models: ModelRegistry(stepSeconds: 300),
                                          modelsDirectory: models.url, onModelProduced: { _ in })
        let series = try service.loadSeries(spec: spec)
        // The read before schema v4: the table in server order.
        var accumulator = SeriesAccumulator(spec: spec)
        let columns = MetricField.allCases.map(\.rawValue).joined(separator: ", ")
        try store.database.read { c throws in
            let profiles = Dictionary(try c.query("SELECT name, profile FROM servers WHERE profile IS NOT NULL") {
                ($0.string(0) ?? "", $0.string(1) ?? "") }, uniquingKeysWith: { a, _ in a })
            let statement = try c.prepare("SELECT server_name, step_ts, \(columns), status FROM metrics ORDER BY server_name, step_ts")
            var feed = [Float](repeating: 0, count: MetricField.count)
            while try statement.step() {
                let name = statement.string(0) ?? ""
                for m in 0..<MetricField.count { feed[m] = Float(statement.double(Int32(2 + m))) }
                let status = TFTCore.ServerStatus(rawValue: statement.string(Int32(2 + MetricField.count)) ?? "") ?? .healthy
                accumulator.add(server: name, profile: ServerProfile.resolve(serverName: name, override: profiles[name]),
                                epoch: statement.int64(1), feed: feed, status: status)
            }
        }
        let expected = accumulator.build()
        #expect(series.map(\.name) == expected.map(\.name))
        #expect(series.first?.name == "B2")
        #expect(series.count == expected.count)
        for (x, y) in zip(series, expected) {
            #expect(x.name == y.name && x.profile == y.profile && x.startEpoch == y.startEpoch && x.count == y.count)
            #expect(x.values.map(\.bitPattern) == y.values.map(\.bitPattern))
            #expect(x.status == y.status)
        }
    }

    /// The three ways a window is built on the ingest path — from the batch for a first-seen server, a
    /// skip-scan for one server, one shared scan for many — give what a per-server replay gives.
    @Test func windowsBuiltWhileIngesting_MatchAReplayFromStorage() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = try FeedStore.open(dataDirectory: dir.url, configuration: Self.config)
        defer { store.close() }
        func expectReplayed(_ names: [String]) throws {
            try store.database.write { c throws in
                for name in names {
                    // What a window shows: its newest `count` steps (older ring slots keep stale values).
                    let live = store.window(server: name)!, replayed = try store.loadWindow(server: name, on: c)
                    #expect(live.headStep == replayed.headStep && live.count == replayed.count, "\(name)")
                    for metric in MetricField.allCases {
                        let shown = (live.firstStep...live.headStep).map { live.value(metric, at: $0) }
                        #expect(shown == (live.firstStep...live.headStep).map { replayed.value(metric, at: $0) }, "\(name)")
                    }
                    #expect(live.latest(live.count, of: live.status) == replayed.latest(replayed.count, of: replayed.status), "\(name)")
                    #expect(live.latest(live.count, of: live.observed) == replayed.latest(replayed.count, of: replayed.observed), "\(name)")
                }
            }
        }
        // First-seen servers with more steps than the replay span (12 + 2), with a short and a long gap.
        let steps = (0..<40).filter { $0 != 7 && !(30...33).contains($0) }
        _ = try store.ingest(body: Feed.body(steps.flatMap { Feed.fleet(["x", "y", "z"], at: Feed.base + Int64($0) * 300, mem: Double($0)) }))
        try expectReplayed(["x", "y", "z"])
        // Late data before the segment of all three in one batch (a shared scan), then of one (a skip-scan).
        _ = try store.ingest(body: Feed.body([31, 32].flatMap { Feed.fleet(["x", "y", "z"], at: Feed.base + Int64($0) * 300, mem: 3) }))
        try expectReplayed(["x", "y", "z"])
        #expect(store.window(server: "x")?.count == 12)
        _ = try store.ingest(body: Feed.body(Feed.fleet(["y"], at: Feed.base + 41 * 300, mem: 1)
                                                + Feed.fleet(["x", "y", "z"], at: Feed.base + 50 * 300, mem: 2)))
        _ = try store.ingest(body: Feed.body(Feed.fleet(["z"], at: Feed.base + 48 * 300, mem: 4)))
        try expectReplayed(["x", "y", "z"])
        #expect(store.window(server: "z")?.count == 3)  // 48, 49 (filled), 50
    }
}
