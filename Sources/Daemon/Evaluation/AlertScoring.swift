import Foundation
import TFTCore
import Training

/// One alert seen in `GET /alerts/active` at one evaluated step.
public struct AlertSample: Sendable, Equatable, Codable {
    public var server: String
    public var metric: ThresholdMetric
    /// `warning` or `critical`.
    public var level: String
    /// 0 = the metric is at the level now; > 0 = a predicted crossing.
    public var minutesToIssue: Int

    public init(server: String, metric: ThresholdMetric, level: String, minutesToIssue: Int = 0) {
        self.server = server; self.metric = metric; self.level = level; self.minutesToIssue = minutesToIssue
    }
}

/// The active alerts after every evaluated step: `steps[i]` holds the alerts of the snapshot whose last
/// observation is simulation step `firstStep + i`.
public struct AlertTimeline: Sendable, Equatable {
    public var firstStep: Int
    public var steps: [[AlertSample]]
    public init(firstStep: Int, steps: [[AlertSample]] = []) { self.firstStep = firstStep; self.steps = steps }
    public var endStep: Int { firstStep + steps.count }
}

/// How alerts are matched to incidents (docs/alert-evaluation.md).
public struct AlertScoringOptions: Sendable, Equatable, Codable {
    /// Alert levels that count (`["warning", "critical"]`, or `["critical"]`).
    public var levels: Set<String> = ["warning", "critical"]
    /// An alert may start this many steps before the ramp start and still belong to the incident.
    public var slackBeforeSteps = 12
    /// … or this many steps after the incident's end (its recovery).
    public var slackAfterSteps = 12
    /// An alert that disappears for at most this many steps and comes back is the same episode.
    public var mergeGapSteps = 2
    public init(levels: Set<String> = ["warning", "critical"]) { self.levels = levels }
}

/// What happened to one true incident.
public struct IncidentOutcome: Sendable, Equatable, Codable {
    public enum Result: String, Sendable, Codable { case early, late, missed }
    public var id: Int
    public var server: String
    public var kind: IncidentKind
    public var metric: ThresholdMetric
    public var rampStartStep: Int
    public var criticalStep: Int
    public var result: Result
    /// First step (within the incident's window) with a counting alert on a related metric.
    public var firstAlertStep: Int?
    public var firstAlertMetric: ThresholdMetric?
    public var firstAlertLevel: String?
    /// The first alert was a predicted crossing (minutes_to_issue > 0), not a value already at its level.
    public var firstAlertPredicted: Bool?
    /// (critical step − first alert step) × step; negative = after the crossing; nil = missed.
    public var leadMinutes: Double?
    /// What a static threshold monitor alerting at the warning level would have given (critical − warning).
    public var warningThresholdLeadMinutes: Double?
}

/// A server+metric alert from its start to its end (gaps of ≤ `mergeGapSteps` merged).
public struct AlertEpisode: Sendable, Equatable, Codable {
    public var server: String
    public var metric: ThresholdMetric
    public var startStep: Int
    /// Last step the alert was active.
    public var endStep: Int
    public var peakLevel: String
    /// The first sample was a forecast crossing (minutes_to_issue > 0), not a level already reached.
    public var startedAsForecast: Bool
    /// The incident whose window contains the start, if any (→ not a false alert).
    public var incidentId: Int?
    /// Unmatched, but the server was under a cascade from another server's incident at the start.
    public var duringCascade: Bool
}

