import Foundation
import Testing
@testable import HTTPServer

/// The throttle on its own, with explicit clock values: exact line counts, no waiting.
struct ThrottledLogTests {
    private let second: UInt64 = 1_000_000_000

    @Test func firstEventIsLoggedAtOnce_TheRestOncePerInterval_WithACount() throws {
        let capture = LogCapture()
        let log = ThrottledLog(logger: capture.logger, interval: .seconds(10))
        // 1,000 events over 25 s: the first now, then the sweep's summaries at 10 s and 20 s and 30 s.
        for index in 0..<1_000 {
            let now = second + UInt64(index) * 25 * second / 1_000
            log.record(kind: "header_timeout", message: "request_rejected", client: "10.0.0.\(index % 7)",
                       fields: [("status", .int(408))], now: now)
            log.flushDue(now: now)
        }
        log.flushDue(now: 40 * second)
        let lines = capture.all.map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(lines.count == 4, "\(capture.all)")
        #expect(lines[0]["client"] as? String == "10.0.0.0" && lines[0]["status"] as? Int == 408 && lines[0]["summary"] == nil)
        #expect(lines.dropFirst().allSatisfy { $0["summary"] as? Bool == true && $0["msg"] as? String == "request_rejected" })
        #expect(lines.dropFirst().compactMap { $0["repeated"] as? Int }.reduce(0, +) == 999)
        #expect(lines[1]["sample_client"] as? String == "10.0.0.1")
        #expect(log.total(of: "header_timeout") == 1_000)
    }

    @Test func kindsAreThrottledSeparately_AndAQuietIntervalReopens() {
        let capture = LogCapture()
        let log = ThrottledLog(logger: capture.logger, interval: .seconds(10))
        for _ in 0..<50 {
            log.record(kind: "a", message: "m", client: "c", now: second)
            log.record(kind: "b", message: "m", client: "c", now: second)
        }
        #expect(capture.all.count == 2)
        log.flushDue(now: 12 * second)       // both summarised (49 each)
        #expect(capture.all.count == 4)
        log.flushDue(now: 30 * second)       // nothing new: windows close without a line
        #expect(capture.all.count == 4)
        log.record(kind: "a", message: "m", client: "late", now: 31 * second)
        #expect(capture.all.count == 5)       // logged at once again
        #expect(capture.all.last!.contains("\"client\":\"late\""))
        #expect(log.totals.map(\.kind) == ["a", "b"] && log.totals.map(\.count) == [51, 50])
    }

    /// An event loop's clock is read at the start of its iteration, so it can be a little behind the
    /// clock of the event it sweeps: that must not count as an interval gone by.
    @Test func aClockSlightlyBehindTheEvent_IsNotAnElapsedInterval() {
        let capture = LogCapture()
        let log = ThrottledLog(logger: capture.logger, interval: .seconds(10))
        log.record(kind: "a", message: "m", client: "c", now: 10 * second)
        log.record(kind: "a", message: "m", client: "c", now: 10 * second + 5)
        log.flushDue(now: 10 * second - 1_000)
        log.record(kind: "a", message: "m", client: "c", now: 10 * second - 2_000)
        #expect(capture.all.count == 1)
    }
}
