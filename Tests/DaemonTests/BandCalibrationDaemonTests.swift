import Foundation
import Testing
import Training
@testable import Daemon

/// The daemon's per-server band calibration: scored every tick, reported, persisted across a restart.
@Suite struct BandCalibrationDaemonTests {
    /// Memory that jumps around far more than a random-weights model's bands expect.
    static func mem(_ server: String, _ i: Int) -> Double { 50 + Double((i * 37) % 23) - 11 }

    /// Feeds one step at a time and waits for each tick, so every step is one inference run.
    static func feedStepwise(_ d: TestDaemon, steps: Range<Int>) throws {
        for i in steps { try d.feed(["ppdb001"], steps: i..<(i + 1), mem: mem) }
    }

    @Test func calibration_IsScoredReportedAndSurvivesRestart() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var d: TestDaemon? = try TestDaemon(dir: dir)
        try Self.feedStepwise(d!, steps: 0..<30)
        let server = try d!.get("/predictions/calibration?server=ppdb001").object
        let mem = try #require((server["targets"] as? [String: [String: Any]])?["mem_used_pct"])
        let scored = try #require(mem["scored"] as? Int)
        #expect(scored > 0)
        let factors = try #require(mem["factors"] as? [Double])
        #expect(factors.count == BandCalibration.reportedHorizons.count)
        #expect(factors[0] != 1)   // horizon 1 was scored at every tick since the second one
        let anchors = try #require(mem["median_anchors"] as? [String])
        #expect(anchors.count == BandCalibration.reportedHorizons.count)
        #expect(anchors.allSatisfy { name in BandCalibration.MedianAnchor.allCases.contains { $0.name == name } })
        let bands = try #require(mem["served_bands"] as? [String])
        #expect(bands.count == BandCalibration.reportedHorizons.count && bands.allSatisfy { ["chosen_median", "union"].contains($0) })
        #expect((mem["model"] as? String)?.hasPrefix("tft_model_") == true)
        #expect(mem["forecast_key"] as? String == "mem_pct")        // its key in /predictions forecasts
        // The live skill per horizon: at 5 minutes the jumping series has been scored (the last value is wrong
        // at every step); at 8 hours nothing has matured yet (null).
        let state = try #require(d!.daemon.calibration?.calibration(server: "ppdb001")?["mem_used_pct"])
        let skill = try #require(mem["error_vs_last_value"] as? [Any]), modelSkill = try #require(mem["model_error_vs_last_value"] as? [Any])
        #expect(skill.count == 4 && modelSkill.count == 4 && skill[3] is NSNull)
        let skill5 = try #require(skill[0] as? Double), expected = try #require(state.errorVsLastValue[0])
        #expect(skill5 > 0 && abs(skill5 - Double(expected)) < 0.002)
        #expect(abs((modelSkill[0] as? Double ?? -1) - Double(state.modelErrorVsLastValue[0] ?? -9)) < 0.002)

        let status = try d!.get("/status", key: nil).object
        let summary = try #require(status["band_calibration"] as? [String: Any])
        #expect(summary["enabled"] as? Bool == true)
        let fleetMem = try #require((summary["targets"] as? [String: [String: Any]])?["mem_used_pct"])
        #expect(fleetMem["servers"] as? Int == 1)
        #expect(fleetMem["scored"] as? Int == scored)
        #expect(fleetMem["forecast_key"] as? String == "mem_pct")
        let fleetSkill = try #require(fleetMem["median_error_vs_last_value"] as? [Any])
        let share = try #require(fleetMem["share_beating_last_value"] as? [Any])
        #expect(fleetSkill.count == 4 && share.count == 4 && fleetSkill[3] is NSNull && share[3] is NSNull)
        #expect(fleetSkill[0] as? Double == skill5)                                   // one server: its own figure
        #expect(share[0] as? Double == (skill5 < 1 ? 1 : 0))
        #expect(try d!.get("/predictions/calibration?server=nope").status == 404)
        let before = try #require(d!.daemon.calibration?.calibration(server: "ppdb001"))
        d!.stop()
        d = nil

