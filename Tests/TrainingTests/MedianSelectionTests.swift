import Foundation
import Testing
@testable import Training

/// ``BandCalibration``'s median selection: on series where neither the model nor the last value is the
/// right median, a smoothed level or the running median is chosen, and it is what gets served.
@Suite struct MedianSelectionTests {
    /// Runs `steps` ticks of `series(t)` with a model whose median is `model(t, last)`; scores the served
    /// median, the last value and the model at horizon 6 over the second half.
    static func run(steps: Int = 4000, series: (Int64, inout BandCalibrationTests.Normal) -> Float,
                    model: (Int64, Float) -> Float) -> (served: Double, last: Double, model: Double, anchor: BandCalibration.MedianAnchor) {
        var rng = BandCalibrationTests.Normal(state: 5)
        var c = BandCalibration()
        var served: [Int64: (Float, Float, Float)] = [:]
        var eServed = 0.0, eLast = 0.0, eModel = 0.0
        for t in 0..<Int64(steps) {
            let y = series(t, &rng)
            if let (s, l, m) = served.removeValue(forKey: t), t > Int64(steps / 2) {
                eServed += Double(abs(y - s)); eLast += Double(abs(y - l)); eModel += Double(abs(y - m))
            }
            let mid = model(t, y)
            let raw = BandCalibrationTests.z.map { q in [Float](repeating: mid + q, count: 96) }
            let out = c.update(lastStep: t, actual: y, forecast: raw, quantiles: BandCalibrationTests.quantiles)
            served[t + 6] = (out[3][5], y, mid)
        }
        return (eServed, eLast, eModel, c.medianAnchors[1])
    }

    @Test func noisyLevel_IsServedAroundASmoothedLevel() {
        // White noise around a level; the model only repeats the last value (no information of its own).
        let r = Self.run(series: { _, rng in 50 + 4 * rng.next() }, model: { $1 })
        #expect(r.anchor == .slowLevel || r.anchor == .level || r.anchor == .runningMedian)
        #expect(r.served < 0.8 * r.last)     // E|noise| around the level vs around a noisy last value: ~1/√2
    }

    @Test func burstySeries_IsServedAroundItsRunningMedian() {
        // Idle at 5 % with one-step bursts to 95 % on 15 % of the steps (a batch job's CPU): the last value
        // and the mean are both pulled up by bursts; the median stays at the idle level.
        let r = Self.run(series: { _, rng in rng.uniform() < 0.15 ? 95 : 5 + 0.5 * rng.next() }, model: { $1 * 0.5 + 25 })
        #expect(r.anchor == .runningMedian)
        // The running median alone would make 0.59 × the last value's error; with the 30-min memory (0.05) the
        // choice flips to the last value inside burst clusters: 0.75 measured (the last value: 1, the model: 1.47).
        #expect(r.served < 0.85 * r.last && r.served < 0.6 * r.model)
    }

    @Test func modelThatKnowsTheSeries_IsKept() {
        // A daily-like sine the model forecasts exactly 6 steps ahead (its median is flat over the horizon,
        // right at step 6); the levels and the last value lag the sine.
        func sine(_ t: Int64) -> Float { 50 + 30 * sin(Float(t) * 2 * .pi / 288) }
        let r = Self.run(series: { t, _ in sine(t) }, model: { t, _ in sine(t + 6) })
        #expect(r.anchor == .last)
        #expect(r.model < 1e-3 * r.last && r.served <= r.model + 1e-3 * r.last)
    }

    @Test func levelsMoveOncePerStep_AndSurviveEncoding() throws {
        var c = BandCalibration()
        c.observe(step: 10, actual: 20)
        c.observe(step: 11, actual: 40)
        let once = c.levels
        c.observe(step: 11, actual: 40)               // a second tick on the same step
        #expect(c.levels == once)
        #expect(once[0] == 30 && once[3] > 20 && once[3] < 40)
        let back = try JSONDecoder().decode(BandCalibration.self, from: JSONEncoder().encode(c))
        #expect(back.levels == c.levels && back.recent == c.recent && back.spread == c.spread && c.spread > 0)
        #expect(back.shrinkErrors == c.shrinkErrors && back.guardErrors == c.guardErrors)
    }