/// The score of one alert timeline against the ground truth, for one set of counting levels.
public struct AlertScore: Sendable, Equatable, Codable {
    public var levels: [String]
    public var incidentsScored = 0
    /// Incidents left out: ramp started before the first evaluated step, or no critical crossing inside it.
    public var incidentsExcluded = 0
    public var alertedBeforeCrossing = 0
    public var alertedAfterCrossing = 0
    public var missed = 0
    public var shareAlertedBeforeCrossing = 0.0
    public var shareMissed = 0.0
    /// Lead times of incidents alerted before the crossing (minutes).
    public var leadMedianMinutes: Double?
    public var leadP25Minutes: Double?
    public var leadP75Minutes: Double?
    /// Of the early alerts, how many were forecast crossings rather than a level already reached.
    public var earlyPredicted = 0
    /// The static-threshold peer: median of (critical − warning crossing) over the scored incidents.
    public var warningThresholdLeadMedianMinutes: Double?
    public var episodes = 0
    public var falseEpisodes = 0
    public var falseEpisodesDuringCascades = 0
    /// False episodes that started as a forecast crossing (the rest started with the value already at its level).
    public var falseEpisodesForecast = 0
    public var serverDays = 0.0
    public var falseAlertsPerServerDay = 0.0
    public var falseAlertsPerServerDayExcludingCascades = 0.0
    public var falseEpisodesByMetric: [String: Int] = [:]
    public var outcomes: [IncidentOutcome] = []
    public var episodeList: [AlertEpisode] = []
}

public enum AlertScorer {
    /// Linear-interpolated percentile (p in 0…1) of unsorted values; nil when empty.
    public static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let x = p * Double(s.count - 1)
        let lo = Int(x.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (s[hi] - s[lo]) * (x - Double(lo))
    }

    static func rank(_ level: String) -> Int { level == "critical" ? 2 : level == "warning" ? 1 : 0 }

    /// Episodes of every server+metric in the timeline, counting only `options.levels`.
    public static func episodes(_ timeline: AlertTimeline, options: AlertScoringOptions) -> [AlertEpisode] {
        struct Key: Hashable { var server: String; var metric: ThresholdMetric }
        var open: [Key: AlertEpisode] = [:]
        var closed: [AlertEpisode] = []
        for (i, alerts) in timeline.steps.enumerated() {
            let step = timeline.firstStep + i
            var seen: [Key: String] = [:]
            var forecast: Set<Key> = []
            for a in alerts where options.levels.contains(a.level) {
                let k = Key(server: a.server, metric: a.metric)
                if a.minutesToIssue > 0 { forecast.insert(k) }
                if let l = seen[k], rank(l) >= rank(a.level) { continue }
                seen[k] = a.level
            }
            for (k, level) in seen {
                if var e = open[k] {
                    e.endStep = step
                    if rank(level) > rank(e.peakLevel) { e.peakLevel = level }
                    open[k] = e
                } else {
                    open[k] = AlertEpisode(server: k.server, metric: k.metric, startStep: step, endStep: step,
                                           peakLevel: level, startedAsForecast: forecast.contains(k),
                                           incidentId: nil, duringCascade: false)
                }
            }
            for (k, e) in open where seen[k] == nil && step - e.endStep > options.mergeGapSteps {
                closed.append(e)
                open[k] = nil
            }
        }
        closed += open.values
        return closed.sorted { ($0.startStep, $0.server, $0.metric.rawValue) < ($1.startStep, $1.server, $1.metric.rawValue) }
    }

