import Foundation
import HTTPServer
import Synchronization

/// Runs one task: picks an agent, calls its provider through the agent's circuit breaker once per iteration,
/// scores each answer, switches agents when quality stalls, stops at the quality gate, the cost ceiling, the
/// iteration limit or a cancellation, and records every step (rows for metrics, events for WebSockets).
final class TaskRunner: Sendable {
    let store: OrchestrationStore
    let breakers: CircuitBreakers
    let feed: OrchestrationFeed
    let queue: TaskQueue
    let logger: Logger
    /// Projects whose running tasks re-read their HRM config before the next iteration (`apply_immediately`).
    private let reloads = Mutex<Set<String>>([])

    init(store: OrchestrationStore, breakers: CircuitBreakers, feed: OrchestrationFeed, queue: TaskQueue, logger: Logger) {
        self.store = store
        self.breakers = breakers
        self.feed = feed
        self.queue = queue
        self.logger = logger
    }

    func requestReload(projectID: String) { reloads.withLock { _ = $0.insert(projectID) } }
    private func consumeReload(_ projectID: String?) -> Bool {
        guard let projectID else { return false }
        return reloads.withLock { $0.remove(projectID) != nil }
    }

    /// Entry point of a queue worker; failures of the store are logged and leave the task failed if possible.
    func run(_ id: String) {
        do { try execute(id) } catch {
            logger.error("orchestration_task_error", ["task_id": .string(id), "error": .string("\(error)")])
            _ = try? store.transition(id, from: ["in_progress", "pending"], to: "failed",
                                      extra: [("error", .text("internal error: \(error)")), ("completed_at", .real(store.now()))])
        }
    }

    private func taskUpdate(_ id: String, projectID: String?, status: String, iteration: Int, quality: Double) {
        feed.publish("task_update", [("task_id", .string(id)), ("status", .string(status)), ("current_iteration", .int(iteration)),
                                     ("current_quality", OrchestrationStore.round(quality, 3)),
                                     ("project_id", projectID.map(JSONValue.string) ?? .null)],
                     to: [OrchestrationFeed.task(id), "global"] + (projectID.map { [OrchestrationFeed.project($0)] } ?? []))
    }

