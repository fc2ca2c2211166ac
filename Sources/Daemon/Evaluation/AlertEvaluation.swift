import Foundation
import TFTCore
import Training

/// `argusd evaluate-alerts`: a simulated fleet with injected slow-burn incidents streamed through a real
/// daemon (ephemeral loopback port, temporary data directory) over `POST /feed/data`, one step per batch,
/// with `GET /alerts/active` read after every tick; the alerts are scored against the simulator's ground
/// truth (docs/alert-evaluation.md).
public enum AlertEvaluation {
    public struct Settings: Sendable {
        public var servers = 45
        /// Evaluated days (after the warm-up).
        public var days = 3.0
        /// History backfilled before evaluation starts (fills the model's encoder; default one day).
        public var warmupDays = 1.0
        public var seed: UInt64 = 7
        /// Incidents per server-day (the simulator's default 0.1).
        public var incidentRate = 0.1
        public var stepSeconds = 300
        public var startEpoch: Int64 = 1_735_689_600
        /// Model folder; nil = the newest `tft_model_*` in `modelsDirectory`.
        public var modelPath: URL?
        public var modelsDirectory = URL(fileURLWithPath: "./models")
        public var rollingWindowSize = 2_880
        public var warmupSteps = 100
        public var backfillStepsPerBatch = 24
        public var options = AlertScoringOptions()
        /// The daemon's per-server band calibration and median shrinkage (``DaemonConfiguration``).
        public var bandCalibration = true
        public var medianShrinkage = true
        /// Called after every evaluated step with (done, total).
        public var progress: (@Sendable (Int, Int) -> Void)?
        public init() {}
    }

    public struct Result: Sendable, Codable {
        public var model: String
        public var servers: Int
        public var seed: UInt64
        public var warmupSteps: Int
        public var evaluatedSteps: Int
        public var stepSeconds: Int
        public var incidents: Int
        public var options: AlertScoringOptions
        /// Warning or critical alerts count.
        public var anyAlert: AlertScore
        /// Only critical alerts (a predicted or reached critical crossing) count.
        public var criticalAlert: AlertScore
        /// Steps whose `/alerts/active` did not show the step just posted (should be 0).
        public var staleSteps: Int
        public var wallSeconds: Double
        /// POST + inference run + GET per step (median / p99, ms).
        public var stepMillisecondsMedian: Double
        public var stepMillisecondsP99: Double
    }

    public struct Failure: Error, CustomStringConvertible { public var description: String }

    private struct FeedBody: Encodable { var records: [FleetRecord] }

