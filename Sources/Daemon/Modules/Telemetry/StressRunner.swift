import Foundation
import HTTPServer
import Synchronization

/// Runs a stress test for real: synthetic hashing tasks injected into the HTM queue at the intensity's rate
/// for the requested duration, with the queue depth, task response times, errors, CPU, memory and (for
/// `full_system`) SQLite write latency measured while it runs. One test at a time.
final class StressRunner: Sendable {
    static let testTypes = ["kernel_only", "htm_queue", "full_system"]
    static let intensities = ["low", "medium", "high", "extreme"]
    static let taskBytes = 256 * 1024

    /// Tasks injected per second by intensity.
    static func rate(_ intensity: String) -> Double {
        switch intensity {
        case "low": 4
        case "medium": 16
        case "high": 64
        default: 256
        }
    }

    private struct Live {
        var responseMs: [Double] = []
        var failed = 0
        var finished = 0
        var slaBreaches = 0
    }

    let store: StressStore
    let queue: HTMQueue
    let kernels: KernelRegistry
    let database: SQLiteDatabase
    let learning: LearningLoop
    let clock: any DaemonClock
    let publish: @Sendable (String, JSONValue) -> Void
    private let current = Mutex<String?>(nil)
    /// Set by ``stop()``: the running test ends early and is recorded as failed.
    private let stopRequested = Atomic<Bool>(false)
    private let runFinished = Mutex<DispatchSemaphore?>(nil)

    init(store: StressStore, queue: HTMQueue, kernels: KernelRegistry, database: SQLiteDatabase, learning: LearningLoop,
         clock: any DaemonClock, publish: @escaping @Sendable (String, JSONValue) -> Void) {
        self.store = store
        self.queue = queue
        self.kernels = kernels
        self.database = database
        self.learning = learning
        self.clock = clock
        self.publish = publish
    }

    var runningTestID: String? { current.withLock { $0 } }

    /// Starts a test on its own thread; nil when one is already running.
    func start(testType: String, intensity: String, durationMinutes: Double) throws -> StressStore.Test? {
        let now = clock.now().timeIntervalSince1970
        let test = StressStore.Test(id: TelemetryFormat.id("stress"), testType: testType, intensity: intensity, status: "running",
                                    durationMinutes: durationMinutes, startedAt: now,
                                    estimatedCompletion: now + durationMinutes * 60, progressPercent: 0)
        let claimed = current.withLock { id -> Bool in
            guard id == nil else { return false }
            id = test.id
            return true
        }
        guard claimed, !stopRequested.load(ordering: .relaxed) else {
            if claimed { current.withLock { $0 = nil } }
            return nil
        }
        do { try store.insert(test) } catch {
            current.withLock { $0 = nil }
            throw error
        }
        let finished = DispatchSemaphore(value: 0)
        runFinished.withLock { $0 = finished }
        let thread = Thread { [self] in
            run(test)   // clears `current` itself before recording the end
            finished.signal()
        }
        thread.name = "telemetry-stress"
        thread.start()
        return test
    }