    private func execute(_ id: String) throws {
        guard let task = try store.taskRecord(id), task.status == "pending" else { return }
        let channel = OrchestrationFeed.task(id)
        var effective = try store.effectiveHRMConfig(projectID: task.projectID, taskID: id)
        var knobs = HRMConfigSchema.Knobs(effective.config)
        let projectConfig = try task.projectID.flatMap { try store.projectConfig($0) }
        let switchingAllowed = projectConfig?["ml_components"]?["agent_switching"] != .bool(false)
        guard try store.transition(id, from: ["pending"], to: "in_progress", extra: [("started_at", .real(store.now()))]) else { return }
        taskUpdate(id, projectID: task.projectID, status: "in_progress", iteration: 0, quality: 0)

        let directory = ProviderDirectory(connections: try store.connections())
        let started = DispatchTime.now().uptimeNanoseconds
        func usable() -> [String] { directory.agents.filter { breakers.wouldAllow($0) } }
        var outcome = Outcome()
        if let choice = AgentSelector.select(task: task, strategy: knobs.strategy, available: usable(),
                                             rewards: try store.rewards(), assignments: try store.assignmentCounts()) {
            outcome.agent = choice.agent
            try store.updateTask(id, [("assigned_agent", .text(choice.agent)), ("selected_agent", .text(choice.agent)),
                                      ("selection_reason", .text(choice.reason))])
            feed.publish("agent_selected", [("task_id", .string(id)), ("agent", .string(choice.agent)), ("reason", .string(choice.reason))],
                         to: [channel])
        } else {
            outcome.stopReason = "no agent available: every circuit breaker is open or every agent is disabled"
        }
        var tried: Set<String> = [outcome.agent]
        var reached: Set<Double> = []

        func switchAgent(to next: String, reason: String) throws {
            try store.recordEvent(taskID: id, projectID: task.projectID, kind: "switch", agent: outcome.agent, toAgent: next,
                                  reason: reason, attempt: task.attempt)
            feed.publish("agent_switch", [("task_id", .string(id)), ("from_agent", .string(outcome.agent)), ("to_agent", .string(next)),
                                          ("reason", .string(reason))], to: [channel, "global"])
            outcome.switches += 1
            outcome.agent = next
            tried.insert(next)
            try store.updateTask(id, [("assigned_agent", .text(next)), ("agent_switches", .integer(Int64(outcome.switches)))])
        }

        while outcome.stopReason == nil, outcome.iteration < task.maxIterations {
            if queue.isCancelled(id) { outcome.stopReason = "cancelled"; break }
            if consumeReload(task.projectID) {
                effective = try store.effectiveHRMConfig(projectID: task.projectID, taskID: id)
                knobs = HRMConfigSchema.Knobs(effective.config)
            }
            guard breakers.allows(outcome.agent), let provider = directory.provider(for: outcome.agent) else {
                if let next = AgentSelector.alternative(to: outcome.agent, available: usable(), tried: tried) {
                    try switchAgent(to: next, reason: "circuit_open")
                } else {
                    outcome.stopReason = "no agent available: circuit breaker open for \(outcome.agent)"
                }
                continue
            }
            let request = AgentRequest(taskID: id, agent: outcome.agent, prompt: task.prompt, taskType: task.taskType, files: task.files,
                                       workspace: task.workspace, iteration: outcome.iteration + 1, maxIterations: task.maxIterations,
                                       knobs: knobs)
            let result: AgentResult
            do {
                result = try provider.execute(request)
            } catch {
                breakers.recordFailure(outcome.agent)
                outcome.failures += 1
                try store.recordEvent(taskID: id, projectID: task.projectID, kind: "call", agent: outcome.agent, reason: "\(error)",
                                      attempt: task.attempt, iteration: outcome.iteration + 1, ok: false)
                outcome.lastError = "\(outcome.agent): \(error)"
                if outcome.failures >= 2 * CircuitBreakers.failureThreshold {
                    outcome.stopReason = "provider failures: \(outcome.lastError ?? "")"
                } else if let next = AgentSelector.alternative(to: outcome.agent, available: usable(), tried: tried) {
                    try switchAgent(to: next, reason: "provider_error")
                }
                continue
            }
            breakers.recordSuccess(outcome.agent)
            outcome.iteration += 1
            let quality = QualityEvaluator.evaluate(prompt: task.prompt, taskType: task.taskType, requiresSecurity: task.requiresSecurity,
                                                    agent: outcome.agent, iteration: outcome.iteration, gate: knobs.qualityGate)
            outcome.record(result, quality)
            try store.recordEvent(taskID: id, projectID: task.projectID, kind: "call", agent: outcome.agent, attempt: task.attempt,
                                  iteration: outcome.iteration, quality: quality.score, tokens: result.tokens, cost: result.cost,
                                  duration: result.duration)
            try store.updateTask(id, [
                ("current_iteration", .integer(Int64(outcome.iteration))), ("current_quality", .real(quality.score)),
                ("tests_passing", SQLiteValue(quality.testsPassing)), ("security_issues", .integer(Int64(quality.securityIssues))),
                ("test_coverage", .real(quality.testCoverage)), ("security_score", .real(quality.securityScore)),
                ("tokens", .integer(Int64(outcome.tokens))), ("tokens_uncompressed", .integer(Int64(outcome.tokensUncompressed))),
                ("actual_cost", .real(outcome.cost)), ("content", .text(result.content)),
            ])
            feed.publish("feedback_loop", [("task_id", .string(id)), ("iteration", .int(outcome.iteration)),
                                           ("quality_score", .double(quality.score)),
                                           ("suggestions", .array(quality.suggestions.map(JSONValue.string)))], to: [channel])
            feed.publish("hrm_impact_update", [("task_id", .string(id)), ("metrics", .object([
                ("current_cost", OrchestrationStore.round(outcome.cost)),
                ("predicted_final_cost", OrchestrationStore.round(outcome.cost / Double(outcome.iteration) * Double(task.maxIterations))),
                ("tokens_used", .int(outcome.tokens)), ("quality_trajectory", .double(quality.score)),
            ]))], to: [channel])
            if knobs.supervisionEnabled {
                let progress = Double(outcome.iteration) / Double(task.maxIterations)
                for checkpoint in knobs.checkpoints where progress + 1e-9 >= checkpoint && !reached.contains(checkpoint) {
                    reached.insert(checkpoint)
                    feed.publish("hrm_checkpoint_reached", [("task_id", .string(id)), ("checkpoint", .object([
                        ("progress", .double(checkpoint)), ("quality", .double(quality.score)),
                        ("passed", .bool(quality.score >= knobs.qualityGate)),
                        ("suggestions", .array(quality.suggestions.map(JSONValue.string))),
                    ]))], to: [channel])
                }
            }
            taskUpdate(id, projectID: task.projectID, status: "in_progress", iteration: outcome.iteration, quality: quality.score)
            if quality.testsPassing { outcome.passed = true; break }
            if outcome.cost > knobs.costCeiling { outcome.stopReason = "cost ceiling \(knobs.costCeiling) exceeded"; break }
            let previous = outcome.qualities.dropLast().last
            if switchingAllowed, outcome.switches < knobs.maxSwitches, let previous {
                let dropped = previous - quality.score > knobs.qualityDropThreshold
                // At this agent's current rate of improvement the gate would not be reached by the last iteration.
                let projected = quality.score + (quality.score - previous) * Double(task.maxIterations - outcome.iteration)
                let stalled = projected < knobs.qualityGate
                if dropped || stalled, let next = AgentSelector.alternative(to: outcome.agent, available: usable(), tried: tried) {
                    try switchAgent(to: next, reason: dropped ? "quality_drop" : "quality_threshold_not_met")
                }
            }
        }
        try finish(task, outcome, knobs: knobs, started: started)
    }

