import Foundation
import Testing
@testable import Daemon

/// Storage refusing writes: the client is told clearly, nothing acknowledged is lost, and the daemon recovers
/// by itself when space returns. "Full" is SQLite's own SQLITE_FULL, raised here through `PRAGMA max_page_count`
/// on the writer connection — the code path a full disk (ENOSPC) or a file-size limit takes.
@Suite struct StorageFaultTests {
    static let servers = (1...20).map { String(format: "ppweb%03d", $0) }

    func setPageLimit(_ d: TestDaemon, extraPages: Int?) throws {
        try d.daemon.store.database.write { c in
            if let extraPages {
                let used = try c.pragma("page_count")?.int64 ?? 0
                try c.execute("PRAGMA max_page_count = \(Int(used) + extraPages)")
            } else {
                try c.execute("PRAGMA max_page_count = 1073741823")
            }
        }
    }

    @Test func diskFullDuringIngest_Answers507_LosesNothingAcknowledged_AndRecovers() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var acknowledged = 0
        var step = 0
        do {
            let d = try TestDaemon(dir: dir)
            defer { d.stop() }
            try setPageLimit(d, extraPages: 8)
            var refusal: TestDaemon.Reply?
            while refusal == nil && step < 400 {
                let reply = try d.post("/feed/data", Feed.body(Feed.fleet(Self.servers, at: Feed.base + Int64(step) * 300)))
                if reply.status == 200 { acknowledged += Self.servers.count; step += 1 } else { refusal = reply }
            }
            let full = try #require(refusal, "the page limit was never reached")
            #expect(full.status == 507, "\(full.text)")
            #expect((full.object["detail"] as? String)?.contains("nothing acknowledged was lost") == true, "\(full.text)")
            #expect(full.object["error"] as? String == "storage_full")
            // Still full: refused again, and the store counts only what was acknowledged.
            #expect(try d.post("/feed/data", Feed.body(Feed.fleet(Self.servers, at: Feed.base + Int64(step) * 300))).status == 507)
            #expect(d.daemon.store.status().totalRecords == acknowledged)
            // Space returns: the same batch is accepted without a restart.
            try setPageLimit(d, extraPages: nil)
            let retry = try d.post("/feed/data", Feed.body(Feed.fleet(Self.servers, at: Feed.base + Int64(step) * 300)))
            #expect(retry.status == 200, "\(retry.text)")
            acknowledged += Self.servers.count
            step += 1
        }
        // After a restart every acknowledged record is there, and only those.
        let d = try TestDaemon(dir: dir)
        defer { d.stop() }
        #expect(d.daemon.store.status().totalRecords == acknowledged)
        let stored = try d.daemon.store.database.read { c in try c.scalar("SELECT COUNT(*) FROM metrics")?.int64 ?? -1 }
        #expect(stored == Int64(step * Self.servers.count))
    }
}

/// A database argusd cannot open at start is a clear error with its own exit code, never a silent reset.
@Suite struct DatabaseStartupTests {
    @Test func damagedDatabase_StopsWithExitCode3_AndIsLeftAsItWas() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let c = TestDaemon.configuration(dir)
        try FileManager.default.createDirectory(at: c.dataDirectory, withIntermediateDirectories: true)
        let file = c.dataDirectory.appendingPathComponent(c.feedStoreConfiguration.databaseFileName)
        let garbage = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) })
        try garbage.write(to: file)
        do {
            _ = try ArgusDaemon(configuration: c, logSink: .discard)
            Issue.record("a damaged database was opened")
        } catch let error as DatabaseStartupError {
            #expect(error.kind == .corrupt && error.exitCode == 3)
            #expect(error.description.contains(file.path) && error.description.contains("does not reset"))
        }
        #expect(try Data(contentsOf: file) == garbage)
    }

    @Test func lockedDatabase_StopsWithExitCode4() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let c = TestDaemon.configuration(dir)
        try TestDaemon(dir: dir).stop()      // a real database
        let path = c.dataDirectory.appendingPathComponent(c.feedStoreConfiguration.databaseFileName).path
        let holder = try SQLiteConnection(path: path, mode: .readWrite)
        try holder.execute("BEGIN EXCLUSIVE")
        defer { try? holder.execute("ROLLBACK") }
        do {
            _ = try ArgusDaemon(configuration: c, logSink: .discard)
            Issue.record("a locked database was opened for writing")
        } catch let error as DatabaseStartupError {
            #expect(error.kind == .locked && error.exitCode == 4, "\(error)")
            #expect(error.description.contains("another argusd"))
        }
    }
}
