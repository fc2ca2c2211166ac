/// Why the server refused or ended a connection for something its client did (or did not do).
/// Each kind is counted and logged at most once per `Configuration.rejectionLogInterval`
/// (``ThrottledLog``); `HTTPServer.rejections` reads the counts.
public enum ConnectionRejection: String, CaseIterable, Sendable {
    /// 408: the request head did not arrive within `headerTimeout` (slowloris).
    case headerTimeout = "header_timeout"
    /// 408: the body did not arrive within `bodyTimeout`.
    case bodyTimeout = "body_timeout"
    /// 431: request line, header section or header count over the parser limits.
    case headerTooLarge = "header_too_large"
    /// 413: body over `maxBodyBytes`.
    case bodyTooLarge = "body_too_large"
    /// 400/417/501/505: framing the parser refuses.
    case malformedRequest = "malformed_request"
    /// A response (or WebSocket output) not read for `writeTimeout`.
    case writeTimeout = "write_timeout"
    /// A WebSocket client left more than `maxBufferedBytes` unread: disconnected (1008).
    case webSocketSlowConsumer = "websocket_slow_consumer"
    /// A WebSocket client broke RFC 6455 (1002/1007/1009).
    case webSocketProtocolError = "websocket_protocol_error"
    /// Accepted past `maxConnections` and closed at once.
    case connectionLimit = "connection_limit"

    /// The log line's `msg`, shared by related kinds so log queries keep working.
    var message: String {
        switch self {
        case .headerTimeout, .bodyTimeout, .headerTooLarge, .bodyTooLarge, .malformedRequest: "request_rejected"
        case .writeTimeout: "write_timeout"
        case .webSocketSlowConsumer: "websocket_slow_consumer"
        case .webSocketProtocolError: "websocket_failed"
        case .connectionLimit: "connection_refused"
        }
    }

    init(_ error: HTTPParseError) {
        switch error {
        case .requestLineTooLong, .headersTooLarge, .tooManyHeaders: self = .headerTooLarge
        case .bodyTooLarge: self = .bodyTooLarge
        default: self = .malformedRequest
        }
    }
}

extension ServerState {
    /// Counts a rejection and logs it unless its kind was logged within the interval.
    func reject(_ kind: ConnectionRejection, client: String, _ fields: [(String, JSONValue)] = []) {
        rejections.record(kind: kind.rawValue, message: kind.message, client: client, fields: fields)
    }
}