    public static func run(_ s: Settings) throws -> Result {
        let began = Date()
        let warmup = Int((s.warmupDays * 86_400 / Double(s.stepSeconds)).rounded())
        let evaluated = Int((s.days * 86_400 / Double(s.stepSeconds)).rounded())
        guard evaluated > 0 else { throw Failure(description: "nothing to evaluate (days = \(s.days))") }
        guard warmup >= s.warmupSteps else {
            throw Failure(description: "warm-up of \(warmup) steps is shorter than the daemon's \(s.warmupSteps) warm-up steps")
        }

        // The whole simulation first: its ground truth is complete only after the last tick.
        var config = FleetSimulatorConfig(servers: s.servers, days: Double(warmup + evaluated) * Double(s.stepSeconds) / 86_400,
                                          stepSeconds: s.stepSeconds, startEpoch: s.startEpoch, seed: s.seed)
        config.incidentRate = s.incidentRate
        config.emitOfflineRecords = true
        var simulator = try FleetSimulator(config: config)
        var ticks: [FleetTick] = []
        while let t = simulator.next() { ticks.append(t) }
        let truth = simulator.groundTruth
        let total = min(ticks.count, warmup + evaluated)

        // A real daemon on an ephemeral loopback port with a throw-away data directory.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("argus-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var c = DaemonConfiguration()
        c.host = "127.0.0.1"
        c.port = 0
        c.dataDirectory = dir
        c.modelsDirectory = s.modelsDirectory
        c.modelPath = s.modelPath
        c.stepSeconds = Int64(s.stepSeconds)
        c.rollingWindowSize = s.rollingWindowSize
        c.warmupSteps = s.warmupSteps
        c.maxFutureSkewSeconds = nil
        c.tickDebounceMilliseconds = 0
        c.feedRateLimit = 1_000_000
        c.predictionsRateLimit = 1_000_000
        c.adminRateLimit = 1_000_000
        c.apiKey = "evaluate-alerts-" + UUID().uuidString
        c.announceKeyFile = false
        c.logLevel = "error"
        c.workerThreads = 2
        c.bandCalibration = s.bandCalibration
        c.medianShrinkage = s.medianShrinkage
        c.orchestrationPort = nil   // an evaluation daemon serves the Argus API only
        let daemon = try ArgusDaemon(configuration: c)
        try daemon.start()
        defer { daemon.shutdown() }
        guard let model = daemon.models.current else {
            throw Failure(description: "no model loaded from \(s.modelPath?.path ?? s.modelsDirectory.path)")
        }
        guard let port = daemon.port else { throw Failure(description: "daemon is not listening") }
        let headers = ["Content-Type": "application/json", "X-API-Key": daemon.apiKey]
        let encoder = JSONEncoder()

        func post(_ records: [FleetRecord]) throws {
            let body = try encoder.encode(FeedBody(records: records))
            let (status, reply) = try LoopbackHTTPClient.send(port: port, method: "POST", path: "/feed/data",
                                                              headers: headers, body: Array(body))
            guard status == 200 else {
                throw Failure(description: "POST /feed/data answered \(status): \(String(decoding: reply.prefix(300), as: UTF8.self))")
            }
        }

        // Warm-up backfill, several steps per batch (the demo feeder's way).
        var start = 0
        while start < warmup {
            let stop = min(start + s.backfillStepsPerBatch, warmup)
            try post(ticks[start..<stop].flatMap(\.records))
            start = stop
        }
        daemon.engine.drain()

        // Evaluation: one step per batch, the run it triggers, then the alerts it published.
        var timeline = AlertTimeline(firstStep: warmup)
        var stale = 0
        var stepMillis: [Double] = []
        for step in warmup..<total {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try post(ticks[step].records)
            daemon.engine.drain()
            let expected = ISO8601Timestamp.format(ticks[step].epochSeconds)
            var (stamp, alerts) = try activeAlerts(port: port, key: daemon.apiKey)
            var attempts = 0
            while stamp != expected && attempts < 50 {
                usleep(10_000)
                daemon.engine.drain()
                (stamp, alerts) = try activeAlerts(port: port, key: daemon.apiKey)
                attempts += 1
            }
            if stamp != expected { stale += 1 }
            stepMillis.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            timeline.steps.append(alerts)
            s.progress?(step - warmup + 1, total - warmup)
        }

        var critical = s.options
        critical.levels = ["critical"]
        return Result(model: model.name, servers: s.servers, seed: s.seed, warmupSteps: warmup,
                      evaluatedSteps: timeline.steps.count, stepSeconds: s.stepSeconds, incidents: truth.incidents.count,
                      options: s.options,
                      anyAlert: AlertScorer.score(timeline: timeline, truth: truth, serverCount: s.servers, options: s.options),
                      criticalAlert: AlertScorer.score(timeline: timeline, truth: truth, serverCount: s.servers, options: critical),
                      staleSteps: stale, wallSeconds: Date().timeIntervalSince(began),
                      stepMillisecondsMedian: AlertScorer.percentile(stepMillis, 0.5) ?? 0,
                      stepMillisecondsP99: AlertScorer.percentile(stepMillis, 0.99) ?? 0)
    }

    /// `GET /alerts/active` → (timestamp, alerts).
    static func activeAlerts(port: Int, key: String) throws -> (String, [AlertSample]) {
        let (status, body) = try LoopbackHTTPClient.send(port: port, method: "GET", path: "/alerts/active",
                                                         headers: ["X-API-Key": key])
        guard status == 200 else {
            throw Failure(description: "GET /alerts/active answered \(status): \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
        return try parseActiveAlerts(Data(body))
    }

    /// Parses a `GET /alerts/active` body.
    public static func parseActiveAlerts(_ data: Data) throws -> (String, [AlertSample]) {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "GET /alerts/active: not a JSON object")
        }
        let stamp = object["timestamp"] as? String ?? ""
        let rows = object["alerts"] as? [[String: Any]] ?? []
        let alerts: [AlertSample] = rows.compactMap { r in
            guard let server = r["server_name"] as? String, let level = r["level"] as? String,
                  let m = r["metric"] as? String, let metric = ThresholdMetric(rawValue: m) else { return nil }
            return AlertSample(server: server, metric: metric, level: level,
                               minutesToIssue: (r["minutes_to_issue"] as? NSNumber)?.intValue ?? 0)
        }
        return (stamp, alerts)
    }
}
