import HTTPServer

/// Per-route RBAC: 401 (with `WWW-Authenticate: Bearer`) for a missing, invalid, expired or revoked token or an
/// inactive user; 403 for a valid token whose user lacks the permission. Made by ``AuthService/require(_:context:)``.
public struct RequirePermission<Context: RequestContext>: Middleware {
    let auth: AuthService
    public let permission: Permission?
    static var schemeName: String { "BearerAuth" }

    public func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
        let principal: Principal
        do { principal = try auth.principal(request) } catch let failure as AuthFailure { throw failure.httpError }
        if let permission, !principal.has(permission) { throw AuthFailure.forbidden(permission).httpError }
        // Rate limits behind auth count per user.
        context.core.clientIdentity = "user:\(principal.userID)"
        return next(request, &context)
    }

    public func document(_ operation: inout OpenAPIOperation) {
        if !operation.security.contains(Self.schemeName) { operation.security.append(Self.schemeName) }
        operation.securitySchemes[Self.schemeName] = ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]
        operation.responses[401] = OpenAPIResponse("Missing, invalid, expired or revoked bearer token", schema: JSONSchema.errorDetail,
                                                   example: ["detail": "Could not validate credentials"])
        if let permission {
            operation.responses[403] = OpenAPIResponse("The token's user lacks `\(permission)`", schema: JSONSchema.errorDetail,
                                                       example: .object([("detail", .string("Permission denied: requires \(permission)"))]))
        }
    }
}
