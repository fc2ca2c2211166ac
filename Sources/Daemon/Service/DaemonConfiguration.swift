import Foundation

/// Everything `argusd serve` can be told. Resolution order (DESIGN §6): command-line flags over
/// environment variables over these defaults. The table in README.md ("Configuration") lists each knob
/// with its flag and variable.
public struct DaemonConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8000
    /// SQLite database, the generated API key file and training scratch space live here.
    public var dataDirectory = URL(fileURLWithPath: "./data")
    /// Folder that holds `tft_model_*` folders (`/admin/models`, reload without a path, training output).
    public var modelsDirectory = URL(fileURLWithPath: "./models")
    /// The model folder to serve; nil = the newest `tft_model_*` folder in `modelsDirectory`.
    public var modelPath: URL?
    /// Feed step grid in seconds (must equal the model's `step_seconds`).
    public var stepSeconds: Int64 = 300
    /// Steps kept per server (`rolling_window_size`).
    public var rollingWindowSize = 2_880
    /// Steps a server needs before it is forecast (the spec's "100 records").
    public var warmupSteps = 100
    /// Largest accepted clock skew of feed timestamps into the future; nil disables the check.
    public var maxFutureSkewSeconds: Double? = 3_600
    /// Requests per minute per client (spec table): feed, predictions/alerts, admin.
    public var feedRateLimit = 60
    public var predictionsRateLimit = 30
    public var adminRateLimit = 10
    /// Ticks arriving within this window are coalesced into one inference run.
    public var tickDebounceMilliseconds = 200
    /// API key: from `TACHYON_API_KEY`, else the key file, else generated on first start.
    public var apiKey: String?
    /// Key file; default `<data-dir>/api_key`.
    public var apiKeyFile: URL?
    /// Browser origins allowed by CORS ("*" = any); empty = CORS off.
    public var corsOrigins: [String] = []
    /// Minimum log level on stderr.
    public var logLevel = "info"
    /// Servers per forward call; bounds the model's scratch memory on large fleets.
    public var inferenceBatchSize = 64
    /// Per-server online calibration of the forecast bands (``BandCalibrationStore``); `off` serves the raw bands.
    public var bandCalibration = true
    /// With band calibration: serve each server's median chosen by its own recent errors (``BandCalibration``);
    /// risk keeps grading the model's median and its band (``ServerForecast/riskValues(_:)``).
    public var medianShrinkage = true
    /// Largest request body (a 10,000-record feed batch is ~5 MB of JSON). Larger → 413.
    public var maxBodyBytes = 16 * 1024 * 1024
    /// Threads answering blocking handlers.
    public var workerThreads = 8
    /// Servers that get per-server series on `/metrics` (the riskiest first); bounds its cardinality.
    public var metricsTopServers = 20
    /// Write generated/loaded API key notices on stdout (the CLI does; tests do not).
    public var announceKeyFile = true
    /// JWT issuer/audience, token lifetimes, PBKDF2 iterations and the first-run admin password
    /// (`ARGUS_ADMIN_PASSWORD`) of the shared auth core (docs/auth.md).
    public var auth = AuthService.Settings()
    /// The orchestration API's own listener (its documented port 1336, on `host`); 0 = ephemeral, nil = off.
    public var orchestrationPort: Int? = 1336
    /// Retention (docs/retention.md), each relative to the fleet clock: metrics rows (never less than a
    /// window), alert events and environment snapshots, per-server risk samples (never less than a day).
    public var metricsRetentionSeconds: Int64 = 90 * 86_400
    public var historyRetentionSeconds: Int64 = 90 * 86_400
    public var riskSampleRetentionSeconds: Int64 = 35 * 86_400
    /// Wall-clock seconds between two background pruning passes (metrics and history).
    public var retentionIntervalSeconds: Double = 600
    /// Model folders kept after each training: the newest N, plus the served, configured and start-up ones
    /// (``ModelFolderRetention``); only folders the daemon's trainings produced are deleted.
    public var modelFolderRetention = ModelFolderRetention.standard

    public init() {}

    /// Environment variable names, in the README's configuration table.
    public enum Env {
        public static let host = "ARGUS_HOST"
        public static let port = "ARGUS_PORT"
        public static let bandCalibration = "ARGUS_BAND_CALIBRATION"
        public static let medianShrinkage = "ARGUS_MEDIAN_SHRINKAGE"
        public static let dataDirectory = "ARGUS_DATA_DIR"
        public static let modelsDirectory = "ARGUS_MODELS_DIR"
        public static let model = "ARGUS_MODEL"
        public static let stepSeconds = "ARGUS_STEP_SECONDS"
        public static let rollingWindow = "ARGUS_ROLLING_WINDOW"
        public static let warmupSteps = "ARGUS_WARMUP_STEPS"
        public static let maxFutureSkew = "ARGUS_MAX_FUTURE_SKEW_SECONDS"
        public static let feedRate = "ARGUS_RATE_LIMIT_FEED"
        public static let predictionsRate = "ARGUS_RATE_LIMIT_PREDICTIONS"
        public static let adminRate = "ARGUS_RATE_LIMIT_ADMIN"
        public static let debounce = "ARGUS_TICK_DEBOUNCE_MS"
        public static let apiKey = "TACHYON_API_KEY"
        public static let apiKeyFile = "ARGUS_API_KEY_FILE"
        public static let cors = "ARGUS_CORS_ORIGINS"
        public static let logLevel = "ARGUS_LOG_LEVEL"
        public static let workers = "ARGUS_WORKER_THREADS"
        public static let inferenceBatch = "ARGUS_INFERENCE_BATCH"
        public static let metricsTopServers = "ARGUS_METRICS_TOP_SERVERS"
        public static let adminPassword = "ARGUS_ADMIN_PASSWORD"
        public static let orchestrationPort = "ARGUS_ORCHESTRATION_PORT"
        public static let retentionDays = "ARGUS_RETENTION_DAYS"
        public static let historyRetentionDays = "ARGUS_HISTORY_RETENTION_DAYS"
        public static let riskRetentionDays = "ARGUS_RISK_RETENTION_DAYS"
        public static let retentionInterval = "ARGUS_RETENTION_INTERVAL_SECONDS"
        public static let keepModels = "ARGUS_KEEP_MODELS"
    }

    /// A configuration error names the source (flag or variable) and the bad value.
    public struct Problem: Error, CustomStringConvertible {
        public var source: String
        public var value: String
        public var expected: String
        public var description: String { "invalid value '\(value)' for \(source): expected \(expected)" }
    }

    /// Defaults, then `environment`, then `flags` (keys are the long flag names without `--`:
    /// `host`, `port`, `data-dir`, `model`, `models-dir`, `step`, `rolling-window`, `warmup-steps`,
    /// `rate-feed`, `rate-predictions`, `rate-admin`, `debounce-ms`, `api-key-file`, `cors`, `log-level`,
    /// `orchestration-port`, `retention-days`, `history-retention-days`, `risk-retention-days`, `retention-interval`,
    /// `keep-models`).
    public static func resolve(flags: [String: String], environment: [String: String]) throws -> DaemonConfiguration {
        var c = DaemonConfiguration()
        func pick(_ flag: String, _ env: String) -> (String, String)? {
            if let v = flags[flag] { return (v, "--\(flag)") }
            if let v = environment[env], !v.isEmpty { return (v, env) }
            return nil
        }
        func int(_ flag: String, _ env: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let (text, source) = pick(flag, env) else { return nil }
            guard let v = Int(text), range.contains(v) else {
                throw Problem(source: source, value: text, expected: "an integer in \(range.lowerBound)…\(range.upperBound)")
            }
            return v
        }
        if let (v, _) = pick("host", Env.host) { c.host = v }
        if let v = try int("port", Env.port, 0...65_535) { c.port = v }
        if let (v, _) = pick("data-dir", Env.dataDirectory) { c.dataDirectory = URL(fileURLWithPath: v) }
        if let (v, _) = pick("models-dir", Env.modelsDirectory) { c.modelsDirectory = URL(fileURLWithPath: v) }
        if let (v, _) = pick("model", Env.model) { c.modelPath = URL(fileURLWithPath: v) }
        if let v = try int("step", Env.stepSeconds, 1...86_400) { c.stepSeconds = Int64(v) }
        if let v = try int("rolling-window", Env.rollingWindow, 16...1_000_000) { c.rollingWindowSize = v }
        if let v = try int("warmup-steps", Env.warmupSteps, 1...1_000_000) { c.warmupSteps = v }
        if let (text, source) = pick("max-future-skew", Env.maxFutureSkew) {
            if text == "off" || text == "none" { c.maxFutureSkewSeconds = nil }
            else if let v = Double(text), v >= 0 { c.maxFutureSkewSeconds = v }
            else { throw Problem(source: source, value: text, expected: "seconds ≥ 0, or 'off'") }
        }
        if let v = try int("rate-feed", Env.feedRate, 1...1_000_000) { c.feedRateLimit = v }
        if let v = try int("rate-predictions", Env.predictionsRate, 1...1_000_000) { c.predictionsRateLimit = v }
        if let v = try int("rate-admin", Env.adminRate, 1...1_000_000) { c.adminRateLimit = v }
        if let v = try int("debounce-ms", Env.debounce, 0...60_000) { c.tickDebounceMilliseconds = v }
        if let v = try int("workers", Env.workers, 1...256) { c.workerThreads = v }
        if let v = try int("inference-batch", Env.inferenceBatch, 1...100_000) { c.inferenceBatchSize = v }
        if let (text, source) = pick("orchestration-port", Env.orchestrationPort) {
            if text == "off" { c.orchestrationPort = nil }
            else if let v = Int(text), (0...65_535).contains(v) { c.orchestrationPort = v }
            else { throw Problem(source: source, value: text, expected: "a port in 0…65535, or 'off'") }
        }
        if let v = try int("metrics-top-servers", Env.metricsTopServers, 0...10_000) { c.metricsTopServers = v }
        if let v = try int("retention-days", Env.retentionDays, 1...36_500) { c.metricsRetentionSeconds = Int64(v) * 86_400 }
        if let v = try int("history-retention-days", Env.historyRetentionDays, 1...36_500) { c.historyRetentionSeconds = Int64(v) * 86_400 }
        if let v = try int("risk-retention-days", Env.riskRetentionDays, 1...36_500) { c.riskSampleRetentionSeconds = Int64(v) * 86_400 }
        if let v = try int("retention-interval", Env.retentionInterval, 1...86_400) { c.retentionIntervalSeconds = Double(v) }
        if let (text, source) = pick("keep-models", Env.keepModels) {
            if text == "all" { c.modelFolderRetention = .keepAll }
            else if let v = Int(text), (1...100_000).contains(v) { c.modelFolderRetention = ModelFolderRetention(keepNewest: v) }
            else { throw Problem(source: source, value: text, expected: "an integer in 1…100000, or 'all'") }
        }
        if let (text, source) = pick("band-calibration", Env.bandCalibration) {
            guard text == "on" || text == "off" else { throw Problem(source: source, value: text, expected: "on or off") }
            c.bandCalibration = text == "on"
        }
        if let (text, source) = pick("median-shrinkage", Env.medianShrinkage) {
            guard text == "on" || text == "off" else { throw Problem(source: source, value: text, expected: "on or off") }
            c.medianShrinkage = text == "on"
        }
        if let v = environment[Env.apiKey], !v.isEmpty { c.apiKey = v }
        if let v = environment[Env.adminPassword], !v.isEmpty { c.auth.bootstrapAdminPassword = v }
        if let (v, _) = pick("api-key-file", Env.apiKeyFile) { c.apiKeyFile = URL(fileURLWithPath: v) }
        if let (v, _) = pick("cors", Env.cors) {
            c.corsOrigins = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let (v, source) = pick("log-level", Env.logLevel) {
            guard ["debug", "info", "warning", "error"].contains(v) else {
                throw Problem(source: source, value: v, expected: "debug, info, warning or error")
            }
            c.logLevel = v
        }
        if c.warmupSteps > c.rollingWindowSize {
            throw Problem(source: "--warmup-steps", value: String(c.warmupSteps), expected: "at most the rolling window (\(c.rollingWindowSize))")
        }
        return c
    }

    /// The feed store's configuration derived from this one.
    public var feedStoreConfiguration: FeedStoreConfiguration {
        var f = FeedStoreConfiguration()
        f.stepSeconds = stepSeconds
        f.rollingWindowSize = rollingWindowSize
        f.warmupSteps = warmupSteps
        f.maxForwardFillSteps = min(f.maxForwardFillSteps, rollingWindowSize - 1)
        f.validation.maxFutureSkewSeconds = maxFutureSkewSeconds
        f.retentionSeconds = metricsRetentionSeconds
        f.retentionIntervalSeconds = retentionIntervalSeconds
        return f
    }

    /// The history store's configuration derived from this one (its retention).
    public var historyConfiguration: HistoryConfiguration {
        var h = HistoryConfiguration()
        h.retentionSeconds = historyRetentionSeconds
        h.riskSampleRetentionSeconds = riskSampleRetentionSeconds
        h.retentionIntervalSeconds = retentionIntervalSeconds
        return h
    }

    /// Resolved key file location.
    public var resolvedAPIKeyFile: URL { apiKeyFile ?? dataDirectory.appendingPathComponent("api_key") }
}
