import Foundation
import HTTPServer

/// An agent reached over plain HTTP (an `api` or `remote` agent connection): `POST <endpoint>` with
/// `{"agent","prompt","task_type","files","iteration"}`, expecting 200 with `{"content": "...", "tokens"?: n,
/// "cost"?: x}`. Anything else is a ``ProviderError`` (and a circuit-breaker failure). `https` endpoints fail
/// the same way: this build has no TLS client (documented in docs/orchestration.md).
struct HTTPAgentProvider: AgentProvider {
    let endpoint: String
    let port: Int?
    var name: String { "http:" + endpoint }

    func execute(_ request: AgentRequest) throws -> AgentResult {
        let started = DispatchTime.now().uptimeNanoseconds
        guard let url = URL(string: endpoint), let host = url.host, url.scheme == "http" || url.scheme == "https" else {
            throw ProviderError(description: "invalid endpoint \(endpoint)")
        }
        guard url.scheme == "http" else { throw ProviderError(description: "https endpoints are not supported (no TLS client)") }
        let body = JSONValue.object([
            ("agent", .string(request.agent)), ("prompt", .string(request.prompt)), ("task_type", .string(request.taskType)),
            ("files", .array(request.files.map(JSONValue.string))), ("iteration", .int(request.iteration)),
        ]).encoded()
        let path = url.path.isEmpty ? "/" : url.path
        let reply: (status: Int, body: [UInt8])
        do {
            reply = try LoopbackHTTPClient.send(host: host, port: port ?? url.port ?? 80, method: "POST", path: path,
                                                headers: ["Content-Type": "application/json"], body: body)
        } catch {
            throw ProviderError(description: "\(endpoint) unreachable: \(error)")
        }
        guard reply.status == 200 else { throw ProviderError(description: "\(endpoint) answered HTTP \(reply.status)") }
        guard let answer = try? JSONParser.parse(reply.body), let content = answer["content"]?.stringValue else {
            throw ProviderError(description: "\(endpoint) answered without a string 'content'")
        }
        let tokens = promptTokens(request)
        var tokensOut = estimatedTokens(content)
        if case .int(let reported)? = answer["tokens"], reported >= 0 { tokensOut = max(0, reported - tokens.sent) }
        var cost = 0.0
        if case .double(let c)? = answer["cost"], c >= 0 { cost = c } else if case .int(let c)? = answer["cost"], c >= 0 { cost = Double(c) }
        let duration = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return AgentResult(content: content, tokensIn: tokens.sent, tokensOut: tokensOut, tokensUncompressed: tokens.uncompressed,
                           cost: cost, duration: duration, provider: name)
    }
}
