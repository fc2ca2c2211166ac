import Foundation
import Testing
@testable import Daemon

@Suite struct StepBucketTests {
    func record(_ server: String = "s1", at t: Double, mem: Double, closeWait: Double = 1, uptime: Double = 10,
                status: ServerStatus = .healthy, profile: String? = nil) -> FeedRecord
    {
        var values = [Double](repeating: 1, count: MetricField.count)
        values[MetricField.memUsedPct.index] = mem
        values[MetricField.backCloseWait.index] = closeWait
        values[MetricField.uptimeDays.index] = uptime
        return FeedRecord(serverName: server, timestamp: t, status: status, values: values, profile: profile)
    }

    @Test func stepStart_FloorsOnTheGrid() {
        #expect(StepBucket.stepStart(of: 1_736_935_200, stepSeconds: 300) == 1_736_935_200)
        #expect(StepBucket.stepStart(of: 1_736_935_499.9, stepSeconds: 300) == 1_736_935_200)
        #expect(StepBucket.stepStart(of: 1_736_935_500, stepSeconds: 300) == 1_736_935_500)
    }

    @Test func fiveSecondSamples_AreAggregatedIntoOneStep() {
        let t0 = Double(Feed.base)
        // 60 samples, every 5 s, all in the 10:00 step; mem 0, 1, …, 59; close-wait peaks at 30; uptime last.
        var records: [FeedRecord] = []
        for i in 0..<60 {
            let closeWait: Double = i == 30 ? 99 : 2
            let uptime: Double = i < 59 ? 10 : 11
            let status: ServerStatus = i == 59 ? .heavyLoad : .healthy
            records.append(record(at: t0 + Double(i * 5), mem: Double(i), closeWait: closeWait, uptime: uptime, status: status))
        }
        records.shuffle()
        let buckets = StepBucket.aggregate(records, stepSeconds: 300)
        #expect(buckets.count == 1)
        let b = buckets[0]
        #expect(b.stepTimestamp == Feed.base)
        #expect(b.sampleCount == 60)
        #expect(b.values[MetricField.memUsedPct.index] == 29.5)  // mean
        #expect(b.values[MetricField.backCloseWait.index] == 99)  // max
        #expect(b.values[MetricField.uptimeDays.index] == 11)  // last
        #expect(b.status == ServerStatus.heavyLoad)  // last
        #expect(b.lastUpdate == t0 + 295)
    }

    @Test func fiveMinuteSamples_MapOneToOne() {
        let t0 = Double(Feed.base)
        let records = (0..<5).flatMap { i in
            ["a", "b"].map { record($0, at: t0 + Double(i * 300), mem: Double(i)) }
        }
        let buckets = StepBucket.aggregate(records, stepSeconds: 300)
        #expect(buckets.count == 10)
        #expect(buckets.map(\.sampleCount) == Array(repeating: 1, count: 10))
        #expect(buckets.prefix(5).map(\.serverName) == Array(repeating: "a", count: 5))
        #expect(buckets.prefix(5).map(\.stepTimestamp) == (0..<5).map { Feed.base + Int64($0 * 300) })
        #expect(buckets.prefix(5).map { $0.values[MetricField.memUsedPct.index] } == [0, 1, 2, 3, 4])
    }
}

@Suite struct MetricWindowTests {
    func values(_ v: Double) -> [Double] { [Double](repeating: v, count: MetricField.count) }

    func latest(_ w: MetricWindow, _ n: Int, _ metric: MetricField = .memUsedPct) -> [Float] {
        var out = [Float](repeating: -1, count: n)
        out.withUnsafeMutableBufferPointer { w.copyLatest(n, metric: metric.index, into: $0) }
        return out
    }