    /// The rolling median ignores bursts shorter than half its window and follows a level shift once the
    /// shift has lasted half the window (a busy machine gone quiet is quiet by then, not at its old level).
    @Test func rollingMedian_IgnoresBurstsAndFollowsALevelShift() {
        var c = BandCalibration()
        let half = Int64(BandCalibration.medianWindow / 2)
        for t in 0..<Int64(200) { c.observe(step: t, actual: t % 5 == 0 ? 95 : 50) }     // busy, with one-step bursts
        #expect(c.levels[3] == 50)
        for t in Int64(200)..<200 + half - 1 { c.observe(step: t, actual: 5) }             // quiet, one step short of half
        #expect(c.levels[3] == 50)
        c.observe(step: 200 + half - 1, actual: 5); c.observe(step: 200 + half, actual: 5)
        #expect(c.levels[3] == 5)
    }

    /// A state saved before the rolling median (levels, no window) continues from the saved median.
    @Test func stateWithoutAWindow_StartsItFromTheSavedMedian() throws {
        var c = BandCalibration()
        c.restoreLevels([10, 10, 10, 40], step: 7)
        #expect(c.recent == [40])
        c.observe(step: 8, actual: 20)
        #expect(c.levels[3] == 30)
    }

    /// At 2 h and 8 h errors are scored in units of the series' one-step change: the same series and model
    /// at ten times the scale keep the same memory there (and so the same choice), ten times the errors at 30 min.
    @Test func longHorizonErrors_AreScoredInUnitsOfTheStepChange() {
        func run(scale: Float) -> BandCalibration {
            var c = BandCalibration(), rng = BandCalibrationTests.Normal(state: 3)
            var y: Float = 50
            for t in Int64(0)..<600 {
                y += rng.next()
                let raw = BandCalibrationTests.z.map { q in [Float](repeating: scale * (y + 2 + q), count: 96) }
                _ = c.update(lastStep: t, actual: scale * y, forecast: raw, quantiles: BandCalibrationTests.quantiles)
            }
            return c
        }
        let one = run(scale: 1), ten = run(scale: 10)
        for i in BandCalibration.horizons.indices {
            for j in 0..<BandCalibration.candidateCount {
                let ratio: Float = BandCalibration.horizons[i] >= 24 ? 1 : 10      // 2 h and 8 h: scale-free
                #expect(abs(ten.shrinkErrors[i][j] - ratio * one.shrinkErrors[i][j]) <= 1e-3 * ratio * one.shrinkErrors[i][j])
            }
        }
        #expect(one.shrinkErrors[3][0] > 0 && ten.chosenCandidates == one.chosenCandidates)
    }

