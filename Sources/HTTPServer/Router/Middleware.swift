/// Calls the rest of the chain. Errors thrown further in have already become responses.
public typealias MiddlewareNext<Context: RequestContext> = (Request, inout Context) -> Response

/// One step around a handler: look at or change the request and context, call `next`, look at or
/// change the response — or answer without calling `next` (auth, rate limits).
///
/// ```swift
/// struct TimingHeader<Context: RequestContext>: Middleware {
///     func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
///         var response = next(request, &context)
///         response.headers.add(name: "X-Handled-By", value: "argus")
///         return response
///     }
/// }
/// ```
/// Throwing from `handle` renders the error like a handler's (`HTTPError`, `ValidationError`,
/// anything else as a 500 without details).
public protocol Middleware<Context>: Sendable {
    associatedtype Context: RequestContext

    func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response

    /// Adds what this middleware means for clients to a route's OpenAPI operation
    /// (security schemes, extra error responses). The default adds nothing.
    func document(_ operation: inout OpenAPIOperation)
}

extension Middleware {
    public func document(_ operation: inout OpenAPIOperation) {}
}
