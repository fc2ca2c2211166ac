import CSQLite
import Foundation

/// One schema step. `version` numbers are 1, 2, 3, … with no gaps; `PRAGMA user_version` records the
/// last one applied. Each migration runs in its own transaction together with the `user_version` bump,
/// so a crash leaves the schema at a whole version.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let apply: @Sendable (SQLiteConnection) throws -> Void

    public init(version: Int, name: String, apply: @escaping @Sendable (SQLiteConnection) throws -> Void) {
        self.version = version
        self.name = name
        self.apply = apply
    }

    /// A migration that is plain SQL (one or more statements).
    public init(version: Int, name: String, sql: String) {
        self.init(version: version, name: name) { try $0.execute(sql) }
    }
}

/// Applies migrations in order, each in a transaction.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(migrations: [Migration]) { self.migrations = migrations }

    public enum MigrationError: Error, CustomStringConvertible {
        case versionsNotSequential([Int])
        case databaseNewerThanCode(databaseVersion: Int, latestKnown: Int)

        public var description: String {
            switch self {
            case .versionsNotSequential(let versions):
                return "migration versions must be 1, 2, 3, … without gaps; got \(versions)"
            case .databaseNewerThanCode(let databaseVersion, let latestKnown):
                return "database schema version \(databaseVersion) is newer than this build knows (\(latestKnown))"
            }
        }
    }

    /// The version the database will be at after `migrate`.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Brings `connection` up to `latestVersion`. Returns the versions applied.
    @discardableResult
    public func migrate(_ connection: SQLiteConnection) throws -> [Int] {
        let versions = migrations.map(\.version)
        guard versions == Array(0..<versions.count).map({ $0 + 1 }) else {
            throw MigrationError.versionsNotSequential(versions)
        }
        let current = Int(try connection.pragma("user_version")?.int64 ?? 0)
        if current > latestVersion {
            throw MigrationError.databaseNewerThanCode(databaseVersion: current, latestKnown: latestVersion)
        }
        var applied: [Int] = []
        for migration in migrations where migration.version > current {
            try connection.transaction(.exclusive) {
                try migration.apply(connection)
                try connection.execute("PRAGMA user_version = \(migration.version)")
            }
            applied.append(migration.version)
        }
        return applied
    }
}

/// The daemon's schema, as an ordered list. **Append** new migrations (alerts history, environment
/// snapshots, risk samples, training runs, …) at the end with the next version number; never edit one that
/// has shipped. Documented in `docs/storage.md`.
public enum ArgusMigrations {
    public static let all: [Migration] = [feedCore, HistorySchema.migration(version: 2), TrainingRunsTable.migration(version: 3),
                                          metricsByStep]

    /// v1: feed storage — per-server step buckets, the server list, and key/value metadata.
    static let feedCore = Migration(version: 1, name: "feed core", sql: """
        CREATE TABLE metrics (
            server_name      TEXT    NOT NULL,
            step_ts          INTEGER NOT NULL,   -- epoch seconds of the step bucket start (UTC)
            cpu_user_pct     REAL    NOT NULL,
            cpu_sys_pct      REAL    NOT NULL,
            cpu_iowait_pct   REAL    NOT NULL,
            cpu_idle_pct     REAL    NOT NULL,
            java_cpu_pct     REAL    NOT NULL,
            mem_used_pct     REAL    NOT NULL,
            swap_used_pct    REAL    NOT NULL,
            disk_usage_pct   REAL    NOT NULL,
            net_in_mb_s      REAL    NOT NULL,
            net_out_mb_s     REAL    NOT NULL,
            back_close_wait  INTEGER NOT NULL,
            front_close_wait INTEGER NOT NULL,
            load_average     REAL    NOT NULL,
            uptime_days      INTEGER NOT NULL,
            status           TEXT    NOT NULL,
            profile          TEXT,
            last_update_ts   REAL    NOT NULL,   -- epoch seconds of the newest sample in the bucket
            sample_count     INTEGER NOT NULL,
            PRIMARY KEY (server_name, step_ts)
        ) WITHOUT ROWID;
        CREATE INDEX metrics_step_ts ON metrics (step_ts);

        CREATE TABLE servers (
            name       TEXT PRIMARY KEY NOT NULL,
            profile    TEXT,                      -- override from the feed's optional `profile` field
            first_seen REAL NOT NULL,             -- epoch seconds of the first sample
            last_seen  REAL NOT NULL              -- epoch seconds of the newest sample
        ) WITHOUT ROWID;

        CREATE TABLE meta (
            key   TEXT PRIMARY KEY NOT NULL,
            value            -- no declared type: values keep their own type
        ) WITHOUT ROWID;
        """)

    /// v4: `metrics` clustered by time — primary key `(step_ts, server_name)` instead of
    /// `(server_name, step_ts)`, and no `metrics_step_ts` index (the key leads with the time now). One
    /// fleet step's rows then share two or three leaf pages instead of one page per server, so a
    /// 45-record commit writes ~6 pages to the WAL instead of 75–120 (docs/storage.md, "Performance").
    /// Per-server reads go through ``MetricsTable`` (a skip-scan over the steps, or one time-range scan
    /// for all servers at restart). Same columns in the same order; every row is copied.
    static let metricsByStep = Migration(version: 4, name: "metrics clustered by step", sql: """
        CREATE TABLE metrics_by_step (
            server_name      TEXT    NOT NULL,
            step_ts          INTEGER NOT NULL,   -- epoch seconds of the step bucket start (UTC)
            cpu_user_pct     REAL    NOT NULL,
            cpu_sys_pct      REAL    NOT NULL,
            cpu_iowait_pct   REAL    NOT NULL,
            cpu_idle_pct     REAL    NOT NULL,
            java_cpu_pct     REAL    NOT NULL,
            mem_used_pct     REAL    NOT NULL,
            swap_used_pct    REAL    NOT NULL,
            disk_usage_pct   REAL    NOT NULL,
            net_in_mb_s      REAL    NOT NULL,
            net_out_mb_s     REAL    NOT NULL,
            back_close_wait  INTEGER NOT NULL,
            front_close_wait INTEGER NOT NULL,
            load_average     REAL    NOT NULL,
            uptime_days      INTEGER NOT NULL,
            status           TEXT    NOT NULL,
            profile          TEXT,
            last_update_ts   REAL    NOT NULL,   -- epoch seconds of the newest sample in the bucket
            sample_count     INTEGER NOT NULL,
            PRIMARY KEY (step_ts, server_name)
        ) WITHOUT ROWID;
        INSERT INTO metrics_by_step
            SELECT server_name, step_ts, cpu_user_pct, cpu_sys_pct, cpu_iowait_pct, cpu_idle_pct, java_cpu_pct,
                   mem_used_pct, swap_used_pct, disk_usage_pct, net_in_mb_s, net_out_mb_s, back_close_wait,
                   front_close_wait, load_average, uptime_days, status, profile, last_update_ts, sample_count
            FROM metrics ORDER BY step_ts, server_name;
        DROP TABLE metrics;                      -- drops metrics_step_ts with it
        ALTER TABLE metrics_by_step RENAME TO metrics;
        """)
}