    /// A busy machine gone quiet (recordings b, d and e of models/README.md): hours of large noise around a
    /// level, where the slow level wins at 8 h by a wide margin in absolute terms, then a quiet drift, where
    /// the last value (or the fast level) wins by a small one. Scored in units of the step change, the quiet
    /// hours outvote the busy ones within two days; in absolute errors the 8-hour memory keeps the level.
    @Test func quietPresent_OutvotesABusyPast_AtEightHours() {
        var c = BandCalibration(), rng = BandCalibrationTests.Normal(state: 11)
        var y: Float = 5
        for t in Int64(0)..<3_600 {
            let busy = t < 3_000
            if busy { y = 50 + 20 * rng.next() } else { y = max(0, (t == 3_000 ? 5 : y) + 0.3 * rng.next()) }
            let raw = BandCalibrationTests.z.map { q in [Float](repeating: y + q, count: 96) }     // the model: the last value
            _ = c.update(lastStep: t, actual: y, forecast: raw, quantiles: BandCalibrationTests.quantiles)
            if t == 2_999 { #expect(c.medianAnchors[3] == .slowLevel || c.medianAnchors[3] == .level) }
        }
        #expect(c.medianAnchors[3] == .last || c.medianAnchors[3] == .fastLevel)     // a drift: both follow it
    }

    /// A state saved before the long horizons' errors were scaled holds absolute errors there: they are
    /// divided by the saved step change (or the window's), which keeps their ranking; the short horizons'
    /// errors are left as they are, and a state saved since is taken as it is.
    @Test func stateWithAbsoluteErrors_IsConvertedToStepChangeUnits() {
        let absolute = BandCalibration.horizons.map { _ in (0..<BandCalibration.candidateCount).map { Float($0 + 1) } }
        var c = BandCalibration()
        c.restoreErrors(absolute)
        c.restoreLevels([1, 1, 1, 1], step: 9, recent: [0, 2, 0, 2, 0])
        c.restoreSpread(0, errorsScaled: false)
        #expect(c.spread == 2)
        for i in BandCalibration.horizons.indices {     // from 2 h (the fifth horizon) on: divided
            #expect(c.shrinkErrors[i] == (i < BandCalibration.scaledHorizonsFrom ? absolute[i] : absolute[i].map { $0 / 2 }), "horizon \(i)")
        }
        #expect(BandCalibration.horizons[BandCalibration.scaledHorizonsFrom] == 24)
        var saved = BandCalibration()
        saved.restoreErrors(absolute)
        saved.restoreSpread(0.5, errorsScaled: true)
        #expect(saved.spread == 0.5 && saved.shrinkErrors == absolute)
    }

    /// A smoothed metric (the load average is an exponential average of the run queue) keeps moving the way it
    /// moved: at 30 min the damped trend beats the last value, which lags, and is served.
    @Test func smoothedSeries_IsServedWithItsDampedTrend() {
        let r = Self.run(series: { t, rng in 2 + 1.5 * sin(Float(t) * 2 * .pi / 288) + 0.005 * rng.next() }, model: { $1 })
        #expect(r.anchor == .dampedTrend)
        // At 6 steps the trend carries the slope φ + … + φ⁶ ≈ 2.95 steps of the 6: about half the last value's lag.
        #expect(r.served < 0.6 * r.last)
    }

    /// At 4 h and 8 h the damped trend is not a candidate, even with the lowest errors: the next best is served there.
    @Test func dampedTrend_IsNotACandidateAtFourAndEightHours() {
        var c = BandCalibration()
        var errors = [Float](repeating: 3, count: BandCalibration.candidateCount)
        errors[BandCalibration.trendCandidate] = 1
        let level = BandCalibration.shrinkCandidates.count + BandCalibration.MedianAnchor.level.rawValue - 1
        errors[level] = 2
        c.shrinkErrors = BandCalibration.horizons.map { _ in errors }
        c.guardErrors = BandCalibration.horizons.map { _ in errors }
        let trend = BandCalibration.trendCandidate
        #expect(c.chosenCandidates == [trend, trend, trend, trend, trend, level, level])
        #expect(c.medianAnchors == [.dampedTrend, .dampedTrend, .dampedTrend, .level])
    }

    /// A state saved before the damped trend had 9 candidates: each row gets a tenth, its largest error, so the
    /// trend is chosen only once its own scores prove it; the slope starts from the saved window's changes.
    @Test func stateOfTheNineCandidates_GivesTheTrendItsRowsLargestError() {
        let nine = BandCalibration.horizons.map { _ in (0..<BandCalibration.candidateCount - 1).map { Float(9 - $0) } }
        var c = BandCalibration()
        c.restoreErrors(nine)
        c.restoreGuardErrors(Array(nine.prefix(2)))
        #expect(c.shrinkErrors == nine.map { $0 + [9] } && c.guardErrors == nine.map { $0 + [9] })
        #expect(!c.chosenCandidates.contains(BandCalibration.trendCandidate))
        c.restoreLevels([6, 6, 6, 6], step: 3, recent: [0, 2, 4, 6])
        c.restoreSlope(nil)
        #expect(c.slope == 1.75)                                 // 0 → 1 → 1.5 → 1.75 at rate 0.5
        c.restoreSlope(-0.25)
        #expect(c.slope == -0.25)
    }

    @Test func errorsOfAnOlderCandidateSet_StartAfresh() {
        var c = BandCalibration()
        c.restoreErrors(BandCalibration.horizons.map { _ in [1, 2, 3, 4, 5] })   // the five-α set of before
        #expect(c.shrinkErrors == BandCalibration().shrinkErrors)
        // Fresh: persistence at every horizon (all guarded) until a candidate proves itself.
        #expect(c.chosenCandidates == BandCalibration.horizons.map { _ in BandCalibration.persistenceCandidate })
    }

    /// A state saved when only 5 and 30 minutes were guarded (and four horizons scored) keeps those rows and
    /// starts the 2-hour and 8-hour guard from the short memory's errors, each horizon between from the one
    /// below; a state of today's shape is taken as it is.
    @Test func guardErrorsOfTheShortHorizonsOnly_StartTheOthersFromTheShortMemory() {
        var c = BandCalibration()
        let short = BandCalibration.horizons.indices.map { i in (0..<BandCalibration.candidateCount).map { Float(10 * i + $0) } }
        let guarded = (0..<2).map { i in (0..<BandCalibration.candidateCount).map { Float(100 + 10 * i + $0) } }
        c.restoreErrors(short)
        c.restoreGuardErrors(guarded)
        #expect(c.guardErrors == [guarded[0], guarded[0], guarded[1], guarded[1], short[4], short[4], short[6]])
        c.restoreGuardErrors(short)
        #expect(c.guardErrors == short)
    }

    /// The persistence guard, at every horizon: a candidate that won the short memory is served only if it
    /// also beats persistence by the margin over the guard's memory.
    @Test func winner_IsServedOnlyIfItAlsoBeatsPersistenceOverTheGuardMemory() {
        var c = BandCalibration()
        let level = BandCalibration.shrinkCandidates.count + BandCalibration.MedianAnchor.level.rawValue - 1
        func errors(persistence: Float, level l: Float) -> [Float] {
            var e = [Float](repeating: 9, count: BandCalibration.candidateCount)
            e[BandCalibration.persistenceCandidate] = persistence; e[level] = l
            return e
        }
        // The level won the short memory at every horizon; over the guard's memory persistence was better.
        c.shrinkErrors = BandCalibration.horizons.map { _ in errors(persistence: 2, level: 1) }
        c.guardErrors = (0..<BandCalibration.guardedHorizons).map { _ in errors(persistence: 2, level: 3) }
        #expect(c.chosenCandidates == BandCalibration.horizons.map { _ in 0 })
        // Better over the guard's memory too, but by less than the margin: still persistence.
        c.guardErrors = (0..<BandCalibration.guardedHorizons).map { _ in errors(persistence: 2, level: 2 * (1 - BandCalibration.guardMargin / 2)) }
        #expect(c.chosenCandidates == BandCalibration.horizons.map { _ in 0 })
        // Proven on both memories: the level is served.
        c.guardErrors = (0..<BandCalibration.guardedHorizons).map { _ in errors(persistence: 2, level: 1.5) }
        #expect(c.chosenCandidates == BandCalibration.horizons.map { _ in level })
    }

    /// Regime switches every few hours (a build machine: idle, then busy): over the last hour a smoothed
    /// level looks good inside a regime, but at 30 min persistence is right across switches. The guard
    /// serves persistence; without it the 30-min error is higher.
    @Test func regimeSwitches_ServePersistenceAtThirtyMinutes() {
        func series(_ t: Int64, _ rng: inout BandCalibrationTests.Normal) -> Float {
            let busy = (t / 30) % 2 == 1 && (t / 97) % 3 != 0
            return (busy ? 92 : 8) + 3 * rng.next()
        }
        let r = Self.run(series: series, model: { _, last in last * 0.6 + 20 })
        #expect(r.served <= 1.02 * r.last)
        #expect(r.served < 0.8 * r.model)
    }
}
