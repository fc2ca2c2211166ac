import Foundation
import HTTPServer
import Synchronization

/// The autopack control plane (`spec/autopack-api.md`): runs and phases as persisted state machines fed by
/// an external executor, approvals, governance, artifacts, dashboards, storage scans. State lives in
/// `<data-dir>/modules/autopack.sqlite` and the blobs in `<data-dir>/autopack/blobs/`.
final class AutopackModule: DaemonModule {
    let name = "autopack"
    let store: AutopackStore
    let settings: AutopackSettings
    let sweeper: ApprovalSweeper
    private let daemonKey: APIKeyMiddleware<BasicRequestContext>
    private let auth: AuthService
    private let state = Mutex((started: false, stopped: false))

    init(host: any ModuleHost, settings: AutopackSettings) throws {
        self.settings = settings
        daemonKey = host.apiKeyAuth
        auth = host.auth
        let database = try host.openDatabase(module: "autopack", migrations: AutopackSchema.migrations)
        let events = host.events
        store = try AutopackStore(database: database, folder: host.dataDirectory.appendingPathComponent("autopack", isDirectory: true),
                                  clock: host.clock, settings: settings) { type, payload in
            events.publish(.module(module: "autopack", type: type, payload: payload))
        }
        sweeper = ApprovalSweeper(store: store, logger: host.logger("autopack"))
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        let ctx = AutopackRouteContext(store: store, settings: settings, daemonKey: daemonKey, auth: auth)
        RunRoutes(ctx: ctx).addRoutes(to: router)
        PhaseRoutes(ctx: ctx).addRoutes(to: router)
        ArtifactRoutes(ctx: ctx).addRoutes(to: router)
        ApprovalRoutes(ctx: ctx).addRoutes(to: router)
        AutopackDashboardRoutes(ctx: ctx).addRoutes(to: router)
        StorageRoutes(ctx: ctx).addRoutes(to: router)
        AuthRoutes(ctx: ctx).addRoutes(to: router)
        OAuthRoutes(ctx: ctx, refresher: OfflineOAuthRefresher()).addRoutes(to: router)
        AutopackHealthRoutes(module: self).addRoutes(to: router)
    }

    func start() throws {
        try store.expireApprovals()
        sweeper.start()
        state.withLock { $0.started = true }
    }

    func stop() {
        let first = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        guard first else { return }
        sweeper.stop()
        store.database.close()
    }

    var isReady: Bool { state.withLock { $0.started && !$0.stopped } }

    /// First 12 hex characters of the SHA-256 of the database path (the original hashed its DATABASE_URL):
    /// tells two deployments' databases apart without revealing where they live.
    var databaseIdentity: String { String(ArtifactStore.sha256Hex(Array(store.database.path.utf8)).prefix(12)) }

    /// A real query against the module's database: its schema version and run count.
    func probeDatabase() -> (ok: Bool, schemaVersion: Int, runs: Int, pendingApprovals: Int, error: String?) {
        do {
            return try store.read { c in
                (true, Int(try c.pragma("user_version")?.int64 ?? 0), Int(try c.scalar("SELECT COUNT(*) FROM runs")?.int64 ?? 0),
                 Int(try c.scalar("SELECT COUNT(*) FROM approvals WHERE status = 'pending'")?.int64 ?? 0), nil)
            }
        } catch {
            return (false, 0, 0, 0, String(describing: error))
        }
    }

    func health() -> ModuleHealth {
        let probe = probeDatabase()
        let tasks = sweeper.health()
        let status = !probe.ok ? "unhealthy" : tasks.healthy ? "healthy" : "degraded"
        return ModuleHealth(status: status, details: [
            ("database", .string(probe.ok ? "connected" : "error")), ("database_identity", .string(databaseIdentity)),
            ("schema_version", .int(probe.schemaVersion)), ("runs", .int(probe.runs)),
            ("pending_approvals", .int(probe.pendingApprovals)), ("background_tasks", tasks.json),
        ], rootFields: [
            ("kill_switches", .object(settings.killSwitches.map { ($0.0, .bool($0.1)) })),
            ("version", .string(settings.version)),
        ])
    }
}

