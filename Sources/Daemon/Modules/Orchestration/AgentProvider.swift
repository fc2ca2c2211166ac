import Foundation

/// One call to an agent: the task, which iteration, and the HRM knobs in force.
struct AgentRequest: Sendable {
    var taskID: String
    var agent: String
    var prompt: String
    var taskType: String
    var files: [String]
    var workspace: String
    var iteration: Int
    var maxIterations: Int
    var knobs: HRMConfigSchema.Knobs
}

/// What an agent answered. `duration` is measured around the call, never reported by the agent.
struct AgentResult: Sendable {
    var content: String
    var tokensIn: Int
    var tokensOut: Int
    /// Prompt tokens before latent-reasoning compression (equal to `tokensIn` when it is off).
    var tokensUncompressed: Int
    var cost: Double
    var duration: Double
    var provider: String
    var tokens: Int { tokensIn + tokensOut }
}

struct ProviderError: Error, CustomStringConvertible {
    var description: String
}

/// Something that executes a task for an agent label (claude, gemini, …). The agent ids of the contract are
/// labels; which provider serves a label is decided by ``ProviderDirectory``.
protocol AgentProvider: Sendable {
    /// `local` or `http:<endpoint>`, reported in task metadata.
    var name: String { get }
    /// Runs one iteration. Throws ``ProviderError`` when the agent is unreachable or answers nonsense; the
    /// circuit breaker counts those.
    func execute(_ request: AgentRequest) throws -> AgentResult
}

/// Token estimate the original used when a CLI did not report tokens: words × 1.3.
func estimatedTokens(_ text: String) -> Int {
    let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).count
    return Int((Double(words) * 1.3).rounded(.up))
}

/// Prompt tokens an agent sees: the prompt and file list, divided by the latent-reasoning compression ratio
/// when that is enabled (the HRM knob has a measurable effect on tokens and therefore cost).
func promptTokens(_ request: AgentRequest) -> (sent: Int, uncompressed: Int) {
    let raw = estimatedTokens(request.prompt + " " + request.files.joined(separator: " "))
    guard request.knobs.latentEnabled else { return (raw, raw) }
    return (max(1, Int((Double(raw) / request.knobs.compression).rounded(.up))), raw)
}
