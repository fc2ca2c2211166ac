import Foundation
import HTTPServer

/// The supervisor API (spec `supervisor-api.md`, seed 001): users via the shared auth core, tasks executed by
/// local providers on agent slots, workflows (DAGs) with cron schedules, analytics from stored measurements,
/// resources, providers, plugins, monitoring, and the WebSocket channels. Every route but login, register,
/// refresh and the basic health checks requires a bearer token and a permission (RBAC).
public final class SupervisorModule: DaemonModule {
    public let name = "supervisor"
    let core: SupervisorCore
    /// Resumed once in `start`, cancelled once in `stop` (guarded by `schedulerRunning`), never touched otherwise.
    nonisolated(unsafe) let ticker: DispatchSourceTimer
    private let authEvents: DaemonEventSubscription

    /// - Parameter tickSeconds: how often (real time) the scheduler reads the daemon's clock for due work.
    public init(host: any ModuleHost, tickSeconds: Double = 1) throws {
        let database = try host.openDatabase(module: "supervisor", migrations: SupervisorSchema.migrations)
        core = try SupervisorCore(database: database, auth: host.auth, clock: host.clock, logger: host.logger("supervisor"),
                                  dataDirectory: host.dataDirectory)
        ticker = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "argus.supervisor.scheduler", qos: .utility))
        ticker.schedule(deadline: .now() + tickSeconds, repeating: tickSeconds)
        let core = self.core
        ticker.setEventHandler { core.tick() }
        // Auth events (logins, failures, logouts) become audit rows.
        authEvents = host.events.subscribe { event in
            guard case .module("auth", let type, let payload) = event else { return }
            core.audit("AUTH_" + type.uppercased(), userID: payload["user_id"]?.intValue, details: payload)
        }
    }

    public func addRoutes(to router: Router<BasicRequestContext>) {
        let routes = SupervisorRoutes(core: core, router: router)
        routes.addAuthRoutes()
        routes.addTaskRoutes()
        routes.addAnalyticsRoutes()
        routes.addAdvancedAnalyticsRoutes()
        routes.addWorkflowRoutes()
        routes.addResourceRoutes()
        routes.addProviderRoutes()
        routes.addPluginRoutes()
        routes.addMonitoringRoutes()
        routes.addHealthRoutes()
        routes.addWebSockets()
    }

    public func start() throws {
        try core.resumeUnfinishedTasks()
        core.schedulerRunning.store(true, ordering: .relaxed)
        ticker.resume()
    }

    public func stop() {
        guard core.schedulerRunning.exchange(false, ordering: .relaxed) else { return }
        ticker.cancel()
        authEvents.cancel()
        core.taskQueue.sync {}
        core.database.close()
    }

    public func health() -> ModuleHealth {
        ModuleHealth(status: "healthy", details: [("scheduler_running", .bool(core.schedulerRunning.load(ordering: .relaxed))),
                                                  ("websocket_clients", .int(core.hub.subscriberCount(of: SupervisorCore.Channel.main)))])
    }
}

/// Route registration helpers shared by the per-area files.
struct SupervisorRoutes: Sendable {
    let core: SupervisorCore
    let router: Router<BasicRequestContext>

    var auth: AuthService { core.auth }

    /// `/api/v1` routes that need `permission`.
    func api(_ permission: Permission) -> RouterGroup<BasicRequestContext> {
        router.group("/api/v1", middleware: [auth.require(permission)])
    }

    /// `created`: the route answers 201 with this (the new row), not 200. `fields`: the body's schema, one entry
    /// per ``BodyReader`` call of the route (without it the body is documented as any object, by its example).
    /// `path`: schemas of path parameters the route checks (an enum, a pattern; 422 otherwise); the others are strings.
    func doc(_ summary: String, _ tag: String, created: String? = nil, fields: [BodyField]? = nil, body: JSONValue? = nil,
             path: [String: JSONValue] = [:], query: [QueryDoc] = [], errors: [Int: String] = [:]) -> OpenAPIOperation {
        var operation = OpenAPIOperation(summary: summary, tags: ["supervisor: " + tag])
        if let created { operation.responses[201] = OpenAPIResponse(created) }
        if let body { operation.requestBody = OpenAPIBody(schema: fields.map(BodyField.schema) ?? ["type": "object"], example: body) }
        operation.queryParameters = path.sorted { $0.key < $1.key }.map { OpenAPIParameter(path: $0.key, schema: $0.value) }
            + query.map(\.parameter)
        for (code, text) in errors { operation.responses[code] = OpenAPIResponse(text, schema: JSONSchema.errorDetail) }
        if body != nil { operation.responses[422] = OpenAPIResponse("Validation error naming the field", schema: JSONSchema.validationError) }
        return operation
    }

    func principal(_ request: Request) throws -> Principal {
        do { return try auth.principal(request) } catch let failure as AuthFailure { throw failure.httpError }
    }
}


extension OpenAPIOperation {
    /// This operation with its request body's schema replaced by `schema` (a body ``BodyField`` cannot say).
    func withBody(_ schema: JSONValue) -> OpenAPIOperation {
        var operation = self
        operation.requestBody?.schema = schema
        return operation
    }

    /// This operation with its success documented as `status` (e.g. 201) instead of the default 200.
    func answering(_ status: Int, _ description: String) -> OpenAPIOperation {
        var operation = self
        operation.responses[status] = OpenAPIResponse(description)
        return operation
    }
}
