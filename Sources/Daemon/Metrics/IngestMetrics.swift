import Dispatch

/// `POST /feed/data` outcomes, records and latency (validation + durable commit), counted by the feed
/// route itself: lock-free atomics, like ``HTTPMetrics``.
public final class IngestMetrics: Sendable {
    public enum Outcome: String, CaseIterable, Sendable {
        /// Committed (`accepted` or `warming_up`).
        case accepted
        /// 422: nothing stored.
        case rejected
        /// Storage failure (500): nothing stored.
        case failed
    }

    let batches: [MetricCounter] = Outcome.allCases.map { _ in MetricCounter() }
    /// Records in committed batches.
    public let records = MetricCounter()
    /// Time from the body's arrival in the handler to the commit being durable (or the rejection).
    public let duration = DurationHistogram(bounds: DurationHistogram.requestBounds)

    public init() {}

    public func record(_ outcome: Outcome, records count: Int, startedAt: UInt64) {
        batches[Outcome.allCases.firstIndex(of: outcome)!].increment()
        if outcome == .accepted { records.increment(by: UInt64(max(0, count))) }
        duration.observe(nanoseconds: DispatchTime.now().uptimeNanoseconds &- startedAt)
    }

    public func batches(_ outcome: Outcome) -> UInt64 { batches[Outcome.allCases.firstIndex(of: outcome)!].count }

    func write(to out: inout PrometheusText) {
        out.family("argus_feed_batches_total", "counter", "POST /feed/data batches by outcome (accepted, rejected = 422, failed = storage error).")
        for (outcome, counter) in zip(Outcome.allCases, batches) {
            out.sampleCount("argus_feed_batches_total", [("outcome", outcome.rawValue)], counter.count)
        }
        out.family("argus_feed_records_total", "counter", "Records in committed feed batches.")
        out.sampleCount("argus_feed_records_total", [], records.count)
        out.family("argus_feed_ingest_duration_seconds", "histogram", "Validation plus durable SQLite commit of one feed batch.")
        out.histogram("argus_feed_ingest_duration_seconds", [], duration)
    }
}
