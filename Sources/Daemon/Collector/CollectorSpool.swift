import Foundation

/// The collector's durable queue: a small SQLite database (WAL, `synchronous=FULL`, so an insert is on disk
/// when it returns). Records go in when they are made and come out only after the daemon answered 2xx for
/// the batch that carried them, so a daemon that is down, restarting or killed loses nothing.
///
/// One row per (server, step), and nothing at or before a step already delivered: a collector restarted
/// within a step cannot queue that step twice.
public final class CollectorSpool: Sendable {
    public let database: SQLiteDatabase

    static let migrations = [
        Migration(version: 1, name: "collector spool", sql: """
            CREATE TABLE spool (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                server_name TEXT NOT NULL,
                step_ts INTEGER NOT NULL,
                body BLOB NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                UNIQUE (server_name, step_ts)
            );
            CREATE TABLE delivered (server_name TEXT PRIMARY KEY, last_step_ts INTEGER NOT NULL);
            """),
    ]

    public init(path: String) throws {
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(),
                                                withIntermediateDirectories: true)
        var options = SQLiteConnection.Options()
        options.backgroundCheckpointSeconds = nil   // a few rows every interval: SQLite's own checkpoints suffice
        database = try SQLiteDatabase(path: path, migrations: Self.migrations, options: options)
    }

    public struct Entry: Sendable, Equatable {
        public var id: Int64
        public var serverName: String
        public var stepTimestamp: Int64
        public var body: [UInt8]
        /// Sends of this entry that got no definite answer (see ``markUncertain(_:)``).
        public var attempts: Int
    }

    /// Queues a record; false (and nothing queued) when its (server, step) is already queued, or is not
    /// after the newest step already delivered for that server.
    @discardableResult
    public func append(_ record: CollectorRecord) throws -> Bool {
        try database.writeTransaction { c in
            let delivered = try c.scalar("SELECT last_step_ts FROM delivered WHERE server_name = ?", [.text(record.serverName)])?.int64
            if let delivered, record.timestamp <= delivered { return false }
            try c.run("INSERT OR IGNORE INTO spool (server_name, step_ts, body) VALUES (?, ?, ?)",
                      [.text(record.serverName), .integer(record.timestamp), .blob(Data(record.json))])
            return (try c.scalar("SELECT changes()")?.int64 ?? 0) == 1
        }
    }

    /// The oldest `limit` entries, in the order they were made.
    public func oldest(limit: Int) throws -> [Entry] {
        try database.write { c in
            try c.query("SELECT id, server_name, step_ts, body, attempts FROM spool ORDER BY id LIMIT ?", [.integer(Int64(limit))]) { s in
                Entry(id: s.int64(0), serverName: s.string(1) ?? "", stepTimestamp: s.int64(2),
                      body: Array(s.data(3) ?? Data()), attempts: Int(s.int64(4)))
            }
        }
    }

    /// Removes entries the daemon acknowledged (2xx) and remembers each server's newest delivered step.
    public func removeDelivered(_ entries: [Entry]) throws {
        guard !entries.isEmpty else { return }
        try database.writeTransaction { c in
            for e in entries {
                try c.run("DELETE FROM spool WHERE id = ?", [.integer(e.id)])
                try c.run("""
                    INSERT INTO delivered (server_name, last_step_ts) VALUES (?, ?)
                    ON CONFLICT (server_name) DO UPDATE SET last_step_ts = max(last_step_ts, excluded.last_step_ts)
                    """, [.text(e.serverName), .integer(e.stepTimestamp)])
            }
        }
    }

    /// Notes that these entries were sent without a definite answer (the connection broke after the
    /// request went out): the daemon may have stored them. They are sent again (docs/collector.md,
    /// "Resends").
    public func markUncertain(_ ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        try database.writeTransaction { c in
            for id in ids { try c.run("UPDATE spool SET attempts = attempts + 1 WHERE id = ?", [.integer(id)]) }
        }
    }

    public func count() throws -> Int {
        try database.write { c in Int(try c.scalar("SELECT COUNT(*) FROM spool")?.int64 ?? 0) }
    }

    public func close() { database.close() }
}
