import Foundation

/// Persisted record of training runs (`/admin/training-stats`). Migration v2, appended to
/// `ArgusMigrations.all`.
public enum TrainingRunsTable {
    /// The table's DDL (idempotent).
    public static let createSQL = """
        CREATE TABLE IF NOT EXISTS training_runs (
            id              TEXT PRIMARY KEY NOT NULL,   -- train_YYYYMMDD_HHMMSS
            started_at      REAL NOT NULL,               -- epoch seconds
            finished_at     REAL,
            status          TEXT NOT NULL,               -- running | completed | cancelled | failed | interrupted
            epochs          INTEGER NOT NULL,            -- requested
            epochs_run      INTEGER NOT NULL DEFAULT 0,
            incremental     INTEGER NOT NULL,
            parent_model    TEXT,
            model_name      TEXT,                        -- the folder produced (completed runs only)
            best_val_loss   REAL,
            samples         INTEGER,
            servers         INTEGER,
            error           TEXT
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS training_runs_started ON training_runs (started_at);
        """

    /// The versioned migration (appended to `ArgusMigrations.all` after the history schema).
    public static func migration(version: Int) -> Migration {
        Migration(version: version, name: "training runs", sql: createSQL)
    }

    public struct Row: Sendable, Equatable {
        public var id: String
        public var startedAt: Double
        public var finishedAt: Double?
        public var status: String
        public var epochs: Int
        public var epochsRun: Int
        public var incremental: Bool
        public var parentModel: String?
        public var modelName: String?
        public var bestValidationLoss: Double?
        public var samples: Int?
        public var servers: Int?
        public var error: String?
    }

    static func insert(_ row: Row, on c: SQLiteConnection) throws {
        try c.run("""
            INSERT INTO training_runs (id, started_at, status, epochs, incremental, parent_model, servers)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, [.text(row.id), .real(row.startedAt), .text(row.status), .integer(Int64(row.epochs)),
                  .integer(row.incremental ? 1 : 0), row.parentModel.map { .text($0) } ?? .null,
                  row.servers.map { .integer(Int64($0)) } ?? .null])
    }

    static func finish(id: String, status: String, finishedAt: Double, epochsRun: Int, modelName: String?,
                       bestValidationLoss: Double?, samples: Int?, error: String?, on c: SQLiteConnection) throws {
        try c.run("""
            UPDATE training_runs SET status = ?, finished_at = ?, epochs_run = ?, model_name = ?, best_val_loss = ?,
                   samples = ?, error = ? WHERE id = ?
            """, [.text(status), .real(finishedAt), .integer(Int64(epochsRun)), modelName.map { .text($0) } ?? .null,
                  bestValidationLoss.flatMap { $0.isFinite ? .real($0) : nil } ?? .null,
                  samples.map { .integer(Int64($0)) } ?? .null, error.map { .text($0) } ?? .null, .text(id)])
    }

    /// Names of the model folders completed runs produced (the only folders ``ModelFolderRetention`` deletes).
    static func producedModels(on c: SQLiteConnection) throws -> Set<String> {
        Set(try c.query("SELECT model_name FROM training_runs WHERE status = 'completed' AND model_name IS NOT NULL") { $0.string(0) ?? "" })
    }

    /// Runs left `running` by a daemon that died are marked `interrupted` at start-up.
    static func markInterrupted(now: Double, on c: SQLiteConnection) throws {
        try c.run("UPDATE training_runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'", [.real(now)])
    }

    static func all(on c: SQLiteConnection) throws -> [Row] {
        try c.query("""
            SELECT id, started_at, finished_at, status, epochs, epochs_run, incremental, parent_model, model_name,
                   best_val_loss, samples, servers, error FROM training_runs ORDER BY started_at
            """) { s in
            Row(id: s.string(0) ?? "", startedAt: s.double(1), finishedAt: s.isNull(2) ? nil : s.double(2),
                status: s.string(3) ?? "", epochs: Int(s.int64(4)), epochsRun: Int(s.int64(5)), incremental: s.int64(6) != 0,
                parentModel: s.string(7), modelName: s.string(8), bestValidationLoss: s.isNull(9) ? nil : s.double(9),
                samples: s.isNull(10) ? nil : Int(s.int64(10)), servers: s.isNull(11) ? nil : Int(s.int64(11)),
                error: s.string(12))
        }
    }
}
