import Foundation
import HTTPServer
import Synchronization

/// The one authentication core every module uses: users (PBKDF2 hashes), RS256 JWTs signed by the daemon's
/// key (published as JWKS), refresh-token rotation, revocation by `jti` (persisted), and RBAC.
/// Created once by the daemon and handed to modules as ``ModuleHost/auth``.
///
/// ```swift
/// let admin = router.group("/api/v1/users", middleware: [host.auth.require("users:read")])
/// admin.get("") { request, _ in let me = try host.auth.principal(request); … }
/// ```
public final class AuthService: Sendable {
    public struct Settings: Sendable {
        /// `iss` of every token, and required on verification.
        public var issuer = "argusd"
        /// `aud` of every token, and required on verification.
        public var audience = "argus"
        /// Access-token lifetime (the supervisor's 30 min).
        public var accessTokenSeconds: TimeInterval = 1_800
        /// Refresh-token and session lifetime (7 days).
        public var refreshTokenSeconds: TimeInterval = 7 * 86_400
        /// PBKDF2 iterations for new hashes.
        public var passwordIterations = 600_000
        /// First-run admin password (`ARGUS_ADMIN_PASSWORD`); nil → a random one written to
        /// `<data-dir>/auth/initial_admin_password` (0600). Used only while the users table is empty.
        public var bootstrapAdminPassword: String?
        public var bootstrapAdminUsername = "admin"
        public init() {}
    }

    public let settings: Settings
    public let users: UserStore
    /// RFC 7638 thumbprint of the signing key, the `kid` of every token and of the JWKS entry.
    public let keyID: String
    /// Path of the first-run admin password file when one was written (nil when the password came from settings).
    public let bootstrapPasswordFile: URL?
    let database: SQLiteDatabase
    let signingKey: RSAKey
    let clock: any DaemonClock
    let events: DaemonEvents?
    let hasher: PasswordHasher
    private let revoked: Mutex<Set<String>>

