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
        #expect(factors.count == BandCalibration.horizons.count)
        #expect(factors[0] != 1)   // horizon 1 was scored at every tick since the second one
        let anchors = try #require(mem["median_anchors"] as? [String])
        #expect(anchors.count == BandCalibration.horizons.count)
        #expect(anchors.allSatisfy { name in BandCalibration.MedianAnchor.allCases.contains { $0.name == name } })

        let status = try d!.get("/status", key: nil).object
        let summary = try #require(status["band_calibration"] as? [String: Any])
        #expect(summary["enabled"] as? Bool == true)
        let fleetMem = try #require((summary["targets"] as? [String: [String: Any]])?["mem_used_pct"])
        #expect(fleetMem["servers"] as? Int == 1)
        #expect(fleetMem["scored"] as? Int == scored)
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
                #expect(after[target]?.levels == c.levels && after[target]?.spread == c.spread)
            }
        }
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
}
