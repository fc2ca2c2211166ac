/// Which providers serve which agent labels, from the stored connections: a label with enabled connections
/// uses the first of them (`local` → the built-in executor, `api`/`remote` → HTTP); a label whose connections
/// are all disabled is unavailable; a label without connections uses the built-in local executor.
struct ProviderDirectory: Sendable {
    /// Labels every fresh daemon offers (the ones the spec's circuit-breaker example names).
    static let defaultAgents = ["claude", "gemini", "copilot"]
    let connections: [AgentConnection]

    func provider(for agent: String) -> (any AgentProvider)? {
        let serving = connections.filter { $0.agentType == agent }
        if serving.isEmpty { return LocalAgentProvider() }
        guard let connection = serving.first(where: \.enabled) else { return nil }
        if connection.connectionType == "local" { return LocalAgentProvider() }
        guard let endpoint = connection.endpoint else { return nil }
        return HTTPAgentProvider(endpoint: endpoint, port: connection.port)
    }

    /// Agent labels that can be asked at all, in preference order.
    var agents: [String] {
        var labels = Self.defaultAgents
        for connection in connections { if let type = connection.agentType, !labels.contains(type) { labels.append(type) } }
        return labels.filter { provider(for: $0) != nil }
    }
}

/// The original's selection: rules first (security/architecture → claude, GitHub → copilot, large context →
/// gemini), then the HRM strategy, then the reward model (claude reward·0.7 vs gemini reward·1.2, gemini on ties).
enum AgentSelector {
    struct Choice: Sendable, Equatable {
        var agent: String
        var reason: String
    }

    static func select(task: TaskRecord, strategy: String, available: [String], rewards: [String: Double],
                       assignments: [String: Int]) -> Choice? {
        guard !available.isEmpty else { return nil }
        func pick(_ agent: String, _ reason: String) -> Choice? { available.contains(agent) ? Choice(agent: agent, reason: reason) : nil }
        if strategy == "manual", let requested = task.requestedAgent, let choice = pick(requested, "manual") { return choice }
        if let requested = task.requestedAgent, let choice = pick(requested, "requested") { return choice }
        if task.requiresSecurity || task.taskType == "security" || task.taskType == "architecture",
           let choice = pick("claude", "rule:\(task.requiresSecurity ? "requires_security" : task.taskType)") { return choice }
        if task.taskType == "github_workflow", let choice = pick("copilot", "rule:github_workflow") { return choice }
        if task.files.count > 50 || task.prompt.count > 100_000 || task.taskType == "bulk_analysis",
           let choice = pick("gemini", "rule:large_context") { return choice }
        switch strategy {
        case "cost_optimized", "speed_optimized": if let choice = pick("gemini", "strategy:\(strategy)") { return choice }
        case "quality_first": if let choice = pick("claude", "strategy:quality_first") { return choice }
        case "round_robin":
            let next = available.min { (assignments[$0] ?? 0, available.firstIndex(of: $0)!) < (assignments[$1] ?? 0, available.firstIndex(of: $1)!) }!
            return Choice(agent: next, reason: "strategy:round_robin")
        default: break
        }
        let claude = (rewards["claude"] ?? 0.8) * 0.7
        let gemini = (rewards["gemini"] ?? 0.75) * 1.2
        if gemini >= claude, let choice = pick("gemini", "reward") { return choice }
        if let choice = pick("claude", "reward") { return choice }
        return Choice(agent: available[0], reason: "fallback")
    }

    /// The agent to switch to after `current` fell short: the best remaining profile.
    static func alternative(to current: String, available: [String], tried: Set<String>) -> String? {
        let candidates = available.filter { $0 != current }
        let fresh = candidates.filter { !tried.contains($0) }
        return (fresh.isEmpty ? candidates : fresh).max { QualityEvaluator.profile($0) < QualityEvaluator.profile($1) }
    }
}
