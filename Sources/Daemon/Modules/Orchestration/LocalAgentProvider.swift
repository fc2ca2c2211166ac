import Foundation

/// The built-in provider: a deterministic local executor that needs no network or model. It analyses the
/// prompt (complexity, steps, security terms, files) and writes a plan for the iteration. It costs nothing.
/// Its output is a real function of its input, so the same task always produces the same answer.
struct LocalAgentProvider: AgentProvider {
    let name = "local"

    func execute(_ request: AgentRequest) throws -> AgentResult {
        let started = DispatchTime.now().uptimeNanoseconds
        let analysis = TaskAnalysis(prompt: request.prompt, taskType: request.taskType)
        var lines = [
            "[\(request.agent) via local executor] iteration \(request.iteration)/\(request.maxIterations) — \(request.taskType)",
            "Task: \(analysis.summary)",
            "Complexity: \(String(format: "%.2f", analysis.complexity)) (\(analysis.level)); words: \(analysis.words); steps: \(analysis.steps)",
        ]
        if !request.files.isEmpty { lines.append("Files in scope (\(request.files.count)): " + request.files.prefix(20).joined(separator: ", ")) }
        if !analysis.securityTerms.isEmpty { lines.append("Security terms to review: " + analysis.securityTerms.joined(separator: ", ")) }
        let plan = analysis.plan(iteration: request.iteration)
        lines.append("Plan:")
        lines += plan.enumerated().map { "  \($0.offset + 1). \($0.element)" }
        let content = lines.joined(separator: "\n")
        let tokens = promptTokens(request)
        let duration = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return AgentResult(content: content, tokensIn: tokens.sent, tokensOut: estimatedTokens(content),
                           tokensUncompressed: tokens.uncompressed, cost: 0, duration: duration, provider: name)
    }
}

/// Deterministic reading of a prompt: the v4 HRM router's complexity heuristic plus simple counts.
struct TaskAnalysis: Sendable {
    static let highKeywords = ["architecture", "security", "distributed", "concurrency", "migrate", "optimize", "refactor",
                               "performance", "design", "scalable", "vulnerab", "algorithm"]
    static let lowKeywords = ["simple", "typo", "rename", "format", "comment", "minor", "small", "trivial"]
    static let securityKeywords = ["sql", "injection", "xss", "password", "secret", "token", "auth", "crypto", "eval", "shell",
                                   "vulnerab", "csrf"]

    let words: Int
    let steps: Int
    let complexity: Double
    let securityTerms: [String]
    let summary: String

    init(prompt: String, taskType: String) {
        let lower = prompt.lowercased()
        let tokens = lower.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "_" })
        words = tokens.count
        steps = prompt.split(separator: "\n").filter { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix("-") || t.hasPrefix("*") || (t.first?.isNumber == true && t.dropFirst().first == ".")
        }.count + ["then", "after", "finally"].reduce(0) { $0 + (lower.contains($1) ? 1 : 0) }
        var score = 0.5
        score += 0.08 * Double(Self.highKeywords.filter { lower.contains($0) }.count)
        score -= 0.06 * Double(Self.lowKeywords.filter { lower.contains($0) }.count)
        if words > 100 { score += 0.15 } else if words > 50 { score += 0.08 }
        if steps >= 3 { score += 0.2 } else if steps >= 1 { score += 0.1 }
        if lower.contains("()") || lower.contains("{") || lower.contains("def ") || lower.contains("func ") { score += 0.1 }
        if taskType == "architecture" || taskType == "security" { score += 0.05 }
        complexity = min(1, max(0, score))
        securityTerms = Self.securityKeywords.filter { lower.contains($0) }
        let firstLine = prompt.split(separator: "\n").first.map(String.init) ?? ""
        summary = firstLine.count > 160 ? String(firstLine.prefix(157)) + "..." : firstLine
    }

    var level: String { complexity >= 0.6 ? "high" : complexity >= 0.35 ? "medium" : "low" }

    func plan(iteration: Int) -> [String] {
        var plan = ["Restate the goal and the acceptance criteria"]
        if iteration == 1 { plan.append("Survey the files in scope and their tests") }
        if !securityTerms.isEmpty { plan.append("Check \(securityTerms.prefix(3).joined(separator: ", ")) handling against OWASP guidance") }
        if complexity >= 0.6 { plan.append("Split the work into \(max(2, steps)) independently testable steps") }
        plan.append(iteration == 1 ? "Draft the change" : "Revise the draft from iteration \(iteration - 1) using its feedback")
        plan.append("Run the tests and report coverage")
        return plan
    }
}
