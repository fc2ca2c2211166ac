import Daemon
import Foundation

/// `argusd demo`: `serve` plus the built-in fleet simulator feeding it over its own ingest path.
enum DemoCommand: Command {
    static let name = "demo"
    static let summary = "Run the daemon with a built-in simulated fleet feeding it live"
    static let usage = "argusd demo [--host 127.0.0.1] [--port 8000] [--data-dir ./data/demo] [--model DIR]"
    static let options = ServeCommand.options.filter { $0.name != "data-dir" } + [
        OptionSpec("data-dir", value: "DIR", default: "./data/demo", "Demo database (kept apart from real data)."),
        OptionSpec("servers", value: "N", default: "45", "Simulated servers."),
        OptionSpec("seed", value: "N", default: "7", "Simulator seed."),
        OptionSpec("backfill-steps", value: "N", default: "300", "History posted at start-up (steps before now)."),
        OptionSpec("interval", value: "SECONDS", default: "10", "Live posting interval."),
    ]
    static let discussion = """
    Starts the daemon exactly like 'serve', then a simulated fleet posts to POST /feed/data with the
    daemon's API key: first the last --backfill-steps steps (so every server is warm and forecast within
    seconds), then the current step every --interval seconds with real timestamps. Without a model in
    --models-dir, the demo trains a small one on the backfilled data first (a few minutes).
    """
    static let examples = ["argusd demo", "argusd demo --servers 200 --port 9000"]

    static func run(_ options: ParsedOptions) throws -> Int32 {
        let configuration = try ServeCommand.configuration(options, defaults: ["data-dir": "./data/demo"])
        var settings = DemoFeeder.Settings()
        settings.servers = try options.int("servers", default: 45, in: 1...10_000)
        settings.seed = try options.uint64("seed", default: 7)
        settings.backfillSteps = try options.int("backfill-steps", default: 300, in: 1...100_000)
        settings.intervalSeconds = try options.double("interval", default: 10, in: 0.5...3_600)
        let daemon = try ArgusDaemon(configuration: configuration)
        try daemon.start()
        ServeCommand.announce(daemon)
        printNow("demo: simulating \(settings.servers) servers; backfilling \(settings.backfillSteps) steps, then posting every \(settings.intervalSeconds) s")
        printNow(dashboardHint(daemon))
        let feeder = DemoFeeder(daemon: daemon, settings: settings)
        feeder.start()
        ArgusDaemon.waitForTerminationSignal()
        feeder.stop()
        daemon.shutdown()
        return 0
    }

    /// The demo's last line: where to look and the key the page asks for.
    static func dashboardHint(_ daemon: ArgusDaemon) -> String {
        let url = "http://\(daemon.configuration.host):\(daemon.port ?? daemon.configuration.port)/dashboard"
        switch daemon.apiKeySource {
        case .environment: return "Open \(url) and paste the key from TACHYON_API_KEY when it asks. Ctrl-C stops the demo."
        case .file(let path), .generated(let path):
            return "Open \(url) and paste the API key from \(path) (cat \(path)) when it asks. Ctrl-C stops the demo."
        }
    }
}
