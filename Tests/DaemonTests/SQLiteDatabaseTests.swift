import CSQLite
import Foundation
import Testing
@testable import Daemon

@Suite struct SQLiteDatabaseTests {
    @Test func open_SetsWALFullSynchronousAndBusyTimeout() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let db = try SQLiteDatabase(path: dir.path + "/t.sqlite", migrations: [])
        try db.write { c throws in
            #expect(try c.pragma("journal_mode")?.string == "wal")
            #expect(try c.pragma("synchronous")?.int64 == 2)  // 2 = FULL
            #expect(try c.pragma("busy_timeout")?.int64 == 5_000)
            #expect(try c.pragma("foreign_keys")?.int64 == 1)
        }
        let reader = try db.makeReader()
        #expect(try reader.pragma("journal_mode")?.string == "wal")
        #expect(try reader.pragma("busy_timeout")?.int64 == 5_000)
        db.close()
    }

    /// A burst of writes grows the WAL; once checkpointed, the next commit restarts it and truncates the file
    /// to the limit instead of keeping the burst's size forever (the 7-day soak's WAL grew to 143 MiB).
    @Test func walFile_ShrinksToItsLimitAfterACheckpoint() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var options = SQLiteConnection.Options()
        options.backgroundCheckpointSeconds = nil
        options.walAutoCheckpointPages = 0
        options.walSizeLimitBytes = 64 << 10
        let db = try SQLiteDatabase(path: dir.path + "/t.sqlite", migrations: [
            Migration(version: 1, name: "t", sql: "CREATE TABLE t (b BLOB)")
        ], options: options)
        defer { db.close() }
        let wal = dir.path + "/t.sqlite-wal"
        func walSize() -> Int { (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0 }
        try db.write { c throws in for _ in 0..<200 { try c.run("INSERT INTO t VALUES (?)", [.blob(Data(count: 16_384))]) } }
        #expect(walSize() > 1 << 20)
        try db.write { c throws in _ = try c.pragma("wal_checkpoint(PASSIVE)") }
        try db.write { c throws in try c.run("INSERT INTO t VALUES (?)", [.blob(Data(count: 16))]) }
        #expect(walSize() <= 64 << 10)
        try db.write { c throws in #expect(try c.pragma("journal_size_limit")?.int64 == 64 << 10) }
    }

    @Test func typedBindsAndColumns_RoundTrip() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let db = try SQLiteDatabase(path: dir.path + "/t.sqlite", migrations: [
            Migration(version: 1, name: "t", sql: "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)")
        ])
        let blob = Data([0, 1, 2, 255])
        try db.write { c throws in
            try c.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                      [.integer(Int64.max), .real(-1.5e300), .text("héllo \"q\""), .blob(blob), .null])
            let rows = try c.query("SELECT i, r, s, b, n FROM t") { row in
                (row.int64(0), row.double(1), row.string(2), row.data(3), row.isNull(4), row.value(4))
            }
            #expect(rows.count == 1)
            #expect(rows[0].0 == Int64.max)
            #expect(rows[0].1 == -1.5e300)
            #expect(rows[0].2 == "héllo \"q\"")
            #expect(rows[0].3 == blob)
            #expect(rows[0].4)
            #expect(rows[0].5 == .null)
        }
    }

    @Test func errors_CarrySQLAndSQLiteMessage() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let db = try SQLiteDatabase(path: dir.path + "/t.sqlite", migrations: [])
        do {
            try db.write { c in try c.run("SELECT * FROM no_such_table") }
            Issue.record("expected an error")
        } catch let error as SQLiteError {
            #expect(error.sql == "SELECT * FROM no_such_table")
            #expect(error.message.contains("no such table"))
            #expect(error.operation == "prepare")
            #expect(error.description.contains("no_such_table"))
        }
    }

    @Test func transaction_RollsBackOnThrow() throws {
        struct Boom: Error {}
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let db = try SQLiteDatabase(path: dir.path + "/t.sqlite", migrations: [
            Migration(version: 1, name: "t", sql: "CREATE TABLE t (x INTEGER PRIMARY KEY)")
        ])
        #expect(throws: Boom.self) {
            try db.writeTransaction { c in
                try c.run("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        // constraint failure inside: whole transaction rolled back
        #expect(throws: SQLiteError.self) {
            try db.writeTransaction { c in
                try c.run("INSERT INTO t VALUES (2)")
                try c.run("INSERT INTO t VALUES (2)")
            }
        }
        let count = try db.write { try $0.scalar("SELECT count(*) FROM t")?.int64 }
        #expect(count == 0)
        let inTx = db.write { $0.isInTransaction }
        #expect(!inTx)
    }

    @Test func committedRow_IsVisibleToAnIndependentConnection() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.path + "/t.sqlite"
        let db = try SQLiteDatabase(path: path, migrations: [Migration(version: 1, name: "t", sql: "CREATE TABLE t (x)")])
        try db.writeTransaction { try $0.run("INSERT INTO t VALUES (42)") }
        // Raw C API, not our wrapper: a completely separate connection.
        var handle: OpaquePointer?
        #expect(sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, nil) == SQLITE_OK)
        defer { sqlite3_close_v2(handle) }
        var statement: OpaquePointer?
        #expect(sqlite3_prepare_v2(handle, "SELECT x FROM t", -1, &statement, nil) == SQLITE_OK)
        #expect(sqlite3_step(statement) == SQLITE_ROW)
        #expect(sqlite3_column_int64(statement, 0) == 42)
        sqlite3_finalize(statement)
    }

    @Test func migrations_AreVersionedIdempotentAndAtomic() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.path + "/m.sqlite"
        let v1 = Migration(version: 1, name: "a", sql: "CREATE TABLE a (x)")
        let v2 = Migration(version: 2, name: "b", sql: "CREATE TABLE b (x)")
        do {
            let c = try SQLiteConnection(path: path)
            #expect(try Migrator(migrations: [v1]).migrate(c) == [1])
            #expect(try Migrator(migrations: [v1, v2]).migrate(c) == [2])
            #expect(try Migrator(migrations: [v1, v2]).migrate(c) == [])
            #expect(try c.pragma("user_version")?.int64 == 2)
            // A failing migration leaves no trace and the version unchanged.
            let bad = Migration(version: 3, name: "bad", sql: "CREATE TABLE c (x); CREATE TABLE a (x);")
            #expect(throws: SQLiteError.self) { try Migrator(migrations: [v1, v2, bad]).migrate(c) }
            #expect(try c.pragma("user_version")?.int64 == 2)
            #expect(try c.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'c'")?.int64 == 0)
            // Gaps and a database newer than the code are refused.
            #expect(throws: Migrator.MigrationError.self) { try Migrator(migrations: [v1, v2, Migration(version: 4, name: "x", sql: "")]).migrate(c) }
            #expect(throws: Migrator.MigrationError.self) { try Migrator(migrations: [v1]).migrate(c) }
        }
    }

    @Test func argusSchema_HasFeedTables() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let db = try SQLiteDatabase(path: dir.path + "/a.sqlite")
        let tables = try db.write { c throws in
            try c.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { $0.string(0) ?? "" }
        }
        // The feed's tables are there; later migrations (history, training runs) add their own.
        #expect(Set(["meta", "metrics", "servers"]).isSubset(of: Set(tables)))
        let version = try db.write { try $0.pragma("user_version")?.int64 }
        #expect(version == Int64(ArgusMigrations.all.count))
    }

    @Test func statementCache_ReusesPreparedStatements() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let c = try SQLiteConnection(path: dir.path + "/c.sqlite")
        let a = try c.cached("SELECT 1")
        let b = try c.cached("SELECT 1")
        #expect(a === b)
        #expect(try c.scalar("SELECT ? + 1", [.integer(41)])?.int64 == 42)
    }
}

@Suite struct SQLiteCheckpointTests {
    @Test func backgroundCheckpointer_DisablesWriterAutoCheckpointAndDrainsTheWAL() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var options = SQLiteConnection.Options()
        options.backgroundCheckpointSeconds = 0.05
        let db = try SQLiteDatabase(path: dir.path + "/c.sqlite", migrations: [
            Migration(version: 1, name: "t", sql: "CREATE TABLE t (x)")
        ], options: options)
        #expect(try db.write { try $0.pragma("wal_autocheckpoint")?.int64 } == 0)
        // 200 KB in the WAL; the writer never checkpoints, so the main file only grows if the
        // background checkpointer copies the frames. Wait for that (bounded only as a liveness limit).
        try db.writeTransaction { try $0.run("INSERT INTO t VALUES (?)", [.blob(Data(count: 200_000))]) }
        func mainFileSize() -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: dir.path + "/c.sqlite"))?[.size] as? Int) ?? 0
        }
        #expect(eventually { mainFileSize() >= 200_000 })
        db.close()
    }
}
