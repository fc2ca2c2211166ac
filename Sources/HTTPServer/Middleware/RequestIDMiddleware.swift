import Synchronization

/// Gives every request an ID: a well-formed incoming `X-Request-ID` is kept (so IDs follow a
/// request across services), otherwise one is generated. The ID lands in the context and in the
/// response's `X-Request-ID` header.
public struct RequestIDMiddleware<Context: RequestContext>: Middleware {
    public let headerName: String

    public init(headerName: String = "X-Request-ID") {
        self.headerName = headerName
    }

    public func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
        if let incoming = request.headers[headerName], Self.isAcceptable(incoming) {
            context.core.requestID = incoming
        } else {
            context.core.requestID = RequestIDGenerator.next()
        }
        var response = next(request, &context)
        response.headers.replaceOrAdd(name: headerName, value: context.core.requestID)
        return response
    }

    /// Up to 128 characters from a log-safe alphabet; anything else could forge log lines.
    static func isAcceptable(_ id: String) -> Bool {
        let bytes = id.utf8
        return !bytes.isEmpty && bytes.count <= 128 && bytes.allSatisfy { byte in
            Byte.isToken(byte) && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
        }
    }
}

/// Unique per process: a random prefix chosen at start-up and a counter, in hex. Cheap enough for
/// every request and never repeats within a run.
enum RequestIDGenerator {
    private static let prefix = String(UInt32.random(in: .min ... .max), radix: 16)
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let value = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + "-" + String(value, radix: 16)
    }
}
