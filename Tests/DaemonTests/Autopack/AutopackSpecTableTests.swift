import Foundation
import Testing
@testable import Daemon

/// Every path of `spec/autopack-api.md`, copied here (the spec file lives outside the repository). The test
/// fails when the daemon's router lacks one, when `/openapi.json` does not document it, or when a request to
/// it falls through to the router's own 404/405.
@Suite struct AutopackSpecTableTests {
    static let specPaths: [(String, String)] = [
        // 1. Run lifecycle
        ("POST", "/runs/start"), ("GET", "/runs/{run_id}"),
        ("POST", "/runs/{run_id}/phases/{phase_id}/update_status"), ("POST", "/runs/{run_id}/phases/{phase_id}/builder_result"),
        ("POST", "/runs/{run_id}/phases/{phase_id}/auditor_result"), ("POST", "/runs/{run_id}/phases/{phase_id}/record_issue"),
        // 2. Health
        ("GET", "/health"),
        // 3. Dashboard
        ("GET", "/dashboard/runs/{run_id}/status"), ("GET", "/dashboard/usage"), ("GET", "/dashboard/models"),
        ("GET", "/dashboard/runs/{run_id}/token-efficiency"), ("GET", "/dashboard/runs/{run_id}/phase6-stats"),
        ("GET", "/dashboard/runs/{run_id}/consolidated-metrics"), ("GET", "/dashboard/ab-results"),
        ("POST", "/dashboard/human-notes"), ("POST", "/dashboard/models/override"),
        // 4. Issues, 5. Errors
        ("GET", "/runs/{run_id}/issues/index"), ("GET", "/project/issues/backlog"),
        ("GET", "/runs/{run_id}/errors"), ("GET", "/runs/{run_id}/errors/summary"),
        // 6. Approvals, 7. Governance
        ("POST", "/approval/request"), ("GET", "/approval/status/{approval_id}"), ("GET", "/approval/pending"),
        ("POST", "/telegram/webhook"), ("GET", "/governance/pending"), ("POST", "/governance/approve/{request_id}"),
        // 8. Auth
        ("POST", "/api/auth/register"), ("POST", "/api/auth/login"), ("GET", "/api/auth/me"),
        ("GET", "/api/auth/.well-known/jwks.json"),
        // 9. OAuth credential health
        ("GET", "/api/auth/oauth/health"), ("GET", "/api/auth/oauth/health/{provider}"),
        ("POST", "/api/auth/oauth/refresh/{provider}"), ("POST", "/api/auth/oauth/reset/{provider}"),
        ("GET", "/api/auth/oauth/events"),
        // 10. Operator surface
        ("GET", "/runs"), ("GET", "/runs/{run_id}/progress"), ("GET", "/runs/{run_id}/artifacts/index"),
        ("GET", "/runs/{run_id}/artifacts/file"), ("GET", "/runs/{run_id}/browser/artifacts"),
        // 11. Storage
        ("GET", "/storage/scans"), ("GET", "/storage/scans/{scan_id}"), ("POST", "/storage/scans/{scan_id}/approve"),
        ("GET", "/storage/steam/games"), ("POST", "/storage/patterns/analyze"), ("GET", "/storage/learned-rules"),
        ("POST", "/storage/learned-rules/{rule_id}/approve"), ("GET", "/storage/recommendations"),
        // 12. Upload, 13. Research (`POST /research/*`: the sessions endpoint)
        ("POST", "/files/upload"), ("POST", "/research/sessions"),
        // Autopack's other health endpoints (the original's code)
        ("GET", "/health/database"), ("GET", "/health/tasks"), ("GET", "/ready"),
    ]

    @Test func everySpecPath_IsRouted_Documented_AndAnswered() throws {
        let d = try TestDaemon(withModel: false)
        defer { d.stop(); d.dir.cleanup() }
        let routes = Set(d.daemon.router.routes.map { "\($0.method.rawValue) \($0.path)" })
        let document = try d.get("/openapi.json", key: nil).object
        let documented = try #require(document["paths"] as? [String: [String: Any]])
        var missing: [String] = []
        for (method, path) in Self.specPaths {
            if !routes.contains("\(method) \(path)") { missing.append("router: \(method) \(path)") }
            if documented[path]?[method.lowercased()] == nil { missing.append("openapi: \(method) \(path)") }
            let concrete = path.replacingOccurrences(of: #"\{[a-z_]+\}"#, with: "x1", options: .regularExpression)
            let reply = try d.request(method, concrete, body: method == "POST" ? Data("{}".utf8) : nil, key: nil)
            let fellThrough = reply.status == 405 || (reply.status == 404 && reply.text == #"{"detail":"Not Found"}"#)
            if fellThrough { missing.append("unanswered: \(method) \(concrete) → \(reply.status)") }
        }
        #expect(missing.isEmpty, "\(missing)")
    }

    /// The fuzzer's positive-data check sent what `/openapi.json` allowed and got 422s where a body was documented as
    /// any object: login (JSON or form), upload (multipart), builder and auditor results now say what the routes read.
    @Test func bodiesAreDocumentedAsTheRoutesReadThem() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        let paths = try #require(s.get("/openapi.json").object["paths"] as? [String: Any])
        func content(_ path: String) -> [String: Any] {
            let post = (paths[path] as? [String: Any])?["post"] as? [String: Any]
            return ((post?["requestBody"] as? [String: Any])?["content"] as? [String: Any]) ?? [:]
        }
        func schema(_ path: String, _ type: String = "application/json") -> [String: Any] {
            ((content(path)[type] as? [String: Any])?["schema"] as? [String: Any]) ?? [:]
        }
        #expect(Set(content("/api/auth/login").keys) == ["application/json", "application/x-www-form-urlencoded"])
        #expect(schema("/api/auth/login", "application/x-www-form-urlencoded")["required"] as? [String] == ["username", "password"])
        #expect(Set(content("/files/upload").keys) == ["multipart/form-data"])
        let file = ((schema("/files/upload", "multipart/form-data")["properties"] as? [String: Any])?["file"] as? [String: Any]) ?? [:]
        #expect(file["format"] as? String == "binary")
        let builder = schema("/runs/{run_id}/phases/{phase_id}/builder_result")
        #expect(builder["required"] as? [String] == ["phase_id", "run_id", "status"] && builder["additionalProperties"] as? Bool == false)
        #expect(Set((builder["properties"] as? [String: Any] ?? [:]).keys) == BuilderResult.members)
        #expect(schema("/runs/{run_id}/phases/{phase_id}/auditor_result")["required"] as? [String] == ["phase_id", "run_id", "recommendation"])
        // Both ways of logging in that the document names work.
        #expect(try s.post("/api/auth/login", ["username": "admin", "password": AutopackServer.adminPassword]).status == 200)
        let form = try s.request("POST", "/api/auth/login", body: Array("username=admin&password=\(AutopackServer.adminPassword)".utf8),
                                 headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(form.status == 200, "\(form.text)")
    }
}