    /// Opens `<directory>/auth.sqlite` and the signing key in `<directory>`, creating both on first start, and
    /// bootstraps the first admin when there is no user.
    public init(directory: URL, clock: any DaemonClock, settings: Settings = Settings(), events: DaemonEvents? = nil,
                logger: Logger? = nil) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        self.settings = settings
        self.clock = clock
        self.events = events
        hasher = PasswordHasher(iterations: settings.passwordIterations)
        database = try SQLiteDatabase(path: directory.appendingPathComponent("auth.sqlite").path, migrations: AuthSchema.migrations)
        users = UserStore(database: database, clock: clock)
        signingKey = try SigningKeyFile.loadOrCreate(at: directory.appendingPathComponent("jwt_rs256.pem"))
        keyID = JWKS.thumbprint(of: signingKey)
        let now = clock.now().timeIntervalSince1970
        let live = try database.write { c -> [String] in
            try c.run("DELETE FROM revoked_tokens WHERE expires_at < ?", [.real(now - 3_600)])
            return try c.query("SELECT jti FROM revoked_tokens", []) { $0.string(0) ?? "" }
        }
        revoked = Mutex(Set(live))
        bootstrapPasswordFile = try Self.bootstrapAdmin(users: users, hasher: hasher, settings: settings, directory: directory, logger: logger)
    }

    public func close() { database.close() }

    private static func bootstrapAdmin(users: UserStore, hasher: PasswordHasher, settings: Settings, directory: URL,
                                       logger: Logger?) throws -> URL? {
        guard try users.count() == 0 else { return nil }
        var file: URL?
        let password: String
        if let configured = settings.bootstrapAdminPassword, !configured.isEmpty {
            password = configured
        } else {
            password = Base64URL.encode(randomBytes(18))
            let url = directory.appendingPathComponent("initial_admin_password")
            try SigningKeyFile.writeSecret(Array((password + "\n").utf8), to: url)
            file = url
        }
        try users.create(username: settings.bootstrapAdminUsername, email: nil, fullName: "Administrator",
                         passwordHash: hasher.hash(password), roles: ["admin"], isSuperuser: true)
        // The password itself is never logged: only where to find it.
        logger?.warning("admin_bootstrapped", ["username": .string(settings.bootstrapAdminUsername),
                                               "password_file": file.map { .string($0.path) } ?? "from ARGUS_ADMIN_PASSWORD"])
        return file
    }

    // MARK: Keys

    /// `{"keys":[{kty,n,e,kid,alg,use}]}` for the signing key.
    public var jwks: JSONValue { JWKS.document([(signingKey, keyID)]) }

    /// Signs arbitrary claims with the daemon's key (RS256, `kid` set). Prefer ``issueTokens(for:)``.
    public func sign(claims: JSONValue) throws -> String { try JWT.sign(claims: claims, key: .rsa(signingKey), keyID: keyID) }

    /// Verifies signature (RS256 only), expiry, `nbf`, `iss` and `aud`.
    public func verify(_ token: String) throws(JWTError) -> VerifiedJWT {
        try JWT.verify(token, key: .rsa(signingKey), validation: JWTValidation(now: clock.now(), issuer: settings.issuer,
                                                                               audience: settings.audience))
    }

    // MARK: Passwords

    public func hashPassword(_ password: String) -> String { hasher.hash(password) }
    public func verifyPassword(_ password: String, of user: User) -> Bool { hasher.verify(password, against: user.passwordHash) }

    /// The user named by `login` (username or email) when `password` matches and the user is active.
    public func checkCredentials(login: String, password: String) throws -> User {
        guard let user = try users.find(login: login) else {
            _ = hasher.hash(password)   // same cost as a wrong password, so timing does not reveal which usernames exist
            publish("login_failed", ["username": .string(login)])
            throw AuthFailure.badCredentials
        }
        guard verifyPassword(password, of: user) else {
            publish("login_failed", ["username": .string(login), "user_id": .int(user.id)])
            throw AuthFailure.badCredentials
        }
        guard user.isActive else { throw AuthFailure.inactiveUser }
        return user
    }

    // MARK: Tokens

    /// Issues an access and a refresh token for a new session. `accessSeconds` overrides the access lifetime
    /// (autopack issues 24 h tokens).
    public func issueTokens(for user: User, accessSeconds: TimeInterval? = nil) throws -> TokenPair {
        let sessionID = Base64URL.encode(randomBytes(16))
        let pair = try makePair(user: user, sessionID: sessionID, accessSeconds: accessSeconds)
        let now = clock.now().timeIntervalSince1970
        try database.write { c in
            try c.run("INSERT INTO sessions (id, user_id, access_jti, refresh_jti, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                      [.text(sessionID), .integer(Int64(user.id)), .text(pair.accessJTI), .text(pair.refreshJTI), .real(now),
                       .real(now + settings.refreshTokenSeconds)])
        }
        try users.recordLogin(id: user.id)
        publish("login", ["user_id": .int(user.id), "username": .string(user.username), "session_id": .string(sessionID)])
        return pair.tokens
    }

    /// Exchanges a valid refresh token for a new pair, revoking the old pair (rotation: a refresh token works once).
    public func refresh(_ refreshToken: String) throws -> (User, TokenPair) {
        let verified: VerifiedJWT
        do { verified = try verify(refreshToken) } catch { throw AuthFailure.invalidToken("\(error)") }
        guard verified.claims["type"]?.stringValue == "refresh", let jti = verified.claims["jti"]?.stringValue,
              let sessionID = verified.claims["sid"]?.stringValue, let userID = verified.claims["user_id"]?.intValue else {
            throw AuthFailure.invalidToken("not a refresh token")
        }
        guard !isRevoked(jti) else { throw AuthFailure.revoked }
        guard let user = try users.find(id: userID) else { throw AuthFailure.invalidToken("no such user") }
        guard user.isActive else { throw AuthFailure.inactiveUser }
        let pair = try makePair(user: user, sessionID: sessionID, accessSeconds: nil)
        let now = clock.now().timeIntervalSince1970
        let rotated = try database.writeTransaction { c -> (String, Double)? in
            guard let old = try c.query("SELECT access_jti, expires_at FROM sessions WHERE id = ? AND refresh_jti = ? AND revoked_at IS NULL",
                                        [.text(sessionID), .text(jti)], { ($0.string(0) ?? "", $0.double(1)) }).first else { return nil }
            try c.run("UPDATE sessions SET access_jti = ?, refresh_jti = ? WHERE id = ?",
                      [.text(pair.accessJTI), .text(pair.refreshJTI), .text(sessionID)])
            // The old access token's own expiry is not stored; no access token outlives a day (autopack's 24 h is the longest).
            try Self.insertRevoked(c, jti: old.0, expiresAt: now + max(settings.accessTokenSeconds, 86_400), now: now)
            try Self.insertRevoked(c, jti: jti, expiresAt: old.1, now: now)
            return old
        }
        guard let rotated else { throw AuthFailure.revoked }
        revoked.withLock { $0.formUnion([rotated.0, jti]) }
        publish("token_refreshed", ["user_id": .int(user.id), "session_id": .string(sessionID)])
        return (user, pair.tokens)
    }

    /// Ends the session the principal's token belongs to (both its tokens stop working).
    public func logout(_ principal: Principal) throws {
        let sessionID = principal.claims["sid"]?.stringValue ?? ""
        try revokeSessions(where: "id = ?", [.text(sessionID)], alsoRevoking: principal.tokenID, until: principal.expiresAt)
        publish("logout", ["user_id": .int(principal.userID), "session_id": .string(sessionID)])
    }

    /// Ends every session of `userID` (logout everywhere, password change, deactivation).
    public func logoutAll(userID: Int) throws {
        try revokeSessions(where: "user_id = ?", [.integer(Int64(userID))], alsoRevoking: nil, until: nil)
        publish("logout_all", ["user_id": .int(userID)])
    }

    /// Revokes one token id until `expiresAt` (persisted before this returns).
    public func revoke(jti: String, expiresAt: Date) throws {
        let now = clock.now().timeIntervalSince1970
        try database.write { try Self.insertRevoked($0, jti: jti, expiresAt: expiresAt.timeIntervalSince1970, now: now) }
        revoked.withLock { _ = $0.insert(jti) }
    }

    public func isRevoked(_ jti: String) -> Bool { revoked.withLock { $0.contains(jti) } }

    private func revokeSessions(where condition: String, _ values: [SQLiteValue], alsoRevoking extra: String?, until: Date?) throws {
        let now = clock.now().timeIntervalSince1970
        let ids = try database.writeTransaction { c -> [String] in
            let sessions = try c.query("SELECT access_jti, refresh_jti, expires_at FROM sessions WHERE revoked_at IS NULL AND \(condition)",
                                       values) { ($0.string(0) ?? "", $0.string(1) ?? "", $0.double(2)) }
            var ids: [String] = []
            for (access, refresh, expires) in sessions {
                try Self.insertRevoked(c, jti: access, expiresAt: expires, now: now)
                try Self.insertRevoked(c, jti: refresh, expiresAt: expires, now: now)
                ids += [access, refresh]
            }
            if let extra {
                try Self.insertRevoked(c, jti: extra, expiresAt: until?.timeIntervalSince1970 ?? now + settings.refreshTokenSeconds, now: now)
                ids.append(extra)
            }
            try c.run("UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL AND \(condition)", [.real(now)] + values)
            return ids
        }
        revoked.withLock { $0.formUnion(ids) }
    }

    private static func insertRevoked(_ c: SQLiteConnection, jti: String, expiresAt: Double, now: Double) throws {
        try c.run("INSERT OR IGNORE INTO revoked_tokens (jti, expires_at, revoked_at) VALUES (?, ?, ?)",
                  [.text(jti), .real(expiresAt), .real(now)])
    }

    private struct IssuedPair {
        var tokens: TokenPair
        var accessJTI: String
        var refreshJTI: String
    }

    /// Claims carry both modules' shapes (modules-notes §5 #3): the supervisor's sub, username, roles,
    /// permissions, type, jti and autopack's user_id, with iss, aud, iat, nbf, exp.
    private func makePair(user: User, sessionID: String, accessSeconds: TimeInterval?) throws -> IssuedPair {
        let now = Int(clock.now().timeIntervalSince1970)
        let accessTTL = Int(accessSeconds ?? settings.accessTokenSeconds)
        let accessJTI = Base64URL.encode(randomBytes(32)), refreshJTI = Base64URL.encode(randomBytes(32))
        func claims(type: String, jti: String, ttl: Int, withGrants: Bool) -> JSONValue {
            var members: [(String, JSONValue)] = [
                ("sub", .string(String(user.id))), ("user_id", .int(user.id)), ("username", .string(user.username)),
                ("type", .string(type)), ("iss", .string(settings.issuer)), ("aud", .string(settings.audience)),
                ("iat", .int(now)), ("nbf", .int(now)), ("exp", .int(now + ttl)), ("jti", .string(jti)), ("sid", .string(sessionID)),
            ]
            if withGrants {
                members.append(("roles", .array(user.roles.map(JSONValue.string))))
                members.append(("permissions", .array(user.permissions.map(\.name).sorted().map(JSONValue.string))))
            }
            return .object(members)
        }
        let access = try sign(claims: claims(type: "access", jti: accessJTI, ttl: accessTTL, withGrants: true))
        let refresh = try sign(claims: claims(type: "refresh", jti: refreshJTI, ttl: Int(settings.refreshTokenSeconds), withGrants: false))
        return IssuedPair(tokens: TokenPair(accessToken: access, refreshToken: refresh, expiresIn: accessTTL, sessionID: sessionID),
                          accessJTI: accessJTI, refreshJTI: refreshJTI)
    }

    // MARK: Requests

    /// The principal of a request's `Authorization: Bearer <access token>` (or, for a WebSocket upgrade, whose
    /// browser client cannot set headers, its `?token=` query parameter); throws ``AuthFailure``.
    public func principal(_ request: Request) throws(AuthFailure) -> Principal {
        guard let header = request.headers["Authorization"] else {
            if request.headers["Upgrade"]?.lowercased() == "websocket", let token = request.query["token"], !token.isEmpty {
                return try principal(token: token)
            }
            throw .missingToken
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw .missingToken }
        return try principal(token: String(parts[1]).trimmingCharacters(in: .whitespaces))
    }

    /// The principal of an access token; throws ``AuthFailure``.
    public func principal(token: String) throws(AuthFailure) -> Principal {
        let verified: VerifiedJWT
        do { verified = try verify(token) } catch { throw .invalidToken("\(error)") }
        let claims = verified.claims
        guard claims["type"]?.stringValue == "access", let jti = claims["jti"]?.stringValue,
              let userID = claims["user_id"]?.intValue ?? claims["sub"]?.stringValue.flatMap({ Int($0) }),
              let exp = claims["exp"]?.doubleValue else { throw .invalidToken("not an access token") }
        guard !isRevoked(jti) else { throw .revoked }
        let found: User?
        do { found = try users.find(id: userID) } catch { throw .invalidToken("user lookup failed") }
        guard let user = found else { throw .invalidToken("no such user") }
        guard user.isActive else { throw .inactiveUser }
        return Principal(user: user, permissions: user.permissions, tokenID: jti, expiresAt: Date(timeIntervalSince1970: exp),
                         claims: claims)
    }

    /// Middleware answering 401 without a valid access token and 403 when its user lacks `permission`
    /// (nil: any authenticated user).
    public func require<Context: RequestContext>(_ permission: Permission?, context: Context.Type = BasicRequestContext.self)
        -> RequirePermission<Context> {
        RequirePermission(auth: self, permission: permission)
    }

    func publish(_ type: String, _ payload: JSONValue) {
        events?.publish(.module(module: "auth", type: type, payload: payload))
    }
}
