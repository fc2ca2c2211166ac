import Foundation
import HTTPServer
import Synchronization
import TFTCore
import Training

/// Background (re)training on the data the daemon has collected, one job at a time.
///
/// - Data: every stored step of every server (`metrics` table), put on the model's grid by the Training
///   library's `SeriesAccumulator` (same gap rules as the live windows).
/// - Model: incremental = warm start from the model in service (its weights, config and normalizers);
///   otherwise a fresh model of the same shape (or the default shape when nothing is loaded).
/// - Training: `Training.TrainingRun` (AdamW, clipping, validation split by time, early stopping),
///   progress callback → `/admin/training-status`, cancellation token checked before every step.
/// - Output: a new `models/tft_model_…` folder written atomically by `ModelFolder.write` (temporary
///   folder + rename): a cancelled or failed job leaves no folder. A completed job's folder is then
///   loaded through the same verified path as `/admin/reload-model` (when `autoReload`).
/// - Record: one row per run in `training_runs` (`/admin/training-stats`).
public final class TrainingService: Sendable {
    public struct Settings: Sendable {
        public var batchSize = 64
        /// Training batches per epoch at most (a fresh random subset each epoch); bounds a job's time.
        public var maxBatchesPerEpoch: Int? = 100
        public var learningRate: Float = 1e-3
        public var threads = 1
        /// Load the produced model into service when the job completes.
        public var autoReload = true
        public var seed: UInt64 = 42
        /// Fresh models use this shape when no model is in service.
        public var defaultShape = ModelShape()
        public init() {}
    }

    public enum StartError: Error, CustomStringConvertible {
        case alreadyRunning(id: String)
        case insufficientData(String)
        case invalid(String)
        public var description: String {
            switch self {
            case .alreadyRunning(let id): "Training \(id) is already running"
            case .insufficientData(let why): why
            case .invalid(let why): why
            }
        }
    }

    /// What `/admin/training-status` shows.
    public struct Status: Sendable {
        public var active: Bool
        public var id: String?
        public var state: String          // idle | preparing | running | completed | cancelled | failed
        public var epoch = 0, totalEpochs = 0, step = 0, stepsPerEpoch = 0
        public var percent = 0.0
        public var etaSeconds: Double?
        public var loss: Double?
        public var validationLoss: Double?
        public var phase: String?
        public var startedAt: Date?
        public var finishedAt: Date?
        public var incremental = false
        public var modelName: String?
        public var error: String?
        public var reloaded: Bool?
    }

    let database: SQLiteDatabase
    let models: ModelRegistry
    let modelsDirectory: URL
    let settings: Settings
    let logger: Logger
    let onModelProduced: @Sendable (URL) -> Void
    /// Old model folders deleted after each completed training, and the configured one never deleted.
    let folderRetention: ModelFolderRetention
    let configuredModel: URL?
    /// Where status changes go as `.training` events (every state change, progress at most 4 per second).
    let events: DaemonEvents?
    private let throttle = Mutex(TrainingEventThrottle())
    private let current = Mutex<(status: Status, token: CancellationToken?, done: DispatchSemaphore?)>(
        (Status(active: false, state: "idle"), nil, nil))

    public init(database: SQLiteDatabase, models: ModelRegistry, modelsDirectory: URL, settings: Settings = Settings(),
                logger: Logger = Logger(label: "training"), events: DaemonEvents? = nil,
                folderRetention: ModelFolderRetention = .keepAll, configuredModel: URL? = nil,
                onModelProduced: @escaping @Sendable (URL) -> Void) throws {
        self.folderRetention = folderRetention
        self.configuredModel = configuredModel
        self.database = database
        self.models = models
        self.modelsDirectory = modelsDirectory
        self.settings = settings
        self.logger = logger
        self.onModelProduced = onModelProduced
        self.events = events
        try database.write { c in
            // The table normally comes from its migration; IF NOT EXISTS keeps older databases working.
            try c.execute(TrainingRunsTable.createSQL)
            try TrainingRunsTable.markInterrupted(now: Date().timeIntervalSince1970, on: c)
        }
    }

    public var status: Status { current.withLock { $0.status } }

