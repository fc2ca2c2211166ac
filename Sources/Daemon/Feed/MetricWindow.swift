/// A server's rolling window: the latest `capacity` steps of its 14 metrics, as a fixed-capacity ring
/// buffer in struct-of-arrays layout (`values[metric * capacity + slot]`, Float32), plus a per-step
/// status code and an `observed` mask. Allocated once; never grows.
///
/// The ring is addressed by absolute step number (`slot = step mod capacity`), so the step of every
/// slot is implied by `headStep` and nothing else is stored per step.
///
/// Gaps: when the next observed step is `g` steps after the head with `1 ≤ g − 1 ≤ maxFillGap` missing
/// steps, the missing steps are forward-filled with the last observed values and status and marked
/// `observed = 0`. A longer gap starts a new segment: the window restarts at the new step (the model then
/// sees a shorter encoder history instead of hours of invented flat data).
public struct MetricWindow: Sendable {
    public let capacity: Int
    public let maxFillGap: Int
    /// `[metric * capacity + slot]`
    public private(set) var values: [Float]
    /// `ServerStatus.code` per slot.
    public private(set) var status: [UInt8]
    /// 1 where the step had samples, 0 where it was forward-filled.
    public private(set) var observed: [UInt8]
    /// Step number (`step_ts / stepSeconds`) of the newest slot; meaningless while `count == 0`.
    public private(set) var headStep: Int64 = 0
    /// Number of valid consecutive steps ending at `headStep` (≤ capacity).
    public private(set) var count: Int = 0

    public init(capacity: Int, maxFillGap: Int) {
        precondition(capacity > 0 && maxFillGap >= 0 && maxFillGap < capacity)
        self.capacity = capacity
        self.maxFillGap = maxFillGap
        values = [Float](repeating: 0, count: capacity * MetricField.count)
        status = [UInt8](repeating: 0, count: capacity)
        observed = [UInt8](repeating: 0, count: capacity)
    }

    /// Step number of the oldest valid slot.
    public var firstStep: Int64 { headStep - Int64(count) + 1 }

    @inline(__always)
    func slot(_ step: Int64) -> Int {
        let r = Int(step % Int64(capacity))
        return r < 0 ? r + capacity : r
    }

    public enum ApplyOutcome: Equatable, Sendable {
        case applied
        /// The step precedes the window's current segment but could still be in range: rebuild the window
        /// from storage so the result equals an in-order replay.
        case needsRebuild
        /// Older than anything the window can hold; kept in storage only.
        case tooOld
    }

    /// Writes the aggregated values of `step` (as stored in SQLite after merging).
    public mutating func apply(step: Int64, values newValues: [Double], status newStatus: ServerStatus) -> ApplyOutcome {
        applyRow(step: step, status: newStatus) { Float(newValues[$0]) }
    }

    /// Applies `steps.count` rows in the order given (`values` row-major, `MetricField.count` per row): the same
    /// window as `apply(step:values:status:)` row by row. A run of consecutive steps right after the head (a
    /// replay's usual case) is written metric by metric, so each metric's slots are touched as one block
    /// instead of 14 scattered cache lines per row; any other row takes the single-row path.
    mutating func applyInOrder(steps: UnsafeBufferPointer<Int64>, values: UnsafePointer<Float>, status: UnsafeBufferPointer<UInt8>) {
        let n = steps.count, metrics = MetricField.count, capacity = self.capacity
        var i = 0
        while i < n {
            guard count == 0 || steps[i] == headStep + 1 else {
                let row = values + i * metrics
                _ = applyRow(step: steps[i], status: ServerStatus.allCases[Int(status[i])]) { row[$0] }
                i += 1
                continue
            }
            var run = 1
            while i + run < n, steps[i + run] == steps[i] + Int64(run) { run += 1 }
            let first = slot(steps[i])
            self.values.withUnsafeMutableBufferPointer { buffer in
                for m in 0..<metrics {
                    let base = buffer.baseAddress! + m * capacity
                    var s = first
                    for k in 0..<run {
                        base[s] = values[(i + k) * metrics + m]
                        s += 1
                        if s == capacity { s = 0 }
                    }
                }
            }
            var s = first
            for k in 0..<run {
                self.status[s] = status[i + k]
                observed[s] = 1
                s += 1
                if s == capacity { s = 0 }
            }
            count = min(count + run, capacity)
            headStep = steps[i + run - 1]
            i += run
        }
    }

