import Foundation

/// A fixed set of threads that run handlers which may block (SQLite, model work), so the event
/// loops never wait on them.
///
/// The queue is bounded: when it is full `submit` returns false and the server answers 503 instead
/// of queueing without limit.
///
/// `@unchecked Sendable`: all mutable state is guarded by `condition`.
public final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var stopping = false
    private var threads: [Thread] = []
    public let threadCount: Int
    public let maxQueuedJobs: Int

    /// - Parameters:
    ///   - threadCount: how many handlers may block at the same time.
    ///   - maxQueuedJobs: jobs waiting for a thread before new ones are refused.
    public init(threadCount: Int = 16, maxQueuedJobs: Int = 4096) {
        self.threadCount = max(1, threadCount)
        self.maxQueuedJobs = max(1, maxQueuedJobs)
        for index in 0..<self.threadCount {
            let thread = Thread { [self] in self.runWorker() }
            thread.name = "http-worker-\(index)"
            thread.stackSize = 1 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// Queues `job`; false when the queue is full or the pool has stopped.
    @discardableResult
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, jobs.count - head < maxQueuedJobs else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Lets queued jobs finish, then ends the threads (without waiting for them).
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func runWorker() {
        while true {
            condition.lock()
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count {
                condition.unlock()
                return
            }
            let job = jobs[head]
            head += 1
            // Compact occasionally so the array does not grow forever.
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}
