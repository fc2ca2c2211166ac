import Foundation
import HTTPServer
import Testing
@testable import Daemon

@Suite struct AuthServiceTests {
    @Test func firstStartBootstrapsOneAdminAndTheKeyFileIsPrivate() throws {
        let t = try TestAuth()
        defer { t.dir.cleanup() }
        let admin = try t.auth.checkCredentials(login: "admin", password: TestAuth.adminPassword)
        #expect(admin.isSuperuser && admin.roles == ["admin"])
        #expect(admin.permissions == RolePermissions.all)
        let keyFile = t.dir.url.appendingPathComponent("auth/jwt_rs256.pem").path
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Reopening keeps the key (same kid) and does not add a second admin.
        let again = try t.reopen()
        #expect(again.auth.keyID == t.auth.keyID)
        #expect(try again.auth.users.count() == 1)
    }

    @Test func generatedAdminPasswordIsWrittenPrivateAndWorks() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var settings = AuthService.Settings()
        settings.passwordIterations = 1_000
        let auth = try AuthService(directory: dir.url.appendingPathComponent("auth"), clock: ManualClock(), settings: settings)
        let file = try #require(auth.bootstrapPasswordFile)
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int == 0o600)
        let password = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(password.count >= 20)
        #expect(try auth.checkCredentials(login: "admin", password: password).username == "admin")
        #expect(throws: AuthFailure.badCredentials) { try auth.checkCredentials(login: "admin", password: password + "x") }
        #expect(throws: AuthFailure.badCredentials) { try auth.checkCredentials(login: "nobody", password: password) }
    }

    @Test func accessTokensCarryBothClaimShapesAndExpire() throws {
        let t = try TestAuth()
        defer { t.dir.cleanup() }
        let user = try t.auth.users.create(username: "ana", email: "ana@example.com", fullName: nil,
                                           passwordHash: t.auth.hashPassword("pw-123456"), roles: ["viewer"])
        let pair = try t.auth.issueTokens(for: user)
        #expect(pair.expiresIn == 1_800)
        let principal = try t.auth.principal(token: pair.accessToken)
        #expect(principal.userID == user.id && principal.has("tasks:read") && !principal.has("tasks:create"))
        let claims = principal.claims
        #expect(claims["sub"] == .string(String(user.id)) && claims["user_id"] == .int(user.id))
        #expect(claims["type"] == "access" && claims["iss"] == "argusd" && claims["aud"] == "argus")
        #expect(claims["roles"] == ["viewer"])
        // A refresh token is not a bearer token.
        #expect(throws: AuthFailure.invalidToken("not an access token")) { try t.auth.principal(token: pair.refreshToken) }
        // 30 minutes (+ leeway) later the access token is dead; the refresh token still works.
        t.clock.advance(by: 1_800 + 31)
        #expect(throws: AuthFailure.self) { try t.auth.principal(token: pair.accessToken) }
        let (_, renewed) = try t.auth.refresh(pair.refreshToken)
        #expect(try t.auth.principal(token: renewed.accessToken).userID == user.id)
    }

    @Test func refreshRotatesAndRevocationSurvivesRestart() throws {
        let t = try TestAuth()
        defer { t.dir.cleanup() }
        let admin = try #require(try t.auth.users.find(login: "admin"))
        let first = try t.auth.issueTokens(for: admin)
        let (_, second) = try t.auth.refresh(first.refreshToken)
        // The old pair is revoked: the refresh token works once, the old access token stops.
        #expect(throws: AuthFailure.revoked) { try t.auth.refresh(first.refreshToken) }
        #expect(throws: AuthFailure.revoked) { try t.auth.principal(token: first.accessToken) }
        let principal = try t.auth.principal(token: second.accessToken)
        try t.auth.logout(principal)
        #expect(throws: AuthFailure.revoked) { try t.auth.principal(token: second.accessToken) }
        // After a restart (revocations read back from SQLite) the same tokens are still refused.
        let again = try t.reopen()
        #expect(throws: AuthFailure.revoked) { try again.auth.principal(token: second.accessToken) }
        #expect(throws: AuthFailure.revoked) { try again.auth.refresh(second.refreshToken) }
    }

    @Test func logoutAllAndDeactivationEndEverySession() throws {
        let t = try TestAuth()
        defer { t.dir.cleanup() }
        let user = try t.auth.users.create(username: "bo", email: nil, fullName: nil, passwordHash: t.auth.hashPassword("pw-123456"),
                                           roles: ["user"])
        let a = try t.auth.issueTokens(for: user), b = try t.auth.issueTokens(for: user)
        try t.auth.logoutAll(userID: user.id)
        for token in [a.accessToken, b.accessToken] { #expect(throws: AuthFailure.revoked) { try t.auth.principal(token: token) } }
        let c = try t.auth.issueTokens(for: user)
        var update = UserStore.Update()
        update.isActive = false
        _ = try t.auth.users.update(id: user.id, update)
        #expect(throws: AuthFailure.inactiveUser) { try t.auth.principal(token: c.accessToken) }
    }

    @Test func tokensFromAnotherKeyAreRefused() throws {
        let t = try TestAuth(), other = try TestAuth()
        defer { t.dir.cleanup(); other.dir.cleanup() }
        let admin = try #require(try other.auth.users.find(login: "admin"))
        let foreign = try other.auth.issueTokens(for: admin)
        #expect(throws: AuthFailure.invalidToken("bad signature")) { try t.auth.principal(token: foreign.accessToken) }
    }

    /// 401 without or with a bad token, 403 for a valid token lacking the permission, 200 with it — over a socket.
    @Test func requirePermissionAnswers401And403OverHTTP() throws {
        let t = try TestAuth()
        defer { t.dir.cleanup() }
        let viewer = try t.auth.users.create(username: "vi", email: nil, fullName: nil, passwordHash: t.auth.hashPassword("pw-123456"),
                                             roles: ["viewer"])
        let router = Router(context: BasicRequestContext.self)
        router.group("/w", middleware: [t.auth.require("tasks:create")]).post("") { _, _ in .json(["ok": true]) }
        router.group("/r", middleware: [t.auth.require("tasks:read")]).get("") { request, _ in
            .json(["user": .string(try t.auth.principal(request).username)])
        }
        let server = try HTTPServer(configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0), responder: router)
        try server.start()
        defer { server.shutdown(gracePeriod: .seconds(1)) }
        let port = try #require(server.port)
        let token = try t.auth.issueTokens(for: viewer).accessToken
        func call(_ method: String, _ path: String, _ authorization: String?) throws -> (Int, String) {
            let headers = authorization.map { ["Authorization": $0] } ?? [:]
            let (status, body) = try LoopbackHTTPClient.send(port: port, method: method, path: path, headers: headers)
            return (status, String(decoding: body, as: UTF8.self))
        }
        #expect(try call("GET", "/r", nil).0 == 401)
        #expect(try call("GET", "/r", "Bearer not.a.token").0 == 401)
        #expect(try call("GET", "/r", "Basic \(token)").0 == 401)
        #expect(try call("GET", "/r", "Bearer \(token)") == (200, #"{"user":"vi"}"#))
        let denied = try call("POST", "/w", "Bearer \(token)")
        #expect(denied.0 == 403 && denied.1.contains("tasks:create"))
        let admin = try t.auth.issueTokens(for: try #require(try t.auth.users.find(login: "admin"))).accessToken
        #expect(try call("POST", "/w", "Bearer \(admin)").0 == 200)
    }

    /// PyJWT (with `cryptography`) verifies a token the daemon issued using nothing but the JWKS document, and
    /// an RFC 7638 thumbprint computed in Python equals the `kid`. Python's RS256 token verifies here via its JWK.
    @Test func pythonVerifiesDaemonTokensThroughTheJWKS() throws {
        let t = try TestAuth()
        defer { t.dir.cleanup() }
        let admin = try #require(try t.auth.users.find(login: "admin"))
        t.clock.set(Date())   // PyJWT checks exp/nbf against the real clock
        let token = try t.auth.issueTokens(for: admin).accessToken
        let jwksFile = t.dir.url.appendingPathComponent("jwks.json"), tokenFile = t.dir.url.appendingPathComponent("token")
        try Data(t.auth.jwks.encoded()).write(to: jwksFile)
        try Data(token.utf8).write(to: tokenFile)
        let script = #"""
        import base64, hashlib, json, sys, time, jwt
        from cryptography.hazmat.primitives.asymmetric import rsa
        jwks = json.load(open(sys.argv[1])); token = open(sys.argv[2]).read().strip()
        jwk = jwks["keys"][0]
        assert set(jwk) >= {"kty", "n", "e", "kid", "alg", "use"} and jwk["alg"] == "RS256" and jwk["use"] == "sig"
        key = jwt.PyJWK(jwk).key
        claims = jwt.decode(token, key, algorithms=["RS256"], audience="argus", issuer="argusd")
        assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
        canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
        thumb = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
        assert thumb == jwk["kid"], (thumb, jwk["kid"])
        # Tampering is caught by PyJWT too.
        h, p, s = token.split(".")
        bad = h + "." + base64.urlsafe_b64encode(json.dumps(dict(claims, roles=["admin"], user_id=99)).encode()).rstrip(b"=").decode() + "." + s
        try:
            jwt.decode(bad, key, algorithms=["RS256"], audience="argus"); raise SystemExit("tampered token accepted")
        except jwt.InvalidSignatureError:
            pass
        # A token signed in Python, for the Swift side to verify with the JWK.
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        mine = jwt.encode({"sub": "py", "exp": int(time.time()) + 600}, private, algorithm="RS256")
        print(json.dumps({"claims": claims, "jwk": json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key())), "token": mine}))
        """#
        let (status, output, errors) = try runTool("python3", ["-c", script, jwksFile.path, tokenFile.path], requires: "PyJWT and cryptography (tools/requirements-test.txt)")
        #expect(status == 0, "python failed: \(errors)")
        let result = try #require(DecodedJSON.parse(Array(output.utf8)))
        #expect(result["claims"]?["username"] == "admin")
        #expect(result["claims"]?["user_id"] == .int(admin.id))
        let pythonKey = try JWKS.key(from: try #require(result["jwk"]))
        let verified = try JWT.verify(try #require(result["token"]?.stringValue), key: .rsa(pythonKey),
                                      validation: JWTValidation(now: Date()))
        #expect(verified.claims["sub"] == "py")
    }
}
