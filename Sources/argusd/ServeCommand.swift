import Daemon
import Foundation

/// `argusd serve`: the daemon (feed, per-tick TFT forecasts, risk, alerts, admin, HTTP API).
enum ServeCommand: Command {
    static let name = "serve"
    static let summary = "Run the daemon: feed ingestion, forecasts, risk, alerts and the HTTP API"
    static let usage = "argusd serve [--host 127.0.0.1] [--port 8000] [--data-dir ./data] [--model DIR]"
    static let options = [
        OptionSpec("host", value: "ADDR", default: "127.0.0.1", "Address to listen on (env ARGUS_HOST)."),
        OptionSpec("port", value: "N", default: "8000", "TCP port (env ARGUS_PORT)."),
        OptionSpec("data-dir", value: "DIR", default: "./data", "SQLite database and generated API key (env ARGUS_DATA_DIR)."),
        OptionSpec("model", value: "DIR", "Model folder to serve (env ARGUS_MODEL; default: the newest in --models-dir)."),
        OptionSpec("models-dir", value: "DIR", default: "./models", "Model folders: listing, reload, training output (env ARGUS_MODELS_DIR)."),
        OptionSpec("rolling-window", value: "N", default: "2880", "Steps kept per server (env ARGUS_ROLLING_WINDOW)."),
        OptionSpec("warmup-steps", value: "N", default: "100", "Steps a server needs before it is forecast (env ARGUS_WARMUP_STEPS)."),
        OptionSpec("step", value: "SECONDS", default: "300", "Feed step grid; must equal the model's (env ARGUS_STEP_SECONDS)."),
        OptionSpec("max-future-skew", value: "SECONDS", default: "3600", "Reject timestamps further ahead; 'off' disables (env ARGUS_MAX_FUTURE_SKEW_SECONDS)."),
        OptionSpec("rate-feed", value: "N", default: "60", "POST /feed/data per minute per client (env ARGUS_RATE_LIMIT_FEED)."),
        OptionSpec("rate-predictions", value: "N", default: "30", "GET /predictions/*, /alerts/* per minute (env ARGUS_RATE_LIMIT_PREDICTIONS)."),
        OptionSpec("rate-admin", value: "N", default: "10", "POST /admin/* per minute (env ARGUS_RATE_LIMIT_ADMIN)."),
        OptionSpec("debounce-ms", value: "MS", default: "200", "Coalesce ticks arriving within this window (env ARGUS_TICK_DEBOUNCE_MS)."),
        OptionSpec("api-key-file", value: "FILE", default: "<data-dir>/api_key", "Key file (env ARGUS_API_KEY_FILE); TACHYON_API_KEY wins."),
        OptionSpec("cors", value: "ORIGINS", "Comma-separated browser origins, or * (env ARGUS_CORS_ORIGINS)."),
        OptionSpec("log-level", value: "LEVEL", default: "info", "debug, info, warning or error (env ARGUS_LOG_LEVEL)."),
        OptionSpec("workers", value: "N", default: "8", "Threads for blocking handlers (env ARGUS_WORKER_THREADS)."),
        OptionSpec("inference-batch", value: "N", default: "64", "Servers per TFT forward call (env ARGUS_INFERENCE_BATCH)."),
        OptionSpec("metrics-top-servers", value: "N", default: "20", "Riskiest servers given per-server series on /metrics (env ARGUS_METRICS_TOP_SERVERS)."),
        OptionSpec("band-calibration", value: "on|off", default: "on", "Per-server online calibration of the forecast bands, kept in calibration.sqlite; a reload or fine-tune keeps each server's served width; GET /predictions/calibration shows each server's served error ÷ the last value's (env ARGUS_BAND_CALIBRATION)."),
        OptionSpec("median-shrinkage", value: "on|off", default: "on", "With band calibration: serve each server's median from the candidate (the model shrunk toward the last value, a smoothed level, the median of the last 48 values, a damped trend) with the lowest recent error on that server (the last value until another proves itself over a day); risk and alerts keep grading the model's own median (env ARGUS_MEDIAN_SHRINKAGE)."),
        OptionSpec("orchestration-port", value: "N|off", default: "1336", "Orchestration API listener on --host; 0 = any free port (env ARGUS_ORCHESTRATION_PORT)."),
        OptionSpec("retention-days", value: "N", default: "90", "Metrics rows kept, in fleet-clock days; never less than the rolling window (env ARGUS_RETENTION_DAYS)."),
        OptionSpec("history-retention-days", value: "N", default: "90", "Alert events and environment snapshots kept (env ARGUS_HISTORY_RETENTION_DAYS)."),
        OptionSpec("risk-retention-days", value: "N", default: "35", "Per-server risk samples kept (env ARGUS_RISK_RETENTION_DAYS)."),
        OptionSpec("retention-interval", value: "SECONDS", default: "600", "Wall-clock seconds between pruning passes (env ARGUS_RETENTION_INTERVAL_SECONDS)."),
        OptionSpec("keep-models", value: "N|all", default: "5", "After each training, delete the folders older than the N newest that the daemon's own trainings wrote; never the served, --model or start-up one (env ARGUS_KEEP_MODELS)."),
    ]
    static let discussion = """
    Configuration: flags over environment variables over defaults. Logs are JSON lines on stderr.
    API key: TACHYON_API_KEY if set, else the key file; with neither, a random key is generated on first
    start (OpenSSL RAND_bytes), written to <data-dir>/api_key with mode 0600, and its location printed.
    /health and /status need no key. SIGINT/SIGTERM shut down gracefully.
    """
    static let examples = [
        "argusd serve",
        "argusd serve --port 9000 --data-dir /var/lib/argus --model models/tft_model_20250115_103000",
        "TACHYON_API_KEY=secret argusd serve --host 0.0.0.0",
    ]

    static func configuration(_ options: ParsedOptions, defaults: [String: String] = [:]) throws -> DaemonConfiguration {
        var flags = defaults
        for (k, v) in options.values { flags[k] = v }
        do {
            return try DaemonConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        } catch let problem as DaemonConfiguration.Problem {
            throw CLIError.invalidValue(option: problem.source.replacingOccurrences(of: "--", with: ""), command: options.command,
                                        value: problem.value, expected: problem.expected)
        }
    }

    static func announce(_ daemon: ArgusDaemon) {
        let port = daemon.port ?? daemon.configuration.port
        let base = "http://\(daemon.configuration.host):\(port)"
        var lines = ["argusd listening on \(base)  (mode: \(daemon.mode); docs: \(base)/docs; dashboard: \(base)/dashboard)"]
        switch daemon.apiKeySource {
        case .environment:
            lines.append("API key: from TACHYON_API_KEY")
        case .file(let path):
            lines.append("API key: read from \(path)   e.g. curl -H \"X-API-Key: $(cat \(path))\" \(base)/predictions/current")
        case .generated(let path):
            lines.append("API key: generated on first start and stored in \(path) (mode 0600)")
            lines.append("         e.g. curl -H \"X-API-Key: $(cat \(path))\" \(base)/predictions/current")
        }
        printNow(lines.joined(separator: "\n"))
    }

    static func run(_ options: ParsedOptions) throws -> Int32 {
        let configuration = try configuration(options)
        let daemon = try ArgusDaemon(configuration: configuration)
        try daemon.start()
        announce(daemon)
        daemon.runUntilTerminationSignal()
        return 0
    }
}

/// Prints a line to stdout immediately (stdout may be a pipe, where `print` would buffer).
func printNow(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
