import Daemon
import Foundation
import TFTCore
import Training

/// `argusd evaluate-alerts`: a simulated fleet with injected slow-burn incidents streamed through a real
/// in-process daemon over HTTP; reports alert lead times and false alerts per server-day.
enum EvaluateAlertsCommand: Command {
    static let name = "evaluate-alerts"
    static let summary = "Stream a simulated fleet through the daemon and score its alerts against the incidents"
    static let usage = "argusd evaluate-alerts [--servers 45] [--days 3] [--seed 7] [--model DIR] [--json]"
    static let options = [
        OptionSpec("servers", value: "N", default: "45", "Simulated servers."),
        OptionSpec("days", value: "D", default: "3", "Evaluated days (after the warm-up)."),
        OptionSpec("warmup-days", value: "D", default: "1", "History backfilled before scoring starts."),
        OptionSpec("seed", value: "N", default: "7", "Simulator seed."),
        OptionSpec("incident-rate", value: "R", default: "0.1", "Injected incidents per server-day."),
        OptionSpec("model", value: "DIR", "Model folder (default: the newest in --models-dir)."),
        OptionSpec("models-dir", value: "DIR", default: "./models", "Where the default model is found."),
        OptionSpec("slack-before", value: "MIN", default: "60", "An alert this long before a ramp starts still belongs to it."),
        OptionSpec("slack-after", value: "MIN", default: "60", "… or this long after the incident's end."),
        OptionSpec("merge-gap", value: "STEPS", default: "2", "An alert absent for at most this many steps is one episode."),
        OptionSpec("band-calibration", value: "on|off", default: "on", "The daemon's per-server band calibration."),
        OptionSpec("median-shrinkage", value: "on|off", default: "on", "With band calibration: the per-server median selection (served medians; risk grades the model's)."),
        OptionSpec("json", "Print the result as JSON (with every incident and alert episode) instead of the report."),
        OptionSpec("details", "List every incident's outcome and every false alert."),
        OptionSpec("quiet", "No progress lines."),
    ]
    static let discussion = """
    Starts a real daemon in this process on an ephemeral loopback port with a temporary data directory
    (removed afterwards), backfills --warmup-days of simulated history, then posts the fleet one step per
    POST /feed/data, waits for the inference run the tick triggers and reads GET /alerts/active. Alerts
    are scored against the simulator's ground truth: an incident's lead time is from the first warning or
    critical alert on the incident's server and metric (or a related one: memory leak → swap, iowait or
    CPU → load) to the real critical crossing; an alert episode whose start lies outside every incident
    window (ramp start − slack … end + slack) on its server is false. Method: docs/alert-evaluation.md.
    """
    static let examples = [
        "argusd evaluate-alerts",
        "argusd evaluate-alerts --servers 20 --days 1 --json > alerts.json",
    ]

