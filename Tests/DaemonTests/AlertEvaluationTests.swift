import Foundation
import Testing
import TFTCore
import Training
@testable import Daemon

/// `argusd evaluate-alerts`: the scoring on hand-made incidents and alerts, and one small run through a
/// real daemon (tiny random-weight model) over HTTP.
@Suite("AlertEvaluation")
struct AlertEvaluationTests {
    static func incident(_ id: Int, _ server: String, _ profile: String, _ kind: String, _ metric: String,
                         ramp: Int, warning: Int?, critical: Int?, end: Int?) -> String {
        func opt(_ v: Int?) -> String { v.map(String.init) ?? "null" }
        return """
        {"id":\(id),"server":"\(server)","profile":"\(profile)","kind":"\(kind)","metric":"\(metric)",
         "feed_field":"x","warning_level":1,"critical_level":2,"planned_peak":3,"observed_peak":3,
         "ramp_start":"","ramp_start_step":\(ramp),"warning_step":\(opt(warning)),"critical_step":\(opt(critical)),
         "end_step":\(opt(end)),"resolution":"recovered","cascade_ids":[]}
        """
    }

    /// Five servers; incidents on ppdb001 (memory leak), ppweb001 (iowait), ppgen001 (CPU, never alerted),
    /// ppdb002 (disk, ramp before scoring started); a cascade on ppweb003 at steps 20–30.
    static func truth() throws -> FleetGroundTruth {
        let incidents = [
            incident(0, "ppdb001", "database", "memory_leak", "memory", ramp: 10, warning: 20, critical: 30, end: 40),
            incident(1, "ppweb001", "web_api", "iowait_climb", "iowait", ramp: 10, warning: 25, critical: 30, end: 35),
            incident(2, "ppgen001", "generic", "cpu_saturation", "cpu", ramp: 10, warning: nil, critical: 30, end: 38),
            incident(3, "ppdb002", "database", "disk_filling", "disk", ramp: 2, warning: 8, critical: 12, end: 20),
        ]
        let json = """
        {"seed":1,"step_seconds":300,"start":"2025-01-01T00:00:00","steps":60,"servers":[],
         "incidents":[\(incidents.joined(separator: ","))],
         "cascades":[{"id":0,"source_incident":0,"source":"ppdb001","server":"ppweb003","profile":"web_api",
           "effect":"connection_failures","strength":0.8,"onset":"","onset_step":20,"start_step":20,
           "peak_impact":0.5,"end_step":30}]}
        """
        return try FleetGroundTruth.decode(from: Data(json.utf8))
    }

    /// Steps 5..<60. Alerts: ppdb001 swap warning (forecast) 18–35 and memory critical 25–35 (both the
    /// leak's); ppweb001 load warning 31–33 (after the crossing); false: ppweb002 CPU 40–41 + 44 (one
    /// episode, gap of 2) and 50 (a second one), ppdb001 CPU 20 (not a memory-leak metric), ppweb003
    /// iowait 22 (during the cascade).
    static func timeline() -> AlertTimeline {
        var t = AlertTimeline(firstStep: 5, steps: Array(repeating: [], count: 55))
        func add(_ steps: [Int], _ a: AlertSample) { for s in steps { t.steps[s - 5].append(a) } }
        add(Array(18...35), AlertSample(server: "ppdb001", metric: .swap, level: "warning", minutesToIssue: 30))
        add(Array(25...35), AlertSample(server: "ppdb001", metric: .memory, level: "critical", minutesToIssue: 25))
        add(Array(31...33), AlertSample(server: "ppweb001", metric: .loadPerCore, level: "warning"))
        add([40, 41, 44, 50], AlertSample(server: "ppweb002", metric: .cpu, level: "warning"))
        add([20], AlertSample(server: "ppdb001", metric: .cpu, level: "warning"))
        add([22], AlertSample(server: "ppweb003", metric: .iowait, level: "warning"))
        return t
    }

    @Test("percentiles interpolate linearly")
    func percentiles() {
        #expect(AlertScorer.percentile([40, 10, 30, 20], 0.25) == 17.5)
        #expect(AlertScorer.percentile([40, 10, 30, 20], 0.5) == 25)
        #expect(AlertScorer.percentile([7], 0.75) == 7)
        #expect(AlertScorer.percentile([], 0.5) == nil)
    }

    @Test("episodes merge short gaps and keep their peak level")
    func episodes() {
        var t = AlertTimeline(firstStep: 0, steps: Array(repeating: [], count: 12))
        for s in [1, 2, 5, 9] { t.steps[s].append(AlertSample(server: "a", metric: .cpu, level: s == 5 ? "critical" : "warning")) }
        t.steps[2].append(AlertSample(server: "a", metric: .cpu, level: "critical"))     // duplicate: one per server+metric
        let e = AlertScorer.episodes(t, options: AlertScoringOptions())
        #expect(e.map(\.startStep) == [1, 9])
        #expect(e.map(\.endStep) == [5, 9])
        #expect(e.map(\.peakLevel) == ["critical", "warning"])
        var criticalOnly = AlertScoringOptions(levels: ["critical"])
        criticalOnly.mergeGapSteps = 0
        #expect(AlertScorer.episodes(t, options: criticalOnly).map(\.startStep) == [2, 5])
    }

