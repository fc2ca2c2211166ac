import Foundation
import HTTPServer
import Testing
@testable import Daemon

/// `/auth/*` over real sockets.
@Suite struct SupervisorAuthRouteTests {
    @Test func loginFormAndJSONRefreshMeLogout() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        // OAuth2 password form, by username.
        let form = try d.call("POST", "/auth/login", token: .some(nil), raw: "username=admin&password=\(TestDaemon.adminPassword)",
                              contentType: "application/x-www-form-urlencoded")
        #expect(form.status == 200 && form["token_type"] == "bearer" && form["expires_in"] == .int(1_800), "\(form.text)")
        #expect(form["user"]?["username"] == .string("admin") && form["user"]?["password_hash"] == nil)
        #expect(try d.call("POST", "/auth/login", ["username": "admin", "password": "wrong-password"], token: .some(nil)).status == 401)
        #expect(try d.call("POST", "/auth/login", ["username": "ghost", "password": "wrong-password"], token: .some(nil)).status == 401)
        // The alias prefix of the original code works too.
        #expect(try d.call("POST", "/api/v1/auth/login", ["username": "admin", "password": .string(TestDaemon.adminPassword)], token: .some(nil)).status == 200)

        let access = form["access_token"]!.stringValue!, refresh = form["refresh_token"]!.stringValue!
        let me = try d.call("GET", "/auth/me", token: .some(access))
        #expect(me.status == 200 && me["is_superuser"] == .bool(true))
        let renewed = try d.call("POST", "/auth/refresh", ["refresh_token": .string(refresh)], token: .some(nil))
        #expect(renewed.status == 200, "\(renewed.text)")
        #expect(try d.call("POST", "/auth/refresh", ["refresh_token": .string(refresh)], token: .some(nil)).status == 401)   // used once
        #expect(try d.call("GET", "/auth/me", token: .some(access)).status == 401)                                              // rotated out
        let newAccess = renewed["access_token"]!.stringValue!
        #expect(try d.call("POST", "/auth/logout", token: .some(newAccess)).status == 200)
        #expect(try d.call("GET", "/auth/me", token: .some(newAccess)).status == 401)
        // JWKS for clients that verify tokens themselves.
        let jwks = try d.call("GET", "/auth/.well-known/jwks.json", token: .some(nil))
        let kid = jwks["keys"]?.arrayValue?.first?["kid"]?.stringValue
        #expect(kid == d.daemon.auth.keyID)
    }

    @Test func registerListUpdateDelete() throws {
        let d = try SupervisorDaemon()
        defer { d.stop(); d.dir.cleanup() }
        let created = try d.call("POST", "/auth/register", ["username": "ana", "email": "ana@example.com", "password": "password-123",
                                                            "full_name": "Ana", "roles": ["admin"]], token: .some(nil))
        #expect(created.status == 201 && created["roles"] == ["user"], "\(created.text)")   // self-registration never grants admin
        #expect(try d.call("POST", "/auth/register", ["username": "ana", "password": "password-123"], token: .some(nil)).status == 409)
        #expect(try d.call("POST", "/auth/register", ["username": "ana2", "email": "ANA@example.com", "password": "password-123"], token: .some(nil)).status == 409)
        let id = created["id"]!.intValue!
        let list = try d.call("GET", "/auth/users")
        #expect(list.json.arrayValue?.compactMap { $0["username"]?.stringValue } == ["admin", "ana"])
        let ana = try d.login("ana", "password-123")
        #expect(try d.call("GET", "/auth/users", token: .some(ana)).status == 403)
        let promoted = try d.call("PUT", "/auth/users/\(id)", ["roles": ["viewer", "api_user"], "full_name": "Ana B"])
        #expect(promoted.status == 200 && promoted["roles"] == ["viewer", "api_user"] && promoted["full_name"] == "Ana B")
        #expect(try d.call("GET", "/api/v1/tasks", token: .some(ana)).status == 200)      // new roles apply to the live token
        #expect(try d.call("PUT", "/auth/users/999", ["full_name": "x"]).status == 404)
        #expect(try d.call("PUT", "/auth/users/\(id)", ["email": "admin@example.org"]).status == 200)
        // Deactivation ends the user's sessions at once.
        #expect(try d.call("PUT", "/auth/users/\(id)", ["is_active": false]).status == 200)
        #expect(try d.call("GET", "/auth/me", token: .some(ana)).status == 401)
        #expect(try d.call("DELETE", "/auth/users/\(id)").status == 200)
        #expect(try d.call("DELETE", "/auth/users/\(id)").status == 404)
        #expect(try d.call("DELETE", "/auth/users/1").status == 409)   // not yourself
        // Every auth event is audited (logins come from the auth core's event flow).
        let audit = try d.call("GET", "/api/v1/audit-logs?limit=100").json.arrayValue ?? []
        let types = Set(audit.compactMap { $0["event_type"]?.stringValue })
        #expect(types.isSuperset(of: ["AUTH_LOGIN", "USER_REGISTERED", "USER_UPDATED", "USER_DELETED", "AUTH_LOGOUT_ALL"]), "\(types)")
    }
}
