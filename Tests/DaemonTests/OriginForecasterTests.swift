import Foundation
import Testing
import TFTCore
import Training
@testable import Daemon

/// The real-data benchmark's in-process path (`argusd evaluate --origins`) must forecast exactly what the
/// daemon serves for the same history, and must not read past its origin.
@Suite struct OriginForecasterTests {
    /// Memory of the test series at step `i` (a ramp with a wobble, so forecasts depend on the history).
    static func mem(_ i: Int) -> Double { 40 + Double(i) * 0.3 + Double(i % 5) }

    /// The same history as a benchmark series: the test feed record's fields, memory from `mem`.
    static func series(steps: Int, origins: [Int]) -> OriginSeries {
        let record = Feed.record()
        var feed: [String: [Double?]] = [:]
        for field in FeedMetric.names { feed[field] = [Double?](repeating: (record[field] as? NSNumber)?.doubleValue, count: steps) }
        feed["mem_used_pct"] = (0..<steps).map { mem($0) }
        return OriginSeries(name: "ppdb001", target: "mem_used_pct", profile: nil, firstEpoch: Feed.base, stepSeconds: 300,
                            feed: feed, origins: origins)
    }

    @Test func originForecast_EqualsTheDaemonsServedBands() throws {
        // Raw bands: the in-process path without calibration is the daemon's tick without calibration.
        let d = try TestDaemon(configure: { $0.bandCalibration = false })
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(["ppdb001"], steps: 0..<40) { _, i in Self.mem(i) }
        let body = try d.get("/predictions/current?bands=true&server=ppdb001").object
        let forecast = try #require((body["predictions"] as? [String: [String: Any]])?["ppdb001"]?["forecast"] as? [String: Any])
        let p50 = try #require(forecast["mem_pct"] as? [Double])
        let p10 = try #require((forecast["p10"] as? [String: [Double]])?["mem_pct"])
        let p90 = try #require((forecast["p90"] as? [String: [Double]])?["mem_pct"])

        let loaded = try ModelFolder.load(try #require(ModelFolders.newest(in: d.modelsDirectory)))
        let mine = try OriginForecaster(model: loaded.model, builder: loaded.builder).forecasts(Self.series(steps: 40, origins: [40]))
        let f = try #require(mine.first)
        let q = f.quantiles
        func row(_ level: Float) -> [Double] { f.values[q.firstIndex { abs($0 - level) < 1e-6 }!].map(Double.init) }
        for (served, computed) in [(p10, row(0.1)), (p50, row(0.5)), (p90, row(0.9))] {
            #expect(served.count == computed.count)
            // The API rounds to a few decimals; anything beyond that is a different computation.
            for (a, b) in zip(served, computed) { #expect(abs(a - b) < 0.01, "served \(a), in-process \(b)") }
        }
    }

    @Test func originForecast_ReadsOnlyTheHistoryBeforeTheOrigin() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let loaded = try ModelFolder.load(try TinyModel.write(into: dir.url))
        let forecaster = OriginForecaster(model: loaded.model, builder: loaded.builder)
        var s = Self.series(steps: 80, origins: [30, 50])
        let before = try forecaster.forecasts(s)
        // Change everything from step 50 on: the origin-30 and origin-50 forecasts may not move.
        for i in 50..<80 { s.feed["mem_used_pct"]![i] = 99 }
        let after = try forecaster.forecasts(s)
        #expect(before.map(\.values) == after.map(\.values))
        // ... while a change before origin 50 moves that forecast.
        s.feed["mem_used_pct"]![49] = 5
        #expect(try forecaster.forecasts(s)[1].values != after[1].values)
        #expect(try forecaster.forecasts(s)[0].values == after[0].values)
    }

    /// A fine-tune evaluated as the daemon serves it: the previous model forecasts the warm-up ticks, the
    /// fine-tuned one from the first origin on, and the calibration state carries across the swap.
    @Test func calibratedForecasts_WarmModelServesTheTicksBeforeTheFirstOrigin() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let before = try ModelFolder.load(try TinyModel.write(into: dir.url, seed: 1, name: "tft_model_20250101_000000"))
        let after = try ModelFolder.load(try TinyModel.write(into: dir.url, seed: 2, name: "tft_model_20250101_000001"))
        var warm = OriginForecaster(model: before.model, builder: before.builder)
        var served = OriginForecaster(model: after.model, builder: after.builder)
        warm.batchSize = 7; served.batchSize = 7          // batches that would straddle the first origin
        let s = Self.series(steps: 90, origins: [60, 72, 84])

        var ticks: [Int: [[Float]]] = [:]
        let swapped = try served.calibratedForecasts(s, warmup: 30, warmModel: warm) { step, values in ticks[step] = values }
        #expect(ticks.keys.sorted() == Array(30...84))
        for step in [30, 45, 59, 60, 61, 84] {
            let model = step < 60 ? warm : served
            let plain = try model.forecasts(Self.series(steps: 90, origins: [step]))[0].values
            #expect(Self.nearlyEqual(ticks[step], plain), "tick \(step) must be forecast by the \(step < 60 ? "warm-up" : "evaluated") model")
        }
        // The calibration warmed by the previous model differs from one warmed by the fine-tune itself,
        // and a warm model equal to the evaluated one changes nothing.
        let own = try served.calibratedForecasts(s, warmup: 30)
        #expect(!Self.nearlyEqual(swapped.flatMap(\.values), own.flatMap(\.values)))
        let same = try served.calibratedForecasts(s, warmup: 30, warmModel: served)
        #expect(Self.nearlyEqual(same.flatMap(\.values), own.flatMap(\.values)))
    }

    /// Equal up to float rounding: the same window forecast in batches of another size can differ in the last
    /// bits, as OpenBLAS splits a GEMM by its row count on some CPUs (seen on AMD EPYC, not on the others).
    static func nearlyEqual(_ a: [[Float]]?, _ b: [[Float]]?) -> Bool {
        guard let a, let b, a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in
            x.count == y.count && zip(x, y).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0), abs($1)) }
        }
    }
}