        // A new daemon on the same data directory starts from the persisted factors and counts.
        let restarted = try TestDaemon(dir: dir)
        defer { restarted.stop() }
        let after = try #require(restarted.daemon.calibration?.calibration(server: "ppdb001"))
        for (target, c) in before {
            #expect(after[target]?.scored ?? -1 >= c.scored)
            if after[target]?.scored == c.scored {
                #expect(after[target]?.logFactors == c.logFactors && after[target]?.shrinkErrors == c.shrinkErrors)
                #expect(after[target]?.guardErrors == c.guardErrors && c.guardErrors[0].contains { $0 > 0 })
                #expect(after[target]?.levels == c.levels && after[target]?.levelStep == c.levelStep)
                #expect(after[target]?.recent == c.recent && c.recent.count > 1)
                #expect(after[target]?.spread == c.spread && (target != "mem_used_pct" || c.spread > 0))
                #expect(after[target]?.servedErrors == c.servedErrors && (target != "mem_used_pct" || c.servedErrors[0] > 0))
                // The model and its raw widths (the tiny model has none at 2 h and 8 h): a restart with another
                // model hands the widths over.
                #expect(after[target]?.model == c.model && c.model != nil)
                #expect(after[target]?.rawWidths.map { $0.isNaN ? nil : $0 } == c.rawWidths.map { $0.isNaN ? nil : $0 })
                #expect(c.rawWidths[0].isFinite)
            }
        }
    }

    /// A calibration file written before the rolling median (schema 4: a running median, its step spread and
    /// the previous value, no window) is migrated, keeps its errors and levels, starts the window from the
    /// saved median and the step change from the saved spread, puts the 2-hour and 8-hour errors in units of
    /// it, gives the damped trend (not a candidate then) its row's largest error and a slope from the window,
    /// and the store writes all of it back at close, marked as scaled.
    @Test func calibrationFileOfSchema4_UpgradesAndStartsTheWindowFromTheSavedMedian() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let path = dir.url.appendingPathComponent(BandCalibrationStore.fileName).path
        let old = try SQLiteDatabase(path: path, migrations: Array(BandCalibrationStore.migrations.prefix(4)))
        let errors = BandCalibration.reportedHorizons.map { _ in (0..<BandCalibration.candidateCount - 1).map { "\($0)" }.joined(separator: ",") }
        try old.write { c in
            try c.run("""
                INSERT INTO band_calibration (server, target, log_factors, shrink_errors, scored, inside_raw, inside_served, levels, spread,
                                              level_step, previous, guard_errors)
                VALUES ('ppdb001', 'mem_used_pct', '0.1,0.2,0.3,0.4', ?, 9, 7, 8, '50,51,52,53', 1.5, 100, 54, '')
                """, [.text(errors.joined(separator: ";"))])
        }
        old.close()

        let store = try BandCalibrationStore(dataDirectory: dir.url)
        let c = try #require(store.calibration(server: "ppdb001")?["mem_used_pct"])
        // Four horizons then: the factors between are interpolated in ln k (13 steps: between 6 and 24).
        #expect(c.scored == 9 && c.logFactors.count == 7 && c.logFactors[0] == 0.1 && c.logFactors[6] == 0.4 && c.shrinkErrors[0][1] == 1)
        #expect(abs(c.logFactors[3] - (0.2 + 0.1 * log(Float(13) / 6) / log(4))) < 1e-6 && c.shrinkErrors.count == 7)
        #expect(c.spread == 1.5 && c.shrinkErrors[6][3] == 2 && c.shrinkErrors[3][3] == 3)
        #expect(c.shrinkErrors[0][BandCalibration.trendCandidate] == 8 && c.shrinkErrors[6][BandCalibration.trendCandidate] == 8 / 1.5)
        #expect(c.slope == 0)                                    // one value in the window: no change yet
        #expect(c.levels == SIMD4(50, 51, 52, 53) && c.levelStep == 100 && c.recent == [53])   // the window's arithmetic: MedianSelectionTests
        store.close()
        let written = try SQLiteDatabase(path: path, migrations: BandCalibrationStore.migrations)
        defer { written.close() }
        let version = try written.read { c in try c.query("PRAGMA user_version") { Int($0.int64(0)) } }
        #expect(version == [BandCalibrationStore.migrations.count])
        let row = try written.read { c in
            try c.query("SELECT recent, spread, errors_scaled, slope, served_errors FROM band_calibration") {
                ($0.string(0), $0.double(1), $0.int64(2), $0.isNull(3) ? nil : $0.double(3), $0.string(4))
            }
        }
        #expect(row.first?.0 == "53.0" && row.first?.1 == 1.5 && row.first?.2 == 1 && row.first?.3 == 0)
        // The served errors, not kept then, are estimated from the guard's errors (none saved: 0) and written.
        #expect(row.first?.4 == "0.0,0.0,0.0,0.0,0.0,0.0,0.0" && c.servedErrors == SIMD8(repeating: 0))
        // Loaded again, the scaled errors are taken as they are.
        let again = try BandCalibrationStore(dataDirectory: dir.url)
        defer { again.close() }
        #expect(again.calibration(server: "ppdb001")?["mem_used_pct"]?.shrinkErrors == c.shrinkErrors)
    }

    @Test func calibrationOff_ServesRawBandsAndSaysSo() throws {
        let d = try TestDaemon(configure: { $0.bandCalibration = false })
        defer { d.stop(); d.dir.cleanup() }
        try d.feed(["ppdb001"], steps: 0..<20)
        #expect(d.daemon.calibration == nil)
        let summary = try d.get("/status", key: nil).object["band_calibration"] as? [String: Any]
        #expect(summary?["enabled"] as? Bool == false)
        #expect(try d.get("/predictions/calibration").object["enabled"] as? Bool == false)
    }

    /// Median selection changes what `/predictions` serve, never what risk grades: alerts and risk scores
    /// read the model's own median (the early warning), so they equal a widths-only daemon's fed the same.
    @Test func medianSelection_ServesTheChosenMedian_RiskReadsTheModels() throws {
        // Flat memory with a rare blip: persistence or a level beats a random-weights model within a few ticks.
        let flat: (String, Int) -> Double = { _, i in i % 11 == 0 ? 62 : 60 }
        let selecting = try TestDaemon(configure: { $0.medianShrinkage = true })
        let widthsOnly = try TestDaemon(configure: { $0.medianShrinkage = false })
        defer { selecting.stop(); selecting.dir.cleanup(); widthsOnly.stop(); widthsOnly.dir.cleanup() }
        for i in 0..<40 {
            try selecting.feed(["ppdb001"], steps: i..<(i + 1), mem: flat)
            try widthsOnly.feed(["ppdb001"], steps: i..<(i + 1), mem: flat)
        }
        let a = try #require(selecting.daemon.engine.latest?.servers.first)
        let b = try #require(widthsOnly.daemon.engine.latest?.servers.first)
        let mem = try #require(a.forecastKeys.firstIndex(of: "mem_pct"))
        let p50 = BandCalibration.row(0.5, in: a.quantiles)
        #expect(a.forecast[mem][p50] != b.forecast[mem][p50])   // the selection serves another median
        for (x, y) in zip(a.risk.metrics, b.risk.metrics) {
            #expect(x.metric == y.metric && x.forecastScore == y.forecastScore && x.score == y.score)
            #expect(x.crossing?.steps == y.crossing?.steps && x.crossing?.severity == y.crossing?.severity)
        }
        #expect(a.risk.score == b.risk.score)
    }

    /// A hot swap (a reload, or a finished fine-tune) keeps each server's calibration: the errors and levels
    /// the previous model earned stay, and the new model's forecasts are scored from there on. The real-data
    /// benchmark replays fine-tunes this way (`argusd evaluate --warm-model`).
    @Test func calibration_CarriesAcrossAModelReload() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        try Self.feedStepwise(d, steps: 0..<30)
        let before = try #require(d.daemon.calibration?.calibration(server: "ppdb001")?["mem_used_pct"])
        let other = try TinyModel.write(into: d.modelsDirectory, seed: 3, name: "tft_model_20250114_000000")
        let reloaded = try d.post("/admin/reload-model", Data(#"{"model_path": "\#(other.path)"}"#.utf8))
        #expect(reloaded.status == 200, "\(reloaded.text)")
        try Self.feedStepwise(d, steps: 30..<31)
        #expect(try d.get("/predictions/current").object["model"] as? String == "tft_model_20250114_000000")
        let after = try #require(d.daemon.calibration?.calibration(server: "ppdb001")?["mem_used_pct"])
        #expect(after.scored > before.scored)
        #expect(after.levelStep == before.levelStep + 1)
        #expect(after.guardErrors[0].contains { $0 > 0 })
        // The widths are handed over: each factor moved by the ratio of the two models' raw widths (here the
        // new model's second forecast's: the reload forecasts once more before step 30), besides its adaptive
        // steps (0.04 in `ln` at most each). The tiny models forecast 12 steps: 2 h and 8 h have no width.
        #expect(before.model?.hasPrefix("tft_model_") == true && before.model != "tft_model_20250114_000000")
        #expect(after.model == "tft_model_20250114_000000")
        let shifts = (0..<2).map { log(before.rawWidths[$0] / after.rawWidths[$0]) }
        #expect(shifts.contains { abs($0) > 0.3 }, "the two models' bands differ: \(shifts)")
        for i in shifts.indices where BandCalibration.logFactorRange.contains(after.logFactors[i]) {
            #expect(abs(after.logFactors[i] - before.logFactors[i] - shifts[i]) <= 0.1, "horizon \(BandCalibration.horizons[i]): \(shifts)")
        }
    }
}
