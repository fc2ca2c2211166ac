import Foundation
import Testing
import TFTCore
@testable import Training

@Suite struct FeatureAndDatasetTests {
    let spec = TrainingFixtures.spec
    var config: TFTConfig { spec.makeConfig(hiddenSize: 8, attentionHeads: 2, hiddenContinuousSize: 4, encoderLength: 48, predictionLength: 12) }

    @Test func specRoundTripsThroughNormalizersJSON() throws {
        let data = try JSONEncoder().encode(spec)
        let back = try JSONDecoder().decode(FeatureSpec.self, from: data)
        #expect(back == spec)
        try spec.check(config)
        #expect(config.targets == ["cpu_pct", "mem_used_pct", "cpu_iowait_pct", "swap_used_pct", "disk_usage_pct", "load_average"])
        #expect(config.reals.count == 12 + 9 + 6)
    }

    @Test func normaliserRoundTrips() throws {
        let builder = try FeatureBuilder(spec: spec, config: config)
        let series = TrainingFixtures.series
        let ref = WindowRef(series: 2, start: 200, encoderLength: 48)
        let a = BatchAssembler(builder: builder, batchSize: 1)
        let norm = a.assemble([ref], series: series, mode: .normalised)
        let n = a.normalizations[0]
        let raw = a.assemble([ref], series: series, mode: .raw)
        let nT = config.targets.count, Td = 12
        let s = series[2]
        for t in 0..<nT {
            // targetScale carries (0, 1) for training and (center, scale) for forecasts.
            #expect(norm.targetScale[2 * t] == 0 && norm.targetScale[2 * t + 1] == 1)
            #expect(raw.targetScale[2 * t] == n.center[t] && raw.targetScale[2 * t + 1] == n.scale[t])
            #expect(n.scale[t] >= spec.metrics[spec.targetMetricIndices[t]].scaleFloor)
            for k in 0..<Td {
                let y = norm.target![t * Td + k] * n.scale[t] + n.center[t]
                #expect(abs(y - raw.target![t * Td + k]) < 1e-3)
                #expect(abs(raw.target![t * Td + k] - s.value(metric: spec.targetMetricIndices[t], step: 200 + k)) < 1e-4)
            }
            // The center is the mean of the last `centerSteps` encoder values (the last value by default).
            let m = spec.targetMetricIndices[t], k = spec.centerSteps
            let c = (200 - k..<200).map { s.value(metric: m, step: $0) }.reduce(0, +) / Float(k)
            #expect(abs(c - n.center[t]) < 1e-4)
        }
        // Encoder inputs invert to the raw series (metric columns after the 12 static reals).
        let nR = config.reals.count
        for m in 0..<spec.metrics.count {
            let x = norm.continuous[47 * nR + 12 + m]
            let full = builder.normalization(s, start: 200, encoderLength: 48)
            let back = x * full.scale[m] + full.center[m]
            #expect(abs(back - s.value(metric: m, step: 199)) < 1e-3)
        }
    }

    @Test func windowsAreViewsAndBatchBuffersAreReused() throws {
        var options = WindowOptions(maxEncoderLength: 48, minEncoderLength: 12, horizon: 12)
        options.trainStride = 1
        let ds = try FleetDataset(spec: spec, series: TrainingFixtures.series, options: options)
        #expect(MemoryLayout<WindowRef>.stride == 12)
        #expect(ds.trainWindows.count > 2000)
        // Windows cost 12 bytes each, not (encoder + horizon) × inputs floats: the dataset stays close to
        // the size of its series however many windows are cut.
        let perWindowCopy = (48 + 12) * config.reals.count * 4
        #expect(ds.windowBytes < ds.trainWindows.count * 16 + ds.validationWindows.count * 16 + 4096)
        #expect(ds.memoryBytes < ds.seriesBytes + ds.trainWindows.count * perWindowCopy / 100)
        // Assembling batches reuses the same buffers.
        let builder = try FeatureBuilder(spec: spec, config: config)
        let a = BatchAssembler(builder: builder, batchSize: 16)
        _ = a.assemble(ds.trainWindows[0..<16], series: ds.series, mode: .normalised)
        let p0 = a.batch.continuous.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        for k in 1..<20 { _ = a.assemble(ds.trainWindows[(k * 16)..<(k * 16 + 16)], series: ds.series, mode: .normalised) }
        let p1 = a.batch.continuous.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        #expect(p0 == p1)
    }

    @Test func timeSplitHasNoLeakage() throws {
        let ds = try FleetDataset(spec: spec, series: TrainingFixtures.series,
                                  options: WindowOptions(maxEncoderLength: 48, minEncoderLength: 12, horizon: 12, validationStride: 1))
        #expect(!ds.trainWindows.isEmpty && !ds.validationWindows.isEmpty)
        for w in ds.trainWindows {
            let s = ds.series[Int(w.series)]
            #expect(s.epoch(ofStep: Int(w.start) + 11) < ds.cutoffEpoch)   // every training target before the cut
        }
        for w in ds.validationWindows {
            let s = ds.series[Int(w.series)]
            #expect(s.epoch(ofStep: Int(w.start)) >= ds.cutoffEpoch)        // every validation target after it
        }
        let trainTargets = Set(ds.trainWindows.flatMap { w in (0..<12).map { ds.series[Int(w.series)].epoch(ofStep: Int(w.start) + $0) } })
        let valTargets = Set(ds.validationWindows.flatMap { w in (0..<12).map { ds.series[Int(w.series)].epoch(ofStep: Int(w.start) + $0) } })
        #expect(trainTargets.isDisjoint(with: valTargets))
    }

