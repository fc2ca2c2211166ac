import Dispatch
import Foundation
import HTTPServer

/// §9 OAuth credential health. Bearer token required; refresh and reset are for superusers only (403).
struct OAuthRoutes {
    let ctx: AutopackRouteContext
    let refresher: any OAuthRefresher
    typealias Docs = AutopackRouteContext
    static let queue = DispatchQueue(label: "autopack.oauth-refresh", qos: .utility)

    /// 9999-12-31T23:59:59Z in epoch seconds: the largest `expires_at` accepted.
    static let latestExpiry: Double = 253_402_300_799

    struct Registration: Decodable {
        var expires_at: Double
        var scopes: [String]?
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        let store = ctx.store, auth = ctx.auth, settings = ctx.settings, refresher = self.refresher
        @Sendable func requireSuperuser(_ request: Request) throws -> Principal {
            let principal: Principal
            do { principal = try auth.principal(request) } catch let failure as AuthFailure { throw failure.httpError }
            guard principal.user.isSuperuser else { throw HTTPError(.forbidden, "Admin only (is_superuser)") }
            return principal
        }
        let reader = router.group("", middleware: [ctx.client, auth.require(nil)])
        reader.get("/api/auth/oauth/health", docs: Docs.docs("Credential health report", "oauth")) { _, _ in
            .json(try store.credentialReport())
        }
        reader.get("/api/auth/oauth/health/{provider}", docs: Docs.docs("One provider's credential health", "oauth",
                                                                        responses: [404: "No such credential"])) { _, context in
            .json(try store.credentialHealth(provider: try context.parameters.require("provider")))
        }
        reader.get("/api/auth/oauth/events", docs: Docs.docs(
            "Recent credential lifecycle events", "oauth", query: [
            OpenAPIParameter(query: "provider"), OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: 1...1000), description: "default 100"),
            ], responses: [422: "Invalid limit"])
        ) { request, _ in
            .json(try store.credentialEvents(provider: request.query["provider"], limit: try request.query.integer("limit", in: 1...1000, default: 100)))
        }
        reader.put("/api/auth/oauth/credentials/{provider}", docs: Docs.docs(
            "Register or update a credential's metadata (expiry, scopes; never the secret) — admin only", "oauth",
            path: [OpenAPIParameter(path: "provider", schema: Docs.identifier)],
            body: OpenAPIBody("{expires_at (epoch seconds), scopes}", schema: JSONSchema.object([
                "expires_at": ["type": "number", "exclusiveMinimum": 0, "maximum": .double(Self.latestExpiry)], "scopes": Docs.orNull(JSONSchema.array(of: JSONSchema.string)),
            ], required: ["expires_at"])),
            responses: [403: "Not an admin", 422: "Invalid request"])
        ) { request, context in
            _ = try requireSuperuser(request)
            let provider = try context.parameters.require("provider")
            var checks = Checks()
            checks.identifier(provider, ["path", "provider"])
            let body = try request.decode(Registration.self)
            // Bounded: 9.9e306 was stored, then trapped converting `seconds_until_expiry` to Int (found by fuzzing).
            checks.check(body.expires_at > 0 && body.expires_at <= Self.latestExpiry, ["body", "expires_at"],
                         "must be epoch seconds up to 9999-12-31T23:59:59Z")
            try checks.throwIfAny()
            return .json(try store.registerCredential(provider: provider, expiresAt: body.expires_at, scopes: body.scopes ?? []))
        }
        let adminLimit = RateLimitMiddleware<BasicRequestContext>(limit: settings.oauthAdminPerMinute, per: .seconds(60))
        let admin = router.group("", middleware: [ctx.client, auth.require(nil)] + ctx.perIP(adminLimit))
        admin.post("/api/auth/oauth/refresh/{provider}", docs: Docs.docs(
            "Queue a credential refresh (bounded retries) — admin only", "oauth",
            responses: [403: "Not an admin", 404: "No such credential"])
        ) { request, context in
            let principal = try requireSuperuser(request)
            let provider = try context.parameters.require("provider")
            _ = try store.credentialHealth(provider: provider)
            try store.transaction { try store.logCredentialEvent($0, provider: provider, type: "refresh_requested", detail: "by \(principal.username)") }
            let delay = settings.oauthRetryDelaySeconds
            Self.queue.async { store.refreshCredential(provider: provider, refresher: refresher, retryDelay: delay) }
            return .json(.object([("status", "queued"), ("provider", .string(provider)), ("max_retries", .int(AutopackStore.maxRefreshRetries)),
                                  ("message", .string("Refresh queued for \(provider)"))]))
        }
        admin.post("/api/auth/oauth/reset/{provider}", docs: Docs.docs(
            "Reset a credential's failure count — admin only", "oauth",
            responses: [403: "Not an admin", 404: "No such credential"])
        ) { request, context in
            let principal = try requireSuperuser(request)
            return .json(try store.resetCredential(provider: try context.parameters.require("provider"), by: principal.username))
        }
    }
}
