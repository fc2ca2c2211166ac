import Foundation
import Testing
@testable import Daemon

/// §9 OAuth credential health: bearer required, refresh/reset admin-only, the offline refresher's failures
/// drive the real lifecycle (retries, failure count, pause, reset).
@Suite struct AutopackOAuthTests {
    static func token(_ s: AutopackServer, _ user: String, _ password: String) throws -> [String: String] {
        let reply = try s.post("/api/auth/login", ["username": user, "password": password])
        return ["Authorization": "Bearer \(reply.object["access_token"] as? String ?? "")"]
    }

    /// Found by tools/fuzz_api.sh: `expires_at: 9.9e306` was stored and the credential read then trapped (Int
    /// overflow), killing the daemon. Now a 422 naming the field, and the daemon keeps serving.
    @Test func absurdExpiry_IsRefused_AndTheDaemonKeepsServing() throws {
        let s = try AutopackServer(settings: AutopackServer.settings { $0.oauthAdminPerMinute = 1000 })
        defer { s.stopAndClean() }
        let admin = try Self.token(s, "admin", AutopackServer.adminPassword)
        for expiry in [9.928083463550717e306, 253_402_300_800.0] {
            let reply = try s.request("PUT", "/api/auth/oauth/credentials/local", json: ["expires_at": expiry], headers: admin)
            #expect(reply.status == 422, "\(expiry): \(reply.text)")
        }
        #expect(try s.request("PUT", "/api/auth/oauth/credentials/local", json: ["expires_at": 253_402_300_799.0], headers: admin).status == 200)
        #expect(try s.get("/api/auth/oauth/health", headers: admin).status == 200)
    }

    /// Found by tools/fuzz_api.sh (ST202): `{provider}` must be an identifier (422 otherwise) but `/openapi.json`
    /// documented any string. The document now gives the path parameter the identifier's schema.
    @Test func credentialProvider_IsDocumentedAsTheIdentifierTheRouteRequires() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        let admin = try Self.token(s, "admin", AutopackServer.adminPassword)
        for provider in ["a%20b", "%C3%A9", String(repeating: "x", count: 129)] {
            let reply = try s.request("PUT", "/api/auth/oauth/credentials/\(provider)", json: ["expires_at": 2e9], headers: admin)
            #expect(reply.status == 422 && reply.locations == ["path.provider"], "\(provider): \(reply.text)")
        }
        #expect(try s.request("PUT", "/api/auth/oauth/credentials/gh.enterprise-2_x", json: ["expires_at": 2e9], headers: admin).status == 200)
        let paths = try #require(s.get("/openapi.json").object["paths"] as? [String: Any])
        let put = try #require((paths["/api/auth/oauth/credentials/{provider}"] as? [String: Any])?["put"] as? [String: Any])
        let parameters = try #require(put["parameters"] as? [[String: Any]])
        #expect(parameters.count == 1 && parameters[0]["in"] as? String == "path")
        let schema = try #require(parameters[0]["schema"] as? [String: Any])
        #expect(schema["pattern"] as? String == "^[A-Za-z0-9._-]{1,128}$", "\(schema)")
        #expect((schema["not"] as? [String: Any])?["enum"] as? [String] == [".", ".."])
    }

    /// Found by tools/fuzz_api.sh (ST401): once an admin had spent the refresh limit, the same client without a token
    /// was answered 429, which says nothing of whether the route checks tokens. Auth now comes before the limit.
    @Test func refreshAndResetWithoutAToken_Are401_EvenWhileTheClientIsLimited() throws {
        let s = try AutopackServer(settings: AutopackServer.settings { $0.oauthAdminPerMinute = 2 })
        defer { s.stopAndClean() }
        let admin = try Self.token(s, "admin", AutopackServer.adminPassword)
        for _ in 0..<2 { #expect(try s.post("/api/auth/oauth/refresh/none", headers: admin).status == 404) }
        #expect(try s.post("/api/auth/oauth/refresh/none", headers: admin).status == 429)
        #expect(try s.post("/api/auth/oauth/refresh/none").status == 401)
        #expect(try s.post("/api/auth/oauth/reset/none", headers: ["Authorization": "Bearer not-a-token"]).status == 401)
        #expect(try s.post("/api/auth/oauth/reset/none", headers: admin).status == 429)
        // Still counted per client IP, not per user: the same admin from another (forwarded) address is not limited.
        #expect(try s.post("/api/auth/oauth/refresh/none", headers: admin.merging(["X-Forwarded-For": "203.0.113.9"]) { $1 }).status == 404)
    }

    @Test func credentialLifecycle_OverSockets() throws {
        let s = try AutopackServer(settings: AutopackServer.settings { $0.oauthRetryDelaySeconds = 0; $0.oauthAdminPerMinute = 1000 })
        defer { s.stopAndClean() }
        let admin = try Self.token(s, "admin", AutopackServer.adminPassword)
        _ = try s.post("/api/auth/register", ["username": "viewer", "email": "v@example.com", "password": "password-1"])
        let user = try Self.token(s, "viewer", "password-1")
        #expect(try s.get("/api/auth/oauth/health").status == 401)
        let expiry = s.clock.now().timeIntervalSince1970 + 3600
        #expect(try s.request("PUT", "/api/auth/oauth/credentials/github", json: ["expires_at": expiry], headers: user).status == 403)
        let registered = try s.request("PUT", "/api/auth/oauth/credentials/github", json: ["expires_at": expiry, "scopes": ["repo"]], headers: admin)
        #expect(registered.object["status"] as? String == "valid")
        let report = try s.get("/api/auth/oauth/health", headers: user).object
        #expect((report["summary"] as? [String: Any])?["overall_healthy"] as? Bool == true)
        #expect(try s.get("/api/auth/oauth/health/gitlab", headers: user).status == 404)
        #expect(try s.post("/api/auth/oauth/refresh/github", headers: user).status == 403)
        #expect(try s.post("/api/auth/oauth/reset/github", headers: user).status == 403)
        #expect(try s.post("/api/auth/oauth/refresh/gitlab", headers: admin).status == 404)
        for round in 1...3 {
            let queued = try s.post("/api/auth/oauth/refresh/github", headers: admin)
            #expect(queued.object["status"] as? String == "queued")
            #expect(autopackEventually {
                (try? s.get("/api/auth/oauth/health/github", headers: user).object["consecutive_failures"] as? Int) == round
            })
        }
        let failed = try s.get("/api/auth/oauth/health/github", headers: user).object
        #expect(failed["status"] as? String == "refresh_failed")
        #expect(failed["paused"] as? Bool == true)
        let events = try s.get("/api/auth/oauth/events?provider=github&limit=100", headers: user).array
        #expect(events.filter { $0["event_type"] as? String == "refresh_attempt_failed" }.count == 9)   // 3 rounds × 3 retries
        #expect(try s.post("/api/auth/oauth/reset/github", headers: admin).object["status"] as? String == "reset")
        #expect(try s.get("/api/auth/oauth/health/github", headers: user).object["status"] as? String == "valid")
        s.clock.advance(by: 3600 - 100)
        #expect(try s.get("/api/auth/oauth/health/github", headers: user).object["status"] as? String == "refresh_pending")
        s.clock.advance(by: 100)
        #expect(try s.get("/api/auth/oauth/health/github", headers: user).object["status"] as? String == "expired")
    }
}