    static func run(_ o: ParsedOptions) throws -> Int32 {
        var s = AlertEvaluation.Settings()
        s.servers = try o.int("servers", default: 45, in: 1...10_000)
        s.days = try o.double("days", default: 3, in: 0.01...365)
        s.warmupDays = try o.double("warmup-days", default: 1, in: 0.01...30)
        s.seed = try o.uint64("seed", default: 7)
        func onOff(_ name: String, default value: Bool) throws -> Bool {
            guard let text = o.string(name) else { return value }
            guard text == "on" || text == "off" else { throw CLIError.invalidValue(option: name, command: Self.name, value: text, expected: "on or off") }
            return text == "on"
        }
        s.bandCalibration = try onOff("band-calibration", default: true)
        s.medianShrinkage = try onOff("median-shrinkage", default: true)
        s.incidentRate = try o.double("incident-rate", default: 0.1, in: 0...10)
        s.modelPath = o.string("model").map { URL(fileURLWithPath: $0) }
        s.modelsDirectory = URL(fileURLWithPath: o.string("models-dir") ?? "./models")
        let step = Double(s.stepSeconds) / 60
        s.options.slackBeforeSteps = Int((try o.double("slack-before", default: 60, in: 0...10_000) / step).rounded())
        s.options.slackAfterSteps = Int((try o.double("slack-after", default: 60, in: 0...10_000) / step).rounded())
        s.options.mergeGapSteps = try o.int("merge-gap", default: 2, in: 0...1_000)
        let json = o.flag("json")
        if !o.flag("quiet") {
            let t0 = Date()
            s.progress = { done, total in
                guard done % 48 == 0 || done == total else { return }
                let elapsed = Date().timeIntervalSince(t0)
                Console.error(String(format: "evaluate-alerts: step %d/%d (%.0f s, ~%.0f s left)", done, total, elapsed,
                                     elapsed / Double(done) * Double(total - done)))
            }
            Console.error("evaluate-alerts: \(s.servers) servers, \(s.warmupDays) day(s) warm-up + \(s.days) day(s) scored, seed \(s.seed)")
        }
        let result = try AlertEvaluation.run(s)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys]
            e.keyEncodingStrategy = .convertToSnakeCase
            print(String(decoding: try e.encode(result), as: UTF8.self))
        } else {
            print(report(result, details: o.flag("details")), terminator: "")
        }
        return 0
    }

    static func minutes(_ m: Double?) -> String {
        guard let m else { return "—" }
        let total = Int(m.rounded())
        return total >= 60 ? "\(total / 60) h \(String(format: "%02d", total % 60)) min" : "\(total) min"
    }

    static func pct(_ x: Double) -> String { String(format: "%.0f %%", x * 100) }

    static func report(_ r: AlertEvaluation.Result, details: Bool) -> String {
        let hours = Double(r.evaluatedSteps * r.stepSeconds) / 3_600
        var out = """
        Alert evaluation — model \(r.model)
          fleet: \(r.servers) servers, seed \(r.seed); warm-up \(r.warmupSteps) steps, scored \(r.evaluatedSteps) steps \
        (\(String(format: "%.1f", hours / 24)) days, \(String(format: "%.1f", r.anyAlert.serverDays)) server-days)
          incidents in the simulation: \(r.incidents); scored: \(r.anyAlert.incidentsScored) \
        (excluded \(r.anyAlert.incidentsExcluded): ramp before scoring started or no crossing inside it)
          matching: alert start within ramp − \(r.options.slackBeforeSteps) … end + \(r.options.slackAfterSteps) steps; \
        gaps ≤ \(r.options.mergeGapSteps) steps merged


        """
        func block(_ title: String, _ a: AlertScore) -> String {
            """
            \(title)
              lead time before the critical crossing: median \(minutes(a.leadMedianMinutes)) \
            (p25 \(minutes(a.leadP25Minutes)), p75 \(minutes(a.leadP75Minutes)))
              alerted before the crossing: \(a.alertedBeforeCrossing)/\(a.incidentsScored) (\(pct(a.shareAlertedBeforeCrossing))), \
            of which forecast (not yet at the level): \(a.earlyPredicted)
              alerted only at/after the crossing: \(a.alertedAfterCrossing); missed: \(a.missed) (\(pct(a.shareMissed)))
              false alerts: \(a.falseEpisodes) of \(a.episodes) episodes = \(String(format: "%.3f", a.falseAlertsPerServerDay)) per server-day \
            (\(a.falseEpisodesDuringCascades) during a cascade from another server's incident; \
            without those \(String(format: "%.3f", a.falseAlertsPerServerDayExcludingCascades)))
              false alerts that started as a forecast: \(a.falseEpisodesForecast); with the value already at its level: \(a.falseEpisodes - a.falseEpisodesForecast)
              false by metric: \(a.falseEpisodesByMetric.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))

            """
        }
        out += block("Warning or critical alerts", r.anyAlert) + "\n"
        out += block("Critical alerts only", r.criticalAlert) + "\n"
        out += "Peer: a static threshold alert at the warning level leads the crossing by \(minutes(r.anyAlert.warningThresholdLeadMedianMinutes)) (median, from the ground truth)\n"
        out += String(format: "Run: %.0f s; per step (POST + tick + GET /alerts/active) median %.1f ms, p99 %.1f ms; stale snapshots %d\n",
                      r.wallSeconds, r.stepMillisecondsMedian, r.stepMillisecondsP99, r.staleSteps)
        if details {
            out += "\nIncidents (warning or critical):\n"
            for i in r.anyAlert.outcomes {
                out += "  #\(i.id) \(i.server) \(i.kind.rawValue): \(i.result.rawValue)"
                if let l = i.leadMinutes {
                    out += ", lead \(minutes(l)) via \(i.firstAlertLevel ?? "") \(i.firstAlertMetric?.rawValue ?? "")"
                    out += i.firstAlertPredicted == true ? " (forecast)" : " (level reached)"
                }
                out += "\n"
            }
            out += "False alert episodes:\n"
            for e in r.anyAlert.episodeList where e.incidentId == nil {
                out += "  \(e.server) \(e.metric.rawValue) \(e.peakLevel) steps \(e.startStep)–\(e.endStep)\(e.startedAsForecast ? " forecast" : " level reached")\(e.duringCascade ? " (cascade)" : "")\n"
            }
        }
        return out
    }
}