    private func run(_ test: StressStore.Test) {
        let live = Mutex(Live())
        let listener = queue.onFinished { task in
            guard task.payload.stressTestID == test.id else { return }
            live.withLock { l in
                l.finished += 1
                if task.status == "failed" { l.failed += 1 }
                else if let done = task.completedAt { l.responseMs.append((done - task.createdAt) * 1000) }
                if task.slaMet == false { l.slaBreaches += 1 }
            }
        }
        defer { queue.removeListener(listener) }
        let wallStart = Date()
        let cpuStart = ProcessStats.read().cpuSeconds
        let duration = test.durationMinutes * 60
        let rate = Self.rate(test.intensity)
        var submitted = 0, maxDepth = 0, peakRSS = 0
        var writeMs: [Double] = []
        var lastProgress = Date.distantPast
        var intentID: String?
        var failure: String?

        // Injection phase.
        while Date().timeIntervalSince(wallStart) < duration && !stopping {
            let elapsed = Date().timeIntervalSince(wallStart)
            let due = Int(elapsed * rate) + 1 - submitted
            if due > 0 {
                let running = kernels.runningKernelIDs()
                let batch = (0..<due).map { i -> NewTask in
                    let pin = test.testType == "kernel_only" && !running.isEmpty ? running[(submitted + i) % running.count] : nil
                    let priority: TaskPriority = test.testType == "kernel_only" ? .low : [.low, .normal, .high][(submitted + i) % 3]
                    return NewTask(kind: .synthetic, description: "stress \(test.id) #\(submitted + i + 1)", priority: priority,
                                   sizeBytes: Self.taskBytes, payload: TaskPayload(bytes: Self.taskBytes, stressTestID: test.id),
                                   kernelAffinity: pin)
                }
                do {
                    intentID = try queue.submit(goal: "Stress test \(test.id) (\(test.testType), \(test.intensity))", origin: "remote",
                                                tasks: batch, intentID: intentID ?? TelemetryFormat.id("intent")).intentID
                    submitted += batch.count
                } catch {
                    failure = "could not enqueue stress tasks: \(error)"
                    break
                }
            }
            let counts = queue.counts
            maxDepth = max(maxDepth, counts.pending + counts.active)
            if let rss = ProcessStats.read().residentBytes { peakRSS = max(peakRSS, rss) }
            if test.testType == "full_system", let ms = probeWrite() { writeMs.append(ms) }
            if Date().timeIntervalSince(lastProgress) >= 1 {
                lastProgress = Date()
                let snapshot = live.withLock { $0 }
                let metrics = currentMetrics(depth: counts.pending + counts.active, live: snapshot)
                let percent = min(99, Int(elapsed / duration * 100))
                try? store.progress(test.id, percent: percent, metrics: metrics)
                publish("stress_progress", ["stress_test_id": .string(test.id), "progress_percent": .int(percent),
                                            "queue_depth": .int(counts.pending + counts.active)])
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let depthAtEnd = queue.counts.pending + queue.counts.active
        // Drain phase: let the kernels finish what was injected, then cancel leftovers as errors.
        let drainDeadline = Date().addingTimeInterval(max(10, duration))
        while live.withLock({ $0.finished }) < submitted && Date() < drainDeadline && !stopping { Thread.sleep(forTimeInterval: 0.05) }
        if live.withLock({ $0.finished }) < submitted {
            _ = queue.cancelPending(reason: "stress test drain timeout") { $0.payload.stressTestID == test.id }
            let stragglerDeadline = Date().addingTimeInterval(30)
            while live.withLock({ $0.finished }) < submitted && Date() < stragglerDeadline && !stopping { Thread.sleep(forTimeInterval: 0.05) }
        }
        if stopping && failure == nil { failure = "stopped by a daemon shutdown" }
        let wall = Date().timeIntervalSince(wallStart)
        let final = live.withLock { $0 }
        var cpuPercent: Double?
        if let start = cpuStart, let end = ProcessStats.read().cpuSeconds, wall > 0 {
            cpuPercent = (end - start) / wall / Double(ProcessInfo.processInfo.activeProcessorCount) * 100
        }
        var bottlenecks: [String] = []
        if depthAtEnd > 2 * max(1, kernels.runningKernelIDs().count) { bottlenecks.append("kernel_capacity") }
        if let cpuPercent, cpuPercent > 85 { bottlenecks.append("cpu") }
        if Double(peakRSS) > 0.85 * Double(ProcessInfo.processInfo.physicalMemory) { bottlenecks.append("memory_usage") }
        if let p95 = TelemetryFormat.percentile(writeMs, 0.95), p95 > 50 { bottlenecks.append("database_writes") }
        if final.slaBreaches > 0 { bottlenecks.append("sla") }
        let results = StressResults(
            maxQueueDepth: maxDepth, avgResponseTimeMs: TelemetryFormat.mean(final.responseMs) ?? 0,
            p95ResponseTimeMs: TelemetryFormat.percentile(final.responseMs, 0.95) ?? 0,
            errorRatePercent: submitted == 0 ? 0 : Double(final.failed) / Double(submitted) * 100, bottlenecks: bottlenecks,
            tasksSubmitted: submitted, tasksCompleted: final.finished - final.failed, tasksFailed: final.failed,
            throughputTasksPerSecond: wall > 0 ? Double(final.finished - final.failed) / wall : 0, cpuPercent: cpuPercent,
            peakRSSMegabytes: peakRSS > 0 ? TelemetryFormat.megabytes(peakRSS) : nil,
            databaseWriteP95Ms: TelemetryFormat.percentile(writeMs, 0.95))
        let now = clock.now().timeIntervalSince1970
        let success = failure == nil && results.errorRatePercent < 5
        try? learning.store.recordPlaybook("stress_test", success: success, seconds: wall,
                                            detail: "\(test.testType)/\(test.intensity): \(submitted) tasks", at: now)
        try? learning.store.addRetrospective(.init(
            id: TelemetryFormat.id("retro"), cycleName: "stress \(test.id)",
            insights: [String(format: "%d tasks, avg response %.1f ms, p95 %.1f ms, errors %.1f %%", submitted, results.avgResponseTimeMs,
                              results.p95ResponseTimeMs, results.errorRatePercent),
                       "max queue depth \(maxDepth)"] + (failure.map { ["failed: \($0)"] } ?? []),
            improvements: bottlenecks.map { "relieve bottleneck: \($0)" },
            metrics: ["tasks_submitted": Double(submitted), "avg_response_time_ms": results.avgResponseTimeMs,
                      "error_rate_percent": results.errorRatePercent, "max_queue_depth": Double(maxDepth)], at: now))
        // Last, so a client that sees "completed" also finds the retrospective and the playbook run, and may
        // start the next test at once.
        current.withLock { $0 = nil }
        try? store.finish(test.id, results: failure == nil ? results : nil, error: failure, at: now)
        publish("stress_completed", ["stress_test_id": .string(test.id), "status": .string(failure == nil ? "completed" : "failed")])
    }

    private var stopping: Bool { stopRequested.load(ordering: .relaxed) }

    /// Ends a running test (recorded as failed) and waits for its thread; no test starts afterwards.
    func stop() {
        stopRequested.store(true, ordering: .relaxed)
        let finished = runFinished.withLock { s -> DispatchSemaphore? in defer { s = nil }; return s }
        finished?.wait()
    }

    private func currentMetrics(depth: Int, live: Live) -> [String: Double] {
        [
            "queue_depth": Double(depth),
            "avg_response_time_ms": ((TelemetryFormat.mean(live.responseMs) ?? 0) * 100).rounded() / 100,
            "error_rate_percent": live.finished == 0 ? 0 : (Double(live.failed) / Double(live.finished) * 10_000).rounded() / 100,
            "tasks_finished": Double(live.finished),
        ]
    }

    /// One timed write transaction against the module's database (full_system only).
    private func probeWrite() -> Double? {
        let begin = DispatchTime.now().uptimeNanoseconds
        do {
            try database.write { c in
                try c.run("INSERT INTO settings (key, value) VALUES ('stress.probe', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                          [.text(String(begin))])
            }
        } catch { return nil }
        return Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6
    }
}