/// Expires timed-out approval requests every `interval` seconds on a background timer, and reports its own
/// health the original's way: unhealthy when it has not run for 300 s or failed 3 times in a row.
///
/// `@unchecked Sendable`: the timer is only touched under `lock`.
final class ApprovalSweeper: @unchecked Sendable {
    struct Health {
        var healthy: Bool
        var json: JSONValue
    }

    let store: AutopackStore
    let logger: Logger
    let interval: Double
    private let lock = NSLock()
    private var timer: DispatchSourceTimer?
    private let record = Mutex((lastRun: UInt64?.none, failures: 0, expired: 0))

    init(store: AutopackStore, logger: Logger, interval: Double = 30) {
        self.store = store
        self.logger = logger
        self.interval = interval
    }

    func start() {
        let source = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "autopack.approval-sweeper", qos: .utility))
        source.schedule(deadline: .now(), repeating: interval)
        source.setEventHandler { [weak self] in self?.sweep() }
        lock.withLock { timer = source }
        source.resume()
    }

    func stop() {
        lock.withLock {
            timer?.cancel()
            timer = nil
        }
    }

    func sweep() {
        do {
            let expired = try store.expireApprovals()
            record.withLock { $0 = (DispatchTime.now().uptimeNanoseconds, 0, $0.expired + expired) }
        } catch {
            let failures = record.withLock { r -> Int in r.failures += 1; return r.failures }
            logger.error("approval_sweep_failed", ["error": .string(String(describing: error)), "consecutive_failures": .int(failures)])
        }
    }

    func health() -> Health {
        let r = record.withLock { $0 }
        let age = r.lastRun.map { Double(DispatchTime.now().uptimeNanoseconds - $0) / 1e9 }
        let healthy = (age ?? 0) <= 300 && r.failures < 3
        return Health(healthy: healthy, json: .object([("approval_timeout_sweeper", .object([
            ("healthy", .bool(healthy)), ("interval_seconds", .double(interval)),
            ("seconds_since_last_run", age.map { .double(($0 * 10).rounded() / 10) } ?? .null),
            ("consecutive_failures", .int(r.failures)), ("approvals_expired", .int(r.expired)),
        ]))]))
    }
}

/// `/health/database`, `/health/tasks`, `/ready` (public; `/health` itself is the daemon's merged handler).
struct AutopackHealthRoutes {
    let module: AutopackModule

    func addRoutes(to router: Router<BasicRequestContext>) {
        let module = self.module
        router.get("/health/database", docs: AutopackRouteContext.docs("Autopack database check (a real query)", "health",
                                                                      responses: [503: "Database unreachable"])) { _, _ in
            let probe = module.probeDatabase()
            return .json(.object([("status", .string(probe.ok ? "healthy" : "unhealthy")), ("database", .string(probe.ok ? "connected" : "error")),
                                  ("database_identity", .string(module.databaseIdentity)), ("schema_version", .int(probe.schemaVersion)),
                                  ("runs", .int(probe.runs)), ("pending_approvals", .int(probe.pendingApprovals))]),
                         status: probe.ok ? .ok : .serviceUnavailable)
        }
        router.get("/health/tasks", docs: AutopackRouteContext.docs("Background tasks (approval timeout sweeper)", "health",
                                                                   responses: [503: "A task is unhealthy"])) { _, _ in
            let health = module.sweeper.health()
            return .json(.object([("status", .string(health.healthy ? "healthy" : "unhealthy")), ("tasks", health.json)]),
                         status: health.healthy ? .ok : .serviceUnavailable)
        }
        router.get("/ready", docs: AutopackRouteContext.docs("Ready once started and the runs/phases/approvals tables exist", "health",
                                                            responses: [503: "Not ready"])) { _, _ in
            let tables = (try? module.store.read { c in
                try c.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'phases', 'approvals')") { $0.string(0) ?? "" }
            }) ?? []
            let ready = module.isReady && tables.count == 3
            return .json(.object([("ready", .bool(ready)), ("tables", .array(tables.sorted().map { .string($0) }))]),
                         status: ready ? .ok : .serviceUnavailable)
        }
    }
}
