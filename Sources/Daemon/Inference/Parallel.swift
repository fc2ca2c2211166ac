import Dispatch
import Foundation

/// Splits independent per-server work of an inference run (risk scoring, JSON encoding) across the cores.
/// The run's other big stage, the TFT forward, already uses both cores; these stages ran on one.
enum Parallel {
    /// Worker threads: the active cores, at most 4 (the stages are short; more threads only add overhead).
    static let threads = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))

    /// `(0..<count).map(body)`, computed in `threads` contiguous chunks when there are at least `grain`
    /// items per chunk; in order, and serially for small counts.
    static func map<T>(_ count: Int, grain: Int = 8, _ body: (Int) -> T) -> [T] {
        let workers = min(threads, count / max(1, grain))
        if workers <= 1 { return (0..<count).map(body) }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let base = SendablePointer(buffer.baseAddress!)
            withoutActuallyEscaping(body) { body in
                let shared = UncheckedBox(body)
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    let lo = count * w / workers, hi = count * (w + 1) / workers
                    for i in lo..<hi { (base.pointer + i).initialize(to: shared.value(i)) }
                }
            }
            initialized = count
        }
    }
}

/// A pointer handed to worker threads that each write a disjoint range.
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
