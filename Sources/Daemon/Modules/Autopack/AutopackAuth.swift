import Foundation
import HTTPServer

/// Autopack's `X-API-Key` check: the module key (`AUTOPACK_API_KEY`, when set) or the daemon's own key,
/// both through the daemon's ``APIKeyMiddleware`` (SHA-256 digests compared with `CRYPTO_memcmp`), so no
/// key comparison is duplicated here. Autopack answers **403** where the core answers 401 (the original's
/// `verify_api_key`; collision #4 in the modules notes).
struct AutopackKeyAuth: Middleware {
    typealias Context = BasicRequestContext
    let checks: [APIKeyMiddleware<BasicRequestContext>]

    init(daemonKey: APIKeyMiddleware<BasicRequestContext>, moduleKey: String?) {
        checks = (moduleKey.map { [APIKeyMiddleware(keys: [$0])] } ?? []) + [daemonKey]
    }

    func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
        for check in checks {
            do {
                return try check.handle(request, context: &context, next: next)
            } catch let error as HTTPError where error.status == .unauthorized {
                continue   // thrown before `next` runs: this key did not match; try the next store
            }
        }
        throw HTTPError(.forbidden, "Invalid or missing API key")
    }

    func document(_ operation: inout OpenAPIOperation) {
        checks.last?.document(&operation)
        operation.responses[401] = nil
        operation.responses[403] = OpenAPIResponse("Invalid or missing API key", schema: JSONSchema.errorDetail,
                                                   example: ["detail": "Invalid or missing API key"])
    }
}

/// Rate limits count per client IP. Behind a reverse proxy on loopback (or a peer listed in
/// `AUTOPACK_TRUSTED_PROXIES`), the client is the first `X-Forwarded-For` entry; other peers cannot spoof it.
struct ForwardedClientIdentity: Middleware {
    typealias Context = BasicRequestContext
    let trustedProxies: Set<String>

    init(trusted: [String]) { trustedProxies = Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"] + trusted) }

    /// Sets the identity from the peer every time, so it also undoes an auth middleware's key or user identity.
    func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
        context.core.clientIdentity = request.remoteAddress
        if trustedProxies.contains(request.remoteAddress), let forwarded = request.headers["X-Forwarded-For"],
           let first = forwarded.split(separator: ",").first?.trimmingCharacters(in: .whitespaces), !first.isEmpty, first.count <= 64 {
            context.core.clientIdentity = first
        }
        return next(request, &context)
    }
}
