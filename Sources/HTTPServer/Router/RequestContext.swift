/// The per-request values the server itself fills in.
public struct CoreRequestContext: Sendable {
    /// From a valid incoming `X-Request-ID`, else generated (see `RequestIDMiddleware`).
    public var requestID: String = ""
    /// Path parameters of the matched route, percent-decoded.
    public var parameters = Parameters()
    /// The matched route pattern (`/servers/{id}`), or nil when no route matched.
    public var route: String?
    /// The peer's IP address.
    public var remoteAddress: String
    /// Who the client is for rate limiting: the peer address unless a middleware knows better
    /// (for example `APIKeyMiddleware` keys by API key).
    public var clientIdentity: String
    /// Monotonic start time, for latency in access logs.
    public var startedAt: UInt64

    public init(remoteAddress: String, startedAt: UInt64 = 0) {
        self.remoteAddress = remoteAddress
        self.clientIdentity = remoteAddress
        self.startedAt = startedAt
    }
}

/// A statically typed per-request context that middleware fill and handlers read.
///
/// Add your own fields by declaring a struct:
/// ```swift
/// struct APIContext: RequestContext {
///     var core: CoreRequestContext
///     var tenant: String?
///     init(core: CoreRequestContext) { self.core = core }
/// }
/// let router = Router(context: APIContext.self)
/// ```
public protocol RequestContext: Sendable {
    init(core: CoreRequestContext)
    var core: CoreRequestContext { get set }
}

extension RequestContext {
    public var parameters: Parameters { core.parameters }
    public var requestID: String { core.requestID }
}

/// The context to use when you need nothing beyond the core values.
public struct BasicRequestContext: RequestContext {
    public var core: CoreRequestContext

    public init(core: CoreRequestContext) { self.core = core }
}
