import Foundation
import HTTPServer
import Synchronization
import TFTCore
import Training

/// The Argus daemon: feed store, model registry, inference engine, training service and the HTTP API,
/// composed from a ``DaemonConfiguration``.
///
/// ```swift
/// let daemon = try ArgusDaemon(configuration: config)
/// try daemon.start()                 // binds, loads the model, publishes predictions from restored windows
/// daemon.runUntilTerminationSignal() // SIGINT/SIGTERM → graceful shutdown
/// ```
public final class ArgusDaemon: Sendable {
    public let configuration: DaemonConfiguration
    public let store: FeedStore
    public let models: ModelRegistry
    public let engine: InferenceEngine
    /// Per-server band calibration (nil when `bandCalibration` is off).
    public let calibration: BandCalibrationStore?
    public let training: TrainingService
    public let router: Router<BasicRequestContext>
    public let server: HTTPServer
    public let apiKeySource: APIKeySource
    public let startedAt: Date
    public let history: HistoryStore
    public let explain: ExplainService
    /// The event flow every consumer subscribes to (ticks, training, model loads, module events).
    public let events: DaemonEvents
    /// The lighter APIs (``ModuleCatalog``), started after the main server listens.
    public let modules: [any DaemonModule]
    /// `GET /metrics`: request and feed counters, per-tick histograms (docs/metrics.md).
    public let metrics: DaemonMetrics
    /// Users, JWTs and RBAC for every module (`<data-dir>/auth/`).
    public let auth: AuthService
    /// Live pushes to the built-in dashboard (`/dashboard/ws`).
    public let dashboard: DashboardPush
    let logger: Logger
    let apiKey: String
    private let stopped = Mutex(false)

    /// Opens the data directory (migrating and restoring the feed), resolves the API key and builds the
    /// routes. Nothing listens until ``start()``.
    public init(configuration: DaemonConfiguration, loader: any ModelFolderLoading = VerifiedModelFolderLoader(),
                logSink: Logger.Sink = .standardError, trainingSettings: TrainingService.Settings = TrainingService.Settings(),
                clock: any DaemonClock = SystemClock()) throws {
        self.configuration = configuration
        let level: Logger.Level = switch configuration.logLevel {
        case "debug": .debug
        case "warning": .warning
        case "error": .error
        default: .info
        }
        @Sendable func logger(_ label: String) -> Logger { Logger(label: label, minimumLevel: level, sink: logSink) }
        self.logger = logger("argusd")
        startedAt = Date()
        events = DaemonEvents()
        let databasePath = configuration.dataDirectory.appendingPathComponent(configuration.feedStoreConfiguration.databaseFileName).path
        func opening<T>(_ body: () throws -> T) throws -> T {
            do { return try body() } catch { throw DatabaseStartupError(path: databasePath, error: error) ?? error }
        }
        let store = try opening { try FeedStore.open(dataDirectory: configuration.dataDirectory, configuration: configuration.feedStoreConfiguration) }
        self.store = store
        let (key, source) = try APIKeyProvider.resolve(configured: configuration.apiKey, keyFile: configuration.resolvedAPIKeyFile)
        apiKey = key
        apiKeySource = source
        models = ModelRegistry(loader: loader, stepSeconds: configuration.stepSeconds)
        calibration = configuration.bandCalibration ? try BandCalibrationStore(dataDirectory: configuration.dataDirectory, shrinkMedian: configuration.medianShrinkage,
                                                                                   forgetAfterSteps: configuration.rollingWindowSize) : nil
        engine = InferenceEngine(store: store, models: models, debounceMilliseconds: configuration.tickDebounceMilliseconds,
                                 maxBatch: configuration.inferenceBatchSize, calibration: calibration,
                                 logger: logger("inference"))
        let models = self.models, engine = self.engine, daemonLogger = self.logger, events = self.events
        training = try opening { try TrainingService(database: store.database, models: models, modelsDirectory: configuration.modelsDirectory,
                                       settings: trainingSettings, logger: logger("training"), events: events,
                                       folderRetention: configuration.modelFolderRetention, configuredModel: configuration.modelPath) { folder in
            do {
                let loaded = try models.load(folder: folder)
                daemonLogger.info("model_loaded", ["model": .string(loaded.name), "reason": "training completed"])
                engine.runNow()
            } catch {
                daemonLogger.error("model_load_failed", ["path": .string(folder.path), "error": .string("\(error)")])
            }
        } }
        router = Router(context: BasicRequestContext.self, logger: logger("router"))
        metrics = DaemonMetrics(topServers: configuration.metricsTopServers) { [weak router] in router?.routes ?? [] }
        var serverConfiguration = HTTPServer.Configuration(host: configuration.host, port: configuration.port)
        serverConfiguration.logger = logger("http")
        // A full feed batch (10,000 records, ~500 bytes each as JSON) must fit; the HTTP default is 2 MiB.
        serverConfiguration.parserLimits.maxBodyBytes = configuration.maxBodyBytes
        server = try HTTPServer(configuration: serverConfiguration, responder: router,
                                workerPool: WorkerPool(threadCount: configuration.workerThreads))
        store.setTickHandler { [engine] event in engine.tick(event) }
        let history = try opening { try HistoryStore(database: store.database, configuration: configuration.historyConfiguration) }
        self.history = history
        explain = ExplainService(store: store, models: models, engine: engine)
        engine.onSnapshot { [history] snapshot in _ = try? history.record(HistoryTick(snapshot: snapshot)) }
        engine.onSnapshot { [events] snapshot in events.publish(.tick(snapshot)) }
        models.onLoad { [events] model in events.publish(.modelLoaded(name: model.name, path: model.path.path)) }
        metrics.start(events: events)
        let apiKeyAuth = APIKeyMiddleware<BasicRequestContext>(keys: [apiKey])
        dashboard = DashboardPush(events: events, auth: apiKeyAuth, logger: logger("dashboard"))
        let vitals = VitalsSource()
        auth = try AuthService(directory: configuration.dataDirectory.appendingPathComponent("auth", isDirectory: true),
                               clock: clock, settings: configuration.auth, events: events, logger: logger("auth"))
        let host = DaemonModuleHost(dataDirectory: configuration.dataDirectory, clock: clock, events: events,
                                    apiKeyAuth: apiKeyAuth, auth: auth, makeLogger: { logger($0) }, vitals: vitals,
                                    bindHost: configuration.host,
                                    listenerPorts: configuration.orchestrationPort.map { ["orchestration": $0] } ?? [:],
                                    maxBodyBytes: configuration.maxBodyBytes)
        modules = try ModuleCatalog.make(host: host)
        vitals.attach(self)
        addRoutes(accessLogger: logger("access"), auth: apiKeyAuth)
    }