    /// Publishes the current status unless the throttle holds it back (state changes always pass).
    private func publishStatus() {
        guard let events else { return }
        let status = self.status
        let now = DispatchTime.now().uptimeNanoseconds
        guard throttle.withLock({ $0.shouldPublish(state: status.state, now: now) }) else { return }
        events.publish(.training(status))
    }

    /// Starts a job; throws ``StartError`` (409 while one runs, 422 when there is not enough data).
    public func start(epochs: Int, incremental requested: Bool) throws -> (id: String, incremental: Bool) {
        guard (1...1_000).contains(epochs) else { throw StartError.invalid("epochs must be in 1…1000") }
        let now = Date()
        let base = "train_" + ModelFolders.stamp(now)
        // Claim the slot first so two concurrent triggers cannot both start.
        let previous = try current.withLock { state -> Status in
            if state.status.active { throw StartError.alreadyRunning(id: state.status.id ?? "") }
            let previous = state.status
            var status = Status(active: true, id: base, state: "preparing")
            status.totalEpochs = epochs
            status.startedAt = now
            state = (status, CancellationToken(), DispatchSemaphore(value: 0))
            return previous
        }
        publishStatus()
        let served = models.current
        let incremental = requested && served != nil
        let prepared: TrainingRun
        let row: TrainingRunsTable.Row
        do {
            do {
                prepared = try makeRun(epochs: epochs, from: incremental ? served : nil, shapeOf: served)
                _ = try prepared.prepare()   // refuses now (422) rather than failing in the background
            } catch {
                let text = (error as? TrainingError).map(\.description) ?? "\(error)"
                throw StartError.insufficientData("Cannot train on the collected data: \(text)")
            }
            row = try database.write { c -> TrainingRunsTable.Row in
                // Two triggers in the same second get train_…_2, _3, ….
                var unique = base, n = 2
                while try c.scalar("SELECT 1 FROM training_runs WHERE id = ?", [.text(unique)]) != nil { unique = "\(base)_\(n)"; n += 1 }
                let row = TrainingRunsTable.Row(id: unique, startedAt: now.timeIntervalSince1970, status: "running", epochs: epochs,
                                                epochsRun: 0, incremental: incremental, parentModel: incremental ? served?.name : nil,
                                                servers: Set(prepared.series.map(\.name)).count)
                try TrainingRunsTable.insert(row, on: c)
                return row
            }
        } catch {
            // Release the slot: nothing runs; the last job's status stays visible.
            current.withLock { state in
                state.status = previous
                state.done?.signal()
                state.token = nil
            }
            publishStatus()
            throw error
        }
        let id = row.id
        current.withLock { state in
            state.status.id = id
            state.status.state = "running"
            state.status.incremental = incremental
        }
        publishStatus()
        let token = current.withLock { $0.token }!
        let handoff = TrainingHandoff(prepared)   // handed to the one training thread, never shared
        let thread = Thread { [self] in
            // The run (every server's series) is taken out of the box so that nothing the thread keeps
            // holds it once the job ends; then the freed heap goes back to the kernel (docs/soak.md).
            if let run = handoff.take() { self.execute(run: run, id: id, epochs: epochs, token: token) }
            HeapStats.trimAfterLargeRelease()
        }
        thread.name = "argus-training"
        thread.stackSize = 8 << 20
        thread.start()
        logger.info("training_started", ["training_id": .string(id), "epochs": .int(epochs), "incremental": .bool(incremental),
                                         "servers": .int(row.servers ?? 0)])
        return (id, incremental)
    }

    func makeRun(epochs: Int, from parent: ServedModel?, shapeOf served: ServedModel?) throws -> TrainingRun {
        let spec = served?.spec ?? FeatureSpec.standard
        let series = try loadSeries(spec: spec)
        var run = TrainingRun(series: series, dataSource: "argusd collected feed (\(database.path))")
        run.spec = spec
        if let served {
            var shape = ModelShape()
            shape.hiddenSize = served.config.hiddenSize
            shape.attentionHeads = served.config.attentionHeads
            shape.hiddenContinuousSize = served.config.hiddenContinuousSize
            shape.dropout = served.config.dropout
            shape.encoderLength = served.config.maxEncoderLength
            shape.horizon = served.config.maxPredictionLength
            run.shape = shape
        } else {
            run.shape = settings.defaultShape
        }
        run.from = parent?.path
        run.options.epochs = epochs
        run.options.batchSize = settings.batchSize
        run.options.maxBatchesPerEpoch = settings.maxBatchesPerEpoch
        run.options.learningRate = settings.learningRate
        run.options.threads = settings.threads
        run.options.seed = settings.seed
        return run
    }

