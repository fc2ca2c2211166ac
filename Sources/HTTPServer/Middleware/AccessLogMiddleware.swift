import CLinux

/// One JSON line per request on the logger (stderr by default): method, path, route, status,
/// bytes, duration, client and request ID. Put it after `RequestIDMiddleware` so the ID is known.
/// Query strings are not logged: they may carry tokens.
public struct AccessLogMiddleware<Context: RequestContext>: Middleware {
    public let logger: Logger

    public init(logger: Logger = Logger(label: "access")) {
        self.logger = logger
    }

    public func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
        let started = argus_monotonic_nanoseconds()
        let response = next(request, &context)
        let elapsed = Double(argus_monotonic_nanoseconds() - started) / 1_000_000
        logger.log(response.status.code >= 500 ? .error : .info, "request", fields: [
            ("request_id", .string(context.requestID)),
            ("method", .string(request.method.rawValue)),
            ("path", .string(request.path)),
            ("route", context.core.route.map(JSONValue.string) ?? .null),
            ("status", .int(response.status.code)),
            ("bytes", .int(response.body.count)),
            ("duration_ms", .double((elapsed * 1000).rounded() / 1000)),
            ("client", .string(request.remoteAddress)),
        ])
        return response
    }
}
