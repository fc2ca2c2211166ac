import Foundation
import HTTPServer
import Synchronization

/// `argusd collect`: reads this machine's /proc every `interval` seconds, queues one feed record per step in
/// a durable ``CollectorSpool`` and posts the queue, oldest first, to the daemon's `POST /feed/data`.
///
/// - Steps: records are stamped with the start of the step they describe, on the grid of `interval`
///   (multiples since the epoch), so every collector of the fleet lands on the same steps.
/// - Delivery: a record leaves the spool only after a 2xx for its batch. 429 waits `Retry-After`;
///   connection failures and 5xx back off (1 s doubling up to the interval); a 400/413/422 batch is retried record
///   by record and a record the daemon rejects on its own is moved aside (logged), never retried forever.
public final class Collector: Sendable {
    public struct Configuration: Sendable {
        public var serverName: String
        /// Step length in seconds (the grid).
        public var interval: Int64 = 300
        public var status = "healthy"
        /// Records per POST when catching up (the daemon accepts up to 10,000).
        public var batchSize = 500
        public init(serverName: String) { self.serverName = serverName }
    }

    /// What one ``flush()`` did.
    public struct FlushReport: Sendable, Equatable {
        public var delivered = 0
        public var uncertain = 0
        public var quarantined = 0
        public var remaining = 0
        /// Why flushing stopped early (daemon down, 429, 5xx), nil when the spool was emptied.
        public var stoppedBecause: String?
    }

    public let configuration: Configuration
    public let spool: CollectorSpool
    let reader: ProcReader
    let sender: any FeedSending
    let logger: Logger
    private struct State {
        var previous: ProcSample?
        /// No POST before this wall time (Retry-After or back-off).
        var notBefore: Date = .distantPast
        var backoffSeconds = 0.0
    }
    private let state = Mutex(State())

    public init(configuration: Configuration, spool: CollectorSpool, reader: ProcReader, sender: any FeedSending,
                logger: Logger = Logger(label: "collector")) {
        self.configuration = configuration
        self.spool = spool
        self.reader = reader
        self.sender = sender
        self.logger = logger
    }

    /// Start of the step that ends at the last grid boundary at or before `now` (the step a reading taken
    /// at `now` describes).
    public static func stepStamp(for now: Date, interval: Int64) -> Int64 {
        let seconds = Int64(now.timeIntervalSince1970.rounded(.down))
        return (seconds / interval) * interval - interval
    }

    /// Takes the baseline reading that the first record's rates are measured from.
    public func prime(monotonicSeconds: Double = ProcReader.monotonicNow()) throws {
        let sample = try reader.read(monotonicSeconds: monotonicSeconds)
        state.withLock { $0.previous = sample }
    }

    /// Reads /proc and queues the record for the step that just ended at `now`. Returns the queued record,
    /// nil when there is no baseline yet (it becomes the baseline) or the step was already queued.
    @discardableResult
    public func collect(at now: Date, monotonicSeconds: Double = ProcReader.monotonicNow()) throws -> CollectorRecord? {
        let sample = try reader.read(monotonicSeconds: monotonicSeconds)
        let previous = state.withLock { s -> ProcSample? in
            defer { s.previous = sample }
            return s.previous
        }
        guard let previous else { return nil }
        let record = CollectorRecord.derive(from: previous, to: sample, serverName: configuration.serverName,
                                            timestamp: Self.stepStamp(for: now, interval: configuration.interval),
                                            status: configuration.status)
        guard try spool.append(record) else {
            logger.warning("collector_step_already_queued", ["step": .string(ISO8601Timestamp.format(record.timestamp))])
            return nil
        }
        return record
    }

    /// Posts the spool, oldest first, until it is empty or the daemon cannot take more now.
    public func flush(now: Date = Date()) throws -> FlushReport {
        var report = FlushReport()
        if now < state.withLock({ $0.notBefore }) {
            report.remaining = try spool.count()
            report.stoppedBecause = "waiting (Retry-After or back-off)"
            return report
        }
        while true {
            let batch = try spool.oldest(limit: configuration.batchSize)
            if batch.isEmpty { break }
            if let reason = try send(batch, report: &report, now: now) {
                report.stoppedBecause = reason
                break
            }
        }
        report.remaining = try spool.count()
        return report
    }

