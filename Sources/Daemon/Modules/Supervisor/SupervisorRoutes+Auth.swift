import Foundation
import HTTPServer

/// `/auth/*` (the seed's paths; `/api/v1/auth/*`, the original code's, is served as an alias).
extension SupervisorRoutes {
    static let usernamePattern = try! NSRegularExpression(pattern: #"^[A-Za-z0-9_.\-]{3,50}$"#)

    func addAuthRoutes() {
        for prefix in ["/auth", "/api/v1/auth"] { addAuthRoutes(prefix: prefix) }
    }

    private func addAuthRoutes(prefix: String) {
        let open = router.group(prefix, middleware: [RateLimitMiddleware(limit: 60, per: .seconds(60))])
        let signedIn = router.group(prefix, middleware: [auth.require(nil)])
        let auth = self.auth, core = self.core

        open.post("/login", docs: doc("Log in with username or email and password (OAuth2 password form or JSON)", "auth",
                                      fields: [.string("username", required: true), .string("password", required: true, maxLength: 128)],
                                      body: ["username": "admin", "password": "..."], errors: [401: "Incorrect username or password"])) { request, _ in
            let (login, password) = try Self.credentials(request)
            let user: User
            do { user = try auth.checkCredentials(login: login, password: password) } catch let failure as AuthFailure { throw failure.httpError }
            let pair = try auth.issueTokens(for: user)
            return .json(.object(pair.json + [("user", user.json)]))
        }
        open.post("/refresh", docs: doc("Exchange a refresh token for a new token pair (the old pair is revoked)", "auth",
                                        fields: [.string("refresh_token", required: true, maxLength: 4_096)],
                                        body: ["refresh_token": "..."], errors: [401: "Invalid, expired or already used refresh token"])) { request, _ in
            var body = try BodyReader(request)
            let token = body.string("refresh_token", required: true, maxLength: 4_096)
            try body.finish()
            do {
                let (user, pair) = try auth.refresh(token!)
                return .json(.object(pair.json + [("user", user.json)]))
            } catch let failure as AuthFailure { throw failure.httpError }
        }
        open.post("/register", docs: doc("Register a new user (role `user`)", "auth",
                                         fields: Self.userFields(creating: true),
                                         body: ["username": "ana", "email": "ana@example.com", "password": "at-least-8", "full_name": "Ana"],
                                         errors: [409: "Username or email already registered"]).answering(201, "The new user")) { request, _ in
            var body = try BodyReader(request)
            let fields = Self.readUserFields(&body, creating: true)
            try body.finish()
            do {
                let user = try auth.users.create(username: fields.username!, email: fields.email, fullName: fields.fullName,
                                                 passwordHash: auth.hashPassword(fields.password!), roles: ["user"])
                core.audit("USER_REGISTERED", userID: user.id, details: ["username": .string(user.username)], ip: request.remoteAddress)
                return .created(user.json)
            } catch UserStore.StoreError.duplicate(let field) {
                throw SupervisorError.conflict("\(field == "email" ? "Email" : "Username") already registered")
            }
        }
        signedIn.post("/logout", docs: doc("Revoke the current session's tokens", "auth")) { request, _ in
            let me = try principal(request)
            try auth.logout(me)
            return .json(["message": "Logged out"])
        }
        signedIn.get("/me", docs: doc("The current user", "auth")) { request, _ in .json(try principal(request).user.json) }

        router.group(prefix, middleware: [auth.require("users:read")]).get("/users", docs: doc("List users", "auth", query: [.int("skip", 0...1_000_000), .int("limit", 1...1_000)])) { request, _ in
            var query = QueryReader(request)
            let skip = query.int("skip", default: 0, range: 0...1_000_000), limit = query.int("limit", default: 100, range: 1...1_000)
            try query.finish()
            return .json(.array(try auth.users.list(skip: skip, limit: limit).map(\.json)))
        }
        router.group(prefix, middleware: [auth.require("users:update")]).put("/users/{user_id}", docs: doc(
            "Update a user (email, full_name, roles, is_active, is_superuser, password)", "auth",
            fields: Self.userFields(creating: false),
            body: ["roles": ["viewer"], "is_active": true], errors: [404: "User not found", 409: "Email already registered"])) { request, context in
            let id = try context.parameters.id("user_id", what: "User")
            var body = try BodyReader(request)
            let fields = Self.readUserFields(&body, creating: false)
            try body.finish()
            var update = UserStore.Update()
            if body.has("email") { update.email = .some(fields.email) }
            if body.has("full_name") { update.fullName = .some(fields.fullName) }
            update.roles = fields.roles
            update.isActive = fields.isActive
            update.isSuperuser = fields.isSuperuser
            if let password = fields.password { update.passwordHash = auth.hashPassword(password) }
            let updated: User?
            do { updated = try auth.users.update(id: id, update) } catch UserStore.StoreError.duplicate {
                throw SupervisorError.conflict("Email already registered")
            }
            guard let user = updated else { throw SupervisorError.notFound("User \(id) not found") }
            if fields.isActive == false || fields.password != nil { try auth.logoutAll(userID: id) }
            core.audit("USER_UPDATED", userID: try principal(request).userID, details: ["target_user_id": .int(id)])
            return .json(user.json)
        }
        router.group(prefix, middleware: [auth.require("users:delete")]).delete("/users/{user_id}", docs: doc(
            "Delete a user", "auth", errors: [404: "User not found", 409: "You cannot delete yourself"])) { request, context in
            let id = try context.parameters.id("user_id", what: "User")
            let me = try principal(request)
            guard me.userID != id else { throw SupervisorError.conflict("You cannot delete yourself") }
            guard try auth.users.delete(id: id) else { throw SupervisorError.notFound("User \(id) not found") }
            core.audit("USER_DELETED", userID: me.userID, details: ["target_user_id": .int(id)])
            return .json(["message": "User deleted", "id": .int(id)])
        }
        router.get(prefix + "/.well-known/jwks.json", docs: doc("Public keys that verify this daemon's tokens (JWKS)", "auth")) { _, _ in
            .json(auth.jwks)
        }
    }

    /// `username`/`password` from an OAuth2 password form (`application/x-www-form-urlencoded`) or a JSON body.
    static func credentials(_ request: Request) throws -> (String, String) {
        let type = request.headers["Content-Type"]?.lowercased() ?? ""
        if type.hasPrefix("application/x-www-form-urlencoded") {
            let form = QueryParameters(parsing: request.bodyText)
            var issues: [ValidationError.Issue] = []
            for field in ["username", "password"] where (form[field] ?? "").isEmpty {
                issues.append(.init(location: ["body", .key(field)], message: "field required", type: "value_error.missing"))
            }
            if !issues.isEmpty { throw ValidationError(issues) }
            return (form["username"]!, form["password"]!)
        }
        var body = try BodyReader(request)
        let username = body.string("username", required: true), password = body.string("password", required: true, maxLength: 128)
        try body.finish()
        return (username!, password!)
    }

    struct UserFields {
        var username: String?
        var email: String?
        var fullName: String?
        var password: String?
        var roles: [String]?
        var isActive: Bool?
        var isSuperuser: Bool?
    }

    /// What ``readUserFields(_:creating:)`` accepts, for the OpenAPI document.
    static func userFields(creating: Bool) -> [BodyField] {
        let roles: JSONValue = ["type": "array", "minItems": 1, "maxItems": 10,
                                "items": ["type": "string", "enum": .array(RolePermissions.roleNames.map(JSONValue.string))]]
        let email: JSONValue = ["type": "string", "maxLength": 254, "pattern": "^[^@ ]+@[^@ ]+$"]
        let password: JSONValue = ["type": "string", "minLength": 8, "maxLength": 128, "pattern": #"\S[\s\S]{6,}\S"#]
        var fields: [BodyField] = [BodyField(name: "email", schema: email, required: false), .string("full_name", maxLength: 200),
                                   BodyField(name: "password", schema: password, required: creating)]
        if creating {
            fields.insert(BodyField(name: "username", schema: ["type": "string", "pattern": .string(usernamePattern.pattern)], required: true), at: 0)
        } else {
            fields += [BodyField(name: "roles", schema: roles, required: false), .bool("is_active"), .bool("is_superuser")]
        }
        return fields
    }

    static func readUserFields(_ body: inout BodyReader, creating: Bool) -> UserFields {
        var fields = UserFields()
        if creating {
            fields.username = body.string("username", required: true, maxLength: 50)
            if let name = fields.username, usernamePattern.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) == nil {
                body.fail("username", "3-50 characters: letters, digits, '_', '.', '-'", "value_error.str.regex")
            }
        }
        fields.email = body.string("email", maxLength: 254)
        if let email = fields.email?.unicodeScalars, !(email.contains("@") && email.split(separator: "@").count == 2 && !email.contains(" ")) {
            body.fail("email", "value is not a valid email address", "value_error.email")
        }
        fields.fullName = body.string("full_name", maxLength: 200)
        fields.password = body.string("password", required: creating, maxLength: 128, minLength: 8)
        if let roles = body.array("roles", maxCount: 10) {
            let names = roles.compactMap(\.stringValue)
            if names.count != roles.count || names.isEmpty || !names.allSatisfy({ RolePermissions.table[$0] != nil }) {
                body.fail("roles", "roles must be a non-empty list of: " + RolePermissions.roleNames.joined(separator: ", "), "value_error.roles")
            } else {
                fields.roles = names
            }
        }
        fields.isActive = body.bool("is_active")
        fields.isSuperuser = body.bool("is_superuser")
        return fields
    }
}
