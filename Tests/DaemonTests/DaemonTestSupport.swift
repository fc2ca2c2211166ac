import Foundation
import HTTPServer
import TFTCore
import Training
@testable import Daemon

/// A tiny TFT (hidden 8, encoder 24, horizon 12) with random weights, saved as a verified model folder.
enum TinyModel {
    static let encoder = 24
    static let horizon = 12

    static var spec: FeatureSpec {
        var s = FeatureSpec.standard
        s.minEncoderLength = 8
        return s
    }

    static func trainingInfo() throws -> TrainingInfo {
        let json = """
        {"created_at":"2025-01-15T10:00:00Z","data_source":"tests (random weights)","data_start":"","data_end":"",
         "validation_cutoff":"","servers":0,"steps":0,"train_windows":0,"validation_windows":0,"epochs_requested":0,
         "epochs_run":0,"total_epochs":0,"best_epoch":0,"epochs":[],"initial_val_loss":0,"best_val_loss":0,
         "stop_reason":"untrained","duration_seconds":0,"samples_per_second":0,"pipeline_share":0,"seed":1,
         "batch_size":1,"learning_rate":0,"weight_decay":0,"gradient_clip":0,"parameter_count":0}
        """
        return try JSONDecoder().decode(TrainingInfo.self, from: Data(json.utf8))
    }

    /// Writes `tft_model_<stamp>` into `directory` and returns its URL.
    @discardableResult
    static func write(into directory: URL, seed: UInt64 = 1, name: String? = nil) throws -> URL {
        let config = spec.makeConfig(hiddenSize: 8, attentionHeads: 2, hiddenContinuousSize: 4, dropout: 0,
                                     encoderLength: encoder, predictionLength: horizon, profileEmbedding: 2, statusEmbedding: 2)
        let model = try TFTModel(config: config, seed: seed)
        return try ModelFolder.write(model: model, spec: spec, info: trainingInfo(), to: directory,
                                     name: name ?? "tft_model_20250115_10000\(seed % 10)")
    }
}

/// A daemon on an ephemeral port with its own data and models directories.
final class TestDaemon {
    static let key = "test-key-0123456789"
    static let adminPassword = "admin-password-1"
    let dir: TemporaryDirectory
    let daemon: ArgusDaemon
    var port: Int { daemon.port! }
    var modelsDirectory: URL { daemon.configuration.modelsDirectory }

    static func configuration(_ dir: TemporaryDirectory, warmup: Int = 12, window: Int = 64) -> DaemonConfiguration {
        var c = DaemonConfiguration()
        c.port = 0
        c.dataDirectory = dir.url.appendingPathComponent("data")
        c.modelsDirectory = dir.url.appendingPathComponent("models")
        c.rollingWindowSize = window
        c.warmupSteps = warmup
        c.maxFutureSkewSeconds = nil
        c.tickDebounceMilliseconds = 0
        c.apiKey = key
        c.workerThreads = 4
        // The spec's limits (60/30/10 per minute) are tested on their own; other tests post faster.
        c.feedRateLimit = 100_000
        c.predictionsRateLimit = 100_000
        c.adminRateLimit = 100_000
        c.announceKeyFile = false
        // The auth core's first admin, with cheap hashing (600,000 PBKDF2 rounds would slow every daemon start).
        c.auth.passwordIterations = 1_000
        c.auth.bootstrapAdminPassword = adminPassword
        c.orchestrationPort = 0     // parallel test daemons must not race for :1336
        return c
    }

    /// - Parameter withModel: write a tiny model folder into the models directory before starting.
    init(dir: TemporaryDirectory? = nil, withModel: Bool = true, configure: (inout DaemonConfiguration) -> Void = { _ in },
         training: TrainingService.Settings? = nil) throws {
        let dir = try dir ?? TemporaryDirectory()
        self.dir = dir
        var c = Self.configuration(dir)
        configure(&c)
        if withModel && ModelFolders.newest(in: c.modelsDirectory) == nil { try TinyModel.write(into: c.modelsDirectory) }
        var settings = training ?? TrainingService.Settings()
        if training == nil {
            settings.batchSize = 8
            settings.maxBatchesPerEpoch = 4
            settings.threads = 1
        }
        daemon = try ArgusDaemon(configuration: c, logSink: .discard, trainingSettings: settings)
        try daemon.start()
    }

    func stop() { daemon.shutdown() }

    // MARK: HTTP

    struct Reply {
        var status: Int
        var body: [UInt8]
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
        var object: [String: Any] { (json as? [String: Any]) ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func request(_ method: String, _ path: String, body: Data? = nil, key: String? = TestDaemon.key) throws -> Reply {
        var headers = ["Content-Type": "application/json"]
        if let key { headers["X-API-Key"] = key }
        let (status, bytes) = try LoopbackHTTPClient.send(port: port, method: method, path: path, headers: headers,
                                                          body: body.map { Array($0) } ?? [])
        return Reply(status: status, body: bytes)
    }

    func get(_ path: String, key: String? = TestDaemon.key) throws -> Reply { try request("GET", path, key: key) }

    func post(_ path: String, _ body: Data? = nil, key: String? = TestDaemon.key) throws -> Reply {
        try request("POST", path, body: body, key: key)
    }

    /// Posts one record per server for `steps` consecutive steps starting at `start` (one request per step),
    /// with `mem(server, step)` as memory, then waits for the inference runs the ticks triggered.
    func feed(_ servers: [String], steps: Range<Int>, start: Int64 = Feed.base,
              mem: (String, Int) -> Double = { _, i in 50 + Double(i % 7) }) throws {
        for i in steps {
            let epoch = start + Int64(i) * 300
            let records = servers.map { s in
                Feed.record(server: s, timestamp: Feed.iso(epoch), overrides: ["mem_used_pct": mem(s, i)])
            }
            let reply = try post("/feed/data", Feed.body(records))
            precondition(reply.status == 200, "feed failed: \(reply.status) \(reply.text)")
        }
        settle()
    }

    /// Waits for the inference runs every answered POST requested. `drain()` waits at most 2 s for a tick
    /// that is announced after its answer was written; a loaded machine can take longer to get there.
    func settle() {
        _ = eventually { daemon.store.pendingTickNotifications == 0 }
        daemon.engine.drain()
    }
}
