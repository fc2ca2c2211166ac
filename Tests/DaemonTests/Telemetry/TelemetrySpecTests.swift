import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// The spec's endpoint inventory against the router, auth on every console route, and the OpenAPI document.
@Suite struct TelemetrySpecTests {
    /// The inventory tables of spec/telemetry-console-api.md, copied verbatim (tests read nothing outside the repo).
    static let specInventory = """
        | 1 | GET | `/api/telemetry/kernels/status` | Kernel metrics + table data | ✅ Ready |
        | 2 | GET | `/api/telemetry/crypto/health` | Crypto health status | ✅ Ready |
        | 3 | GET | `/api/telemetry/ingestion/throughput` | Ingestion stats | ✅ Ready |
        | 4 | POST | `/api/telemetry/kernels/{id}/control` | Control kernel actions | ✅ Ready |
        | 5 | GET | `/api/telemetry/kernels/{id}/logs` | Fetch kernel logs | ✅ Ready |
        | 6 | GET | `/api/telemetry/htm/queue` | Queue status + metrics | ✅ Ready |
        | 7 | GET | `/api/telemetry/htm/tasks` | Task list (filterable) | ✅ Ready |
        | 8 | GET | `/api/telemetry/htm/workload` | Workload perception | ✅ Ready |
        | 9 | POST | `/api/telemetry/htm/tasks/{id}/priority` | Override task priority | ✅ Ready |
        | 10 | GET | `/api/telemetry/intent/active` | Active intents | ✅ Ready |
        | 11 | GET | `/api/telemetry/intent/{id}/details` | Intent details + HTM tasks | ✅ Ready |
        | 12 | GET | `/api/telemetry/learning/retrospectives` | Learning cycles | ✅ Ready |
        | 13 | GET | `/api/telemetry/learning/playbooks` | Playbook success rates | ✅ Ready |
        | 14 | GET | `/api/telemetry/learning/policy_suggestions` | AI policy suggestions | ✅ Ready |
        | 15 | POST | `/api/telemetry/learning/policy_suggestions/{id}/respond` | Accept/review/reject policy | ✅ Ready |
        | 16 | GET | `/api/telemetry/secrets/status` | Secrets vault health | ✅ Ready |
        | 17 | POST | `/api/secrets/store` | Store secret (with consent) | ✅ Ready |
        | 18 | GET | `/api/telemetry/recordings/pending` | Pending recordings | ✅ Ready |
        | 19 | POST | `/api/recording/ingest/{id}` | Start ingestion job | ✅ Ready |
        | 20 | GET | `/api/recording/ingest/{job_id}/status` | Poll ingestion progress | ✅ Ready |
        | 21 | GET | `/api/telemetry/remote_access/sessions` | Remote access logs | ✅ Ready |
        | 22 | GET | `/api/telemetry/deployment/status` | Deployment info | ✅ Ready |
        | 23 | POST | `/api/stress/run` | Run stress test | ✅ Ready |
        | 24 | GET | `/api/stress/{id}/status` | Poll stress test progress | ✅ Ready |
        | 25 | WebSocket | `/ws/telemetry` | Live metric streaming | ✅ Ready |
        """

    /// (method, path) per inventory row; WebSocket rows are GETs with an upgrade.
    static var specRoutes: [(method: String, path: String, webSocket: Bool)] {
        specInventory.split(separator: "\n").compactMap { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, Int(cells[0]) != nil else { return nil }
            let path = cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            return cells[1] == "WebSocket" ? ("GET", path, true) : (cells[1], path, false)
        }
    }

    /// `/a/{id}/b` and `/a/{job_id}/b` are the same route shape.
    static func shape(_ path: String) -> String {
        path.split(separator: "/").map { $0.hasPrefix("{") ? "{}" : String($0) }.joined(separator: "/")
    }

    @Test func everySpecPath_IsRouted() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let spec = Self.specRoutes
        #expect(spec.count == 25)
        let routed = Set(d.daemon.router.routes.map { "\($0.method.rawValue) \(Self.shape($0.path)) \($0.isWebSocket)" })
        for route in spec {
            #expect(routed.contains("\(route.method) \(Self.shape(route.path)) \(route.webSocket)"), "missing \(route.method) \(route.path)")
        }
    }

    /// Concrete paths for a route pattern (parameters filled with a placeholder id).
    private func concrete(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { $0.hasPrefix("{") ? "x-1" : String($0) }.joined(separator: "/")
    }

    @Test func everyConsoleRoute_Answers401WithoutAValidKey() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let console = d.daemon.router.routes.filter { r in Self.specRoutes.contains { Self.shape($0.path) == Self.shape(r.path) } }
        #expect(console.count == 25)
        for route in console {
            for key in [nil, "wrong-key"] as [String?] {
                let reply = try d.request(route.method.rawValue, concrete(route.path), body: route.method == .post ? Data("{}".utf8) : nil, key: key)
                #expect(reply.status == 401, "\(route.method) \(route.path) key \(key ?? "none")")
                #expect(reply.object["detail"] as? String == "Invalid or missing API key")
            }
            #expect(route.operation.security.contains("APIKeyHeader"), "\(route.path) documents its auth")
        }
        // Nothing was acted on.
        #expect(try d.get("/api/telemetry/remote_access/sessions?active_only=false").object["total"] as? Int == 1)
    }

    @Test func openAPI_DocumentsEveryConsoleRoute() throws {
        let d = try TestDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let doc = try d.get("/openapi.json", key: nil).object
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        for route in Self.specRoutes {
            let documented = paths.first { Self.shape($0.key) == Self.shape(route.path) }?.value
            #expect(documented?[route.method.lowercased()] != nil, "\(route.method) \(route.path)")
        }
        for route in d.daemon.router.routes where route.path.hasPrefix("/api/") || route.path.hasPrefix("/ws/telemetry") {
            #expect(route.operation.summary?.isEmpty == false, "\(route.path) has docs")
        }
    }
}