    @Test func inferenceBatchForecastsTheTrueFuture() throws {
        let builder = try FeatureBuilder(spec: spec, config: config)
        // A daemon window: 14 feed metrics, 60 steps, ends at 2025-01-06T11:55:00 (a Monday).
        let n = 60, step = 300
        let first: Int64 = 1_736_164_800 + 11 * 3600 + 55 * 60 - Int64((n - 1) * step)
        var feed = [Float](repeating: 0, count: FeedMetric.count * n)
        for i in 0..<n {
            feed[FeedMetric.cpuIdlePct.rawValue * n + i] = 60
            feed[FeedMetric.memUsedPct.rawValue * n + i] = 50 + Float(i) * 0.1
            feed[FeedMetric.loadAverage.rawValue * n + i] = 2
        }
        feed[FeedMetric.memUsedPct.rawValue * n + 30] = .nan   // a missing value is forward-filled
        let w = ServerWindow(serverName: "ppdb001", firstEpoch: first, stepSeconds: step, feedValues: feed)
        let input = try builder.inferenceBatch(for: [w])
        #expect(input.batch.encoderLength == 48 && input.batch.decoderLength == 12)
        #expect(input.firstForecastEpoch[0] == w.lastEpoch + 300)
        let nR = config.reals.count, T = 60
        let hourSin = config.reals.firstIndex(of: "hour_sin")!, rel = config.reals.firstIndex(of: "relative_time_idx")!
        // Decoder row 0 is 12:00 UTC: hour angle π.
        #expect(abs(input.batch.continuous[48 * nR + hourSin] - Float(sin(Double.pi))) < 1e-5)
        #expect(input.batch.continuous[48 * nR + rel] == 0)
        #expect(abs(input.batch.continuous[59 * nR + rel] - Float(11) / 48) < 1e-6)
        // Unknown reals of decoder rows are zero; CPU is 100 − idle; profile comes from the name.
        let cpuCol = config.reals.firstIndex(of: "cpu_pct")!
        #expect(input.batch.continuous[50 * nR + cpuCol] == 0)
        #expect(abs(input.normalizations[0].center[0] - 40) < 1e-4)
        #expect(input.batch.categorical[0] == Int32(ServerProfile.database.index))
        #expect(input.batch.continuous.count == T * nR)
        let model = try TFTModel(config: config, seed: 1)
        let out = try model.forward(input.batch, include: [])
        let f = builder.forecasts(out, for: input)
        #expect(f[0].values["mem_used_pct"]!.count == 7 && f[0].values["mem_used_pct"]![3].count == 12)
        #expect(f[0].values["cpu_pct"]!.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 <= 100 } })
        // Too short a window is refused with the needed amount.
        let short = ServerWindow(serverName: "x", firstEpoch: first, stepSeconds: step,
                                 feedValues: [Float](repeating: 1, count: FeedMetric.count * 5))
        #expect(throws: TrainingError.self) { try builder.inferenceBatch(for: [short]) }
    }

    @Test func feedReaderReportsBadLinesWithNumbers() throws {
        let good = #"{"timestamp":"2025-01-01T00:00:00","server_name":"ppdb001","cpu_user_pct":1,"cpu_sys_pct":1,"cpu_iowait_pct":1,"cpu_idle_pct":97,"java_cpu_pct":0,"mem_used_pct":50,"swap_used_pct":1,"disk_usage_pct":40,"net_in_mb_s":1,"net_out_mb_s":1,"back_close_wait":2,"front_close_wait":2,"load_average":1.5,"uptime_days":3}"#
        let text = [good, "{not json", good.replacingOccurrences(of: "2025-01-01T00:00:00", with: "2025-01-01T00:00:02"),
                    good.replacingOccurrences(of: "\"mem_used_pct\":50,", with: ""), "", good.replacingOccurrences(of: "00:00:00", with: "00:05:00")].joined(separator: "\n")
        var acc = SeriesAccumulator(spec: spec)
        let r = try FeedFileReader.read(data: Data(text.utf8), format: .jsonl, into: &acc, policy: .skip)
        #expect(r.records == 3)
        #expect(r.badLines.map(\.line) == [2, 4])
        #expect(r.badLines[1].reason.contains("mem_used_pct"))
        let series = acc.build()
        #expect(series.count == 1 && series[0].count == 2)   // two samples in step 0 are averaged
        var acc2 = SeriesAccumulator(spec: spec)
        #expect(throws: TrainingError.malformedLine(line: 2, reason: "invalid JSON at column 2: expected '\"'")) {
            try FeedFileReader.read(data: Data(text.utf8), format: .jsonl, into: &acc2, policy: .stop)
        }
    }
}
