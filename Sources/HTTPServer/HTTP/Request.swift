/// One complete HTTP request as handlers see it: head, body and the peer's address.
public struct Request: Sendable {
    public var head: HTTPRequestHead
    /// The whole body, already de-chunked and bounded by `HTTPParserLimits.maxBodyBytes`.
    public var body: [UInt8]
    /// The peer's IP address (textual, without port).
    public var remoteAddress: String

    public init(head: HTTPRequestHead, body: [UInt8] = [], remoteAddress: String = "") {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
    }

    public var method: HTTPMethod { head.method }
    /// The path, still percent-encoded, without the query.
    public var path: String { head.path }
    public var headers: HTTPHeaders { head.headers }
    /// The query string, percent-decoded into name/value pairs.
    public var query: QueryParameters { QueryParameters(parsing: head.query) }
    /// The body as UTF-8 text (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

extension Request {
    /// A request built in memory, for tests and internal dispatch.
    public static func make(_ method: HTTPMethod = .get, _ target: String, headers: HTTPHeaders = ["Host": "test"],
                            body: [UInt8] = [], remoteAddress: String = "127.0.0.1") -> Request {
        let (path, query) = (try? HTTPRequestParser.splitTarget(target, method: method)) ?? (target, nil)
        let head = HTTPRequestHead(method: method, target: target, path: path, query: query, version: .http1_1,
                                   headers: headers, keepAlive: true, expectsContinue: false,
                                   framing: body.isEmpty ? .none : .contentLength(body.count))
        return Request(head: head, body: body, remoteAddress: remoteAddress)
    }
}
