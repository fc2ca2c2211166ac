/// Where a handler runs.
public enum Execution: Sendable {
    /// On the event loop thread, inline: only for handlers that never block (health checks,
    /// serving a cached snapshot).
    case eventLoop
    /// On the server's worker pool: the default, for anything that may touch SQLite, files or models.
    case workerPool
}

/// A request handler. Throw `HTTPError` or `ValidationError` for client errors.
public typealias RouteHandler<Context: RequestContext> = @Sendable (Request, Context) throws -> Response

/// A route as registered, for OpenAPI and for tests that compare the two.
public struct RouteDescription: Sendable {
    public var method: HTTPMethod
    /// Normalised pattern with `{name}` parameters: `/servers/{id}`.
    public var path: String
    public var operation: OpenAPIOperation
    public var isWebSocket: Bool
}

struct RouteEntry<Context: RequestContext>: Sendable {
    var method: HTTPMethod
    let segments: [PathSegment]
    var execution: Execution
    var middleware: [any Middleware<Context>]
    var handler: RouteHandler<Context>
    var operation: OpenAPIOperation
    var isWebSocket: Bool
    /// `PathSegment.pattern(segments)`, computed once at registration: every matched request
    /// copies it into its context, so it must not be rebuilt per request.
    let pattern: String

    init(method: HTTPMethod, segments: [PathSegment], execution: Execution, middleware: [any Middleware<Context>],
         handler: @escaping RouteHandler<Context>, operation: OpenAPIOperation, isWebSocket: Bool) {
        self.method = method
        self.segments = segments
        self.execution = execution
        self.middleware = middleware
        self.handler = handler
        self.operation = operation
        self.isWebSocket = isWebSocket
        self.pattern = PathSegment.pattern(segments)
    }
}

enum PathSegment: Sendable, Equatable {
    case literal(String)
    case parameter(String)

    /// Splits `/servers/{id}` or `/servers/:id` into segments; empty segments are ignored.
    static func parse(_ path: String) -> [PathSegment] {
        path.split(separator: "/").map { part in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            if part.hasPrefix(":") && part.count > 1 { return .parameter(String(part.dropFirst())) }
            return .literal(String(part))
        }
    }

    static func pattern(_ segments: [PathSegment]) -> String {
        if segments.isEmpty { return "/" }
        return segments.map { segment in
            switch segment {
            case .literal(let text): "/" + text
            case .parameter(let name): "/{" + name + "}"
            }
        }.joined()
    }
}
