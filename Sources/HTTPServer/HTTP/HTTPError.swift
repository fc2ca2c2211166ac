/// An error a handler or middleware throws to answer with a status and `{"detail": ...}`.
///
/// ```swift
/// throw HTTPError(.notFound, "Server web-01 not found")
/// ```
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPStatus
    /// The `detail` member: usually a string, but any JSON is allowed.
    public var detail: JSONValue
    /// Extra members next to `detail` (for example the spec's 500 carries `"error"`).
    public var extra: [(String, JSONValue)]
    public var headers: HTTPHeaders

    public init(_ status: HTTPStatus, _ detail: String? = nil, extra: [(String, JSONValue)] = [],
                headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.detail = .string(detail ?? status.reasonPhrase)
        self.extra = extra
        self.headers = headers
    }

    public init(_ status: HTTPStatus, detail: JSONValue, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.detail = detail
        self.extra = []
        self.headers = headers
    }

    public var description: String { "HTTPError(\(status.code), \(detail.encodedString))" }
}

/// An error that renders its own response. Anything else that is not an `HTTPError` or
/// `ValidationError` becomes a 500 whose body never shows the error's text.
public protocol HTTPResponseError: Error {
    func response() -> Response
}

extension HTTPError: HTTPResponseError {
    public func response() -> Response {
        var response = Response.json(.object([("detail", detail)] + extra), status: status)
        for field in headers { response.headers.replaceOrAdd(name: field.name, value: field.value) }
        return response
    }
}
