import CLinux
import Synchronization

/// Maps requests to handlers through middleware, and answers 404, 405 (with `Allow`) and
/// automatic `OPTIONS` in the API's JSON error shape.
///
/// Register everything before the server starts; the table freezes on the first request.
/// ```swift
/// let router = Router(context: BasicRequestContext.self)
/// router.add(middleware: RequestIDMiddleware())
/// router.get("/health", execution: .eventLoop) { _, _ in .json(["status": "healthy"]) }
/// router.get("/servers/{id}") { request, context in
///     let id = try context.parameters.require("id")
///     return .json(["server": .string(id)])
/// }
/// ```
///
/// `@unchecked Sendable`: the registration state is guarded by `lock`; the frozen table is immutable.
public final class Router<Context: RequestContext>: RouterMethods, HTTPResponder, @unchecked Sendable {
    private struct Registration {
        var globalMiddleware: [any Middleware<Context>] = []
        var entries: [RouteEntry<Context>] = []
        var frozen: Frozen?
    }

    final class Frozen: Sendable {
        let trie: RouteTrie<Context>
        let globalMiddleware: [any Middleware<Context>]
        /// Per route: global middleware followed by the route's own.
        let descriptions: [RouteDescription]

        init(trie: RouteTrie<Context>, globalMiddleware: [any Middleware<Context>], descriptions: [RouteDescription]) {
            self.trie = trie
            self.globalMiddleware = globalMiddleware
            self.descriptions = descriptions
        }
    }

    private let lock = Mutex<Registration>(Registration())
    /// The frozen table, published once; reading it on every request takes no lock.
    private let published = AtomicLazyReference<Frozen>()
    /// Logs unexpected errors (the 500s), with the request ID.
    public let logger: Logger
    /// A full pool answers every request 503: one line per interval, not one per request.
    private let overloadLog: ThrottledLog

    public init(context: Context.Type = Context.self, logger: Logger = Logger(label: "router")) {
        self.logger = logger
        overloadLog = ThrottledLog(logger: logger)
    }

    /// Adds middleware that wraps every request, matched or not (request IDs, logs, CORS).
    /// Order matters: the first added is the outermost.
    public func add(middleware: some Middleware<Context>) {
        lock.withLock { registration in
            precondition(registration.frozen == nil, "middleware added after the router started serving")
            registration.globalMiddleware.append(middleware)
        }
    }

    @discardableResult
    public func on(_ method: HTTPMethod, _ path: String, execution: Execution, docs: OpenAPIOperation,
                   handler: @escaping RouteHandler<Context>) -> Router<Context> {
        register(method, path, execution: execution, middleware: [], docs: docs, isWebSocket: false, handler: handler)
        return self
    }

    @discardableResult
    public func webSocket(_ path: String, docs: OpenAPIOperation,
                          accept: @escaping @Sendable (Request, Context) throws -> WebSocketHandler) -> Router<Context> {
        registerWebSocket(path, middleware: [], docs: docs, accept: accept)
        return self
    }

    public func group(_ prefix: String, middleware: [any Middleware<Context>]) -> RouterGroup<Context> {
        RouterGroup(router: self, prefix: prefix, middleware: middleware)
    }

    /// Every registered route, in registration order, with its OpenAPI operation as documented
    /// (middleware contributions included).
    public var routes: [RouteDescription] { frozen().descriptions }

    func register(_ method: HTTPMethod, _ path: String, execution: Execution, middleware: [any Middleware<Context>],
                  docs: OpenAPIOperation, isWebSocket: Bool, handler: @escaping RouteHandler<Context>) {
        let segments = PathSegment.parse(path)
        lock.withLock { registration in
            precondition(registration.frozen == nil, "route \(method) \(path) added after the router started serving")
            let pattern = PathSegment.pattern(segments)
            precondition(!registration.entries.contains { $0.method == method && $0.pattern == pattern },
                         "route \(method) \(pattern) registered twice")
            registration.entries.append(RouteEntry(method: method, segments: segments, execution: execution,
                                                   middleware: middleware, handler: handler, operation: docs,
                                                   isWebSocket: isWebSocket))
        }
    }

    func registerWebSocket(_ path: String, middleware: [any Middleware<Context>], docs: OpenAPIOperation,
                           accept: @escaping @Sendable (Request, Context) throws -> WebSocketHandler) {
        var docs = docs
        if docs.responses[101] == nil { docs.responses[101] = OpenAPIResponse("Switching to the WebSocket protocol") }
        register(.get, path, execution: .eventLoop, middleware: middleware, docs: docs, isWebSocket: true) { request, context in
            let acceptValue = try WebSocketHandshake.validate(request).get()
            let handler = try accept(request, context)
            var response = Response(status: .switchingProtocols, headers: [
                "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": acceptValue,
            ])
            var upgradeRequest = request
            upgradeRequest.body = []
            response.webSocketUpgrade = WebSocketUpgrade(handler: handler, request: upgradeRequest)
            return response
        }
    }

