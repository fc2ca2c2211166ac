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

    /// A route group with the client identity, `auth`, then an optional per-IP rate limit (per minute).
    func group(_ router: Router<BasicRequestContext>, _ auth: [any Middleware<BasicRequestContext>],
               perMinute: Int? = nil) -> RouterGroup<BasicRequestContext> {
        router.group("", middleware: [client] + auth + (perMinute.map { perIP(RateLimitMiddleware(limit: $0, per: .seconds(60))) } ?? []))
    }

    /// `limit` keyed on the client's IP, to follow the auth middleware. Auth comes first, as on the core's routes, so
    /// a request without credentials is 401/403 even while its client is limited (found by fuzzing: a 429 there hid
    /// whether the route checks credentials); auth keys the client by key or user, so the IP is set again before it.
    func perIP(_ limit: RateLimitMiddleware<BasicRequestContext>) -> [any Middleware<BasicRequestContext>] { [client, limit] }

    /// ``Checks/identifier(_:_:)``: 1-128 of letters, digits, '.', '_', '-', and not `.` or `..`.
    static let identifier: JSONValue = ["type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$", "not": ["enum": [".", ".."]]]

    /// `schema` or JSON null (what a Swift optional decodes from).
    static func orNull(_ schema: JSONValue) -> JSONValue { ["anyOf": [schema, ["type": "null"]]] }

    /// `path`: the schemas of path parameters the route checks (``identifier``); the others are plain strings.
    static func docs(_ summary: String, _ tag: String, path: [OpenAPIParameter] = [], query: [OpenAPIParameter] = [],
                     body: OpenAPIBody? = nil, responses: [Int: String] = [:]) -> OpenAPIOperation {
        var operation = OpenAPIOperation(summary: summary, tags: ["autopack: " + tag], queryParameters: path + query, requestBody: body)
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