    /// The bound port (after ``start()``).
    public var port: Int? { server.port }

    /// What `/status` calls the mode: `tft` when a verified model is serving, `no_model` otherwise.
    public var mode: String { models.current == nil ? "no_model" : "tft" }

    /// Loads the model (explicit `--model` must load; otherwise the newest folder in `models/` is tried and
    /// the daemon starts without a model if none loads), starts listening and retention, and requests a
    /// first inference run over the restored windows.
    public func start() throws {
        let abandoned = ModelFolder.removeAbandonedTemporaries(in: configuration.modelsDirectory)
        if !abandoned.isEmpty {
            logger.warning("abandoned_model_folders_removed", ["folders": .array(abandoned.map { .string($0) }),
                                                               "cause": "a process stopped while writing a model (kill -9 during training)"])
        }
        if let explicit = configuration.modelPath {
            let loaded = try models.load(folder: explicit)
            logger.info("model_loaded", ["model": .string(loaded.name), "path": .string(loaded.path.path)])
        } else if let newest = ModelFolders.newest(in: configuration.modelsDirectory) {
            do {
                let loaded = try models.load(folder: newest)
                logger.info("model_loaded", ["model": .string(loaded.name), "path": .string(loaded.path.path)])
            } catch {
                logger.error("model_load_failed", ["path": .string(newest.path), "error": .string("\(error)"),
                                                   "consequence": "serving without a model: feed is accepted, predictions answer 503"])
            }
        } else {
            logger.warning("no_model", ["models_dir": .string(configuration.modelsDirectory.path),
                                        "consequence": "serving without a model: feed is accepted, predictions answer 503"])
        }
        dashboard.start(latestSnapshot: { [engine] in engine.latest }, trainingStatus: { [training] in training.status })
        try server.start()
        for module in modules { try module.start() }
        store.startRetention()
        history.startRetention()
        // One line that answers "what is running, where, and how do I reach it" (docs/deploy.md).
        let base = "http://\(browsableHost):\(server.port ?? configuration.port)"
        let keyFile: JSONValue = switch apiKeySource {
        case .environment: .null
        case .file(let path), .generated(let path): .string(path)
        }
        logger.info("daemon_started", ["host": .string(configuration.host), "port": .int(server.port ?? configuration.port),
                                       "listen": .string(base), "dashboard": .string(base + "/dashboard"),
                                       "metrics": .string(base + "/metrics"),
                                       "model": models.current.map { .string($0.name) } ?? .null,
                                       "data_dir": .string(configuration.dataDirectory.path), "mode": .string(mode),
                                       "api_key_source": .string(apiKeySource.description), "api_key_file": keyFile,
                                       "servers_tracked": .int(store.status().serversTracked)])
        engine.requestRun()
    }

    /// The listen host as a browser can use it: a wildcard address (0.0.0.0, ::) becomes this machine's name.
    var browsableHost: String {
        switch configuration.host {
        case "0.0.0.0", "::", "": ProcessInfo.processInfo.hostName
        case let host where host.contains(":"): "[\(host)]"
        case let host: host
        }
    }

    /// Stops accepting requests, cancels training, waits for inference, closes the database.
    public func shutdown() {
        let first = stopped.withLock { s -> Bool in
            if s { return false }
            s = true
            return true
        }
        guard first else { return }
        server.shutdown(gracePeriod: .seconds(5))
        for module in modules.reversed() { module.stop() }
        metrics.stop()
        auth.close()
        dashboard.stop()
        store.setTickHandler(nil)
        history.stopRetention()
        _ = training.cancel(wait: 30)
        engine.drain()
        calibration?.close()
        store.close()
        logger.info("daemon_stopped")
    }

    /// Blocks the caller until SIGINT or SIGTERM.
    public static func waitForTerminationSignal() { TerminationSignal.wait() }

    /// Blocks until SIGINT/SIGTERM, then shuts down gracefully.
    public func runUntilTerminationSignal() {
        TerminationSignal.wait()
        logger.info("termination_signal")
        shutdown()
    }
}
