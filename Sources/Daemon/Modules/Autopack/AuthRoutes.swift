import Foundation
import HTTPServer

/// §8 `/api/auth/*` on the daemon's one auth core (``AuthService``, `Sources/Daemon/Auth/`): no second JWT,
/// JWKS or password implementation here. Tokens are RS256 with the daemon's key; autopack's login issues
/// 24 h access tokens as the original did.
struct AuthRoutes {
    let ctx: AutopackRouteContext
    typealias Docs = AutopackRouteContext
    static let accessSeconds: TimeInterval = 86_400

    struct UserCreate: Decodable {
        var username: String
        var email: String
        var password: String
        var full_name: String?
    }

    /// The original's UserResponse.
    static func userResponse(_ user: User) -> JSONValue {
        .object([("id", .int(user.id)), ("username", .string(user.username)), ("email", user.email.map { .string($0) } ?? .null),
                 ("full_name", user.fullName.map { .string($0) } ?? .null), ("is_active", .bool(user.isActive)),
                 ("is_superuser", .bool(user.isSuperuser)), ("roles", .array(user.roles.map { .string($0) })),
                 ("created_at", .string(AuthTime.iso(user.createdAt))), ("updated_at", .string(AuthTime.iso(user.updatedAt)))])
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        let auth = ctx.auth
        let open = ctx.group(router, [])
        open.post("/api/auth/register", docs: Docs.docs(
            "Register a user (role `user`)", "auth",
            body: OpenAPIBody("UserCreate {username 3-50, email, password 8-100}", schema: JSONSchema.object([
                "username": ["type": "string", "pattern": "^\\S{3,50}$"],
                "email": ["type": "string", "maxLength": 254, "pattern": "^[^@]+@[^@]*\\.[^@]*$"],
                "password": JSONSchema.string(length: 8...100), "full_name": Docs.orNull(JSONSchema.string),
            ], required: ["username", "email", "password"]),
            example: ["username": "ops", "email": "ops@example.com", "password": "correct horse"]),
            responses: [201: "UserResponse", 400: "Username or email already registered", 422: "Invalid request"])
        ) { request, _ in
            let body = try request.decode(UserCreate.self)
            var checks = Checks()
            // Code points, as the documented patterns and lengths read them: as characters, "@" followed by a skin-tone
            // modifier is one character, so a schema-valid address had no "@" (found by fuzzing).
            let username = body.username.unicodeScalars, email = body.email.unicodeScalars
            checks.check((3...50).contains(username.count) && !username.contains(where: { $0.properties.isWhitespace }),
                         ["body", "username"], "ensure this value has 3-50 characters and no spaces")
            let emailParts = email.split(separator: "@", omittingEmptySubsequences: false)
            checks.check(emailParts.count == 2 && !emailParts[0].isEmpty && emailParts[1].contains(".") && email.count <= 254,
                         ["body", "email"], "value is not a valid email address", type: "value_error.email")
            checks.check((8...100).contains(body.password.unicodeScalars.count), ["body", "password"], "ensure this value has 8-100 characters")
            try checks.throwIfAny()
            do {
                let user = try auth.users.create(username: body.username, email: body.email, fullName: body.full_name,
                                                 passwordHash: auth.hashPassword(body.password), roles: ["user"])
                return .json(Self.userResponse(user), status: .created)
            } catch UserStore.StoreError.duplicate(let field) {
                // The original's answer (400), kept for its clients.
                throw HTTPError(.badRequest, field == "email" ? "Email already registered" : "Username already registered")
            }
        }

        ctx.group(router, [], perMinute: ctx.settings.loginPerMinute).post("/api/auth/login", docs: Docs.docs(
            "Log in (OAuth2 password form or JSON) and get a 24 h RS256 access token", "auth",
            body: OpenAPIBody("username=…&password=… (application/x-www-form-urlencoded) or {username, password}",
                              schema: JSONSchema.object(["username": JSONSchema.string(length: 1...Int.max), "password": JSONSchema.string(length: 1...Int.max)],
                                                        required: ["username", "password"]),
                              contentTypes: ["application/json", "application/x-www-form-urlencoded"]),
            responses: [200: "Token {access_token, token_type}", 401: "Incorrect username or password", 422: "Missing field"])
        ) { request, _ in
            let (username, password) = try Self.credentials(request)
            let user: User
            do { user = try auth.checkCredentials(login: username, password: password) } catch let failure as AuthFailure {
                throw failure.httpError
            }
            let tokens = try auth.issueTokens(for: user, accessSeconds: Self.accessSeconds)
            return .json(.object([("access_token", .string(tokens.accessToken)), ("token_type", "bearer"),
                                  ("expires_in", .int(tokens.expiresIn)), ("refresh_token", .string(tokens.refreshToken))]))
        }

        ctx.group(router, [auth.require(nil)]).get("/api/auth/me", docs: Docs.docs("The current user", "auth")) { request, _ in
            let principal: Principal
            do { principal = try auth.principal(request) } catch let failure as AuthFailure { throw failure.httpError }
            return .json(Self.userResponse(principal.user))
        }

        open.get("/api/auth/.well-known/jwks.json", execution: .eventLoop, docs: Docs.docs(
            "JSON Web Key Set: the daemon's RS256 public key (RFC 7638 kid)", "auth")) { _, _ in
            .json(auth.jwks)
        }
        open.get("/api/auth/key-status", execution: .eventLoop, docs: Docs.docs("Whether signing keys are loaded", "auth")) { _, _ in
            .json(.object([("keys_loaded", true), ("algorithm", "RS256"), ("kid", .string(auth.keyID)), ("source", "file")]))
        }
    }

    /// `username` and `password` from an OAuth2 password form or a JSON body; 422 naming a missing one.
    static func credentials(_ request: Request) throws -> (String, String) {
        let contentType = request.headers["Content-Type"]?.lowercased() ?? ""
        var username: String?, password: String?
        if contentType.hasPrefix("application/json") {
            let body = try request.decode(DecodedJSON.self).value
            username = body["username"]?.stringValue
            password = body["password"]?.stringValue
        } else {
            let form = QueryParameters(parsing: request.bodyText)
            username = form["username"]
            password = form["password"]
        }
        var checks = Checks()
        if username?.isEmpty ?? true { checks.fail(["body", "username"], "field required", type: "value_error.missing") }
        if password?.isEmpty ?? true { checks.fail(["body", "password"], "field required", type: "value_error.missing") }
        try checks.throwIfAny()
        return (username!, password!)
    }
}
