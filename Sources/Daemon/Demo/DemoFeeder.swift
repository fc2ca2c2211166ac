import Foundation
import HTTPServer
import Synchronization
import TFTCore
import Training

/// `argusd demo`: the built-in fleet simulator feeding the daemon over its own `POST /feed/data` (real
/// socket, API key, rate limit, validation, commit — the collector's path).
///
/// 1. Backfill: the simulated fleet's last `backfillSteps` steps before now, in batches of
///    `stepsPerBatch` steps — the fleet is warm and forecast within seconds of start-up. Steps already
///    stored (a restarted demo) are skipped. The last `tickedSteps` of them go one step per tick, each
///    waited for: the online calibration scores a forecast only at the step it was made for, so the
///    forecast quality (served error ÷ the last value's at 5 min, 30 min and 2 h) shows from the start
///    instead of after hours of wall-clock steps (8 h fills in after 8 hours of live feed).
/// 2. Live: every `intervalSeconds` the current step's records are posted with the real time as their
///    timestamp (a 5-s/10-s collector); the simulator advances when the wall clock enters a new step.
/// 3. No model in service: after the backfill a short fresh training is triggered on the backfilled data,
///    and its model is loaded when done, so predictions still appear (DESIGN §1: "predictions within a
///    minute" with the shipped model; a few minutes without one).
public final class DemoFeeder: Sendable {
    public struct Settings: Sendable {
        public var servers = 45
        public var seed: UInt64 = 7
        public var backfillSteps = 300
        public var stepsPerBatch = 20
        /// 2.5 hours of 5-minute steps: 2-hour forecasts are scored six times before the live feed starts.
        public var tickedSteps = 30
        public var intervalSeconds = 10.0
        public var trainIfNoModel = true
        public var trainingEpochs = 3
        public init() {}
    }

    let daemon: ArgusDaemon
    let settings: Settings
    let logger: Logger
    private let stopFlag = Mutex(false)
    private let done = DispatchSemaphore(value: 0)

    public init(daemon: ArgusDaemon, settings: Settings = Settings(), logger: Logger = Logger(label: "demo")) {
        self.daemon = daemon
        self.settings = settings
        self.logger = logger
    }

    public func start() {
        let thread = Thread { [self] in
            do { try run() } catch { logger.error("demo_feed_failed", ["error": .string("\(error)")]) }
            done.signal()
        }
        thread.name = "argus-demo-feed"
        thread.start()
    }

    public func stop() {
        stopFlag.withLock { $0 = true }
        _ = done.wait(timeout: .now() + 15)
    }

    var stopped: Bool { stopFlag.withLock { $0 } }

    func post(_ records: [FleetRecord], timestamp: String? = nil) throws {
        var objects: [[String: Any]] = []
        let encoder = JSONEncoder()
        for r in records {
            var record = r
            if let timestamp { record.timestamp = timestamp }
            guard let object = try JSONSerialization.jsonObject(with: encoder.encode(record)) as? [String: Any] else { continue }
            objects.append(object)
        }
        let body = try JSONSerialization.data(withJSONObject: ["records": objects])
        guard let port = daemon.port else { throw LoopbackHTTPClient.Failure(description: "daemon is not listening") }
        var attempts = 0
        while true {
            let (status, response) = try LoopbackHTTPClient.send(port: port, method: "POST", path: "/feed/data",
                                                                 headers: ["Content-Type": "application/json", "X-API-Key": daemon.apiKey],
                                                                 body: Array(body))
            if status == 429 && attempts < 10 { attempts += 1; Thread.sleep(forTimeInterval: 2); continue }
            guard status == 200 else {
                throw LoopbackHTTPClient.Failure(description: "feed answered \(status): \(String(decoding: response.prefix(300), as: UTF8.self))")
            }
            return
        }
    }

    func run() throws {
        let step = daemon.configuration.stepSeconds
        let now = Int64(Date().timeIntervalSince1970)
        let currentStep = now / step * step
        let start = currentStep - Int64(settings.backfillSteps) * step
        var config = FleetSimulatorConfig(servers: settings.servers, days: nil, stepSeconds: Int(step), startEpoch: start, seed: settings.seed)
        config.emitOfflineRecords = true
        var simulator = try FleetSimulator(config: config)
        let alreadyStored = daemon.store.status().fleetStepTimestamp ?? .min
        var pending: [FleetRecord] = []
        var pendingSteps = 0
        var posted = 0
        var tick = simulator.next()
        let tickedFrom = currentStep - Int64(settings.tickedSteps) * step
        while let t = tick, t.epochSeconds < currentStep, !stopped {
            if t.epochSeconds > alreadyStored {
                pending += t.records
                pendingSteps += 1
                let ticked = t.epochSeconds >= tickedFrom
                if ticked || pendingSteps == settings.stepsPerBatch {
                    try post(pending)
                    posted += pending.count
                    pending.removeAll(keepingCapacity: true)
                    pendingSteps = 0
                    // One step, one tick: wait for the run before the next step is posted.
                    if ticked { daemon.engine.drain() }
                }
            }
            tick = simulator.next()
        }
        if !pending.isEmpty { try post(pending); posted += pending.count }
        logger.info("demo_backfill_done", ["records": .int(posted), "servers": .int(settings.servers),
                                           "steps": .int(settings.backfillSteps), "step_seconds": .int(Int(step))])
        if settings.trainIfNoModel && daemon.models.current == nil {
            do {
                let (id, _) = try daemon.training.start(epochs: settings.trainingEpochs, incremental: false)
                logger.info("demo_training_started", ["training_id": .string(id),
                                                      "why": "no model in service; the demo trains one on the backfilled data"])
            } catch {
                logger.warning("demo_training_not_started", ["error": .string("\(error)")])
            }
        }
        // Live: `tick` is the simulator's current step.
        while let t = tick, !stopped {
            let wall = Date().timeIntervalSince1970
            let wallStep = Int64(wall) / step * step
            if t.epochSeconds < wallStep {
                tick = simulator.next()
                continue
            }
            let stamp = ISO8601Timestamp.format(max(t.epochSeconds, Int64(wall)))
            do { try post(t.records, timestamp: stamp) } catch {
                logger.warning("demo_feed_post_failed", ["error": .string("\(error)")])
            }
            var waited = 0.0
            while waited < settings.intervalSeconds && !stopped {
                Thread.sleep(forTimeInterval: 0.25)
                waited += 0.25
            }
        }
    }
}
