/// Cross-origin resource sharing for browser dashboards: answers preflight requests and adds
/// `Access-Control-*` headers for allowed origins. Requests from other origins pass through
/// without CORS headers, so the browser blocks them.
public struct CORSMiddleware<Context: RequestContext>: Middleware {
    public enum AllowedOrigins: Sendable {
        case any
        case list([String])
    }

    public var allowedOrigins: AllowedOrigins
    public var allowedMethods: [HTTPMethod]
    public var allowedHeaders: [String]
    public var exposedHeaders: [String]
    public var allowCredentials: Bool
    public var maxAge: Int

    public init(allowedOrigins: AllowedOrigins,
                allowedMethods: [HTTPMethod] = [.get, .head, .post, .put, .patch, .delete, .options],
                allowedHeaders: [String] = ["Content-Type", "X-API-Key", "X-Request-ID", "Authorization", "If-None-Match"],
                exposedHeaders: [String] = ["X-Request-ID", "Retry-After", "ETag"],
                allowCredentials: Bool = false, maxAge: Int = 600) {
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposedHeaders = exposedHeaders
        self.allowCredentials = allowCredentials
        self.maxAge = maxAge
    }

    public func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
        guard let origin = request.headers["Origin"], isAllowed(origin) else { return next(request, &context) }
        let allowOrigin: String
        if case .any = allowedOrigins, !allowCredentials { allowOrigin = "*" } else { allowOrigin = origin }

        if request.method == .options, request.headers.contains("Access-Control-Request-Method") {
            var headers: HTTPHeaders = [
                "Access-Control-Allow-Origin": allowOrigin,
                "Access-Control-Allow-Methods": allowedMethods.map(\.rawValue).joined(separator: ", "),
                "Access-Control-Allow-Headers": allowedHeaders.joined(separator: ", "),
                "Access-Control-Max-Age": String(maxAge),
                "Vary": "Origin",
            ]
            if allowCredentials { headers.add(name: "Access-Control-Allow-Credentials", value: "true") }
            return Response(status: .noContent, headers: headers)
        }

        var response = next(request, &context)
        response.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: allowOrigin)
        response.headers.add(name: "Vary", value: "Origin")
        if !exposedHeaders.isEmpty {
            response.headers.replaceOrAdd(name: "Access-Control-Expose-Headers", value: exposedHeaders.joined(separator: ", "))
        }
        if allowCredentials { response.headers.replaceOrAdd(name: "Access-Control-Allow-Credentials", value: "true") }
        return response
    }

    private func isAllowed(_ origin: String) -> Bool {
        switch allowedOrigins {
        case .any: true
        case .list(let origins): origins.contains(origin)
        }
    }
}
