import Foundation
import HTTPServer

/// The console's kernels: the module's worker threads, with the operator's start/stop choice persisted so a
/// kernel stopped by hand stays stopped across restarts.
final class KernelRegistry: Sendable {
    static let actions = ["start", "stop", "restart", "stress"]
    /// A kernel stress run: this many synthetic tasks of `StressRunner.taskBytes`, pinned to the kernel.
    static let stressTasks = 16

    let kernels: [Kernel]
    let queue: HTMQueue
    let learning: LearningStore
    let clock: any DaemonClock

    init(count: Int, queue: HTMQueue, work: TaskWork, learning: LearningStore, clock: any DaemonClock) {
        kernels = (1...count).map { Kernel(name: String(format: "htm-kernel-%02d", $0), queue: queue, work: work, clock: clock) }
        self.queue = queue
        self.learning = learning
        self.clock = clock
    }

    func kernel(_ id: String) -> Kernel? { kernels.first { $0.id == id } }

    func runningKernelIDs() -> [String] { kernels.filter { $0.status.running }.map(\.id) }

    private func stoppedKey(_ kernel: Kernel) -> String { "kernel.\(kernel.id).stopped" }

    /// Starts every kernel the operator has not stopped.
    func startAll() throws {
        for kernel in kernels where try learning.setting(stoppedKey(kernel)) == nil { kernel.start() }
    }

    func stopAll() {
        for kernel in kernels { kernel.stop() }
    }

    /// Runs a control action. Returns extra response members (boot time, stress measurements).
    func control(_ kernel: Kernel, action: String) throws -> [(String, JSONValue)] {
        let begin = DispatchTime.now().uptimeNanoseconds
        var extra: [(String, JSONValue)] = []
        switch action {
        case "start":
            try learning.setSetting(stoppedKey(kernel), nil)
            let boot = kernel.start()
            extra.append(("boot_time_ms", TelemetryFormat.number(boot ?? kernel.status.bootMilliseconds, places: 3)))
            extra.append(("already_running", .bool(boot == nil)))
        case "stop":
            kernel.stop()
            try learning.setSetting(stoppedKey(kernel), "1")
        case "restart":
            kernel.stop()
            try learning.setSetting(stoppedKey(kernel), nil)
            let boot = kernel.start()
            extra.append(("boot_time_ms", TelemetryFormat.number(boot, places: 3)))
            try learning.recordPlaybook("kernel_restart", success: boot != nil, seconds: seconds(since: begin),
                                        detail: kernel.name, at: clock.now().timeIntervalSince1970)
        default:
            extra = try stress(kernel)
        }
        kernel.log.append("info", "control action \(action)")
        return extra
    }

    /// Runs `stressTasks` hashing tasks on this kernel alone and reports what it measured.
    private func stress(_ kernel: Kernel) throws -> [(String, JSONValue)] {
        guard kernel.status.running else { throw telemetryError(.conflict, "Kernel \(kernel.id) is not running; start it first", code: "KERNEL_STOPPED") }
        let begin = DispatchTime.now().uptimeNanoseconds
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeCounter()
        let listener = queue.onFinished { task in
            guard outcome.belongs(task.id) else { return }
            outcome.record(failed: task.status == "failed")
            done.signal()
        }
        defer { queue.removeListener(listener) }
        let tasks = (1...Self.stressTasks).map { i in
            NewTask(kind: .synthetic, description: "kernel stress \(kernel.name) #\(i)", priority: .high, sizeBytes: StressRunner.taskBytes,
                    payload: TaskPayload(bytes: StressRunner.taskBytes), kernelAffinity: kernel.id)
        }
        // Register the ids before the tasks can run: the listener ignores tasks it does not know.
        try queue.submit(goal: "Stress kernel \(kernel.name)", origin: "remote", tasks: tasks) { outcome.expect(Set($0)) }
        var finished = 0
        while finished < Self.stressTasks, done.wait(timeout: .now() + 60) == .success { finished += 1 }
        let seconds = seconds(since: begin)
        let failed = outcome.failed
        let completed = finished - failed
        let success = finished == Self.stressTasks && failed == 0
        try learning.recordPlaybook("kernel_stress", success: success, seconds: seconds, detail: kernel.name, at: clock.now().timeIntervalSince1970)
        if !success { throw telemetryError(.internalServerError, "Stress run on \(kernel.id) finished \(finished)/\(Self.stressTasks) tasks, \(failed) failed", code: "EXECUTION_FAILED") }
        let megabytes = TelemetryFormat.megabytes(completed * StressRunner.taskBytes)
        return [("stress", .object([
            ("tasks", .int(completed)), ("megabytes_hashed", TelemetryFormat.number(megabytes)),
            ("duration_ms", TelemetryFormat.number(seconds * 1000)),
            ("throughput_mb_per_second", TelemetryFormat.number(seconds > 0 ? megabytes / seconds : nil)),
            ("stress_score", .int(kernel.status.stressScore)),
        ]))]
    }

    private func seconds(since begin: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9 }
}

/// Which tasks a kernel stress run waits for, and how many of them failed.
private final class OutcomeCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var ids = Set<String>()
    private var failures = 0
    func expect(_ ids: Set<String>) { lock.withLock { self.ids = ids } }
    func belongs(_ id: String) -> Bool { lock.withLock { ids.contains(id) } }
    func record(failed: Bool) { lock.withLock { if failed { failures += 1 } } }
    var failed: Int { lock.withLock { failures } }
}
