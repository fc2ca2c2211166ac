/// The request line and header section of one request, as the parser saw them.
public struct HTTPRequestHead: Sendable {
    public var method: HTTPMethod
    /// The request target exactly as sent (origin-form, absolute-form or `*`).
    public var target: String
    /// The path part of the target, still percent-encoded.
    public var path: String
    /// The raw query string after `?`, if any.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// Whether the connection may serve another request after this one.
    public var keepAlive: Bool
    /// The client sent `Expect: 100-continue` and waits before sending its body.
    public var expectsContinue: Bool
    /// How the body is framed.
    public var framing: BodyFraming

    public enum BodyFraming: Sendable, Equatable {
        case none
        case contentLength(Int)
        case chunked
    }
}
