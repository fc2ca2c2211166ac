import CLinux
import Synchronization

/// Token-bucket rate limiting per client, one table per middleware instance — so give each route
/// group its own instance. Over the limit: 429 with `Retry-After` and
/// `{"detail": "Rate limit exceeded. Try again in N seconds."}` (the spec's message).
///
/// The client is `context.core.clientIdentity`: the peer address, or the API key when
/// `APIKeyMiddleware` runs first.
public struct RateLimitMiddleware<Context: RequestContext>: Middleware {
    public let limit: Int
    public let period: Duration
    private let table: TokenBucketTable

    /// Allows `limit` requests per `period` per client, with bursts up to `burst` (default `limit`).
    public init(limit: Int, per period: Duration, burst: Int? = nil) {
        precondition(limit > 0 && period > .zero, "a rate limit needs a positive count and period")
        self.limit = limit
        self.period = period
        table = TokenBucketTable(capacity: Double(burst ?? limit),
                                 tokensPerNanosecond: Double(limit) / Double(period.nanoseconds))
    }

    public func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
        switch table.take(for: context.core.clientIdentity, now: argus_monotonic_nanoseconds()) {
        case .allowed(let remaining):
            var response = next(request, &context)
            response.headers.replaceOrAdd(name: "X-RateLimit-Limit", value: String(limit))
            response.headers.replaceOrAdd(name: "X-RateLimit-Remaining", value: String(remaining))
            return response
        case .denied(let retryAfter):
            throw HTTPError(.tooManyRequests, "Rate limit exceeded. Try again in \(retryAfter) seconds.",
                            headers: ["Retry-After": String(retryAfter), "X-RateLimit-Limit": String(limit),
                                      "X-RateLimit-Remaining": "0"])
        }
    }

    public func document(_ operation: inout OpenAPIOperation) {
        let seconds = period.components.seconds
        operation.responses[429] = OpenAPIResponse("Rate limit exceeded (\(limit) per \(seconds) s per client)",
                                                   schema: JSONSchema.errorDetail,
                                                   example: ["detail": "Rate limit exceeded. Try again in 60 seconds."])
    }
}

/// Buckets keyed by client. Full buckets are dropped when the table grows, so a scan from many
/// addresses costs bounded memory.
final class TokenBucketTable: Sendable {
    enum Decision: Equatable {
        case allowed(remaining: Int)
        case denied(retryAfterSeconds: Int)
    }

    private struct Bucket {
        var tokens: Double
        var updatedAt: UInt64
    }

    let capacity: Double
    let tokensPerNanosecond: Double
    let maxClients: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    init(capacity: Double, tokensPerNanosecond: Double, maxClients: Int = 100_000) {
        self.capacity = capacity
        self.tokensPerNanosecond = tokensPerNanosecond
        self.maxClients = maxClients
    }

    func take(for client: String, now: UInt64) -> Decision {
        buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: capacity, updatedAt: now)
            let elapsed = Double(now &- bucket.updatedAt)
            bucket.tokens = min(capacity, bucket.tokens + elapsed * tokensPerNanosecond)
            bucket.updatedAt = now
            let decision: Decision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = .allowed(remaining: Int(bucket.tokens))
            } else {
                let waitNanoseconds = (1 - bucket.tokens) / tokensPerNanosecond
                decision = .denied(retryAfterSeconds: max(1, Int((waitNanoseconds / 1e9).rounded(.up))))
            }
            buckets[client] = bucket
            if buckets.count > maxClients { prune(&buckets, now: now) }
            return decision
        }
    }

    private func prune(_ buckets: inout [String: Bucket], now: UInt64) {
        let refillTime = capacity / tokensPerNanosecond
        buckets = buckets.filter { Double(now &- $0.value.updatedAt) < refillTime }
        if buckets.count > maxClients {
            // Everyone is active: forget the oldest half rather than grow.
            let cutoff = buckets.values.map(\.updatedAt).sorted()[buckets.count / 2]
            buckets = buckets.filter { $0.value.updatedAt > cutoff }
        }
    }
}