    @Test("warning or critical: lead times, late, missed, excluded, false alerts per server-day")
    func scoreAnyLevel() throws {
        let s = AlertScorer.score(timeline: Self.timeline(), truth: try Self.truth(), serverCount: 5)
        #expect(s.incidentsScored == 3)
        #expect(s.incidentsExcluded == 1)
        #expect(s.alertedBeforeCrossing == 1 && s.alertedAfterCrossing == 1 && s.missed == 1)
        let byID = Dictionary(uniqueKeysWithValues: s.outcomes.map { ($0.id, $0) })
        #expect(byID[0]?.result == .early)
        #expect(byID[0]?.firstAlertStep == 18)
        #expect(byID[0]?.firstAlertMetric == .swap)
        #expect(byID[0]?.firstAlertPredicted == true)
        #expect(byID[0]?.leadMinutes == 60)
        #expect(byID[1]?.result == .late)
        #expect(byID[1]?.leadMinutes == -5)
        #expect(byID[2]?.result == .missed)
        #expect(byID[2]?.leadMinutes == nil)
        #expect(s.leadMedianMinutes == 60)
        #expect(s.earlyPredicted == 1)
        #expect(abs(s.shareAlertedBeforeCrossing - 1.0 / 3) < 1e-12)
        #expect(abs(s.shareMissed - 1.0 / 3) < 1e-12)
        #expect(s.warningThresholdLeadMedianMinutes == 37.5)          // (50 + 25) / 2
        // Episodes: swap, memory (ppdb001), load (ppweb001) matched; 4 false.
        #expect(s.episodes == 7)
        #expect(s.falseEpisodes == 4)
        #expect(s.falseEpisodesDuringCascades == 1)
        #expect(s.falseEpisodesByMetric == ["cpu": 3, "iowait": 1])
        #expect(s.falseEpisodesForecast == 0)
        #expect(s.episodeList.first { $0.metric == .swap }?.startedAsForecast == true)
        let serverDays = 5.0 * 55 * 300 / 86_400
        #expect(abs(s.serverDays - serverDays) < 1e-12)
        #expect(abs(s.falseAlertsPerServerDay - 4 / serverDays) < 1e-12)
        #expect(abs(s.falseAlertsPerServerDayExcludingCascades - 3 / serverDays) < 1e-12)
    }

    @Test("critical only: the first critical alert sets the lead; warnings are neither leads nor false alerts")
    func scoreCriticalOnly() throws {
        let s = AlertScorer.score(timeline: Self.timeline(), truth: try Self.truth(), serverCount: 5,
                                  options: AlertScoringOptions(levels: ["critical"]))
        #expect(s.alertedBeforeCrossing == 1 && s.missed == 2)
        #expect(s.leadMedianMinutes == 25)
        #expect(s.episodes == 1 && s.falseEpisodes == 0 && s.falseAlertsPerServerDay == 0)
    }

    @Test("an alert outside the slack is false, inside it belongs to the incident")
    func slack() throws {
        var t = AlertTimeline(firstStep: 0, steps: Array(repeating: [], count: 60))
        t.steps[17].append(AlertSample(server: "ppgen001", metric: .cpu, level: "warning"))   // step 17: inside
        t.steps[52].append(AlertSample(server: "ppgen001", metric: .loadPerCore, level: "warning"))     // 38 + 12 = 50 < 52
        var truth = try Self.truth()
        truth.incidents = truth.incidents.filter { $0.id == 2 }
        let s = AlertScorer.score(timeline: t, truth: truth, serverCount: 1)
        #expect(s.outcomes.first?.leadMinutes == 65)
        #expect(s.falseEpisodes == 1)
        #expect(s.episodeList.first { $0.incidentId == nil }?.startStep == 52)
    }

    @Test("GET /alerts/active bodies parse into samples")
    func parse() throws {
        let body = """
        {"timestamp":"2025-01-15T10:05:00","count":2,"alerts":[
         {"server_name":"ppdb003","level":"critical","risk_score":92.1,"profile":"Database","message":"m",
          "time_to_issue":"45 minutes","metric":"memory","minutes_to_issue":45},
         {"server_name":"ppweb001","level":"warning","metric":"load_per_core","minutes_to_issue":0}]}
        """
        let (stamp, alerts) = try AlertEvaluation.parseActiveAlerts(Data(body.utf8))
        #expect(stamp == "2025-01-15T10:05:00")
        #expect(alerts == [AlertSample(server: "ppdb003", metric: .memory, level: "critical", minutesToIssue: 45),
                           AlertSample(server: "ppweb001", metric: .loadPerCore, level: "warning", minutesToIssue: 0)])
    }

    @Test("end to end: a tiny fleet through a real daemon over HTTP, every step scored")
    func endToEnd() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let models = dir.url.appendingPathComponent("models")
        try TinyModel.write(into: models)
        var s = AlertEvaluation.Settings()
        s.servers = 6
        s.seed = 3
        s.incidentRate = 3
        s.warmupDays = 30.0 * 300 / 86_400        // 30 steps
        s.days = 72.0 * 300 / 86_400              // 72 steps scored
        s.warmupSteps = 12
        s.rollingWindowSize = 128
        s.backfillStepsPerBatch = 10
        s.modelsDirectory = models
        let r = try AlertEvaluation.run(s)
        #expect(r.model.hasPrefix("tft_model_"))
        #expect(r.warmupSteps == 30)
        #expect(r.evaluatedSteps == 72)
        #expect(r.staleSteps == 0)
        #expect(r.incidents > 0)
        for a in [r.anyAlert, r.criticalAlert] {
            #expect(a.incidentsScored + a.incidentsExcluded == r.incidents)
            #expect(a.alertedBeforeCrossing + a.alertedAfterCrossing + a.missed == a.incidentsScored)
            #expect(abs(a.serverDays - 6.0 * 72 * 300 / 86_400) < 1e-9)
            #expect(a.falseEpisodes <= a.episodes)
        }
        #expect(r.criticalAlert.episodes <= r.anyAlert.episodes)
        // The result encodes for --json.
        #expect(try !JSONEncoder().encode(r).isEmpty)
    }
}