    func frozen() -> Frozen {
        if let table = published.load() { return table }
        let table = lock.withLock { registration in
            if let frozen = registration.frozen { return frozen }
            let global = registration.globalMiddleware
            var entries = registration.entries
            var descriptions: [RouteDescription] = []
            for index in entries.indices {
                entries[index].middleware = global + entries[index].middleware
                var operation = entries[index].operation
                for middleware in entries[index].middleware { middleware.document(&operation) }
                entries[index].operation = operation
                descriptions.append(RouteDescription(method: entries[index].method, path: entries[index].pattern,
                                                     operation: operation, isWebSocket: entries[index].isWebSocket))
            }
            let frozen = Frozen(trie: RouteTrie(entries: entries), globalMiddleware: global, descriptions: descriptions)
            registration.frozen = frozen
            return frozen
        }
        return published.storeIfNil(table)
    }

    // MARK: - Responding

    public func respond(to request: Request, workerPool: WorkerPool,
                        completion: @escaping @Sendable (Response) -> Void) {
        let table = frozen()
        var core = CoreRequestContext(remoteAddress: request.remoteAddress, startedAt: argus_monotonic_nanoseconds())
        let resolved: (RouteTrie<Context>.Node, Parameters)?
        do {
            resolved = try table.trie.resolve(request.path)
        } catch {
            completion(run(table.globalMiddleware, request, Context(core: core)) { _, _ in throw error })
            return
        }
        if let (node, parameters) = resolved,
           let entry = node.routes[request.method] ?? (request.method == .head ? node.routes[.get] : nil) {
            core.parameters = parameters
            core.route = entry.pattern
            let context = Context(core: core)
            switch entry.execution {
            case .eventLoop:
                completion(run(entry.middleware, request, context, entry.handler))
            case .workerPool:
                let accepted = workerPool.submit { [self] in
                    completion(self.run(entry.middleware, request, context, entry.handler))
                }
                if !accepted {
                    overloadLog.record(kind: "worker_pool_full", message: "worker_pool_full", client: request.remoteAddress,
                                       fields: [("path", .string(request.path))])
                    completion(Response.detail("Server is busy, try again later", status: .serviceUnavailable,
                                               headers: ["Retry-After": "1"]))
                }
            }
            return
        }
        // Unmatched: still pass through global middleware so CORS, request IDs and logs apply.
        let allowed = resolved?.0.allowedMethods
        let fallback: RouteHandler<Context> = { request, _ in
            guard let allowed else { throw HTTPError(.notFound, "Not Found") }
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            if request.method == .options { return Response(status: .noContent, headers: ["Allow": allow]) }
            throw HTTPError(.methodNotAllowed, "Method Not Allowed", headers: ["Allow": allow])
        }
        completion(run(table.globalMiddleware, request, Context(core: core), fallback))
    }

    /// Runs a middleware chain around `handler`. Errors become responses at every layer, so each
    /// middleware's `next` always returns a response.
    func run(_ chain: [any Middleware<Context>], _ request: Request, _ context: Context,
             _ handler: RouteHandler<Context>) -> Response {
        if chain.isEmpty {
            // No middleware (health checks and the like): skip the chain machinery.
            do { return try handler(request, context) } catch { return render(error, request: request, context: context) }
        }
        var context = context
        return step(chain, 0, request, &context, handler)
    }

    private func step(_ chain: [any Middleware<Context>], _ index: Int, _ request: Request, _ context: inout Context,
                      _ handler: RouteHandler<Context>) -> Response {
        do {
            if index == chain.count { return try handler(request, context) }
            return try chain[index].handle(request, context: &context) { request, context in
                step(chain, index + 1, request, &context, handler)
            }
        } catch {
            return render(error, request: request, context: context)
        }
    }

    private func render(_ error: any Error, request: Request, context: Context) -> Response {
        if let error = error as? any HTTPResponseError { return error.response() }
        // Never leak internals: the text goes to the log, the client gets a generic 500.
        logger.error("unhandled_error", ["request_id": .string(context.requestID), "method": .string(request.method.rawValue),
                                         "path": .string(request.path), "error": .string(String(describing: error))])
        return Response.detail("Internal server error", status: .internalServerError)
    }
}
