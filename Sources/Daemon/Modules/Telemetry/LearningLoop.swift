import Foundation

/// The console's learning loop: retrospectives after training runs and stress tests, playbook statistics,
/// and policy suggestions produced by rules over measured state (never canned text without numbers).
struct LearningLoop: Sendable {
    let store: LearningStore
    let tasks: HTMTaskStore
    let clock: any DaemonClock
    /// Vault key age in days (nil without a vault) and the crypto failure count of the last day.
    let vaultKeyAgeDays: @Sendable () -> Double?
    let inferenceError: @Sendable () -> String?

    static let keyRotationDays = 90.0
    /// After a suggestion is answered, the same rule stays quiet this long.
    static let quietSeconds = 86_400.0
    static let reviewDelaySeconds = 14 * 86_400.0

    struct Rule: Sendable {
        var name, area, suggestion: String
        /// (applies, sample size, evidence)
        var evaluate: @Sendable (LearningLoop) throws -> (Bool, Int, [String])
    }

    /// The rules, by name. Confidence grows with the sample behind a rule: min(0.95, 0.5 + 0.05·n).
    static let rules: [Rule] = [
        Rule(name: "failed_tasks", area: "reliability",
             suggestion: "HTM tasks are failing: inspect the failing kinds' inputs before they are retried") { loop in
            let since = loop.clock.now().timeIntervalSince1970 - 3_600
            let failed = try loop.tasks.tasks(where: "status = 'failed' AND completed_at >= ?", [.real(since)])
            let kinds = Dictionary(grouping: failed, by: \.kind.rawValue).map { "\($0.key): \($0.value.count)" }.sorted()
            return (failed.count >= 3, failed.count, ["\(failed.count) task(s) failed in the last hour"] + kinds.map { "failed by kind — \($0)" })
        },
        Rule(name: "sla_breaches", area: "performance",
             suggestion: "Tasks breach their SLA: start more kernels or lower the load") { loop in
            let since = loop.clock.now().timeIntervalSince1970 - 3_600
            let breached = try loop.tasks.tasks(where: "sla_met = 0 AND created_at >= ?", [.real(since)])
            return (breached.count >= 3, breached.count, ["\(breached.count) SLA breach(es) in the last hour"])
        },
        Rule(name: "playbook_low_success", area: "reliability",
             suggestion: "A playbook succeeds less than 60 % of the time: review it before relying on it") { loop in
            let weak = try loop.store.playbookStats().filter { $0.total >= 3 && Double($0.successful) / Double($0.total) < 0.6 }
            return (!weak.isEmpty, weak.map(\.total).reduce(0, +),
                    weak.map { "\($0.name): \($0.successful)/\($0.total) successful" })
        },
        Rule(name: "key_rotation_due", area: "security",
             suggestion: "The vault key is older than 90 days: rotate it") { loop in
            guard let age = loop.vaultKeyAgeDays() else { return (false, 0, []) }
            return (age > keyRotationDays, Int(age), ["vault key age \(Int(age)) days (limit \(Int(keyRotationDays)))"])
        },
        Rule(name: "inference_errors", area: "reliability",
             suggestion: "The inference engine reports an error: check the model and the feed") { loop in
            guard let error = loop.inferenceError() else { return (false, 0, []) }
            return (true, 1, ["last inference error: \(error)"])
        },
    ]

    /// Evaluates one rule now (policy_check tasks).
    func evaluate(rule name: String) -> (applies: Bool, evidence: [String])? {
        guard let rule = Self.rules.first(where: { $0.name == name }), let (applies, _, evidence) = try? rule.evaluate(self) else { return nil }
        return (applies, evidence)
    }

    /// Runs every rule; files a suggestion for each that applies and is not quiet. Returns the new ones.
    @discardableResult
    func suggest() throws -> [LearningStore.Suggestion] {
        let now = clock.now().timeIntervalSince1970
        _ = try store.reopenDueReviews(at: now)
        var created: [LearningStore.Suggestion] = []
        for rule in Self.rules {
            let (applies, sample, evidence) = try rule.evaluate(self)
            guard applies, try !store.ruleIsQuiet(rule.name, since: now - Self.quietSeconds) else { continue }
            let suggestion = LearningStore.Suggestion(
                id: TelemetryFormat.id("pol"), rule: rule.name, policyArea: rule.area, suggestion: rule.suggestion, status: "pending",
                confidence: min(0.95, 0.5 + 0.05 * Double(sample)), evidence: evidence, createdAt: now)
            try store.addSuggestion(suggestion)
            created.append(suggestion)
        }
        return created
    }

    /// A retrospective for a finished training run (state completed, failed or cancelled).
    func retrospective(training s: TrainingService.Status) throws {
        var insights = ["training \(s.id ?? "?") ended \(s.state) after \(s.epoch)/\(s.totalEpochs) epoch(s)"]
        var improvements: [String] = []
        var metrics: [String: Double] = ["epochs": Double(s.epoch), "total_epochs": Double(s.totalEpochs)]
        if let loss = s.loss { metrics["loss"] = loss }
        if let v = s.validationLoss { metrics["validation_loss"] = v; insights.append(String(format: "validation loss %.4f", v)) }
        if let start = s.startedAt, let end = s.finishedAt {
            metrics["duration_seconds"] = end.timeIntervalSince(start)
            insights.append(String(format: "ran %.1f s", end.timeIntervalSince(start)))
        }
        if let error = s.error { insights.append("error: \(error)"); improvements.append("fix the cause before retraining: \(error)") }
        if s.state == "completed" && s.reloaded == true { insights.append("new model \(s.modelName ?? "?") is serving") }
        if s.state == "completed" && s.epoch < s.totalEpochs { improvements.append("stopped early: the validation loss stopped improving") }
        try store.addRetrospective(.init(id: TelemetryFormat.id("retro"), cycleName: "training \(s.id ?? "")",
                                         insights: insights, improvements: improvements, metrics: metrics,
                                         at: clock.now().timeIntervalSince1970))
    }
}
