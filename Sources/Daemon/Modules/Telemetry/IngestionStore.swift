import Foundation

/// SQL for recordings and ingestion jobs (recording ingests and inbox file imports share `ingestion_jobs`,
/// which `/ingestion/throughput` aggregates).
struct IngestionStore: Sendable {
    let database: SQLiteDatabase

    struct Recording: Sendable {
        var id, type, filename, path, ingestionStatus: String
        var sizeBytes: Int
        var createdAt: Double
    }

    struct Job: Sendable {
        var id: String
        var recordingID: String?
        var source, status: String
        var taskID: String?
        var progressPercent: Int
        var currentStep: String?
        var sizeBytes: Int
        var createdAt: Double
        var completedAt, durationSeconds, estimatedSeconds: Double?
        var result: String?
        var error: String?
    }

    // MARK: Recordings

    /// Registers a recording found in the inbox unless its file name is already known. Returns whether it was new.
    func addRecording(type: String, filename: String, path: String, sizeBytes: Int, at: Double) throws -> Bool {
        try database.write { c in
            try c.run("""
                INSERT OR IGNORE INTO recordings (id, type, filename, path, size_bytes, ingestion_status, created_at)
                VALUES (?, ?, ?, ?, ?, 'pending', ?)
                """, [.text(TelemetryFormat.id("rec")), .text(type), .text(filename), .text(path), .integer(Int64(sizeBytes)), .real(at)])
            return c.changes == 1
        }
    }

    func knownRecordingFilenames() throws -> Set<String> {
        Set(try database.read { c in try c.query("SELECT filename FROM recordings") { $0.string(0) ?? "" } })
    }

    func recordings(status: String, limit: Int) throws -> [Recording] {
        try database.read { c in
            try c.query("""
                SELECT id, type, filename, path, ingestion_status, size_bytes, created_at FROM recordings
                WHERE ingestion_status = ? ORDER BY created_at DESC, id LIMIT ?
                """, [.text(status), .integer(Int64(limit))], Self.recording)
        }
    }

    func recording(_ id: String) throws -> Recording? {
        try database.read { c in
            try c.query("SELECT id, type, filename, path, ingestion_status, size_bytes, created_at FROM recordings WHERE id = ?",
                        [.text(id)], Self.recording).first
        }
    }

    /// Moves a pending recording to processing (false when it was not pending: someone else started it).
    func claimRecording(_ id: String) throws -> Bool {
        try database.write { c in
            try c.run("UPDATE recordings SET ingestion_status = 'processing' WHERE id = ? AND ingestion_status = 'pending'", [.text(id)])
            return c.changes == 1
        }
    }

    func setRecordingStatus(_ id: String, _ status: String) throws {
        try database.write { c in try c.run("UPDATE recordings SET ingestion_status = ? WHERE id = ?", [.text(status), .text(id)]) }
    }

    private static func recording(_ s: SQLiteStatement) -> Recording {
        Recording(id: s.string(0) ?? "", type: s.string(1) ?? "", filename: s.string(2) ?? "", path: s.string(3) ?? "",
                  ingestionStatus: s.string(4) ?? "", sizeBytes: Int(s.int64(5)), createdAt: s.double(6))
    }

    // MARK: Jobs

    func createJob(id: String, recordingID: String?, source: String, sizeBytes: Int, estimatedSeconds: Double?, at: Double) throws {
        try database.write { c in
            try c.run("""
                INSERT INTO ingestion_jobs (id, recording_id, source, status, progress_percent, size_bytes, created_at, estimated_seconds)
                VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)
                """, [.text(id), recordingID.map { .text($0) } ?? .null, .text(source), .integer(Int64(sizeBytes)), .real(at),
                      estimatedSeconds.map { .real($0) } ?? .null])
        }
    }

    func attachTask(job: String, task: String) throws {
        try database.write { c in try c.run("UPDATE ingestion_jobs SET task_id = ? WHERE id = ?", [.text(task), .text(job)]) }
    }

    func progress(job: String, step: String, percent: Int) throws {
        try database.write { c in
            try c.run("UPDATE ingestion_jobs SET status = 'processing', current_step = ?, progress_percent = ? WHERE id = ?",
                      [.text(step), .integer(Int64(percent)), .text(job)])
        }
    }

