import Daemon
import Dispatch
import Foundation
import HTTPServer
import Synchronization

/// `Benchmarks metrics`: what `/metrics` adds to every request — the counting middleware alone, on the
/// daemon's real route table, from one thread and from two at once (the atomics' cache lines bounce between
/// cores as they do under load). Printed next to the request it rides on: the daemon's `GET /health` and
/// `GET /predictions/current` budgets (issue 6: ~112k and ~24k req/s over 2 cores).
enum MetricsBenchmark {
    static func run(_ args: [String]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("argus-bench-metrics-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = DaemonConfiguration()
        c.port = 0
        c.dataDirectory = dir
        c.modelsDirectory = dir.appendingPathComponent("models")
        c.apiKey = "bench"
        let daemon = try ArgusDaemon(configuration: c, logSink: .discard)
        defer { daemon.shutdown() }
        let middleware = daemon.metrics.http.middleware(BasicRequestContext.self)
        let routes = daemon.router.routes.map(\.path)
        let requests = [Request.make(.get, "/predictions/current"), Request.make(.post, "/feed/data"),
                        Request.make(.get, "/explain/ppdb001"), Request.make(.get, "/nope")]
        let patterns: [String?] = ["/predictions/current", "/feed/data", "/explain/{server_name}", nil]
        precondition(patterns.compactMap { $0 }.allSatisfy(routes.contains))
        let perThread = args.contains("--quick") ? 200_000 : 2_000_000
        // Warm the route table (built on the first request).
        var warm = BasicRequestContext(core: CoreRequestContext(remoteAddress: "127.0.0.1"))
        _ = try middleware.handle(requests[0], context: &warm) { _, _ in Response(status: .ok) }

        // CPU time of each thread (CLOCK_THREAD_CPUTIME_ID), not wall time: on a shared, oversubscribed
        // machine wall time mostly measures the other tenants. The baseline runs the same loop with the
        // handler called directly, so the difference is what the middleware adds.
        func measure(throughMiddleware: Bool, threads: Int) -> Double {
            let cpu = Mutex<[Double]>([])
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                var context = BasicRequestContext(core: CoreRequestContext(remoteAddress: "127.0.0.1"))
                let handler: (Request, inout BasicRequestContext) -> Response = { _, _ in Response(status: .ok) }
                let begin = threadCPUNanoseconds()
                for i in 0..<perThread {
                    let k = (i + t) & 3
                    context.core.route = patterns[k]
                    context.core.startedAt = 0
                    if throughMiddleware {
                        _ = try? middleware.handle(requests[k], context: &context, next: handler)
                    } else {
                        _ = handler(requests[k], &context)
                    }
                }
                let used = Double(threadCPUNanoseconds() - begin) / Double(perThread)
                cpu.withLock { $0.append(used) }
            }
            return cpu.withLock { $0.reduce(0, +) / Double($0.count) }
        }
        print("Benchmarks metrics — \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage())")
        for threads in [1, 2] {
            let baseline = measure(throughMiddleware: false, threads: threads)
            let counted = measure(throughMiddleware: true, threads: threads)
            let added = max(0, counted - baseline)
            print("  \(threads) thread(s) × \(perThread) requests, CPU time per request: \(String(format: "%.0f", counted)) ns through the "
                  + "counting middleware, \(String(format: "%.0f", baseline)) ns without → \(String(format: "%.0f", added)) ns added")
            if threads == 2 {
                print("  share of a request at 112k req/s on 2 cores (GET /health, ~17.9 µs of CPU): \(String(format: "%.2f", added / 17_857 * 100)) %")
                print("  share of a request at 24k req/s on 2 cores (GET /predictions/current, ~83 µs of CPU): \(String(format: "%.2f", added / 83_333 * 100)) %")
            }
        }
    }

    static func threadCPUNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func loadAverage() -> String { HTTPBenchmark.loadAverage() }
}
