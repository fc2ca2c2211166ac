/// The route-registering API shared by `Router` and `RouterGroup`.
public protocol RouterMethods<Context> {
    associatedtype Context: RequestContext

    /// Registers `handler` for `method` on `path` (relative to the group's prefix).
    /// - Parameters:
    ///   - path: literal segments and `{name}` (or `:name`) parameters.
    ///   - execution: `.workerPool` (default) for anything that may block, `.eventLoop` for
    ///     handlers that never block.
    ///   - docs: OpenAPI metadata; path parameters are added automatically.
    @discardableResult
    func on(_ method: HTTPMethod, _ path: String, execution: Execution, docs: OpenAPIOperation,
            handler: @escaping RouteHandler<Context>) -> Self

    /// Registers a WebSocket endpoint: `GET path` with an upgrade handshake. `accept` runs after
    /// the middleware (auth, rate limits) and returns the connection's callbacks; throw to refuse.
    @discardableResult
    func webSocket(_ path: String, docs: OpenAPIOperation,
                   accept: @escaping @Sendable (Request, Context) throws -> WebSocketHandler) -> Self

    /// A group below `prefix` whose routes also pass through `middleware`.
    func group(_ prefix: String, middleware: [any Middleware<Context>]) -> RouterGroup<Context>
}

extension RouterMethods {
    @discardableResult
    public func get(_ path: String, execution: Execution = .workerPool, docs: OpenAPIOperation = OpenAPIOperation(),
                    _ handler: @escaping RouteHandler<Context>) -> Self {
        on(.get, path, execution: execution, docs: docs, handler: handler)
    }

    @discardableResult
    public func post(_ path: String, execution: Execution = .workerPool, docs: OpenAPIOperation = OpenAPIOperation(),
                     _ handler: @escaping RouteHandler<Context>) -> Self {
        on(.post, path, execution: execution, docs: docs, handler: handler)
    }

    @discardableResult
    public func put(_ path: String, execution: Execution = .workerPool, docs: OpenAPIOperation = OpenAPIOperation(),
                    _ handler: @escaping RouteHandler<Context>) -> Self {
        on(.put, path, execution: execution, docs: docs, handler: handler)
    }

    @discardableResult
    public func patch(_ path: String, execution: Execution = .workerPool, docs: OpenAPIOperation = OpenAPIOperation(),
                      _ handler: @escaping RouteHandler<Context>) -> Self {
        on(.patch, path, execution: execution, docs: docs, handler: handler)
    }

    @discardableResult
    public func delete(_ path: String, execution: Execution = .workerPool, docs: OpenAPIOperation = OpenAPIOperation(),
                       _ handler: @escaping RouteHandler<Context>) -> Self {
        on(.delete, path, execution: execution, docs: docs, handler: handler)
    }

    @discardableResult
    public func webSocket(_ path: String,
                          accept: @escaping @Sendable (Request, Context) throws -> WebSocketHandler) -> Self {
        webSocket(path, docs: OpenAPIOperation(), accept: accept)
    }

    public func group(_ prefix: String) -> RouterGroup<Context> { group(prefix, middleware: []) }
}

/// Routes below a common prefix that share middleware (auth, rate limits). Groups nest.
///
/// ```swift
/// let api = router.group("/predictions", middleware: [apiKey, RateLimitMiddleware(limit: 30, per: .seconds(60))])
/// api.get("/current") { request, context in ... }
/// ```
public struct RouterGroup<Context: RequestContext>: RouterMethods, Sendable {
    let router: Router<Context>
    let prefix: String
    let middleware: [any Middleware<Context>]

    @discardableResult
    public func on(_ method: HTTPMethod, _ path: String, execution: Execution, docs: OpenAPIOperation,
                   handler: @escaping RouteHandler<Context>) -> RouterGroup<Context> {
        router.register(method, prefix + "/" + path, execution: execution, middleware: middleware, docs: docs,
                        isWebSocket: false, handler: handler)
        return self
    }

    @discardableResult
    public func webSocket(_ path: String, docs: OpenAPIOperation,
                          accept: @escaping @Sendable (Request, Context) throws -> WebSocketHandler) -> RouterGroup<Context> {
        router.registerWebSocket(prefix + "/" + path, middleware: middleware, docs: docs, accept: accept)
        return self
    }

    public func group(_ prefix: String, middleware: [any Middleware<Context>]) -> RouterGroup<Context> {
        RouterGroup(router: router, prefix: self.prefix + "/" + prefix, middleware: self.middleware + middleware)
    }
}
