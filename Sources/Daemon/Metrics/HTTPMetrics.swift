import CLinux
import HTTPServer
import Synchronization

/// Requests per route pattern, method and status, and their latency per route, for `/metrics`.
///
/// Labels are bounded: the route is the matched PATTERN (`/explain/{server_name}`, never the raw
/// path), unmatched requests share `route="unmatched"`, methods outside the standard set are `other`,
/// and statuses outside ``trackedStatuses`` fold into their class (`4xx`). The table of counters is
/// built once from the frozen router on the first request; after that a request costs two dictionary
/// lookups (method, then route pattern), one clock read and a few relaxed atomic adds — no lock
/// (~0.25 µs of CPU, `Benchmarks metrics`).
public final class HTTPMetrics: Sendable {
    /// Status codes counted on their own; others count as `2xx` … `5xx`.
    static let trackedStatuses: [Int] = [101, 200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 409, 413, 422, 429,
                                         500, 503, 507]
    static let standardMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    /// Status code → counter index, one array read per request (codes 100…599; others count as 5xx).
    static let statusSlots: [Int] = (0..<600).map { code in
        trackedStatuses.firstIndex(of: code) ?? trackedStatuses.count + min(4, max(0, code / 100 - 1))
    }
    @inline(__always) static func statusSlot(_ status: Int) -> Int {
        status >= 0 && status < 600 ? statusSlots[status] : trackedStatuses.count + 4
    }

    /// The method's label without hashing: the standard methods compare as small inline strings.
    @inline(__always) static func methodLabel(_ method: HTTPMethod) -> String {
        switch method.rawValue {
        case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS": method.rawValue
        default: "other"
        }
    }
    static let unmatchedRoute = "unmatched"

    /// One (method, route): counters per status and a latency histogram.
    final class Slot: Sendable {
        let method: String
        let route: String
        let statuses: [MetricCounter]        // trackedStatuses, then 1xx…5xx
        let duration = DurationHistogram(bounds: DurationHistogram.requestBounds)
        init(method: String, route: String) {
            self.method = method
            self.route = route
            statuses = (0..<(HTTPMetrics.trackedStatuses.count + 5)).map { _ in MetricCounter() }
        }

        @inline(__always) func record(status: Int, nanoseconds: UInt64) {
            statuses[HTTPMetrics.statusSlot(status)].increment()
            duration.observe(nanoseconds: nanoseconds)
        }
    }

    final class Table: Sendable {
        /// Method → route pattern → slot (two lookups with the request's own strings: nothing is built per request).
        let slots: [String: [String: Slot]]
        let ordered: [Slot]
        init(routes: [(method: String, route: String)]) {
            var slots: [String: [String: Slot]] = [:]
            var ordered: [Slot] = []
            let all = routes + HTTPMetrics.standardMethods.sorted().map { ($0, HTTPMetrics.unmatchedRoute) }
                + [("other", HTTPMetrics.unmatchedRoute)]
            for (method, route) in all where slots[method]?[route] == nil {
                let slot = Slot(method: method, route: route)
                slots[method, default: [:]][route] = slot
                ordered.append(slot)
            }
            self.slots = slots
            self.ordered = ordered
        }
    }

    private let routes: @Sendable () -> [RouteDescription]
    private let table = AtomicLazyReference<Table>()

    /// - Parameter routes: the router's frozen table (read once, on the first request).
    public init(routes: @escaping @Sendable () -> [RouteDescription]) {
        self.routes = routes
    }

    func currentTable() -> Table {
        if let built = table.load() { return built }
        // HEAD is answered by GET routes: give every GET route a HEAD slot too.
        var pairs: [(method: String, route: String)] = []
        for description in routes() {
            pairs.append((description.method.rawValue, description.path))
            if description.method == .get { pairs.append(("HEAD", description.path)) }
        }
        return table.storeIfNil(Table(routes: pairs))
    }

    @inline(__always) func record(method: HTTPMethod, route: String?, status: Int, startedAt: UInt64) {
        let elapsed = argus_monotonic_nanoseconds() &- startedAt
        let table = currentTable()
        let byRoute = table.slots[Self.methodLabel(method)]!
        let slot = route.flatMap { byRoute[$0] } ?? byRoute[Self.unmatchedRoute]!
        slot.record(status: status, nanoseconds: elapsed)
    }

    /// The middleware to install outermost, so it sees the final status (401s and 429s included).
    public func middleware<Context: RequestContext>(_ context: Context.Type = Context.self) -> HTTPMetricsMiddleware<Context> {
        HTTPMetricsMiddleware(metrics: self)
    }

    func write(to out: inout PrometheusText) {
        let slots = currentTable().ordered
        out.family("argus_http_requests_total", "counter",
                   "HTTP requests by method, matched route pattern (unmatched = no route) and status.")
        let statusLabels = Self.trackedStatuses.map(String.init) + ["1xx", "2xx", "3xx", "4xx", "5xx"]
        for slot in slots {
            for (label, counter) in zip(statusLabels, slot.statuses) where counter.count > 0 {
                out.sampleCount("argus_http_requests_total", [("method", slot.method), ("route", slot.route), ("status", label)], counter.count)
            }
        }
        out.family("argus_http_request_duration_seconds", "histogram",
                   "Time from routing to the response being built, by method and route pattern (routes with requests only).")
        for slot in slots where slot.duration.count > 0 {
            out.histogram("argus_http_request_duration_seconds", [("method", slot.method), ("route", slot.route)], slot.duration)
        }
    }
}

/// Counts every request into ``HTTPMetrics``; add it before any other middleware.
public struct HTTPMetricsMiddleware<Context: RequestContext>: Middleware {
    let metrics: HTTPMetrics

    public func handle(_ request: Request, context: inout Context, next: MiddlewareNext<Context>) throws -> Response {
        let response = next(request, &context)
        metrics.record(method: request.method, route: context.core.route, status: response.status.code,
                       startedAt: context.core.startedAt)
        return response
    }
}