    @Test func ringBuffer_WrapsAtCapacityWithoutGrowing() {
        var w = MetricWindow(capacity: 8, maxFillGap: 2)
        let bytes = w.memoryBytes
        for step in Int64(100)..<Int64(120) { #expect(w.apply(step: step, values: values(Double(step)), status: .healthy) == .applied) }
        #expect(w.count == 8)
        #expect(w.headStep == 119)
        #expect(w.firstStep == 112)
        #expect(latest(w, 8) == (112..<120).map(Float.init))
        #expect(latest(w, 3) == [117, 118, 119])
        #expect(w.memoryBytes == bytes)
        #expect(w.value(.memUsedPct, at: 111) == nil)
    }

    @Test func shortGaps_AreForwardFilledAndMasked() {
        var w = MetricWindow(capacity: 16, maxFillGap: 3)
        _ = w.apply(step: 10, values: values(1), status: .healthy)
        _ = w.apply(step: 14, values: values(5), status: .heavyLoad)  // 3 missing steps: filled
        #expect(w.count == 5)
        #expect(latest(w, 5) == [1, 1, 1, 1, 5])
        #expect((10...14).map { w.isObserved($0)! } == [true, false, false, false, true])
        // A late sample for step 12 fills its slot and re-derives the fill after it.
        #expect(w.apply(step: 12, values: values(3), status: .healthy) == .applied)
        #expect(latest(w, 5) == [1, 1, 3, 3, 5])
        #expect((10...14).map { w.isObserved($0)! } == [true, false, true, false, true])
    }

    @Test func longGap_RestartsTheWindow() {
        var w = MetricWindow(capacity: 16, maxFillGap: 3)
        _ = w.apply(step: 10, values: values(1), status: .healthy)
        _ = w.apply(step: 11, values: values(2), status: .healthy)
        _ = w.apply(step: 16, values: values(7), status: .healthy)  // 4 missing steps > 3
        #expect(w.count == 1)
        #expect(w.firstStep == 16)
        // Data older than the segment asks for a rebuild; data older than capacity is storage-only.
        #expect(w.apply(step: 12, values: values(3), status: .healthy) == .needsRebuild)
        #expect(w.apply(step: 0, values: values(3), status: .healthy) == .tooOld)
    }
}

/// `MetricWindow.applyInOrder` (the restart's block replay) against `apply` row by row.
@Suite struct MetricWindowBlockReplayTests {
    @Test func blocks_GiveTheSameWindowAsRowByRow_WithGapsWrapsAndOldRows() {
        var rng = SystemRandomNumberGenerator()
        for trial in 0..<200 {
            let capacity = [7, 16, 50][trial % 3]
            var rowByRow = MetricWindow(capacity: capacity, maxFillGap: 3), blocks = rowByRow
            var step = Int64.random(in: 0...1_000, using: &rng)
            var steps: [Int64] = [], values: [Float] = [], status: [UInt8] = []
            for _ in 0..<Int.random(in: 1...120, using: &rng) {
                // Mostly consecutive; sometimes a fillable gap, a long gap, a repeat or an older step.
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: step += Int64.random(in: 2...4, using: &rng)
                case 1: step += Int64.random(in: 5...60, using: &rng)
                case 2: step -= Int64.random(in: 0...Int64(capacity + 3), using: &rng)
                default: step += 1
                }
                let row = (0..<MetricField.count).map { _ in Double(Float.random(in: -100...100, using: &rng)) }
                let code = ServerStatus.allCases.randomElement(using: &rng)!
                _ = rowByRow.apply(step: step, values: row, status: code)
                steps.append(step); values += row.map(Float.init); status.append(code.code)
            }
            // In blocks of random sizes, as the replay flushes them.
            var i = 0
            while i < steps.count {
                let n = min(steps.count - i, Int.random(in: 1...40, using: &rng))
                steps.withUnsafeBufferPointer { s in
                    status.withUnsafeBufferPointer { c in
                        values.withUnsafeBufferPointer { v in
                            blocks.applyInOrder(steps: UnsafeBufferPointer(rebasing: s[i..<(i + n)]), values: v.baseAddress! + i * MetricField.count,
                                                status: UnsafeBufferPointer(rebasing: c[i..<(i + n)]))
                        }
                    }
                }
                i += n
            }
            #expect(blocks.headStep == rowByRow.headStep && blocks.count == rowByRow.count, "trial \(trial)")
            #expect(blocks.values == rowByRow.values && blocks.status == rowByRow.status && blocks.observed == rowByRow.observed,
                    "trial \(trial)")
        }
    }
}
