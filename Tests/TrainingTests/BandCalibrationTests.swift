import Foundation
import Testing
@testable import Training

/// Online band calibration (``BandCalibration``) on synthetic series whose noise the forecast misjudges.
@Suite struct BandCalibrationTests {
    /// Deterministic standard normal draws (Box–Muller on a 64-bit LCG).
    struct Normal {
        var state: UInt64
        mutating func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        mutating func next() -> Float { Float((-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())) }
    }

    static let quantiles: [Float] = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98]

    /// A forecaster that believes the noise is N(0, 1) (P10/P90 = ∓1.2816) around a known level 50,
    /// while the real noise has standard deviation `sigma`. Returns the coverage of the raw and of the
    /// served band over the last `scoredSteps` forecasts at horizon 6.
    static func run(sigma: Float, steps: Int = 3000, scoredSteps: Int = 1500) -> (raw: Double, served: Double, factor: Float) {
        var rng = Normal(state: 7)
        var c = BandCalibration()
        let z: [Float] = [-2.054, -1.2816, -0.6745, 0, 0.6745, 1.2816, 2.054]
        let horizon = 96
        let raw = z.map { q in [Float](repeating: 50 + q, count: horizon) }
        var served: [Int64: (Float, Float)] = [:]   // due step → served P10/P90 at step 6
        var insideRaw = 0, insideServed = 0, n = 0
        for t in 0..<Int64(steps) {
            let y = 50 + sigma * rng.next()
            if let band = served.removeValue(forKey: t), t >= Int64(steps - scoredSteps) {
                n += 1
                if y >= 50 - 1.2816 && y <= 50 + 1.2816 { insideRaw += 1 }
                if y >= band.0 && y <= band.1 { insideServed += 1 }
            }
            let out = c.update(lastStep: t, actual: y, forecast: raw, quantiles: quantiles, shrinkMedian: false)
            served[t + 6] = (out[1][5], out[5][5])
            // Widths only: the median is never moved and the quantiles stay ordered.
            precondition(out[3] == raw[3] && zip(out[1], out[5]).allSatisfy { $0 <= $1 })
        }
        return (Double(insideRaw) / Double(n), Double(insideServed) / Double(n), c.factors[1])
    }

    @Test func tooNarrowBands_AreWidenedToNominalCoverage() {
        let r = Self.run(sigma: 3)
        #expect(r.raw < 0.4)                        // the model's own band covers about a third
        #expect(r.served > 0.74 && r.served < 0.86) // calibrated: near 0.8
        #expect(r.factor > 2)
    }

    @Test func tooWideBands_AreNarrowedToNominalCoverage() {
        let r = Self.run(sigma: 0.3)
        #expect(r.raw > 0.99)
        #expect(r.served > 0.74 && r.served < 0.86)
        #expect(r.factor < 0.5)
    }

    /// A band eight times too wide (an idle or quantised series under a model made for busy ones) needs a
    /// factor below ¼: the bounds must not stop the adaptive update short of nominal coverage.
    @Test func farTooWideBands_AreNarrowedBelowAQuarter() {
        let r = Self.run(sigma: 0.125)
        #expect(r.raw > 0.99)
        #expect(r.served > 0.74 && r.served < 0.86)
        #expect(r.factor < 0.25)
    }

    @Test func rightBands_StayNearOne() {
        let r = Self.run(sigma: 1)
        #expect(r.served > 0.74 && r.served < 0.86)
        #expect(r.factor > 0.7 && r.factor < 1.4)
    }

    /// A random walk (the last value is the best forecast) and a forecaster whose median departs from the
    /// last value by noise of its own: the shrinkage moves the served median to the last value. With the
    /// median right (a constant level plus noise, forecast at that level) it keeps the model's median.
    static func shrinkRun(randomWalk: Bool, steps: Int = 2000)
        -> (alpha6: Float, servedMAE: Double, lastMAE: Double, modelMAE: Double, skill: Float?, modelSkill: Float?) {
        var rng = Normal(state: 11)
        var c = BandCalibration()
        var y: Float = 50
        var served: [Int64: Float] = [:], model: [Int64: Float] = [:], last: [Int64: Float] = [:]
        var eServed = 0.0, eModel = 0.0, eLast = 0.0
        for t in 0..<Int64(steps) {
            y = randomWalk ? y + rng.next() : 50 + 3 * rng.next()
            if let s = served.removeValue(forKey: t), let m = model.removeValue(forKey: t), let l = last.removeValue(forKey: t), t > Int64(steps / 2) {
                eServed += Double(abs(y - s)); eModel += Double(abs(y - m)); eLast += Double(abs(y - l))
            }
            let mid = randomWalk ? y + 3 * rng.next() : 50
            let raw = z.map { q in [Float](repeating: mid + q, count: 96) }
            let out = c.update(lastStep: t, actual: y, forecast: raw, quantiles: quantiles)
            served[t + 6] = out[3][5]; model[t + 6] = mid; last[t + 6] = y
        }
        return (c.shrinkAlphas[1], eServed, eLast, eModel, c.errorVsLastValue[1], c.modelErrorVsLastValue[1])
    }

    static let z: [Float] = [-2.054, -1.2816, -0.6745, 0, 0.6745, 1.2816, 2.054]

    @Test func medianThatDoesNotPay_IsShrunkToTheLastValue() throws {
        let r = Self.shrinkRun(randomWalk: true)
        #expect(r.alpha6 <= 0.25)
        #expect(r.modelMAE > 1.2 * r.lastMAE)
        #expect(r.servedMAE < 1.05 * r.lastMAE)
        // The live skill says the same: the served median is the last value's (1), the model alone is worse.
        let skill = try #require(r.skill), modelSkill = try #require(r.modelSkill)
        #expect(skill > 0.95 && skill < 1.05)
        #expect(modelSkill > 1.2)
    }

    @Test func medianThatPays_IsKept() throws {
        let r = Self.shrinkRun(randomWalk: false)
        // The model's median (the level itself) or a candidate as good as it (a level at the same value).
        #expect(r.servedMAE < 1.05 * r.modelMAE)
        #expect(r.servedMAE < 0.9 * r.lastMAE)
        // The live skill (about the last day) agrees with the errors measured over the second half of the run:
        // for level + N(0, 3) the level's error is √2 times smaller than the last value's (0.71).
        let skill = try #require(r.skill), modelSkill = try #require(r.modelSkill)
        #expect(abs(Double(skill) - r.servedMAE / r.lastMAE) < 0.1)
        #expect(skill < 0.85 && modelSkill < 0.85)
    }

    /// A state saved before the served errors were kept starts them from the guard's error of the candidate
    /// served now; saved ones are taken as they are (saved at the four reported horizons: each horizon between
    /// takes the one below it), and the skill is nil where the last value was never wrong.
    @Test func servedErrors_RestoredOrEstimatedFromTheServedCandidate() throws {
        var c = BandCalibration()
        c.shrinkErrors = BandCalibration.horizons.map { _ in [2, 2, 2, 2, 1] + [Float](repeating: 3, count: BandCalibration.candidateCount - 5) }
        c.guardErrors = BandCalibration.horizons.map { _ in [2, 2, 2, 2, 1] + [Float](repeating: 3, count: BandCalibration.candidateCount - 5) }
        c.guardErrors[6] = [Float](repeating: 0, count: BandCalibration.candidateCount)     // 8 hours
        #expect(c.chosenCandidates[0] == BandCalibration.modelCandidate)
        c.restoreServedErrors(nil)
        #expect(c.servedErrors == [1, 1, 1, 1, 1, 1, 0, 0])
        #expect(c.errorVsLastValue[0] == 0.5 && c.errorVsLastValue[3] == nil && c.modelErrorVsLastValue[1] == 0.5)
        c.restoreServedErrors([0.5, 0.6, 0.7, 0.8])
        #expect(c.servedErrors == [0.5, 0.5, 0.6, 0.6, 0.7, 0.7, 0.8, 0])
        c.restoreServedErrors([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
        let back = try JSONDecoder().decode(BandCalibration.self, from: JSONEncoder().encode(c))
        #expect(back.servedErrors == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0])
        c.restoreServedErrors([0.5, .nan, 0.7, 0.8])     // not a saved state: estimated again
        #expect(c.servedErrors == [1, 1, 1, 1, 1, 1, 0, 0])
    }

    /// A state saved when four horizons were scored (before 2026-12-07) serves the same widths at every step:
    /// the new horizons' factors and raw widths are the interpolation that was served there, and their error
    /// memories start from the scored horizon below (1 h must not take 2 h's errors, in units of the spread).
    @Test func stateOfFourHorizons_ServesTheSameWidthsAtSevenHorizons() throws {
        let legacy: [Float] = [0.1, log(2), log(2), log(4)]
        let rows = (0..<4).map { i in (0..<BandCalibration.candidateCount).map { Float(10 * i + $0) } }
        var saved = try JSONSerialization.jsonObject(with: JSONEncoder().encode(BandCalibration())) as! [String: Any]
        saved["log_factors"] = legacy; saved["shrink_errors"] = rows; saved["guard_errors"] = rows
        saved["raw_widths"] = [1, 2, 4, 8]; saved["served_errors"] = [0.5, 0.6, 0.7, 0.8]
        let c = try JSONDecoder().decode(BandCalibration.self, from: JSONSerialization.data(withJSONObject: saved))
        for k in [1, 2, 3, 5, 6, 12, 20, 24, 48, 60, 96] {
            #expect(abs(c.factor(step: k) - exp(BandCalibration.interpolate(legacy, step: k, over: [1, 6, 24, 96]))) < 1e-5, "step \(k)")
        }
        #expect(c.shrinkErrors == [rows[0], rows[0], rows[1], rows[1], rows[2], rows[2], rows[3]] && c.guardErrors == c.shrinkErrors)
        #expect(c.rawWidths[0] == 1 && abs(c.rawWidths[3] - (2 + 2 * log(Float(13) / 6) / log(4))) < 1e-5 && c.rawWidths[6] == 8)
        #expect(c.servedErrors == [0.5, 0.5, 0.6, 0.6, 0.7, 0.7, 0.8, 0] && c.factors.count == 4)
    }

    @Test func sideCollapsedByTheClamp_BorrowsTheMirroredWidth() throws {
        var c = BandCalibration()
        // Recent errors favour the last value (anchor last value, α = 0) at every horizon.
        c.shrinkErrors = BandCalibration.horizons.map { _ in [1] + [Float](repeating: 2, count: BandCalibration.candidateCount - 1) }
        // A median clamped at 100 with its upper quantiles collapsed onto it; the last value is 40.
        let raw: [[Float]] = [80, 90, 95, 100, 100, 100, 100].map { [Float](repeating: $0, count: 96) }
        var out = raw, risk: [[Float]] = []
        c.update(lastStep: 0, actual: 40, forecast: &out, quantiles: Self.quantiles, shrinkMedian: true, range: 0...100, riskBand: &risk)
        #expect(out[3][5] == 40)                                        // the median moved to the last value
        #expect(out[1][5] == 30 && out[0][5] == 20)                     // the lower band around it
        #expect(out[4][5] == 45 && out[5][5] == 50 && out[6][5] == 60)  // the upper band: the lower one mirrored
        // Risk grades the union with the model's band (the model's median in the middle): its upper side at the clamp.
        #expect(risk[3][5] == 100 && risk[5][5] == 100 && risk[6][5] == 100 && risk[1][5] == 30)
    }

    /// A forecast whose rows differ in length (no model makes one) is left as it is: the step is still observed.
    @Test func raggedForecast_IsLeftAsItIs_TheActualStillObserved() {
        var c = BandCalibration()
        var out: [[Float]] = [30, 40, 50, 60, 70, 80, 90].map { [Float](repeating: $0, count: 96) }
        out[5].removeLast()
        let before = out
        var risk: [[Float]] = [[1]]
        c.update(lastStep: 0, actual: 40, forecast: &out, quantiles: Self.quantiles, shrinkMedian: true, range: 0...100, riskBand: &risk)
        #expect(out == before && risk == [[1]])
        #expect(c.levelStep == 0)                                       // the actual still moved the levels
    }

    /// Users are served the band around the chosen median (its misses are what the factor calibrates); risk
    /// grades its union with the same band around the model's median, which keeps the model's forecast rise.
    @Test func chosenMedianBelowTheModels_ServedBandAroundIt_RiskBandSpansBoth() throws {
        var c = BandCalibration()
        c.shrinkErrors = BandCalibration.horizons.map { _ in [1] + [Float](repeating: 2, count: BandCalibration.candidateCount - 1) }
        // The model forecasts a rise to 60 (P10–P90 50–70); the last value, 40, has been right lately.
        let raw: [[Float]] = [30, 40, 50, 60, 70, 80, 90].map { [Float](repeating: $0, count: 96) }
        var out = raw, band: [[Float]] = []
        c.update(lastStep: 0, actual: 40, forecast: &out, quantiles: Self.quantiles, shrinkMedian: true, range: 0...100, riskBand: &band)
        #expect(out[3][5] == 40)                                        // the served median: the last value
        #expect(out[0][5] == 10 && out[1][5] == 20 && out[2][5] == 30)  // lower quantiles around it
        #expect(out[4][5] == 50 && out[5][5] == 60 && out[6][5] == 70)  // and the upper ones
        var f = ServerForecast(serverName: "a", firstEpoch: 0, stepSeconds: 300, quantiles: Self.quantiles, values: ["cpu": out])
        #expect(f.riskValues("cpu") == out)                             // no risk band kept: the served one
        f.riskBands["cpu"] = band
        let risk = try #require(f.riskValues("cpu"))
        #expect(risk[0][5] == 10 && risk[1][5] == 20 && risk[3][5] == 60)
        #expect(risk[4][5] == 70 && risk[5][5] == 80 && risk[6][5] == 90)  // the upper ones keep the model's rise
        // At 30 minutes (P10–P90 20–60 around the last value), 65 is a miss and 55 is not.
        for step in 1...6 { c.observe(step: Int64(step), actual: step == 6 ? 65 : 40) }
        #expect(c.scored == 3 && c.insideServed == 2)
        var d = BandCalibration()
        d.shrinkErrors = c.shrinkErrors
        var again = raw
        d.update(lastStep: 0, actual: 40, forecast: &again, quantiles: Self.quantiles, shrinkMedian: true, range: 0...100)
        for step in 1...6 { d.observe(step: Int64(step), actual: step == 6 ? 55 : 40) }
        #expect(d.scored == 3 && d.insideServed == 3)
    }

    /// Each series is served the band with the lower recent interval score, each band at its own calibrated
    /// factor: the chosen median's own band where the model's median is off (the union spans a gap values never
    /// visit), the union where values drift back to the model's median over the horizon.
    @Test func bandSelection_ServesTheBandWithTheLowerIntervalScore() {
        // The last value is the median served (its errors kept the lowest); the model forecasts 60 with a ±5 band.
        func run(_ next: (Float, inout Normal) -> Float) -> (served: [[Float]], risk: [[Float]], c: BandCalibration) {
            var c = BandCalibration(), rng = Normal(state: 11), y: Float = 60
            let lastWins = BandCalibration.horizons.map { _ in [1] + [Float](repeating: 50, count: BandCalibration.candidateCount - 1) }
            var out: [[Float]] = [], risk: [[Float]] = []
            for t in 0..<4_000 {
                y = next(y, &rng)
                c.shrinkErrors = lastWins
                out = [-8, -5, -3, 0, 3, 5, 8].map { [Float](repeating: 60 + $0, count: 96) }
                c.update(lastStep: Int64(t), actual: y, forecast: &out, quantiles: Self.quantiles, shrinkMedian: true,
                         range: 0...100, riskBand: &risk)
            }
            return (out, risk, c)
        }
        // Values stay near 40: the band around the last value alone, narrow; risk keeps the model's rise.
        let quiet = run { _, rng in 40 + rng.next() }
        #expect(quiet.c.servesUnion.allSatisfy { !$0 } && quiet.c.servedBands == ["chosen_median", "chosen_median", "chosen_median", "chosen_median"])
        #expect(quiet.served[5][95] - quiet.served[1][95] < 10 && quiet.risk[5][95] > 60 && quiet.risk[3][95] == 60)
        // A level that wanders and returns to 60 (AR(1), 0.97 per step): the last value is right 5 minutes ahead,
        // 60 is more likely 8 hours ahead. The union is served at 8 h, the last value's own band at 5 min.
        let returning = run { y, rng in 60 + 0.97 * (y - 60) + 2 * rng.next() }
        #expect(!returning.c.servesUnion[0] && returning.c.servesUnion[6])
        #expect(returning.c.servedBands.first == "chosen_median" && returning.c.servedBands.last == "union")
        let coverage = Double(returning.c.insideServed) / Double(returning.c.scored)
        #expect(abs(coverage - 0.8) < 0.05, "coverage \(coverage)")
    }

    @Test func factorOfAStep_InterpolatesBetweenScoredHorizons() {
        var c = BandCalibration()
        c.logFactors = [0, 0.5, log(2), log(2), log(2), log(3), log(4)]
        #expect(abs(c.factor(step: 1) - 1) < 1e-5)
        #expect(abs(c.factor(step: 3) - exp(0.5)) < 1e-5)
        #expect(abs(c.factor(step: 6) - 2) < 1e-5)
        #expect(abs(c.factor(step: 18) - 2) < 1e-5)
        #expect(c.factor(step: 30) > 2 && c.factor(step: 30) < 3)
        #expect(abs(c.factor(step: 49) - 3) < 1e-5)
        #expect(abs(c.factor(step: 96) - 4) < 1e-4)
        #expect(c.factors.map { ($0 * 1e4).rounded() / 1e4 } == [1, 2, 2, 4])      // the reported horizons
    }

    @Test func persistedFields_RoundTripWithoutPendingForecasts() throws {
        var c = BandCalibration()
        c.logFactors = [0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7]
        c.scored = 10; c.insideRaw = 4; c.insideServed = 8
        c.record(lastStep: 5, low: [Float](repeating: 0, count: 96), mid: [Float](repeating: 1, count: 96), high: [Float](repeating: 2, count: 96))
        let back = try JSONDecoder().decode(BandCalibration.self, from: JSONEncoder().encode(c))
        #expect(back.logFactors == c.logFactors && back.scored == 10 && back.insideRaw == 4 && back.insideServed == 8)
        #expect(back.pending == BandCalibration().pending)
    }

    /// The width factor moves fast on a new series (it must find its width within a day) and by a quarter of
    /// that once 300 scores per horizon have settled it (a fixed fast rate kept the bands swinging).
    @Test func adaptiveRate_FallsFromTheStartToTheFloor() {
        #expect(BandCalibration.adaptiveRate(scores: 0) == BandCalibration.rate)
        #expect(abs(BandCalibration.adaptiveRate(scores: 100) - BandCalibration.rate / 2) < 1e-7)
        #expect(BandCalibration.adaptiveRate(scores: 300) == BandCalibration.rateFloor)
        #expect(BandCalibration.adaptiveRate(scores: 1_000_000) == BandCalibration.rateFloor)
        #expect(BandCalibration.rateFloor == BandCalibration.rate / 4)
        func missMoves(afterScores scored: Int) -> Float {
            var c = BandCalibration()
            c.scored = scored
            c.record(lastStep: 0, low: [Float](repeating: 49, count: 96), mid: [Float](repeating: 50, count: 96),
                     high: [Float](repeating: 51, count: 96))
            c.observe(step: 1, actual: 60)             // horizon 1's forecast, far outside its band
            return c.logFactors[0]
        }
        #expect(abs(missMoves(afterScores: 0) - 0.05 * 0.8) < 1e-6)
        #expect(abs(missMoves(afterScores: BandCalibration.horizons.count * 300) - 0.0125 * 0.8) < 1e-6)
    }

    /// A model swap (a fine-tune or a reload) keeps the served width: the factor that fitted the previous
    /// model's bands moves by the ratio of the raw widths, then adapts from there. Without a new model name a
    /// narrower raw band is served narrower.
    @Test func modelSwap_HandsTheServedWidthOver() throws {
        let z: [Float] = [-2.054, -1.2816, -0.6745, 0, 0.6745, 1.2816, 2.054]
        func forecast(_ scale: Float) -> [[Float]] { z.map { q in [Float](repeating: 50 + scale * q, count: 96) } }
        func servedWidth(_ out: [[Float]], step: Int) -> Float { out[5][step - 1] - out[1][step - 1] }
        var c = BandCalibration(), rng = Normal(state: 5)
        var before: [[Float]] = []
        for t in 0..<1500 as Range<Int64> {
            before = c.update(lastStep: t, actual: 50 + 3 * rng.next(), forecast: forecast(1), quantiles: Self.quantiles,
                              shrinkMedian: false, model: "tft_model_a")
        }
        #expect(c.model == "tft_model_a" && c.factors[1] > 1.5 && c.factors.allSatisfy { $0 < 8 })
        var same = c, unnamed = c
        let y = 50 + 3 * rng.next()
        let swapped = c.update(lastStep: 1500, actual: y, forecast: forecast(0.25), quantiles: Self.quantiles, shrinkMedian: false,
                               model: "tft_model_b")
        #expect(c.model == "tft_model_b")
        for step in [1, 6, 24, 50, 96] {
            // One more score moves a factor by e^0.04 at most.
            #expect(abs(log(servedWidth(swapped, step: step) / servedWidth(before, step: step))) < 0.045, "step \(step)")
        }
        let narrower = [same.update(lastStep: 1500, actual: y, forecast: forecast(0.25), quantiles: Self.quantiles, shrinkMedian: false,
                                    model: "tft_model_a"),
                        unnamed.update(lastStep: 1500, actual: y, forecast: forecast(0.25), quantiles: Self.quantiles, shrinkMedian: false)]
        for out in narrower { #expect(servedWidth(out, step: 6) < 0.3 * servedWidth(before, step: 6)) }
        #expect(same.model == "tft_model_a" && unnamed.model == "tft_model_a")

        // The model and its widths are persisted (a restart with another model hands over too); unknown widths as null.
        let back = try JSONDecoder().decode(BandCalibration.self, from: JSONEncoder().encode(c))
        #expect(back.model == "tft_model_b" && back.rawWidths == c.rawWidths && c.rawWidths.allSatisfy(\.isFinite))
        let fresh = try JSONDecoder().decode(BandCalibration.self, from: JSONEncoder().encode(BandCalibration()))
        #expect(fresh.model == nil && fresh.rawWidths.allSatisfy(\.isNaN))
    }

    /// A restart's first tick sees the newest step again: it must not move the restored levels a second time.
    @Test func restoredLevels_AreNotMovedAgainByTheSameStep() throws {
        var c = BandCalibration()
        for (step, value) in [(1, 50), (2, 58), (3, 55)] as [(Int64, Float)] { c.observe(step: step, actual: value) }
        var back = try JSONDecoder().decode(BandCalibration.self, from: JSONEncoder().encode(c))
        #expect(back.levelStep == 3 && back.recent == [50, 58, 55] && back.levels == c.levels)
        back.observe(step: 3, actual: 55)
        #expect(back.levels == c.levels && back.recent == c.recent)
        back.observe(step: 4, actual: 60); c.observe(step: 4, actual: 60)
        #expect(back.levels == c.levels && back.recent == c.recent)
    }
}
