import Foundation
import Synchronization

/// A FIFO of task ids drained by a fixed set of worker threads, so tasks run off the HTTP threads and a
/// burst of submissions queues instead of spawning work. Also tracks cancellations and who waits for what.
final class TaskQueue: Sendable {
    private struct State {
        var pending: [String] = []
        var running: Set<String> = []
        var stopping = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let workers = DispatchGroup()
    private let waiters = Mutex<[String: [DispatchSemaphore]]>([:])
    private let cancellations = Mutex<Set<String>>([])
    let workerCount: Int

    init(workerCount: Int) { self.workerCount = workerCount }

    /// Starts the workers; each calls `run` for one task id at a time.
    func start(_ run: @escaping @Sendable (String) -> Void) {
        for index in 0..<workerCount {
            workers.enter()
            let thread = Thread { [self] in
                defer { workers.leave() }
                while true {
                    available.wait()
                    let next = state.withLock { s -> String?? in
                        if s.stopping { return .some(nil) }
                        guard !s.pending.isEmpty else { return nil }
                        let id = s.pending.removeFirst()
                        s.running.insert(id)
                        return .some(id)
                    }
                    guard let next else { continue }
                    guard let id = next else { return }
                    run(id)
                    state.withLock { _ = $0.running.remove(id) }
                    cancellations.withLock { _ = $0.remove(id) }
                    let waiting = waiters.withLock { $0.removeValue(forKey: id) ?? [] }
                    for waiter in waiting { waiter.signal() }
                }
            }
            thread.name = "orchestration-worker-\(index)"
            thread.start()
        }
    }

    /// Stops taking tasks and waits (bounded) for the running ones; queued ids stay pending in SQLite.
    func stop(timeout: Double = 30) {
        let wasStopping = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return s.stopping
        }
        guard !wasStopping else { return }
        for _ in 0..<workerCount { available.signal() }
        _ = workers.wait(timeout: .now() + timeout)
    }

    func enqueue(_ id: String) {
        let accepted = state.withLock { s -> Bool in
            guard !s.stopping, !s.pending.contains(id), !s.running.contains(id) else { return false }
            s.pending.append(id)
            return true
        }
        if accepted { available.signal() }
    }

    /// Removes a queued id (cancel before it ran); false when it was not queued.
    func removeQueued(_ id: String) -> Bool {
        state.withLock { s in
            guard let index = s.pending.firstIndex(of: id) else { return false }
            s.pending.remove(at: index)
            return true
        }
    }

    func isRunning(_ id: String) -> Bool { state.withLock { $0.running.contains(id) } }

    /// Asks a running task to stop before its next iteration.
    func requestCancel(_ id: String) { cancellations.withLock { _ = $0.insert(id) } }
    func isCancelled(_ id: String) -> Bool { cancellations.withLock { $0.contains(id) } }

    /// Blocks until `id` has been run (or `timeout` passes); true when it finished.
    func wait(for id: String, timeout: Double, isFinished: () -> Bool) -> Bool {
        let semaphore = DispatchSemaphore(value: 0)
        waiters.withLock { $0[id, default: []].append(semaphore) }
        if isFinished() {
            waiters.withLock { $0[id]?.removeAll { $0 === semaphore } }
            return true
        }
        return semaphore.wait(timeout: .now() + timeout) == .success
    }

    var depth: (queued: Int, running: Int) { state.withLock { ($0.pending.count, $0.running.count) } }
}
