import Foundation
import Testing
@testable import Daemon

/// §8 `/api/auth/*` on the shared auth core.
@Suite struct AutopackAuthTests {
    static func login(_ s: AutopackServer, _ user: String, _ password: String) throws -> HTTPReply {
        try s.request("POST", "/api/auth/login", body: Array("username=\(user)&password=\(password)".utf8),
                      headers: ["Content-Type": "application/x-www-form-urlencoded"])
    }

    /// Found by tools/fuzz_api.sh (ST202): the documented email pattern reads code points; the route split on characters,
    /// where "@" followed by a skin-tone modifier is one character, so a schema-valid address was refused.
    @Test func register_EmailIsReadInCodePoints_AsDocumented() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        let reply = try s.post("/api/auth/register", ["username": "tone", "email": "a@\u{1F3FB}x.", "password": "password-1"])
        #expect(reply.status == 201, "\(reply.text)")
        #expect(try s.post("/api/auth/register", ["username": "none", "email": "a\u{1F3FB}x.", "password": "password-1"]).status == 422)
    }

    @Test func register_Login_Me_WithA24HourRS256Token() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        let created = try s.post("/api/auth/register", ["username": "ops", "email": "ops@example.com", "password": "correct horse"])
        #expect(created.status == 201)
        #expect(created.object["is_superuser"] as? Bool == false)
        #expect(created.object["password_hash"] == nil)
        #expect(try s.post("/api/auth/register", ["username": "ops", "email": "x@example.com", "password": "correct horse"]).status == 400)
        #expect(try s.post("/api/auth/register", ["username": "ops2", "email": "ops@example.com", "password": "correct horse"]).status == 400)
        #expect(try Self.login(s, "ops", "wrong-password").status == 401)
        let token = try Self.login(s, "ops", "correct%20horse")
        #expect(token.status == 200)
        #expect(token.object["token_type"] as? String == "bearer")
        #expect(token.object["expires_in"] as? Int == 86_400)
        let access = try #require(token.object["access_token"] as? String)
        let me = try s.get("/api/auth/me", headers: ["Authorization": "Bearer \(access)"])
        #expect(me.status == 200)
        #expect(me.object["username"] as? String == "ops")
        let anonymous = try s.get("/api/auth/me")
        #expect(anonymous.status == 401)
        #expect(anonymous.headers["www-authenticate"] == "Bearer")
        #expect(try s.get("/api/auth/me", headers: ["Authorization": "Bearer \(access)x"]).status == 401)
        // JSON login works too.
        #expect(try s.post("/api/auth/login", ["username": "ops", "password": "correct horse"]).status == 200)
        // 24 h later the token has expired.
        s.clock.advance(by: 86_400 + 60)
        #expect(try s.get("/api/auth/me", headers: ["Authorization": "Bearer \(access)"]).status == 401)
    }

    @Test func jwks_ServesTheRealPublicKey_ThatVerifiesIssuedTokens() throws {
        let s = try AutopackServer()
        defer { s.stopAndClean() }
        let jwks = try s.get("/api/auth/.well-known/jwks.json")
        #expect(jwks.status == 200)
        let keys = try #require(jwks.object["keys"] as? [[String: Any]])
        #expect(keys.count == 1)
        #expect(keys[0]["kty"] as? String == "RSA")
        #expect(keys[0]["alg"] as? String == "RS256")
        let token = try #require(try Self.login(s, "admin", AutopackServer.adminPassword).object["access_token"] as? String)
        // Verify with nothing but the published JWK.
        let jwk = try #require(DecodedJSON.parse(try JSONSerialization.data(withJSONObject: keys[0])))
        let key = try JWKS.key(from: jwk)
        let verified = try JWT.verify(token, key: .rsa(key), validation: JWTValidation(now: s.clock.now()))
        #expect(verified.claims["username"]?.stringValue == "admin")
        #expect(verified.header["kid"]?.stringValue == keys[0]["kid"] as? String)
        // The same key survives a restart (it is the daemon's persisted key pair).
        let kid = keys[0]["kid"] as? String
        s.stop()
        let again = try AutopackServer(dir: s.dir)
        defer { again.stop() }
        #expect(((try again.get("/api/auth/.well-known/jwks.json").object["keys"] as? [[String: Any]])?.first)?["kid"] as? String == kid)
        #expect(try again.get("/api/auth/key-status").object["keys_loaded"] as? Bool == true)
    }

    @Test func login_IsRateLimitedTo5PerMinutePerIP() throws {
        let s = try AutopackServer(settings: AutopackServer.settings { $0.loginPerMinute = 5 })
        defer { s.stopAndClean() }
        for _ in 0..<5 { #expect(try Self.login(s, "admin", "nope").status == 401) }
        let limited = try Self.login(s, "admin", AutopackServer.adminPassword)
        #expect(limited.status == 429)
        #expect(limited.headers["retry-after"] != nil)
    }
}
