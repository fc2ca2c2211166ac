import Foundation
import HTTPServer

extension ArgusDaemon {
    /// Global middleware, public routes, and each API's routes with its auth and rate limit (spec table).
    func addRoutes(accessLogger: Logger, auth: APIKeyMiddleware<BasicRequestContext>) {
        router.add(middleware: metrics.http.middleware(BasicRequestContext.self))   // outermost: sees every final status
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: AccessLogMiddleware(logger: accessLogger))
        if !configuration.corsOrigins.isEmpty {
            let origins: CORSMiddleware<BasicRequestContext>.AllowedOrigins =
                configuration.corsOrigins.contains("*") ? .any : .list(configuration.corsOrigins)
            router.add(middleware: CORSMiddleware(allowedOrigins: origins))
        }
        ServiceRoutes(daemon: self).addRoutes(to: router)
        MetricsRoutes(metrics: metrics, auth: auth) { [self] in scrapeState() }.addRoutes(to: router)
        FeedRoutes(store: store, logger: logger, metrics: metrics.ingest).addRoutes(to: router.group("/feed", middleware: [
            auth, RateLimitMiddleware(limit: configuration.feedRateLimit, per: .seconds(60)),
        ]))
        let predictions = PredictionRoutes(engine: engine, models: models, store: store)
        predictions.addPredictionRoutes(to: router.group("/predictions", middleware: [
            auth, RateLimitMiddleware(limit: configuration.predictionsRateLimit, per: .seconds(60)),
        ]))
        predictions.addAlertRoutes(to: router.group("/alerts", middleware: [
            auth, RateLimitMiddleware(limit: configuration.predictionsRateLimit, per: .seconds(60)),
        ]))
        CalibrationRoutes(daemon: self).addRoutes(to: router.group("/predictions", middleware: [
            auth, RateLimitMiddleware(limit: configuration.predictionsRateLimit, per: .seconds(60)),
        ]))
        ExplainRoutes(service: explain).addRoutes(to: router.group("", middleware: [auth, RateLimitMiddleware(limit: configuration.predictionsRateLimit, per: .seconds(60))]))
        HistoryRoutes(store: history).addRoutes(to: router.group("", middleware: [auth, RateLimitMiddleware(limit: configuration.predictionsRateLimit, per: .seconds(60))]))
        let admin = AdminRoutes(daemon: self)
        admin.addReadRoutes(to: router.group("/admin", middleware: [auth]))
        admin.addWriteRoutes(to: router.group("/admin", middleware: [
            auth, RateLimitMiddleware(limit: configuration.adminRateLimit, per: .seconds(60)),
        ]))
        DashboardRoutes(push: dashboard).addRoutes(to: router)
        DashboardDataRoutes(store: store, history: history).addRoutes(to: router.group("", middleware: [
            auth, RateLimitMiddleware(limit: configuration.predictionsRateLimit, per: .seconds(60)),
        ]))
        for module in modules { module.addRoutes(to: router) }
        router.addOpenAPIRoutes(info: OpenAPIInfo(title: "Argus", version: "1.0",
                                                  description: "TFT inference daemon: feed, predictions, alerts, admin"))
    }
}

/// `GET /health` and `GET /status` (public).
struct ServiceRoutes: Sendable {
    let daemon: ArgusDaemon