    /// Sends one batch; returns why to stop, or nil to go on.
    private func send(_ batch: [CollectorSpool.Entry], report: inout FlushReport, now: Date) throws -> String? {
        switch sender.post(Self.body(batch)) {
        case .answered(let status, let body, let retryAfter):
            switch status {
            case 200..<300:
                try spool.removeDelivered(batch)
                report.delivered += batch.count
                state.withLock { $0.backoffSeconds = 0 }
                return nil
            case 429:
                let wait = retryAfter ?? 1
                state.withLock { $0.notBefore = now.addingTimeInterval(wait) }
                logger.warning("collector_rate_limited", ["retry_after_s": .double(wait)])
                return "429: retry after \(wait) s"
            case 400, 413, 422 where batch.count > 1:
                // One bad record must not hold the others back: try them one at a time.
                for entry in batch { if let reason = try send([entry], report: &report, now: now) { return reason } }
                return nil
            case 400, 413, 422:
                try spool.removeDelivered(batch)   // the daemon will never take it: do not block the queue
                report.quarantined += batch.count
                logger.error("collector_record_rejected", ["status": .int(status), "server": .string(batch[0].serverName),
                                                           "step": .string(ISO8601Timestamp.format(batch[0].stepTimestamp)),
                                                           "detail": .string(String(decoding: body.prefix(500), as: UTF8.self)),
                                                           "record": .string(String(decoding: batch[0].body, as: UTF8.self))])
                return nil
            default:
                backOff(now: now)
                logger.warning("collector_daemon_refused", ["status": .int(status),
                                                            "detail": .string(String(decoding: body.prefix(300), as: UTF8.self))])
                return "daemon answered \(status)"
            }
        case .notSent(let why):
            backOff(now: now)
            logger.warning("collector_daemon_unreachable", ["error": .string(why), "queued": .int(try spool.count())])
            return why
        case .uncertain(let why):
            try spool.markUncertain(batch.map(\.id))
            report.uncertain += batch.count
            backOff(now: now)
            logger.warning("collector_answer_lost", ["error": .string(why), "records": .int(batch.count),
                                                     "consequence": "resent later; the daemon may count them twice (docs/collector.md)"])
            return why
        }
    }

    private func backOff(now: Date) {
        state.withLock { s in
            s.backoffSeconds = min(Double(configuration.interval), max(1, s.backoffSeconds * 2))
            s.notBefore = now.addingTimeInterval(s.backoffSeconds)
        }
    }

    static func body(_ batch: [CollectorSpool.Entry]) -> [UInt8] {
        var bytes = Array(#"{"records":["#.utf8)
        for (i, entry) in batch.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += entry.body
        }
        bytes += Array("]}".utf8)
        return bytes
    }

    /// Runs until `shouldStop()` is true: a reading at every grid boundary, a flush after each and whenever the
    /// spool holds records and the back-off allows. Sleeps at most one second at a time so stopping is prompt.
    public func run(until shouldStop: () -> Bool) throws {
        try prime()
        var nextBoundary = (Int64(Date().timeIntervalSince1970) / configuration.interval + 1) * configuration.interval
        while !shouldStop() {
            let now = Date()
            if Int64(now.timeIntervalSince1970) >= nextBoundary {
                do { try collect(at: now) } catch { logger.error("collector_read_failed", ["error": .string("\(error)")]) }
                nextBoundary = (Int64(now.timeIntervalSince1970) / configuration.interval + 1) * configuration.interval
            }
            if try spool.count() > 0 { _ = try flush(now: now) }
            let untilBoundary = Double(nextBoundary) - Date().timeIntervalSince1970
            if untilBoundary > 0 { usleep(UInt32(min(1, untilBoundary) * 1_000_000)) }
        }
    }
}
