/// Quality of one iteration's answer. Without a real test runner, the signals come from a deterministic
/// model: the agent's capability profile (the original switcher's quality table), the task's complexity,
/// and how many iterations refined it. The same task, agent and iteration always score the same.
struct IterationQuality: Sendable {
    var score: Double
    var testsPassing: Bool
    var testCoverage: Double
    var securityIssues: Int
    var securityScore: Double
    var suggestions: [String]
}

enum QualityEvaluator {
    /// Capability profile per agent label (SmartAgentSwitcher: claude 0.95, copilot 0.8, gemini 0.7).
    static func profile(_ agent: String) -> Double {
        switch agent {
        case "claude", "anthropic": 0.95
        case "copilot": 0.80
        case "gemini", "google": 0.70
        default: 0.75
        }
    }

    static func evaluate(prompt: String, taskType: String, requiresSecurity: Bool, agent: String, iteration: Int,
                         gate: Double) -> IterationQuality {
        let analysis = TaskAnalysis(prompt: prompt, taskType: taskType)
        let raw = profile(agent) * (1 - 0.5 * analysis.complexity * pow(0.6, Double(iteration - 1)))
        let score = (raw * 1000).rounded() / 1000
        let initialIssues = (requiresSecurity || taskType == "security") ? max(1, analysis.securityTerms.count) : 0
        let fixedPerIteration = agent == "claude" || agent == "anthropic" ? 2 : 1
        let issues = max(0, initialIssues - iteration * fixedPerIteration)
        let passing = score >= gate && issues == 0
        var suggestions: [String] = []
        if score < gate { suggestions.append("Add error handling") }
        if !passing { suggestions.append("Add tests for the failing cases") }
        if issues > 0 { suggestions.append("Fix \(issues) remaining security finding\(issues == 1 ? "" : "s")") }
        if analysis.complexity >= 0.6 && iteration == 1 { suggestions.append("Split the task into smaller steps") }
        if iteration == 1 && !prompt.lowercased().contains("doc") { suggestions.append("Improve documentation") }
        return IterationQuality(score: score, testsPassing: passing, testCoverage: min(1, ((0.4 + 0.55 * score) * 1000).rounded() / 1000),
                                securityIssues: issues, securityScore: max(0, 1 - 0.15 * Double(issues)), suggestions: suggestions)
    }
}

import Foundation