    func addRoutes(to router: Router<BasicRequestContext>) {
        let daemon = self.daemon
        let health = DaemonHealth { [weak daemon] in
            guard let daemon else { return (Array(#"{"status":"unhealthy","running":false}"#.utf8), true) }
            return DaemonHealth.body(databasePath: daemon.store.database.path, databaseOK: daemon.probeCoreDatabase(),
                                     modules: daemon.modules.map { ($0.name, $0.health()) }, now: Date())
        }
        router.get("/health", execution: .eventLoop, docs: OpenAPIOperation(
            summary: "Health check (no authentication): the core's fields, autopack's, and every module's", tags: ["service"],
            responses: [200: OpenAPIResponse("Healthy or degraded", example: [
                "status": "healthy", "service": "tft_inference_daemon", "running": true, "database_identity": "3f9a1c0b7d2e",
                "database": "connected", "qdrant": "disabled", "kill_switches": ["consolidated_metrics": false],
                "version": "1.0.0", "timestamp": "2026-01-10T09:30:00.000Z", "modules": ["autopack": ["status": "healthy"]]]),
                        503: OpenAPIResponse("Unhealthy (the core database failed its query)")])
        ) { _, _ in
            let answer = health.current()
            return .json(bytes: answer.body, status: answer.unhealthy ? .serviceUnavailable : .ok)
        }

        router.get("/status", execution: .eventLoop, docs: OpenAPIOperation(
            summary: "Operational status (no authentication): model, mode, warm-up, servers, uptime", tags: ["service"])
        ) { [daemon] _, _ in .json(bytes: daemon.statusJSON()) }
    }
}

extension ArgusDaemon {
    /// `/status`: the spec's fields first, then what an operator needs to tell what is really running.
    func statusJSON() -> [UInt8] {
        let feed = store.status()
        let model = models.current
        let snapshot = engine.latest
        let trainingStatus = training.status
        var w = JSONWriter(capacity: 1024)
        w.raw("{\"model_loaded\":"); w.bool(model != nil)
        w.raw(",\"model_path\":"); if let model { w.string(model.path.path) } else { w.null() }
        w.raw(",\"rolling_window_size\":"); w.int(feed.rollingWindowSize)
        w.raw(",\"servers_tracked\":"); w.int(feed.serversTracked)
        w.raw(",\"last_prediction\":")
        if let snapshot { w.string(ISO8601Timestamp.format(Int64(snapshot.generatedAt.timeIntervalSince1970))) } else { w.null() }
        w.raw(",\"uptime_seconds\":"); w.int(Int(Date().timeIntervalSince(startedAt)))
        w.raw(",\"warmup_complete\":"); w.bool(feed.warmup.complete)
        // Extras.
        w.raw(",\"mode\":"); w.string(mode)
        w.raw(",\"model_name\":"); if let model { w.string(model.name) } else { w.null() }
        w.raw(",\"model_error\":"); if let failure = models.lastFailure { w.string(failure) } else { w.null() }
        w.raw(",\"warmup_progress\":"); w.string(feed.warmup.progressText)
        w.raw(",\"servers_predicted\":"); w.int(snapshot?.servers.count ?? 0)
        w.raw(",\"tick\":"); w.int(feed.tick)
        w.raw(",\"total_records\":"); w.int(feed.totalRecords)
        w.raw(",\"data_timestamp\":")
        if let ts = feed.fleetStepTimestamp { w.string(ISO8601Timestamp.format(ts)) } else { w.null() }
        w.raw(",\"step_seconds\":"); w.int(feed.stepSeconds)
        w.raw(",\"horizon_steps\":"); if let model { w.int(model.horizon) } else { w.null() }
        w.raw(",\"last_inference_ms\":"); if let snapshot { w.number(snapshot.inferenceMilliseconds, decimals: 2) } else { w.null() }
        w.raw(",\"last_inference_error\":"); if let error = engine.lastError { w.string(error) } else { w.null() }
        w.raw(",\"training_active\":"); w.bool(trainingStatus.active)
        w.raw(",\"api_key_source\":"); w.string(apiKeySource.kind)
        w.raw(",\"band_calibration\":"); writeCalibrationSummary(&w)
        w.raw("}")
        return w.bytes
    }
}

extension ArgusDaemon {
    /// What `/metrics` reads at scrape time (cheap reads of state the daemon keeps anyway).
    func scrapeState() -> ScrapeState {
        ScrapeState(startedAt: startedAt, uptimeSeconds: Date().timeIntervalSince(startedAt), feed: store.status(),
                    modelName: models.current?.name, training: training.status, process: ProcessStats.read(),
                    httpRejections: server.rejections, calibration: calibration?.summary() ?? [], forecastKeys: forecastKeys)
    }
}

extension APIKeySource {
    /// `environment`, `file` or `generated` (the path is not exposed on the public `/status`).
    var kind: String {
        switch self {
        case .environment: "environment"
        case .file: "file"
        case .generated: "generated"
        }
    }
}