    /// What one run accumulated.
    private struct Outcome {
        var agent = ""
        var iteration = 0
        var switches = 0
        var failures = 0
        var tokens = 0
        var tokensUncompressed = 0
        var cost = 0.0
        var callSeconds = 0.0
        var qualities: [Double] = []
        var last: IterationQuality?
        var passed = false
        var stopReason: String?
        var lastError: String?

        mutating func record(_ result: AgentResult, _ quality: IterationQuality) {
            tokens += result.tokens
            tokensUncompressed += result.tokensUncompressed + result.tokensOut
            cost += result.cost
            callSeconds += result.duration
            qualities.append(quality.score)
            last = quality
        }
    }

    private func finish(_ task: TaskRecord, _ outcome: Outcome, knobs: HRMConfigSchema.Knobs, started: UInt64) throws {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let status = outcome.passed ? "completed" : "failed"
        var error: String?
        if !outcome.passed {
            error = outcome.stopReason ?? outcome.lastError.map { "last provider error: \($0)" }
                ?? "quality gate \(knobs.qualityGate) not met after \(outcome.iteration) iterations"
        }
        _ = try store.transition(task.id, from: ["in_progress"], to: status, extra: [
            ("final_quality", SQLiteValue(outcome.last?.score)), ("completed_at", .real(store.now())),
            ("duration_seconds", .real(seconds)), ("actual_cost", .real(outcome.cost)), ("error", SQLiteValue(error)),
        ])
        if knobs.rlEnabled, let last = outcome.last, outcome.callSeconds > 0 {
            // The original's reward: speed (tokens per second / 100, capped), cost (free = 1) and quality (here measured).
            let speed = min(Double(outcome.tokens) / outcome.callSeconds / 100, 1)
            let costScore = outcome.cost == 0 ? 1 : max(1 - outcome.cost / 0.1, 0)
            try store.updateReward(outcome.agent, sample: 0.3 * speed + 0.3 * costScore + 0.4 * last.score)
        }
        taskUpdate(task.id, projectID: task.projectID, status: status, iteration: outcome.iteration, quality: outcome.last?.score ?? 0)
        feed.publish(outcome.passed ? "task_completed" : "task_failed",
                     [("task_id", .string(task.id)), ("agent", .string(outcome.agent)), ("error", error.map(JSONValue.string) ?? .null)],
                     to: [OrchestrationFeed.task(task.id)])
    }
}
