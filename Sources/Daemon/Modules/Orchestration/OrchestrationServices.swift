import Foundation
import HTTPServer

/// Everything the module's routes use, built once by ``OrchestrationModule``.
struct OrchestrationServices: Sendable {
    let store: OrchestrationStore
    let queue: TaskQueue
    let runner: TaskRunner
    let breakers: CircuitBreakers
    let feed: OrchestrationFeed
    let files: AgentFiles
    let requests: RequestMetrics
    let startedAt: Date

    /// How long `POST /api/orchestration/execute` waits for its task before answering 202.
    var executeWaitSeconds: Double = 120

    /// Agents to report in the breaker status: the defaults, every configured label, every agent that ever failed.
    func knownAgents() throws -> [String] {
        ProviderDirectory.defaultAgents + (try store.connections().compactMap(\.agentType))
    }

    static func notFound(_ what: String) -> HTTPError { HTTPError(.notFound, "\(what) not found") }
}
