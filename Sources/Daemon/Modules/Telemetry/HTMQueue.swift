import Foundation
import Synchronization

/// The console's HTM queue: pending tasks ordered by priority then age, handed to kernels one at a time.
///
/// SQLite (``HTMTaskStore``) holds every task; this object holds only the dispatch order and the counts the
/// WebSocket and `/htm/queue` read without touching the database. `@unchecked Sendable`: `pending`,
/// `activeCount` and `closed` are only touched with `condition` locked.
final class HTMQueue: @unchecked Sendable {
    private struct Entry {
        var task: HTMTask
    }

    let store: HTMTaskStore
    private let clock: any DaemonClock
    private let condition = NSCondition()
    private var pending: [String: Entry] = [:]
    private var activeCount = 0
    private var closed = false
    private let finishedListeners = Mutex<[(UInt64, @Sendable (HTMTask) -> Void)]>([])
    private let nextListener = Atomic<UInt64>(1)

    init(store: HTMTaskStore, clock: any DaemonClock) {
        self.store = store
        self.clock = clock
    }

    /// Loads pending tasks (and re-queues those a crash left active). Returns how many were re-queued.
    @discardableResult
    func restore() throws -> Int {
        let requeued = try store.requeueInterrupted()
        let tasks = try store.tasks(where: "status = 'pending'")
        condition.withLock { for t in tasks { pending[t.id] = Entry(task: t) } }
        return requeued
    }

    /// Persists a new intent with its tasks, then makes the tasks runnable.
    @discardableResult
    /// `register` sees the new task ids before any kernel can take them (for callers that wait on them).
    func submit(goal: String, origin: String, tasks newTasks: [NewTask], intentID existing: String? = nil,
                register: ([String]) -> Void = { _ in }) throws
        -> (intentID: String, tasks: [HTMTask]) {
        let now = clock.now().timeIntervalSince1970
        let intentID = existing ?? TelemetryFormat.id("intent")
        let tasks = newTasks.map { n in
            HTMTask(id: TelemetryFormat.id("task"), intentID: intentID, origin: origin, kind: n.kind, description: n.description,
                    status: "pending", priority: n.priority, sizeBytes: n.sizeBytes, payload: n.payload,
                    kernelAffinity: n.kernelAffinity, kernelID: nil, slaMilliseconds: n.priority.slaMilliseconds,
                    slaMet: nil, escalatedAt: nil, attempt: 1, createdAt: now)
        }
        try store.insert(intentID: intentID, goal: goal, origin: origin, tasks: tasks, at: now)
        register(tasks.map(\.id))
        condition.withLock {
            for t in tasks { pending[t.id] = Entry(task: t) }
            condition.broadcast()
        }
        return (intentID, tasks)
    }

    /// Blocks up to `timeout` seconds for the best task `kernel` may run; marks it active.
    /// `shouldStop` is checked on every wake-up, so a stopping kernel returns at once.
    func next(for kernel: String, timeout: Double, shouldStop: () -> Bool) -> HTMTask? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        var picked: HTMTask?
        while !closed && !shouldStop() {
            picked = best(for: kernel)
            if picked != nil { break }
            if !condition.wait(until: deadline) { break }
        }
        if var task = picked {
            pending[task.id] = nil
            activeCount += 1
            condition.unlock()
            task.status = "active"
            task.kernelID = kernel
            task.startedAt = clock.now().timeIntervalSince1970
            do { try store.markActive(task.id, kernel: kernel, at: task.startedAt!) } catch {
                // The row stays pending in SQLite; the finish below still records the outcome.
            }
            return task
        }
        condition.unlock()
        return nil
    }

    private func best(for kernel: String) -> HTMTask? {
        var best: HTMTask?
        for entry in pending.values where entry.task.kernelAffinity == nil || entry.task.kernelAffinity == kernel {
            let t = entry.task
            guard let b = best else { best = t; continue }
            if t.priority > b.priority || (t.priority == b.priority && (t.createdAt, t.id) < (b.createdAt, b.id)) { best = t }
        }
        return best
    }

    /// Records a task's outcome and tells the listeners.
    func finish(_ task: HTMTask, result: String?, error: String?) {
        var task = task
        let now = clock.now().timeIntervalSince1970
        task.status = error == nil ? "completed" : "failed"
        task.error = error
        task.completedAt = now
        task.durationSeconds = task.startedAt.map { max(0, now - $0) }
        task.slaMet = (now - task.createdAt) * 1000 <= Double(task.slaMilliseconds) && task.escalatedAt == nil
        try? store.markFinished(task, result: result)
        condition.withLock { activeCount -= 1 }
        for (_, listener) in finishedListeners.withLock({ $0 }) { listener(task) }
    }

    /// Calls `listener` after every finished task; returns a token for ``removeListener(_:)``.
    @discardableResult
    func onFinished(_ listener: @escaping @Sendable (HTMTask) -> Void) -> UInt64 {
        let id = nextListener.wrappingAdd(1, ordering: .relaxed).oldValue
        finishedListeners.withLock { $0.append((id, listener)) }
        return id
    }

    func removeListener(_ id: UInt64) { finishedListeners.withLock { $0.removeAll { $0.0 == id } } }

    /// The priority override: only a pending or active task may change. Returns the old priority.
    func reprioritise(_ id: String, to priority: TaskPriority, reason: String, client: String) throws -> TaskPriority? {
        let now = clock.now().timeIntervalSince1970
        let inMemory = condition.withLock { pending[id]?.task.priority }
        guard let old = try inMemory ?? store.task(id).flatMap({ $0.status == "active" ? $0.priority : nil }) else { return nil }
        try store.setPriority(id, from: old, to: priority, reason: reason, client: client, at: now)
        condition.withLock {
            pending[id]?.task.priority = priority
            pending[id]?.task.slaMilliseconds = priority.slaMilliseconds
            condition.broadcast()
        }
        return old
    }

    /// The SLA enforcer's raise of a pending task's priority in the dispatch order.
    func raisePending(_ id: String, to priority: TaskPriority, at: Double) {
        condition.withLock {
            pending[id]?.task.priority = priority
            if pending[id]?.task.escalatedAt == nil { pending[id]?.task.escalatedAt = at }
        }
    }

    /// Removes still-pending tasks matching `predicate` (a stress test's leftovers), failing them.
    func cancelPending(reason: String, where predicate: (HTMTask) -> Bool) -> Int {
        let removed = condition.withLock { () -> [HTMTask] in
            let matching = pending.values.map(\.task).filter(predicate)
            for t in matching { pending[t.id] = nil }
            activeCount += matching.count  // finish() decrements once per task
            return matching
        }
        for t in removed { finish(t, result: nil, error: reason) }
        return removed.count
    }

    var counts: (pending: Int, active: Int) { condition.withLock { (pending.count, activeCount) } }

    /// Pending tasks in dispatch order (for `/htm/queue`).
    func pendingInOrder(limit: Int) -> [HTMTask] {
        let all = condition.withLock { pending.values.map(\.task) }
        return Array(all.sorted { a, b in a.priority != b.priority ? a.priority > b.priority : (a.createdAt, a.id) < (b.createdAt, b.id) }
            .prefix(limit))
    }

    /// Wakes every waiting kernel (a kernel stopping, or shutdown with `close`).
    func wakeAll(close: Bool = false) {
        condition.withLock {
            if close { closed = true }
            condition.broadcast()
        }
    }
}
