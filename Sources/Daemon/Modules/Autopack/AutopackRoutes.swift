import HTTPServer

/// What every autopack route file needs: the store and the middleware sets of the spec's auth policies.
struct AutopackRouteContext: Sendable {
    let store: AutopackStore
    let settings: AutopackSettings
    /// The daemon's one auth core (users, JWT, JWKS).
    let auth: AuthService
    /// `X-API-Key`, 403 when wrong.
    let key: [any Middleware<BasicRequestContext>]
    /// The operator surface (§10): the key in production, or in development unless `AUTOPACK_PUBLIC_READ=1`.
    let read: [any Middleware<BasicRequestContext>]
    /// Executor writes (phase results): open as the spec says, unless `AUTOPACK_EXECUTOR_KEY_REQUIRED=1`.
    let executor: [any Middleware<BasicRequestContext>]
    /// First in every group: the client identity rate limits key on.
    let client: any Middleware<BasicRequestContext>

    init(store: AutopackStore, settings: AutopackSettings, daemonKey: APIKeyMiddleware<BasicRequestContext>, auth: AuthService) {
        self.store = store
        self.settings = settings
        self.auth = auth
        let auth = AutopackKeyAuth(daemonKey: daemonKey, moduleKey: settings.apiKey)
        key = [auth]
        read = settings.readNeedsKey ? [auth] : []
        executor = settings.executorKeyRequired ? [auth] : []
        client = ForwardedClientIdentity(trusted: settings.trustedProxies)
    }

    /// A route group with the client identity, an optional per-IP rate limit (per minute), then `auth`.
    func group(_ router: Router<BasicRequestContext>, _ auth: [any Middleware<BasicRequestContext>],
               perMinute: Int? = nil) -> RouterGroup<BasicRequestContext> {
        var chain: [any Middleware<BasicRequestContext>] = [client]
        if let perMinute { chain.append(RateLimitMiddleware<BasicRequestContext>(limit: perMinute, per: .seconds(60))) }
        return router.group("", middleware: chain + auth)
    }

    /// ``Checks/identifier(_:_:)``: 1-128 of letters, digits, '.', '_', '-', and not `.` or `..`.
    static let identifier: JSONValue = ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$", "not": ["enum": [".", ".."]]]

    /// `schema` or JSON null (what a Swift optional decodes from).
    static func orNull(_ schema: JSONValue) -> JSONValue { ["anyOf": [schema, ["type": "null"]]] }

    static func docs(_ summary: String, _ tag: String, query: [OpenAPIParameter] = [], body: OpenAPIBody? = nil,
                     responses: [Int: String] = [:]) -> OpenAPIOperation {
        var operation = OpenAPIOperation(summary: summary, tags: ["autopack: " + tag], queryParameters: query, requestBody: body)
        for (code, text) in responses {
            // 422 is the validation shape (a list naming each field), every other error `{"detail": "..."}`.
            let error = code == 422 ? JSONSchema.validationError : JSONSchema.errorDetail
            operation.responses[code] = OpenAPIResponse(text, schema: code >= 400 ? error : nil)
        }
        return operation
    }
}

extension QueryParameters {
    /// An integer query parameter within `range` (422 naming it otherwise), or `fallback` when absent.
    func integer(_ name: String, in range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let value = try get(name, as: Int.self) else { return fallback }
        guard range.contains(value) else {
            throw ValidationError(location: ["query", .key(name)], message: "must be between \(range.lowerBound) and \(range.upperBound)",
                                  type: "value_error.number.range")
        }
        return value
    }

    /// A boolean query parameter (`true/false/1/0`), 422 otherwise.
    func boolean(_ name: String) throws -> Bool? {
        guard let raw = self[name]?.lowercased() else { return nil }
        switch raw {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ValidationError(location: ["query", .key(name)], message: "value could not be parsed to a boolean", type: "type_error.bool")
        }
    }
}