    /// Every stored step of every server, on the spec's grid.
    func loadSeries(spec: FeatureSpec) throws -> [Training.ServerSeries] {
        var accumulator = SeriesAccumulator(spec: spec)
        let profiles: [String: String] = try database.read { c in
            Dictionary(try c.query("SELECT name, profile FROM servers WHERE profile IS NOT NULL") { ($0.string(0) ?? "", $0.string(1) ?? "") },
                       uniquingKeysWith: { a, _ in a })
        }
        // `metrics` is clustered by time (schema v4, docs/storage.md): sorting the whole table by server
        // costs ~15 s at 2.9 M rows, two scans in key order ~1 s. The accumulator takes samples in any
        // order and lists servers in the order it first sees them; there is one row per (server, step), so
        // adding each server's earliest row first, in name order, then every other row, gives exactly what
        // the former `ORDER BY server_name, step_ts` read gave.
        try database.read { c in
            var feed = [Float](repeating: 0, count: MetricField.count)
            func add(_ name: String, _ stepTs: Int64, _ values: [Double], _ status: ServerStatus) {
                for m in 0..<MetricField.count { feed[m] = Float(values[m]) }
                accumulator.add(server: name, profile: ServerProfile.resolve(serverName: name, override: profiles[name]),
                                epoch: stepTs, feed: feed, status: TFTCore.ServerStatus(rawValue: status.rawValue) ?? .healthy)
            }
            var first: [String: (stepTs: Int64, values: [Double], status: ServerStatus)] = [:]
            try MetricsTable.forEachStep(from: .min, on: c) { name, stepTs, values, status in
                if first[name] == nil { first[name] = (stepTs, values, status) }
            }
            // SQLite's BINARY collation: byte order.
            for name in first.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                let row = first[name]!
                add(name, row.stepTs, row.values, row.status)
            }
            try MetricsTable.forEachStep(from: .min, on: c) { name, stepTs, values, status in
                if first[name]?.stepTs != stepTs { add(name, stepTs, values, status) }
            }
        }
        return accumulator.build()
    }

    private func execute(run: TrainingRun, id: String, epochs: Int, token: CancellationToken) {
        var outcome = "failed", modelName: String?, error: String?, best: Double?, samples: Int?, epochsRun = 0
        var reloaded: Bool?
        do {
            let (folder, result, _) = try run.run(outDirectory: modelsDirectory, progress: { [self] p in
                current.withLock { state in
                    guard state.status.id == id else { return }
                    state.status.epoch = p.epoch
                    state.status.step = p.step
                    state.status.stepsPerEpoch = p.stepsPerEpoch
                    state.status.loss = p.loss
                    state.status.validationLoss = p.validationLoss
                    state.status.phase = p.phase.rawValue
                    state.status.etaSeconds = p.etaSeconds
                    let done = Double(p.epoch - 1) * Double(p.stepsPerEpoch) + Double(p.phase == .epochEnd ? p.stepsPerEpoch : p.step)
                    state.status.percent = min(100, 100 * done / Double(max(1, p.epochs * p.stepsPerEpoch)))
                }
                publishStatus()
            }, cancel: token)
            outcome = "completed"
            modelName = folder.lastPathComponent
            best = result.bestValidationLoss
            samples = result.samples
            epochsRun = result.epochs.count
            logger.info("training_completed", ["training_id": .string(id), "model": .string(folder.lastPathComponent),
                                               "epochs_run": .int(epochsRun), "best_val_loss": .double(result.bestValidationLoss),
                                               "stop_reason": .string(result.stopReason)])
            if settings.autoReload {
                onModelProduced(folder)
                reloaded = models.current?.path.standardizedFileURL.path == folder.standardizedFileURL.path
            }
        } catch TrainingError.cancelled {
            outcome = "cancelled"
            logger.info("training_cancelled", ["training_id": .string(id)])
        } catch let failure {
            error = (failure as? TrainingError).map(\.description) ?? "\(failure)"
            logger.error("training_failed", ["training_id": .string(id), "error": .string(error ?? "")])
        }
        epochsRun = max(epochsRun, current.withLock { $0.status.epoch })
        let finished = Date()
        do {
            try database.write { c in
                try TrainingRunsTable.finish(id: id, status: outcome, finishedAt: finished.timeIntervalSince1970, epochsRun: epochsRun,
                                             modelName: modelName, bestValidationLoss: best, samples: samples, error: error, on: c)
            }
        } catch {
            logger.error("training_record_failed", ["training_id": .string(id), "error": .string("\(error)")])
        }
        if outcome == "completed" { pruneModelFolders() }
        current.withLock { state in
            state.status.active = false
            state.status.state = outcome
            state.status.finishedAt = finished
            state.status.modelName = modelName
            state.status.error = error
            state.status.reloaded = reloaded
            if outcome == "completed" { state.status.percent = 100; state.status.etaSeconds = 0 }
            state.token = nil
            state.done?.signal()
        }
        publishStatus()
    }

    /// Deletes the model folders ``folderRetention`` lets go (never the served, configured or start-up one).
    /// Returns the names deleted.
    @discardableResult
    func pruneModelFolders() -> [String] {
        guard folderRetention.keepNewest != nil else { return [] }
        let trained: Set<String>
        do {
            trained = try database.read { try TrainingRunsTable.producedModels(on: $0) }
        } catch {
            logger.error("model_folders_prune_failed", ["error": .string("\(error)")])
            return []
        }
        var removed: [String] = [], failed: [String] = []
        models.withoutLoads { served in
            let protected = [served, configuredModel, models.startupFolder].compactMap { $0 }
            for folder in folderRetention.expired(ModelFolders.list(in: modelsDirectory), trained: trained, protected: protected) {
                do {
                    try FileManager.default.removeItem(at: folder.path)
                    removed.append(folder.name)
                } catch {
                    failed.append(folder.name)
                }
            }
        }
        if !removed.isEmpty || !failed.isEmpty {
            logger.info("model_folders_pruned", ["removed": .array(removed.map { .string($0) }), "failed": .array(failed.map { .string($0) }),
                                                 "keep_newest": .int(folderRetention.keepNewest ?? 0)])
        }
        return removed
    }

    /// Cancels the running job and waits up to `wait` for it to stop. Returns nil when nothing ran,
    /// else whether it stopped in time.
    public func cancel(wait: Double = 30) -> Bool? {
        let (token, done) = current.withLock { state -> (CancellationToken?, DispatchSemaphore?) in
            state.status.active ? (state.token, state.done) : (nil, nil)
        }
        guard let token else { return nil }
        token.cancel()
        guard let done else { return false }
        let stopped = done.wait(timeout: .now() + wait) == .success
        if stopped { done.signal() }   // leave it signalled for other waiters
        return stopped
    }

    /// Blocks until the current job (if any) has finished (tests, shutdown).
    public func waitUntilIdle(timeout: Double = 600) {
        let done = current.withLock { $0.status.active ? $0.done : nil }
        if let done, done.wait(timeout: .now() + timeout) == .success { done.signal() }
    }

    /// Every recorded run, oldest first.
    public func runs() throws -> [TrainingRunsTable.Row] { try database.read { try TrainingRunsTable.all(on: $0) } }
}

extension ModelFolders {
    /// `YYYYMMDD_HHMMSS` (UTC).
    static func stamp(_ date: Date) -> String {
        let digits = ISO8601Timestamp.format(Int64(date.timeIntervalSince1970)).filter(\.isNumber)
        return "\(digits.prefix(8))_\(digits.dropFirst(8).prefix(6))"
    }
}

/// Moves a non-Sendable value to exactly one other thread.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Moves a non-Sendable value to exactly one other thread, which takes it out (the box then holds nothing).
final class TrainingHandoff<T>: @unchecked Sendable {
    private var value: T?
    init(_ value: T) { self.value = value }
    func take() -> T? {
        defer { value = nil }
        return value
    }
}
