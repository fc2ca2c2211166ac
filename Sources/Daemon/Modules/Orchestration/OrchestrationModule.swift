import Foundation
import HTTPServer

/// The orchestration API (spec/orchestration-api.md, "Phantom Neural Cortex"): projects, tasks run by agents
/// through circuit breakers on a worker queue, metrics, agent connections and files, HRM configs, and live
/// WebSockets — on its own listener (documented port 1336) so its `/ws` does not clash with the supervisor's.
///
/// Auth: the spec documents none. On a loopback bind (the default) the listener is open, as documented; bound
/// to any other address it requires the daemon's `X-API-Key` on every route except `/api/health`.
public final class OrchestrationModule: DaemonModule {
    public let name = "orchestration"
    let services: OrchestrationServices
    let router: Router<BasicRequestContext>
    let server: HTTPServer?
    let requiresKey: Bool
    private let logger: Logger
    private let subscription: DaemonEventSubscription
    private let database: SQLiteDatabase

    /// Browser origins the spec allows (its UI dev servers).
    static let corsOrigins = ["http://localhost:3000", "http://localhost:5173", "http://localhost:1337"]

    public init(host: any ModuleHost, workerCount: Int = 2) throws {
        logger = host.logger("orchestration")
        database = try host.openDatabase(module: "orchestration", migrations: OrchestrationSchema.migrations)
        let store = OrchestrationStore(db: database, clock: host.clock)
        let feed = OrchestrationFeed(events: host.events, clock: host.clock)
        let breakers = try CircuitBreakers(store: store) { agent, _, new, breaker in
            switch new {
            case .open: feed.systemAlert("Circuit breaker OPEN for agent '\(agent)' after \(breaker.failureCount) failures", severity: "warning")
            case .halfOpen: feed.systemAlert("Circuit breaker HALF_OPEN for agent '\(agent)': next call is a trial", severity: "info")
            case .closed: feed.systemAlert("Circuit breaker CLOSED for agent '\(agent)'", severity: "success")
            }
        }
        let queue = TaskQueue(workerCount: workerCount)
        let runner = TaskRunner(store: store, breakers: breakers, feed: feed, queue: queue, logger: logger)
        let files = try AgentFiles(root: host.dataDirectory.appendingPathComponent("orchestration/agent-files", isDirectory: true))
        try store.seedBuiltinPresets(HRMPresets.builtins())
        services = OrchestrationServices(store: store, queue: queue, runner: runner, breakers: breakers, feed: feed, files: files,
                                         requests: RequestMetrics(), startedAt: Date())
        requiresKey = !Self.isLoopback(host.bindHost)

        router = Router(context: BasicRequestContext.self, logger: host.logger("orchestration.router"))
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: AccessLogMiddleware(logger: host.logger("orchestration.access")))
        router.add(middleware: CORSMiddleware(allowedOrigins: .list(Self.corsOrigins)))
        router.add(middleware: RequestMetricsMiddleware(metrics: services.requests))
        let api = router.group("", middleware: requiresKey ? [host.apiKeyAuth] : [])
        OrchestrationRoutes(services: services).addRoutes(to: api)
        ProjectRoutes(services: services).addRoutes(to: api)
        TaskRoutes(services: services).addRoutes(to: api)
        OrchestrationMetricsRoutes(services: services).addRoutes(to: api)
        AgentRoutes(services: services).addRoutes(to: api)
        HRMRoutes(services: services).addRoutes(to: api)
        LiveRoutes(services: services).addRoutes(to: api)
        SystemRoutes(services: services).addRoutes(public: router, protected: api)
        router.addOpenAPIRoutes(info: OpenAPIInfo(title: "Argus orchestration", version: "2.0.0",
                                                  description: "Multi-agent orchestration API (spec/orchestration-api.md) inside argusd"))
        let router = self.router
        server = try host.listenerPort(module: "orchestration").map { try host.makeServer(port: $0, responder: router, workerThreads: 4) }

        // Daemon events worth telling an orchestration dashboard about.
        subscription = host.events.subscribe { event in
            if case .modelLoaded(let model, _) = event { feed.systemAlert("Argus loaded model \(model)", severity: "info") }
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The listener's port after ``start()`` (nil when turned off).
    public var port: Int? { server?.port }

    /// Routes live on the module's own listener; nothing is added to the Argus router.
    public func addRoutes(to router: Router<BasicRequestContext>) {}

    /// Re-queues work a crash interrupted (in-progress tasks run again from iteration 0), starts the workers
    /// and the listener.
    public func start() throws {
        let store = services.store
        let interrupted = try store.taskIDs(statuses: ["in_progress"])
        for id in interrupted { _ = try store.transition(id, from: ["in_progress"], to: "pending") }
        let pending = try store.taskIDs(statuses: ["pending"])
        services.queue.start { [runner = services.runner] id in runner.run(id) }
        for id in pending { services.queue.enqueue(id) }
        try server?.start()
        logger.info("orchestration_started", ["port": server?.port.map(JSONValue.int) ?? .null, "requires_api_key": .bool(requiresKey),
                                              "requeued_tasks": .int(pending.count), "interrupted_tasks": .int(interrupted.count)])
    }

    /// Stops the listener, then the workers (running tasks finish their iteration), then closes the database.
    public func stop() {
        server?.shutdown(gracePeriod: .seconds(5))
        subscription.cancel()
        services.queue.stop()
        database.close()
    }

    public func health() -> ModuleHealth {
        let depth = services.queue.depth
        let open = services.breakers.snapshot(known: ProviderDirectory.defaultAgents).filter { $0.1.state == .open }.map { JSONValue.string($0.0) }
        return ModuleHealth(status: open.count == ProviderDirectory.defaultAgents.count ? "degraded" : "healthy", details: [
            ("port", server?.port.map(JSONValue.int) ?? .null), ("queued_tasks", .int(depth.queued)), ("running_tasks", .int(depth.running)),
            ("open_circuit_breakers", .array(open)),
        ])
    }
}
