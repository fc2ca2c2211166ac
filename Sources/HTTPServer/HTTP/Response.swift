/// An HTTP response. `Content-Length`, `Date` and `Connection` are added by the server.
public struct Response: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Set by WebSocket routes: after the 101 is written the connection switches protocol.
    var webSocketUpgrade: WebSocketUpgrade?
    /// Called once on the connection's event loop after the response has been handed to the socket (written,
    /// or queued when the socket is full), and also when the connection was already gone. For work that the
    /// request caused but that must not delay its answer (the feed's tick starting an inference run).
    public var afterWrite: (@Sendable () -> Void)?

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A body with an explicit content type.
    public init(status: HTTPStatus = .ok, contentType: String, body: [UInt8]) {
        self.init(status: status, headers: ["Content-Type": contentType], body: body)
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> Response {
        Response(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    /// An `application/json` response from a `JSONValue`, encoded without Foundation.
    public static func json(_ value: JSONValue, status: HTTPStatus = .ok) -> Response {
        Response(status: status, contentType: "application/json", body: value.encoded())
    }

    /// An `application/json` response from bytes that already hold JSON (for example a cached snapshot).
    public static func json(bytes: [UInt8], status: HTTPStatus = .ok) -> Response {
        Response(status: status, contentType: "application/json", body: bytes)
    }

    /// The API's error shape: `{"detail": "..."}`.
    public static func detail(_ detail: String, status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders()) -> Response {
        var response = Response.json(.object([("detail", .string(detail))]), status: status)
        for field in headers { response.headers.replaceOrAdd(name: field.name, value: field.value) }
        return response
    }
}
