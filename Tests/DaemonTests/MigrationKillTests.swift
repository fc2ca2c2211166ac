import Foundation
import Glibc
import Testing
@testable import Daemon

/// kill -9 in the middle of a schema migration: the migration's transaction never commits, so the restart
/// finds the old version with every row, and migrates cleanly.
@Suite struct MigrationKillTests {
    static let childVariable = "ARGUS_MIGRATION_KILL_CHILD_DB"

    /// Child side: a no-op unless started by the test below. Applies v4's statements to the v3 database, then
    /// SIGKILLs itself before the migration's transaction can commit.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[childVariable] != nil, "the child of killDuringMigration"))
    func migrationKillChild() throws {
        let path = try #require(ProcessInfo.processInfo.environment[Self.childVariable])
        let v4 = ArgusMigrations.all[3]
        let dying = Migration(version: 4, name: v4.name) { connection in
            try v4.apply(connection)
            kill(getpid(), SIGKILL)
        }
        _ = try SQLiteDatabase(path: path, migrations: Array(ArgusMigrations.all.prefix(3)) + [dying])
    }

    @Test func killDuringMigration_RestartFindsTheOldVersionIntact_AndMigrates() throws {
        let reference = try TemporaryDirectory(), old = try TemporaryDirectory()
        defer { reference.cleanup(); old.cleanup() }
        let live = try FeedStore.open(dataDirectory: reference.url, configuration: MetricsSchemaMigrationTests.config)
        try MetricsSchemaMigrationTests.feedScenario(live)
        live.close()
        let oldPath = old.path + "/argus.sqlite"
        try MetricsSchemaMigrationTests.makeVersion3Copy(of: reference.path + "/argus.sqlite", at: oldPath)

        let child = try runTestChild(filter: "migrationKillChild", environment: [Self.childVariable: oldPath])
        #expect(child.terminationReason == .uncaughtSignal && child.terminationStatus == SIGKILL)

        try SQLiteDatabase(path: oldPath, migrations: Array(ArgusMigrations.all.prefix(3))).write { c throws in
            #expect(try c.pragma("user_version")?.int64 == 3)
            #expect(try MetricsSchemaMigrationTests.metricsKey(c) == ["server_name", "step_ts"])
            #expect(try c.scalar("SELECT count(*) FROM metrics")?.int64 == 100)
        }
        let migrated = try FeedStore.open(dataDirectory: old.url, configuration: MetricsSchemaMigrationTests.config)
        defer { migrated.close() }
        #expect(try migrated.database.read { try MetricsSchemaMigrationTests.metricsKey($0) } == ["step_ts", "server_name"])
        #expect(try migrated.database.read { try $0.scalar("SELECT count(*) FROM metrics")?.int64 } == 100)
        #expect(migrated.serverNames == ["a", "b", "d.new"])
    }
}