    @inline(__always)
    private mutating func applyRow(step: Int64, status newStatus: ServerStatus, _ value: (Int) -> Float) -> ApplyOutcome {
        if count == 0 {
            headStep = step
            count = 1
            write(step: step, value, newStatus)
            return .applied
        }
        if step > headStep {
            let gap = Int(min(step - headStep - 1, Int64(Int.max / 2)))
            if gap > maxFillGap {
                headStep = step
                count = 1
                write(step: step, value, newStatus)
                return .applied
            }
            let source = slot(headStep)
            var fill = headStep + 1
            while fill < step {
                copySlot(from: source, to: slot(fill))
                fill += 1
            }
            headStep = step
            count = min(count + gap + 1, capacity)
            write(step: step, value, newStatus)
            return .applied
        }
        if step >= firstStep {
            write(step: step, value, newStatus)
            // re-derive forward-filled steps that followed it
            let source = slot(step)
            var next = step + 1
            while next <= headStep, observed[slot(next)] == 0 {
                copySlot(from: source, to: slot(next))
                next += 1
            }
            return .applied
        }
        return step > headStep - Int64(capacity) ? .needsRebuild : .tooOld
    }

    @inline(__always)
    private mutating func write(step: Int64, _ value: (Int) -> Float, _ newStatus: ServerStatus) {
        let s = slot(step)
        values.withUnsafeMutableBufferPointer { buffer in
            for m in 0..<MetricField.count { buffer[m * capacity + s] = value(m) }
        }
        status[s] = newStatus.code
        observed[s] = 1
    }

    private mutating func copySlot(from source: Int, to target: Int) {
        values.withUnsafeMutableBufferPointer { buffer in
            for m in 0..<MetricField.count { buffer[m * capacity + target] = buffer[m * capacity + source] }
        }
        status[target] = status[source]
        observed[target] = 0
    }

    /// Copies the latest `n` steps (n ≤ count) of `metric` into `target[0..<n]`, oldest first.
    public func copyLatest(_ n: Int, metric: Int, into target: UnsafeMutableBufferPointer<Float>) {
        precondition(n <= count && n <= target.count)
        guard n > 0 else { return }
        let start = slot(headStep - Int64(n) + 1)
        let firstRun = min(n, capacity - start)
        values.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress! + metric * capacity
            target.baseAddress!.update(from: base + start, count: firstRun)
            if firstRun < n { (target.baseAddress! + firstRun).update(from: base, count: n - firstRun) }
        }
    }

    /// Copies the latest `n` entries of a per-slot array (status or observed) oldest first.
    func latest(_ n: Int, of array: [UInt8]) -> [UInt8] {
        guard n > 0 else { return [] }
        let start = slot(headStep - Int64(n) + 1)
        let firstRun = min(n, capacity - start)
        var out = Array(array[start..<(start + firstRun)])
        if firstRun < n { out += array[0..<(n - firstRun)] }
        return out
    }

    /// Value of `metric` at `step`, or nil outside the window.
    public func value(_ metric: MetricField, at step: Int64) -> Float? {
        guard count > 0, step <= headStep, step >= firstStep else { return nil }
        return values[metric.index * capacity + slot(step)]
    }

    /// Whether `step` had samples (nil outside the window).
    public func isObserved(_ step: Int64) -> Bool? {
        guard count > 0, step <= headStep, step >= firstStep else { return nil }
        return observed[slot(step)] == 1
    }

    /// Bytes held by the buffers (values + status + mask).
    public var memoryBytes: Int { values.count * MemoryLayout<Float>.stride + status.count + observed.count }
}
