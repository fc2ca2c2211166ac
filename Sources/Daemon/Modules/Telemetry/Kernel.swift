import Foundation
import Synchronization
import Training

/// A console "kernel": one worker thread of the module that takes tasks from the HTM queue and runs them.
/// start/stop/restart act on the real thread; the numbers it reports are measured on it.
final class Kernel: Sendable {
    struct Status: Sendable {
        var status: String          // active | idle | booting | error
        var health: String          // healthy | degraded | unhealthy | unknown
        var running: Bool
        var busy: Bool
        var bootMilliseconds: Double?
        var startedAt: Double?
        var lastHeartbeat: Double?
        var stressScore: Int
        var currentTask: String?
    }

    private struct State {
        var running = false
        var booting = false
        var generation = 0
        var bootMilliseconds: Double?
        var startedAt: Double?
        var heartbeat: Double?
        var busySince: Double?
        var currentTask: String?
        /// (end, busy seconds) of tasks finished in the last minute: the stress score's window.
        var recentWork: [(end: Double, seconds: Double)] = []
        /// Outcomes of the last 20 tasks (true = failed): health.
        var recentFailures: [Bool] = []
        var exited: DispatchSemaphore?
    }

    static let stressWindowSeconds = 60.0

    let id: String
    let name: String
    let log = KernelLog(capacity: 1_000)
    private let state = Mutex(State())
    private let queue: HTMQueue
    private let work: TaskWork
    private let clock: any DaemonClock

    init(name: String, queue: HTMQueue, work: TaskWork, clock: any DaemonClock) {
        self.name = name
        self.id = "kern-" + String(SHA256Digest.hex(Data(name.utf8)).prefix(8))
        self.queue = queue
        self.work = work
        self.clock = clock
    }

    /// Starts the worker thread and waits until it runs. Returns the measured boot time (ms), or nil when
    /// the kernel was already running.
    @discardableResult
    func start() -> Double? {
        let ready = DispatchSemaphore(value: 0)
        let exited = DispatchSemaphore(value: 0)
        let generation: Int? = state.withLock { s in
            guard !s.running else { return nil }
            s.running = true
            s.booting = true
            s.generation += 1
            s.exited = exited
            return s.generation
        }
        guard let generation else { return nil }
        let begin = DispatchTime.now().uptimeNanoseconds
        let thread = Thread { [self] in
            let booted = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6
            let now = clock.now().timeIntervalSince1970
            state.withLock { s in
                s.booting = false
                s.bootMilliseconds = booted
                s.startedAt = now
                s.heartbeat = now
            }
            ready.signal()
            log.append("info", "kernel started (boot \(String(format: "%.3f", booted)) ms)")
            loop(generation)
            log.append("info", "kernel stopped")
            exited.signal()
        }
        thread.name = name
        thread.start()
        ready.wait()
        return state.withLock { $0.bootMilliseconds }
    }

    /// Stops taking tasks, lets the current one finish, and waits for the thread to end.
    func stop() {
        let exited: DispatchSemaphore? = state.withLock { s in
            guard s.running else { return nil }
            s.running = false
            return s.exited
        }
        guard let exited else { return }
        queue.wakeAll()
        exited.wait()
        state.withLock { s in
            s.startedAt = nil
            s.exited = nil
        }
    }

    private func isCurrent(_ generation: Int) -> Bool { state.withLock { $0.running && $0.generation == generation } }

    private func loop(_ generation: Int) {
        while isCurrent(generation) {
            state.withLock { $0.heartbeat = clock.now().timeIntervalSince1970 }
            guard let task = queue.next(for: id, timeout: 1, shouldStop: { !isCurrent(generation) }) else { continue }
            run(task)
        }
    }

    private func run(_ task: HTMTask) {
        let begin = DispatchTime.now().uptimeNanoseconds
        state.withLock { s in
            s.busySince = clock.now().timeIntervalSince1970
            s.currentTask = task.id
        }
        log.append("info", "task \(task.id) started: \(task.description)")
        var result: String?
        var failure: String?
        do { result = try work.run(task) } catch { failure = String(describing: error) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9
        let now = clock.now().timeIntervalSince1970
        state.withLock { s in
            s.busySince = nil
            s.currentTask = nil
            s.heartbeat = now
            s.recentWork.append((now, seconds))
            s.recentWork.removeAll { $0.end < now - Self.stressWindowSeconds }
            s.recentFailures.append(failure != nil)
            if s.recentFailures.count > 20 { s.recentFailures.removeFirst() }
        }
        if let failure {
            log.append("error", "task \(task.id) failed after \(String(format: "%.3f", seconds)) s: \(failure)")
        } else {
            log.append("info", "task \(task.id) completed in \(String(format: "%.3f", seconds)) s")
        }
        queue.finish(task, result: result, error: failure)
    }

    var status: Status {
        let now = clock.now().timeIntervalSince1970
        return state.withLock { s in
            // Busy share of the last minute, counting the task in progress.
            let windowStart = now - Self.stressWindowSeconds
            var busy = s.recentWork.filter { $0.end >= windowStart }.reduce(0) { $0 + min($1.seconds, $1.end - windowStart) }
            if let since = s.busySince { busy += now - max(since, windowStart) }
            let score = Int((min(1, busy / Self.stressWindowSeconds) * 100).rounded())
            let failed = s.recentFailures.filter { $0 }.count
            let health: String
            if s.recentFailures.isEmpty { health = s.running ? "healthy" : "unknown" }
            else if s.recentFailures.count >= 4 && failed * 2 >= s.recentFailures.count { health = "unhealthy" }
            else if failed > 0 { health = "degraded" }
            else { health = "healthy" }
            let status = s.booting ? "booting" : !s.running ? "idle" : health == "unhealthy" ? "error" : "active"
            return Status(status: status, health: health, running: s.running, busy: s.busySince != nil,
                          bootMilliseconds: s.bootMilliseconds, startedAt: s.startedAt, lastHeartbeat: s.heartbeat,
                          stressScore: score, currentTask: s.currentTask)
        }
    }
}

/// A kernel's recent log lines (bounded ring), served by `/kernels/{id}/logs`.
final class KernelLog: Sendable {
    private let lines = Mutex<[String]>([])
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func append(_ level: String, _ message: String) {
        let line = "\(TelemetryFormat.iso(Date())) [\(level)] \(message)"
        lines.withLock { l in
            l.append(line)
            if l.count > capacity { l.removeFirst(l.count - capacity) }
        }
    }

    /// The newest `count` lines, oldest first.
    func tail(_ count: Int) -> [String] { lines.withLock { Array($0.suffix(count)) } }
    var count: Int { lines.withLock { $0.count } }
}
