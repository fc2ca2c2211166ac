import Foundation
import HTTPServer

/// What a module may use of the daemon: storage, auth, clock, logging, the event flow and read-only vitals.
/// Small on purpose; grow it by adding a requirement here, never by handing a module `ArgusDaemon`.
public protocol ModuleHost: Sendable {
    /// The daemon's data directory (the module keeps files under `dataDirectory/<module name>/`).
    var dataDirectory: URL { get }
    var clock: any DaemonClock { get }
    /// The daemon's event flow: ticks, training, model loads, and modules' own events.
    var events: DaemonEvents { get }
    /// The daemon's API-key check (`X-API-Key`, 401). Modules whose spec wants API-key auth use this
    /// middleware, never a copy of the key.
    var apiKeyAuth: APIKeyMiddleware<BasicRequestContext> { get }
    /// The one JWT/RBAC core (users, tokens, JWKS, `require(permission)` middleware), shared by every module.
    var auth: AuthService { get }
    func logger(_ label: String) -> Logger
    /// Opens (creating and migrating) the module's own SQLite database `dataDirectory/modules/<name>.sqlite`,
    /// WAL, one writer, with the same versioned ``Migrator`` as the Argus tables.
    func openDatabase(module: String, migrations: [Migration]) throws -> SQLiteDatabase
    /// A read-only picture of the daemon's subsystems, computed on call.
    func vitals() -> DaemonVitals
    /// The address the main listener binds; a module with its own listener binds the same one.
    var bindHost: String { get }
    /// The port the operator gave a module's own listener (`--orchestration-port`); 0 = ephemeral, nil = off.
    func listenerPort(module: String) -> Int?
    /// A listener on ``bindHost``:`port` with the daemon's HTTP settings (logger, body limit) and its own
    /// worker pool of `workerThreads`, so a busy module never starves the Argus API's workers.
    func makeServer(port: Int, responder: some HTTPResponder, workerThreads: Int) throws -> HTTPServer
}

/// Defaults for hosts without listeners of their own (test hosts): loopback, no module listener.
extension ModuleHost {
    public var bindHost: String { "127.0.0.1" }
    public func listenerPort(module: String) -> Int? { nil }
    public func makeServer(port: Int, responder: some HTTPResponder, workerThreads: Int) throws -> HTTPServer {
        try HTTPServer(configuration: HTTPServer.Configuration(host: bindHost, port: port), responder: responder,
                       workerPool: WorkerPool(threadCount: workerThreads))
    }
}

/// The daemon's subsystems as numbers, for modules that report on the daemon (telemetry console).
public struct DaemonVitals: Sendable {
    public var startedAt: Date
    public var mode: String                 // tft | no_model
    public var modelName: String?
    public var feed: FeedStatus
    public var lastSnapshotAt: Date?
    public var lastInferenceMilliseconds: Double?
    public var serversPredicted: Int
    public var lastInferenceError: String?
    public var training: TrainingService.Status
    public var process: ProcessStats
    public var workerThreads: Int
    public var databasePath: String
}

/// The daemon's implementation of ``ModuleHost``.
struct DaemonModuleHost: ModuleHost {
    let dataDirectory: URL
    let clock: any DaemonClock
    let events: DaemonEvents
    let apiKeyAuth: APIKeyMiddleware<BasicRequestContext>
    let auth: AuthService
    let makeLogger: @Sendable (String) -> Logger
    let vitalsSource: VitalsSource
    let bindHost: String
    let listenerPorts: [String: Int]
    let maxBodyBytes: Int

    init(dataDirectory: URL, clock: any DaemonClock, events: DaemonEvents, apiKeyAuth: APIKeyMiddleware<BasicRequestContext>,
         auth: AuthService, makeLogger: @escaping @Sendable (String) -> Logger, vitals: VitalsSource,
         bindHost: String = "127.0.0.1", listenerPorts: [String: Int] = [:], maxBodyBytes: Int = 2 * 1024 * 1024) {
        self.bindHost = bindHost
        self.listenerPorts = listenerPorts
        self.maxBodyBytes = maxBodyBytes
        self.dataDirectory = dataDirectory
        self.clock = clock
        self.events = events
        self.apiKeyAuth = apiKeyAuth
        self.auth = auth
        self.makeLogger = makeLogger
        self.vitalsSource = vitals
    }

    func logger(_ label: String) -> Logger { makeLogger(label) }
    func vitals() -> DaemonVitals { vitalsSource.read() }
    func listenerPort(module: String) -> Int? { listenerPorts[module] }

    func makeServer(port: Int, responder: some HTTPResponder, workerThreads: Int) throws -> HTTPServer {
        var configuration = HTTPServer.Configuration(host: bindHost, port: port)
        configuration.logger = makeLogger("http")
        configuration.parserLimits.maxBodyBytes = maxBodyBytes
        return try HTTPServer(configuration: configuration, responder: responder, workerPool: WorkerPool(threadCount: workerThreads))
    }

    func openDatabase(module: String, migrations: [Migration]) throws -> SQLiteDatabase {
        let folder = dataDirectory.appendingPathComponent("modules", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try SQLiteDatabase(path: folder.appendingPathComponent("\(module).sqlite").path, migrations: migrations)
    }
}

/// Reaches the daemon for ``DaemonVitals`` once its initialiser has finished (modules are built inside it).
/// Weak, so the daemon → module → host → daemon loop does not keep a stopped daemon alive.
final class VitalsSource: @unchecked Sendable {
    private let lock = NSLock()
    private weak var daemon: ArgusDaemon?
    func attach(_ daemon: ArgusDaemon) { lock.withLock { self.daemon = daemon } }
    func read() -> DaemonVitals {
        guard let daemon = lock.withLock({ self.daemon }) else { preconditionFailure("vitals read without a live daemon") }
        return daemon.vitals()
    }
}

extension ArgusDaemon {
    /// ``DaemonVitals`` for ``ModuleHost/vitals()``.
    func vitals() -> DaemonVitals {
        let snapshot = engine.latest
        return DaemonVitals(startedAt: startedAt, mode: mode, modelName: models.current?.name, feed: store.status(),
                            lastSnapshotAt: snapshot?.generatedAt, lastInferenceMilliseconds: snapshot?.inferenceMilliseconds,
                            serversPredicted: snapshot?.servers.count ?? 0, lastInferenceError: engine.lastError,
                            training: training.status, process: ProcessStats.read(),
                            workerThreads: configuration.workerThreads, databasePath: store.database.path)
    }
}
