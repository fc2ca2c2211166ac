import Foundation

/// SQL for stress tests: the row is written at start, updated every second while running, and closed with
/// the measured results.
struct StressStore: Sendable {
    let database: SQLiteDatabase

    struct Test: Sendable {
        var id, testType, intensity, status: String
        var durationMinutes: Double
        var startedAt, estimatedCompletion: Double
        var completedAt: Double?
        var progressPercent: Int
        var currentMetrics: [String: Double]?
        var results: StressResults?
        var error: String?
    }

    func insert(_ t: Test) throws {
        try database.write { c in
            try c.run("""
                INSERT INTO stress_tests (id, test_type, intensity, duration_minutes, status, started_at, estimated_completion, progress_percent)
                VALUES (?, ?, ?, ?, 'running', ?, ?, 0)
                """, [.text(t.id), .text(t.testType), .text(t.intensity), .real(t.durationMinutes), .real(t.startedAt),
                      .real(t.estimatedCompletion)])
        }
    }

    func progress(_ id: String, percent: Int, metrics: [String: Double]) throws {
        try database.write { c in
            try c.run("UPDATE stress_tests SET progress_percent = ?, current_metrics = ? WHERE id = ?",
                      [.integer(Int64(percent)), .text(TelemetryFormat.encode(metrics)), .text(id)])
        }
    }

    func finish(_ id: String, results: StressResults?, error: String?, at: Double) throws {
        try database.write { c in
            try c.run("""
                UPDATE stress_tests SET status = ?, progress_percent = CASE WHEN ? = 'completed' THEN 100 ELSE progress_percent END,
                    results = ?, error = ?, completed_at = ? WHERE id = ?
                """, [.text(error == nil ? "completed" : "failed"), .text(error == nil ? "completed" : "failed"),
                      results.map { .text(TelemetryFormat.encode($0)) } ?? .null, error.map { .text($0) } ?? .null, .real(at), .text(id)])
        }
    }

    func failInterrupted(at: Double) throws -> Int {
        try database.write { c in
            try c.run("""
                UPDATE stress_tests SET status = 'failed', error = 'interrupted by a daemon restart', completed_at = ?
                WHERE status = 'running'
                """, [.real(at)])
            return c.changes
        }
    }

    func test(_ id: String) throws -> Test? {
        try database.read { c in
            try c.query("""
                SELECT id, test_type, intensity, status, duration_minutes, started_at, estimated_completion, completed_at,
                       progress_percent, current_metrics, results, error FROM stress_tests WHERE id = ?
                """, [.text(id)]) { s in
                Test(id: s.string(0) ?? "", testType: s.string(1) ?? "", intensity: s.string(2) ?? "", status: s.string(3) ?? "",
                     durationMinutes: s.double(4), startedAt: s.double(5), estimatedCompletion: s.double(6),
                     completedAt: s.isNull(7) ? nil : s.double(7), progressPercent: Int(s.int64(8)),
                     currentMetrics: TelemetryFormat.decode([String: Double].self, s.string(9)),
                     results: TelemetryFormat.decode(StressResults.self, s.string(10)), error: s.string(11))
            }.first
        }
    }
}

/// A finished stress test's measured figures (the spec's `results`, plus the raw counts behind them).
struct StressResults: Codable, Sendable {
    var maxQueueDepth: Int
    var avgResponseTimeMs: Double
    var p95ResponseTimeMs: Double
    var errorRatePercent: Double
    var bottlenecks: [String]
    var tasksSubmitted: Int
    var tasksCompleted: Int
    var tasksFailed: Int
    var throughputTasksPerSecond: Double
    var cpuPercent: Double?
    var peakRSSMegabytes: Double?
    var databaseWriteP95Ms: Double?

    enum CodingKeys: String, CodingKey {
        case maxQueueDepth = "max_queue_depth", avgResponseTimeMs = "avg_response_time_ms", p95ResponseTimeMs = "p95_response_time_ms"
        case errorRatePercent = "error_rate_percent", bottlenecks, tasksSubmitted = "tasks_submitted"
        case tasksCompleted = "tasks_completed", tasksFailed = "tasks_failed", throughputTasksPerSecond = "throughput_tasks_per_second"
        case cpuPercent = "cpu_percent", peakRSSMegabytes = "peak_rss_mb", databaseWriteP95Ms = "database_write_p95_ms"
    }
}