    func finishJob(_ id: String, sizeBytes: Int?, result: String?, error: String?, at: Double) throws {
        try database.write { c in
            try c.run("""
                UPDATE ingestion_jobs SET status = ?, progress_percent = CASE WHEN ? IS NULL THEN 100 ELSE progress_percent END,
                    current_step = CASE WHEN ? IS NULL THEN 'done' ELSE current_step END, completed_at = ?,
                    duration_seconds = ? - created_at, size_bytes = COALESCE(?, size_bytes), result = ?, error = ?
                WHERE id = ?
                """, [.text(error == nil ? "completed" : "failed"), error.map { .text($0) } ?? .null, error.map { .text($0) } ?? .null,
                      .real(at), .real(at), sizeBytes.map { .integer(Int64($0)) } ?? .null, result.map { .text($0) } ?? .null,
                      error.map { .text($0) } ?? .null, .text(id)])
        }
    }

    /// Jobs a crash interrupted fail; their recordings go back to pending so they can be ingested again.
    func failInterrupted(at: Double) throws -> Int {
        try database.writeTransaction { c in
            try c.run("""
                UPDATE recordings SET ingestion_status = 'pending' WHERE ingestion_status = 'processing'
                """)
            try c.run("""
                UPDATE ingestion_jobs SET status = 'failed', error = 'interrupted by a daemon restart', completed_at = ?,
                    duration_seconds = ? - created_at WHERE status IN ('queued', 'processing') AND source = 'recording'
                """, [.real(at), .real(at)])
            return c.changes
        }
    }

    func job(_ id: String) throws -> Job? {
        try database.read { c in
            try c.query("""
                SELECT id, recording_id, source, status, task_id, progress_percent, current_step, size_bytes, created_at,
                       completed_at, duration_seconds, estimated_seconds, result, error FROM ingestion_jobs WHERE id = ?
                """, [.text(id)]) { s in
                Job(id: s.string(0) ?? "", recordingID: s.string(1), source: s.string(2) ?? "", status: s.string(3) ?? "",
                    taskID: s.string(4), progressPercent: Int(s.int64(5)), currentStep: s.string(6), sizeBytes: Int(s.int64(7)),
                    createdAt: s.double(8), completedAt: s.isNull(9) ? nil : s.double(9),
                    durationSeconds: s.isNull(10) ? nil : s.double(10), estimatedSeconds: s.isNull(11) ? nil : s.double(11),
                    result: s.string(12), error: s.string(13))
            }.first
        }
    }

    struct Throughput: Sendable {
        var jobs = 0, completed = 0, failed = 0, bytes = 0
        var averageDuration: Double?
        var maxDuration: Double?
    }

    /// Jobs created since `since`, aggregated like the original (sum of sizes, mean and max duration).
    func throughput(since: Double) throws -> Throughput {
        try database.read { c in
            try c.query("""
                SELECT COUNT(*), COALESCE(SUM(status = 'completed'), 0), COALESCE(SUM(status = 'failed'), 0),
                       COALESCE(SUM(CASE WHEN status = 'completed' THEN size_bytes ELSE 0 END), 0),
                       AVG(duration_seconds), MAX(duration_seconds)
                FROM ingestion_jobs WHERE created_at >= ?
                """, [.real(since)]) { s in
                Throughput(jobs: Int(s.int64(0)), completed: Int(s.int64(1)), failed: Int(s.int64(2)), bytes: Int(s.int64(3)),
                           averageDuration: s.isNull(4) ? nil : s.double(4), maxDuration: s.isNull(5) ? nil : s.double(5))
            }.first ?? Throughput()
        }
    }

    /// Measured bytes per second of completed recording ingests (nil before the first one): estimates.
    func measuredBytesPerSecond() throws -> Double? {
        try database.read { c in
            try c.scalar("""
                SELECT SUM(size_bytes) / SUM(duration_seconds) FROM ingestion_jobs
                WHERE status = 'completed' AND source = 'recording' AND duration_seconds > 0
                """)?.double
        }
    }
}
