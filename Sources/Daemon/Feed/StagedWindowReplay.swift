/// Replays the restart's time-ordered scan (`ORDER BY step_ts, server_name`) into many servers' windows.
///
/// Row by row, each row wrote 14 floats `capacity` apart into one of 10,000 windows (1.6 GB in all): a cache
/// miss per metric per row. Here rows are staged per server (`stage` rows, one contiguous row of 14 floats
/// each) and handed to ``MetricWindow/applyInOrder(steps:values:status:)`` in blocks, in the same order, so the
/// windows equal a row-by-row replay. Servers are found by the scan's own order: within a step the rows come
/// sorted by name, so the next row is usually the next server of the sorted list (a byte comparison, no
/// `String`, no hashing); anything else is a binary search.
final class StagedWindowReplay {
    static let stage = 32

    /// This replay's servers, sorted by UTF-8 bytes (SQLite's order for `server_name`).
    let names: [String]
    private let nameBytes: [[UInt8]]
    private let from: [Int64]
    private(set) var windows: [MetricWindow]
    private let stepSeconds: Int64
    private var stagedValues: [Float]
    private var stagedSteps: [Int64]
    private var stagedStatus: [UInt8]
    private var stagedCount: [Int]
    private var cursor = -1
    private var statusCache: (bytes: [UInt8], code: UInt8)?

    /// - Parameter servers: each server's window so far and the first step timestamp to replay into it.
    init(servers: [(name: String, from: Int64, window: MetricWindow)], stepSeconds: Int64) {
        let sorted = servers.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        names = sorted.map(\.name)
        nameBytes = sorted.map { Array($0.name.utf8) }
        from = sorted.map(\.from)
        windows = sorted.map(\.window)
        self.stepSeconds = stepSeconds
        stagedValues = [Float](repeating: 0, count: sorted.count * Self.stage * MetricField.count)
        stagedSteps = [Int64](repeating: 0, count: sorted.count * Self.stage)
        stagedStatus = [UInt8](repeating: 0, count: sorted.count * Self.stage)
        stagedCount = [Int](repeating: 0, count: sorted.count)
    }

    /// The index of `name` in `names`: the row after the previous one's, the first one (a new step), or a search.
    private func find(_ name: UnsafeBufferPointer<UInt8>) -> Int? {
        func equal(_ i: Int) -> Bool { nameBytes[i].withUnsafeBufferPointer { $0.elementsEqual(name) } }
        let next = cursor + 1
        if next < names.count, equal(next) { return next }
        if !names.isEmpty, equal(0) { return 0 }
        var lo = 0, hi = names.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if nameBytes[mid].lexicographicallyPrecedes(name) { lo = mid + 1 } else { hi = mid }
        }
        return lo < names.count && equal(lo) ? lo : nil
    }

    /// One row of `MetricsTable.forEachStepRow`'s statement.
    func add(_ row: SQLiteStatement) {
        guard let server = row.withText(0, find) else { return }
        cursor = server
        let stepTimestamp = row.int64(1)
        guard stepTimestamp >= from[server] else { return }
        let metrics = MetricField.count
        let n = stagedCount[server], slot = server * Self.stage + n
        stagedValues.withUnsafeMutableBufferPointer { buffer in
            let target = buffer.baseAddress! + slot * metrics
            for m in 0..<metrics { target[m] = Float(row.double(Int32(2 + m))) }
        }
        stagedSteps[slot] = stepTimestamp / stepSeconds
        stagedStatus[slot] = statusCode(row)
        stagedCount[server] = n + 1
        if n + 1 == Self.stage { flush(server) }
    }

    private func statusCode(_ row: SQLiteStatement) -> UInt8 {
        row.withText(Int32(2 + MetricField.count)) { text in
            if let cached = statusCache, cached.bytes.elementsEqual(text) { return cached.code }
            let code = (ServerStatus(rawValue: String(decoding: text, as: UTF8.self)) ?? .healthy).code
            statusCache = (Array(text), code)
            return code
        }
    }

    private func flush(_ server: Int) {
        let n = stagedCount[server]
        guard n > 0 else { return }
        let first = server * Self.stage
        stagedSteps.withUnsafeBufferPointer { steps in
            stagedStatus.withUnsafeBufferPointer { status in
                stagedValues.withUnsafeBufferPointer { values in
                    windows[server].applyInOrder(steps: UnsafeBufferPointer(rebasing: steps[first..<(first + n)]),
                                                 values: values.baseAddress! + first * MetricField.count,
                                                 status: UnsafeBufferPointer(rebasing: status[first..<(first + n)]))
                }
            }
        }
        stagedCount[server] = 0
    }

    /// Applies what is still staged; returns every server's window.
    func finish() -> [(name: String, window: MetricWindow)] {
        for server in names.indices { flush(server) }
        return Array(zip(names, windows)).map { (name: $0.0, window: $0.1) }
    }
}
