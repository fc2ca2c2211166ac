import COpenSSL

/// Protects routes with an API key in a header (`X-API-Key` by default). Missing or wrong keys
/// get 401 `{"detail": "Invalid or missing API key"}`.
///
/// Keys are compared as SHA-256 digests with `CRYPTO_memcmp`, against every configured key, so
/// timing reveals neither the key nor which key matched. Keys are never logged.
public struct APIKeyMiddleware<Context: RequestContext>: Middleware {
    public let headerName: String
    private let keyDigests: @Sendable () -> [[UInt8]]
    static var schemeName: String { "APIKeyHeader" }

    /// A fixed set of accepted keys.
    public init(keys: [String], headerName: String = "X-API-Key") {
        let digests = keys.filter { !$0.isEmpty }.map(Self.digest)
        self.init(headerName: headerName, keyDigests: { digests })
    }

    /// Keys read on every request (for rotation without restart); return an empty array to refuse all.
    public init(headerName: String = "X-API-Key", currentKeys: @escaping @Sendable () -> [String]) {
        self.init(headerName: headerName, keyDigests: { currentKeys().filter { !$0.isEmpty }.map(Self.digest) })
    }

    private init(headerName: String, keyDigests: @escaping @Sendable () -> [[UInt8]]) {
        self.headerName = headerName
        self.keyDigests = keyDigests
    }

    public func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
        guard let presented = request.headers[headerName], Self.matches(presented, keyDigests()) else {
            throw HTTPError(.unauthorized, "Invalid or missing API key")
        }
        // Rate limits behind auth count per key, not per address (many collectors share a NAT).
        let fingerprint = Self.digest(presented).prefix(8).map { String($0, radix: 16) }.joined()
        context.core.clientIdentity = "key:" + fingerprint
        return next(request, &context)
    }

    public func document(_ operation: inout OpenAPIOperation) {
        if !operation.security.contains(Self.schemeName) { operation.security.append(Self.schemeName) }
        operation.securitySchemes[Self.schemeName] = ["type": "apiKey", "in": "header", "name": .string(headerName)]
        operation.responses[401] = OpenAPIResponse("Invalid or missing API key", schema: JSONSchema.errorDetail,
                                                   example: ["detail": "Invalid or missing API key"])
    }

    /// Whether `presented` is one of the accepted keys, compared in constant time like the header check.
    /// For credentials that cannot travel in a header (a browser's WebSocket sends them as its first message).
    public func accepts(_ presented: String) -> Bool { Self.matches(presented, keyDigests()) }

    static func matches(_ presented: String, _ digests: [[UInt8]]) -> Bool {
        let candidate = digest(presented)
        var matched: Int32 = 0
        for expected in digests {
            let equal = candidate.withUnsafeBytes { a in
                expected.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, 32) == 0 }
            }
            matched |= equal ? 1 : 0
        }
        return matched == 1
    }

    static func digest(_ text: String) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let bytes = Array(text.utf8)
        let ok = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &output, &length, EVP_sha256(), nil) }
        precondition(ok == 1 && length == 32, "EVP_Digest(SHA-256) failed")
        return Array(output[0..<32])
    }
}