    /// Scores `timeline` against `truth`. `serverCount` servers were evaluated over the timeline's steps.
    public static func score(timeline: AlertTimeline, truth: FleetGroundTruth, serverCount: Int,
                             options: AlertScoringOptions = AlertScoringOptions()) -> AlertScore {
        let stepMinutes = Double(truth.stepSeconds) / 60
        let first = timeline.firstStep, end = timeline.endStep
        var score = AlertScore(levels: options.levels.sorted { rank($0) < rank($1) })

        // Incident windows: [ramp − slack, end + slack] (unfinished incidents: to the end of the timeline).
        func window(_ i: IncidentTruth) -> ClosedRange<Int> {
            let last = i.endStep.map { $0 + options.slackAfterSteps } ?? Int.max
            return (i.rampStartStep - options.slackBeforeSteps)...max(last, i.rampStartStep)
        }

        // Episodes, matched by their start.
        var episodes = episodes(timeline, options: options)
        for n in episodes.indices {
            let e = episodes[n]
            let match = truth.incidents.first { i in
                i.server == e.server && i.kind.relatedMetrics.contains(e.metric) && window(i).contains(e.startStep)
            }
            episodes[n].incidentId = match?.id
            if match == nil {
                episodes[n].duringCascade = truth.cascades.contains { c in
                    guard c.server == e.server, let s = c.startStep else { return false }
                    let last = (c.endStep ?? Int.max - options.slackAfterSteps) + options.slackAfterSteps
                    return (s - options.slackBeforeSteps)...last ~= e.startStep
                }
            }
        }
        score.episodes = episodes.count
        let falses = episodes.filter { $0.incidentId == nil }
        score.falseEpisodes = falses.count
        score.falseEpisodesDuringCascades = falses.filter(\.duringCascade).count
        score.falseEpisodesForecast = falses.filter(\.startedAsForecast).count
        for f in falses { score.falseEpisodesByMetric[f.metric.rawValue, default: 0] += 1 }
        score.serverDays = Double(serverCount) * Double(timeline.steps.count) * Double(truth.stepSeconds) / 86_400
        if score.serverDays > 0 {
            score.falseAlertsPerServerDay = Double(score.falseEpisodes) / score.serverDays
            score.falseAlertsPerServerDayExcludingCascades =
                Double(score.falseEpisodes - score.falseEpisodesDuringCascades) / score.serverDays
        }
        score.episodeList = episodes

        // Incidents: first counting alert on a related metric inside the window.
        var leads: [Double] = [], thresholdLeads: [Double] = []
        for i in truth.incidents.sorted(by: { $0.id < $1.id }) {
            guard let critical = i.criticalStep, i.rampStartStep >= first, critical < end else {
                score.incidentsExcluded += 1
                continue
            }
            let w = window(i)
            let from = max(w.lowerBound, first), to = min(w.upperBound, end - 1)
            var firstAlert: (step: Int, sample: AlertSample)?
            if from <= to {
                search: for step in from...to {
                    let candidates = timeline.steps[step - first].filter {
                        $0.server == i.server && options.levels.contains($0.level) && i.kind.relatedMetrics.contains($0.metric)
                    }
                    // Prefer the incident's own metric, then the highest level.
                    if let best = candidates.max(by: { a, b in
                        ((a.metric == i.metric ? 1 : 0), rank(a.level)) < ((b.metric == i.metric ? 1 : 0), rank(b.level))
                    }) {
                        firstAlert = (step, best)
                        break search
                    }
                }
            }
            var o = IncidentOutcome(id: i.id, server: i.server, kind: i.kind, metric: i.metric, rampStartStep: i.rampStartStep,
                                    criticalStep: critical, result: .missed)
            if let warning = i.warningStep {
                o.warningThresholdLeadMinutes = Double(critical - warning) * stepMinutes
                thresholdLeads.append(o.warningThresholdLeadMinutes!)
            }
            if let (step, sample) = firstAlert {
                o.firstAlertStep = step
                o.firstAlertMetric = sample.metric
                o.firstAlertLevel = sample.level
                o.firstAlertPredicted = sample.minutesToIssue > 0
                o.leadMinutes = Double(critical - step) * stepMinutes
                if step < critical {
                    o.result = .early
                    score.alertedBeforeCrossing += 1
                    leads.append(o.leadMinutes!)
                    if sample.minutesToIssue > 0 { score.earlyPredicted += 1 }
                } else {
                    o.result = .late
                    score.alertedAfterCrossing += 1
                }
            } else {
                score.missed += 1
            }
            score.outcomes.append(o)
        }
        score.incidentsScored = score.outcomes.count
        if score.incidentsScored > 0 {
            score.shareAlertedBeforeCrossing = Double(score.alertedBeforeCrossing) / Double(score.incidentsScored)
            score.shareMissed = Double(score.missed) / Double(score.incidentsScored)
        }
        score.leadMedianMinutes = percentile(leads, 0.5)
        score.leadP25Minutes = percentile(leads, 0.25)
        score.leadP75Minutes = percentile(leads, 0.75)
        score.warningThresholdLeadMedianMinutes = percentile(thresholdLeads, 0.5)
        return score
    }
}
