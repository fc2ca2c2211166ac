import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// Every path of spec/orchestration-api.md (copied here from its §1–§8; the test never reads the spec file)
/// must be served by the :1336 listener, and its OpenAPI document must list exactly the router's routes.
@Suite struct OrchestrationSpecPathsTests {
    static let specPaths: [(method: String, path: String)] = [
        ("POST", "/api/orchestration/execute"), ("GET", "/api/orchestration/health"),
        ("GET", "/api/orchestration/circuit-breaker-status"),
        ("GET", "/api/projects"), ("GET", "/api/projects/{project_id}"), ("POST", "/api/projects"),
        ("PUT", "/api/projects/{project_id}"), ("DELETE", "/api/projects/{project_id}"), ("PUT", "/api/projects/{project_id}/config"),
        ("GET", "/api/tasks"), ("GET", "/api/tasks/{task_id}"), ("POST", "/api/tasks/{task_id}/retry"), ("POST", "/api/tasks/{task_id}/cancel"),
        ("GET", "/api/metrics/dashboard"), ("GET", "/api/metrics/quality"), ("GET", "/api/metrics/cost"), ("GET", "/api/metrics/agents"),
        ("GET", "/api/metrics/performance"),
        ("GET", "/api/agents/connections"), ("GET", "/api/agents/connections/{agent_id}"), ("POST", "/api/agents/connections"),
        ("PUT", "/api/agents/connections/{agent_id}"), ("DELETE", "/api/agents/connections/{agent_id}"),
        ("GET", "/api/agents/files"), ("GET", "/api/agents/files/{file_path}"), ("PUT", "/api/agents/files/{file_path}"),
        ("POST", "/api/agents/files"), ("DELETE", "/api/agents/files/{file_path}"),
        ("POST", "/api/hrm/config"), ("GET", "/api/hrm/config"), ("GET", "/api/hrm/config/presets"), ("POST", "/api/hrm/config/presets"),
        ("PUT", "/api/hrm/config/presets/{preset_id}"), ("DELETE", "/api/hrm/config/presets/{preset_id}"),
        ("POST", "/api/hrm/config/presets/{preset_id}/apply"), ("POST", "/api/hrm/simulate"), ("GET", "/api/hrm/config/history/{config_id}"),
        ("WS", "/ws"), ("WS", "/ws/project/{id}"), ("WS", "/ws/task/{id}"), ("GET", "/api/ws/health"),
        ("GET", "/api/health"), ("GET", "/api/metrics"),
    ]

    /// `{project_id}` and `{id}` compare equal: only the shape matters.
    static func shape(_ path: String) -> String {
        path.split(separator: "/").map { $0.hasPrefix("{") ? "{}" : String($0) }.joined(separator: "/")
    }

    @Test func everySpecPath_IsRoutedAndAnswersOverTheSocket() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let routes = Set(d.module.router.routes.map { ($0.isWebSocket ? "WS" : $0.method.rawValue) + " " + Self.shape($0.path) })
        for (method, path) in Self.specPaths {
            #expect(routes.contains(method + " " + Self.shape(path)), "not routed: \(method) \(path)")
            let concrete = path.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "x", options: .regularExpression)
            if method == "WS" {
                let status = try Orch.upgradeStatus(port: d.port, path: concrete)
                #expect(status == 101, "\(path): \(status)")
            } else {
                let reply = try d.request(method, concrete, method == "GET" || method == "DELETE" ? nil : "{}")
                #expect(reply.status != 405 && reply["detail"] != "Not Found", "\(method) \(path) → \(reply.status) \(reply.text)")
            }
        }
    }

    @Test func openAPI_OnTheOrchestrationListenerMatchesItsRoutes() throws {
        let d = try OrchestrationDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let document = try d.get("/openapi.json")
        #expect(document.status == 200)
        guard case .object(let paths)? = document["paths"] else { Issue.record("no paths"); return }
        var documented: Set<String> = []
        for (path, item) in paths { for (method, _) in item.members ?? [] { documented.insert(method.uppercased() + " " + path) } }
        let routed = Set(d.module.router.routes.filter { !$0.operation.isHidden }.map { $0.method.rawValue + " " + $0.path })
        #expect(documented == routed)
        #expect(documented.count == Self.specPaths.count)
        // The Argus document on :8000 does not carry the orchestration routes (no /ws clash there).
        let (_, argus) = try LoopbackHTTPClient.send(port: d.daemon.port!, method: "GET", path: "/openapi.json")
        #expect(!String(decoding: argus, as: UTF8.self).contains("/api/orchestration"))
    }
}
