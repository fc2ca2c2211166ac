import Synchronization

/// A monotonically increasing count: one relaxed atomic add per event, no lock (the request hot path
/// increments these).
public final class MetricCounter: Sendable {
    private let value = Atomic<UInt64>(0)
    public init() {}
    @inline(__always) public func increment(by amount: UInt64 = 1) { value.wrappingAdd(amount, ordering: .relaxed) }
    public var count: UInt64 { value.load(ordering: .relaxed) }
}

/// A Prometheus histogram of durations with fixed bucket bounds. Observing is a short linear scan over
/// the bounds and three relaxed atomic adds (bucket, count, sum in nanoseconds): no lock, no allocation.
/// A scrape may see a count one ahead of the buckets' total while an observation is under way; the
/// writer takes the cumulative buckets and makes `+Inf` equal to their total, so every exposition is
/// self-consistent.
public final class DurationHistogram: Sendable {
    /// Upper bounds in seconds (ascending), without `+Inf`.
    public let bounds: [Double]
    private let boundNanoseconds: [UInt64]
    private let buckets: [MetricCounter]
    private let sumNanoseconds = MetricCounter()

    /// Request latencies: 0.25 ms … 10 s.
    public static let requestBounds: [Double] = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]
    /// Inference phases: 0.1 ms … 30 s (a forward over a large fleet on a busy machine).
    public static let phaseBounds: [Double] = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    public init(bounds: [Double]) {
        self.bounds = bounds
        boundNanoseconds = bounds.map { UInt64(($0 * 1e9).rounded()) }
        buckets = (0...bounds.count).map { _ in MetricCounter() }   // the last one is +Inf
    }

    @inline(__always) public func observe(nanoseconds: UInt64) {
        var index = 0
        while index < boundNanoseconds.count && nanoseconds > boundNanoseconds[index] { index += 1 }
        buckets[index].increment()
        sumNanoseconds.increment(by: nanoseconds)
    }

    public func observe(seconds: Double) {
        observe(nanoseconds: seconds.isFinite && seconds > 0 ? UInt64(seconds * 1e9) : 0)
    }

    /// Cumulative counts per bound (the last is `+Inf`, the total) and the sum in seconds.
    public func read() -> (cumulative: [UInt64], sumSeconds: Double) {
        var running: UInt64 = 0
        let cumulative = buckets.map { bucket -> UInt64 in running += bucket.count; return running }
        return (cumulative, Double(sumNanoseconds.count) / 1e9)
    }

    public var count: UInt64 { buckets.reduce(0) { $0 + $1.count } }
}
