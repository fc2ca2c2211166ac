import Foundation
import TFTCore
import Testing
@testable import Daemon

@Suite struct RiskScorerTests {
    let levels: [Float] = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98]

    /// A forecast whose quantiles are `center ± spread·z` at every step.
    func band(_ centers: [Float], spread: Float = 1) -> [[Float]] {
        let z: [Float] = [-2, -1.3, -0.7, 0, 0.7, 1.3, 2]
        return z.map { k in centers.map { $0 + k * spread } }
    }

    @Test func alertLevels_FollowTheSpecTable() {
        #expect(AlertLevel(score: 80) == .critical)
        #expect(AlertLevel(score: 79.9) == .warning)
        #expect(AlertLevel(score: 60) == .warning)
        #expect(AlertLevel(score: 50) == .degraded)
        #expect(AlertLevel(score: 49.9) == .healthy)
        #expect(AlertLevel.warning.color == "#FFA500")
        #expect(AlertLevel.warning.label == "🟠 Warning")
        #expect(AlertLevel.critical.color == "#FF0000")
        #expect(AlertLevel.degraded.color == "#FFD700")
        #expect(AlertLevel.healthy.color == "#00FF00")
    }

    @Test func grade_IsAnchoredOnTheProfileThresholds() {
        let t = ProfileThresholds.for(.database).memory   // 92 / 98
        #expect(RiskScorer.grade(92, t) == 60)
        #expect(RiskScorer.grade(98, t) == 80)
        #expect(RiskScorer.grade(89, t) == 50)             // warning − half the span
        #expect(RiskScorer.grade(0, t) == 0)
        #expect(RiskScorer.grade(104, t) == 100)
    }

    @Test func memoryRamp_GivesOneAlertAtTheEarliestCriticalCrossing() {
        // Memory of a database climbing 2 points per 5-min step from 80: 98 (critical) is reached at step 9
        // (45 minutes), 92 (warning) at step 6.
        let mem = (1...24).map { Float(80 + 2 * $0) }.map { min($0, 100) }
        let input = RiskInput(serverName: "ppdb003", profile: .database,
                              current: [.cpu: 30, .memory: 80, .iowait: 5, .swap: 1, .disk: 40, .loadPerCore: 0.3],
                              forecast: [.memory: band(mem, spread: 0.5), .cpu: band(Array(repeating: 30, count: 24))],
                              quantileLevels: levels, stepSeconds: 300)
        let risk = RiskScorer().score(input)
        let alerts = AlertBuilder.alerts(for: risk, referenceEpoch: 0)
        #expect(alerts.count == 1)                           // one per server and metric, not one per step
        let alert = alerts[0]
        #expect(alert.metric == .memory)
        #expect(alert.level == "critical")
        #expect(alert.minutesToIssue == 45)
        #expect(alert.timeToIssue == "45 minutes")
        #expect(alert.message == "Memory exhaustion predicted")
        #expect(alert.messageWithTime == "Memory exhaustion predicted in 45 minutes")
        #expect(alert.expectedAt == "1970-01-01T00:45:00")
        // A predicted critical within the hour makes the server at least warning; probabilities are high.
        #expect(risk.score >= 60)
        #expect(risk.prob30m < risk.prob8h)
        #expect(risk.prob8h > 0.9)
    }

    @Test func healthyFlatForecast_NoAlertsLowRiskLowProbability() {
        let input = RiskInput(serverName: "ppweb001", profile: .webAPI,
                              current: [.cpu: 25, .memory: 45, .iowait: 2, .swap: 1, .disk: 35, .loadPerCore: 0.3],
                              forecast: [.memory: band(Array(repeating: 45, count: 96)), .cpu: band(Array(repeating: 25, count: 96), spread: 3)],
                              quantileLevels: levels, stepSeconds: 300)
        let risk = RiskScorer().score(input)
        #expect(risk.crossings.isEmpty)
        #expect(risk.level == .healthy)
        #expect(risk.score < 50)
        #expect(risk.prob8h == 0)
    }

    @Test func currentlyCritical_AlertsNow() {
        let input = RiskInput(serverName: "ppml0001", profile: .mlCompute,
                              current: [.cpu: 99, .memory: 50, .iowait: 2, .swap: 1, .disk: 35, .loadPerCore: 0.3],
                              forecast: [:], quantileLevels: levels, stepSeconds: 300)
        let risk = RiskScorer().score(input)
        let alerts = AlertBuilder.alerts(for: risk, referenceEpoch: 0)
        #expect(alerts.map(\.message) == ["CPU saturation now"])
        #expect(alerts.first?.timeToIssue == "now")
        #expect(risk.level == .critical)
        #expect(risk.prob30m == 1)
    }

    @Test func exceedance_InterpolatesTheQuantiles() {
        let values: [Double] = [80, 84, 87, 90, 93, 96, 100]
        let l = levels.map(Double.init)
        #expect(abs(QuantileDistribution.exceedance(90, values: values, levels: l) - 0.5) < 1e-6)
        #expect(abs(QuantileDistribution.exceedance(96, values: values, levels: l) - 0.1) < 1e-6)
        #expect(abs(QuantileDistribution.exceedance(94.5, values: values, levels: l) - 0.175) < 1e-6)
        #expect(QuantileDistribution.exceedance(200, values: values, levels: l) == 0)
        #expect(QuantileDistribution.exceedance(0, values: values, levels: l) == 1)
        #expect(AlertBuilder.duration(minutes: 125) == "2 hours 5 minutes")
    }
}
