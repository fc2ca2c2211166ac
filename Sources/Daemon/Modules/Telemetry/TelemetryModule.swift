import Foundation
import HTTPServer
import Synchronization

/// The telemetry console (spec/telemetry-console-api.md) inside argusd: its kernels are this module's worker
/// threads, its HTM queue is the module's job queue, its crypto health is the served model's manifest
/// signatures and the vault's seals. State lives in `data/modules/telemetry.sqlite`; files under
/// `data/telemetry/` (inbox, recordings, vault key). See docs/telemetry-console.md.
public final class TelemetryModule: DaemonModule {
    public let name = "telemetry"
    static let kernelCount = 3

    let host: any ModuleHost
    let logger: Logger
    let database: SQLiteDatabase
    let tasks: HTMTaskStore
    let queue: HTMQueue
    let ingestion: IngestionStore
    let learningStore: LearningStore
    let learning: LearningLoop
    let vaultStore: VaultStore
    let vault: SecretVault?
    let vaultError: String?
    let crypto: CryptoHealthMonitor
    let kernels: KernelRegistry
    let stress: StressRunner
    let sessions: SessionRecorder
    let folders: DropFolder
    let broadcaster: TelemetryBroadcaster
    let environment: String
    /// Serial queue for everything the event flow and the timer hand over (never the publisher's thread).
    let work = DispatchQueue(label: "argus.telemetry")
    private let latest = SnapshotBox()
    private let timer = TimerBox()
    private let state = Mutex(TimerState())
    private let subscription = Mutex<DaemonEventSubscription?>(nil)
    private let binarySHA256 = Mutex<String?>(nil)

    private struct TimerState {
        var seconds = 0
        var hunted: [String: Double] = [:]
        var retrospectiveFor: Set<String> = []
        var feedSamples: [(at: Double, records: Int)] = []
    }

    public init(host: any ModuleHost) throws {
        self.host = host
        logger = host.logger("telemetry")
        database = try host.openDatabase(module: "telemetry", migrations: TelemetrySchema.migrations)
        let clock = host.clock
        tasks = HTMTaskStore(database: database)
        queue = HTMQueue(store: tasks, clock: clock)
        ingestion = IngestionStore(database: database)
        learningStore = LearningStore(database: database)
        vaultStore = VaultStore(database: database)
        folders = DropFolder(root: host.dataDirectory.appendingPathComponent("telemetry", isDirectory: true))
        try folders.createFolders()
        do {
            vault = try SecretVault(keyPath: folders.root.appendingPathComponent("vault.key").path)
            vaultError = nil
        } catch {
            vault = nil
            vaultError = String(describing: error)
        }
        crypto = try CryptoHealthMonitor(store: vaultStore, clock: clock)
        let vault = self.vault
        let latest = self.latest
        learning = LearningLoop(store: learningStore, tasks: tasks, clock: clock,
                                vaultKeyAgeDays: { vault.map { clock.now().timeIntervalSince($0.keyCreatedAt) / 86_400 } },
                                inferenceError: { host.vitals().lastInferenceError })
        let learning = self.learning
        let taskWork = TaskWork(ingestion: ingestion,
                                recordings: RecordingPipeline(ingestion: ingestion, transcriber: SidecarTranscriptionProvider(), clock: clock),
                                clock: clock, latestSnapshot: { latest.value },
                                evaluateRule: { learning.evaluate(rule: $0) }, processedFolder: folders.processed)
        kernels = KernelRegistry(count: Self.kernelCount, queue: queue, work: taskWork, learning: learningStore, clock: clock)
        sessions = SessionRecorder(database: database, clock: clock)
        environment = ProcessInfo.processInfo.environment["ARGUS_ENVIRONMENT"] ?? "development"
        let events = host.events
        stress = StressRunner(store: StressStore(database: database), queue: queue, kernels: kernels, database: database,
                              learning: learning, clock: clock) { type, payload in
            events.publish(.module(module: "telemetry", type: type, payload: payload))
        }
        broadcaster = TelemetryBroadcaster(stateFrame: StateFrameSource(queue: queue, kernels: kernels, crypto: crypto).frame)

        // Crash recovery before anything runs: interrupted work is failed or re-queued, open sessions closed.
        let now = clock.now().timeIntervalSince1970
        _ = try tasks.failUnfinishedSynthetic(at: now)
        _ = try StressStore(database: database).failInterrupted(at: now)
        _ = try ingestion.failInterrupted(at: now)
        try sessions.closeInterrupted()
        try queue.restore()
        // Subscribe now: the model is loaded in `ArgusDaemon.start()`, before modules start.
        let subscription = host.events.subscribe { [weak self] event in self?.receive(event) }
        self.subscription.withLock { $0 = subscription }
    }

    /// The event-flow subscriber: runs on the publisher's thread (the inference queue for ticks), so it only
    /// keeps a reference and hands the rest to `work`.
    private func receive(_ event: DaemonEvent) {
        if case .tick(let snapshot) = event { latest.value = snapshot }
        work.async { [weak self] in self?.handle(event) }
    }

    private func handle(_ event: DaemonEvent) {
        switch event {
        case .tick(let snapshot):
            hunt(snapshot)
            broadcaster.broadcastEvent(source: "argus", event: "tick", payload: [
                "tick": .int(Int(snapshot.tick)), "servers": .int(snapshot.servers.count), "alerts": .int(snapshot.alerts.count),
                "inference_ms": TelemetryFormat.number(snapshot.inferenceMilliseconds),
                "generated_at": .string(TelemetryFormat.iso(snapshot.generatedAt)),
            ])
        case .training(let status):
            if ["completed", "failed", "cancelled"].contains(status.state), let id = status.id,
               state.withLock({ $0.retrospectiveFor.insert(id).inserted }) {
                try? learning.retrospective(training: status)
            }
            broadcaster.broadcastEvent(source: "argus", event: "training", payload: [
                "state": .string(status.state), "percent": TelemetryFormat.number(status.percent), "id": status.id.map { .string($0) } ?? .null,
            ])
        case .modelLoaded(let name, let path):
            let (ok, failed) = crypto.verifyModel(folder: URL(fileURLWithPath: path))
            if failed > 0 { logger.warning("model_signature_failures", ["model": .string(name), "failed": .int(failed)]) }
            broadcaster.broadcastEvent(source: "argus", event: "model_loaded", payload: [
                "model": .string(name), "signatures_validated": .int(ok), "signature_failures": .int(failed),
            ])
        case .module(let module, let type, let payload):
            broadcaster.broadcastEvent(source: module, event: type, payload: payload)
        }
    }

    /// Hunter origin: a critical alert spawns an investigation of that server, at most one per 30 minutes.
    private func hunt(_ snapshot: Snapshot) {
        let now = host.clock.now().timeIntervalSince1970
        for alert in snapshot.alerts where alert.level == "critical" {
            let due = state.withLock { s -> Bool in
                if let last = s.hunted[alert.serverName], now - last < 1_800 { return false }
                s.hunted[alert.serverName] = now
                return true
            }
            guard due else { continue }
            _ = try? queue.submit(goal: "Investigate \(alert.serverName): \(alert.messageWithTime)", origin: "hunter", tasks: [
                NewTask(kind: .investigate, description: "Investigate \(alert.serverName) (\(alert.metric.rawValue))", priority: .high,
                        sizeBytes: 0, payload: TaskPayload(server: alert.serverName, level: alert.level, riskScore: alert.riskScore)),
            ])
        }
    }

    func publish(_ type: String, _ payload: JSONValue) {
        host.events.publish(.module(module: name, type: type, payload: payload))
    }

    var latestSnapshot: Snapshot? { latest.value }

    /// SHA-256 of the running executable: the build's identity when no commit id was provided. Hashed once.
    func binaryDigest(_ path: String) -> String? {
        if let cached = binarySHA256.withLock({ $0 }) { return cached }
        guard let digest = try? TelemetryDigest.sha256(file: path).hex else { return nil }
        binarySHA256.withLock { $0 = digest }
        return digest
    }

    public func start() throws {
        try kernels.startAll()
        timer.start(on: work) { [weak self] in self?.everySecond() }
        logger.info("telemetry_started", ["kernels": .int(kernels.kernels.count), "vault": .string(vault == nil ? "unavailable" : "ready"),
                                          "pending_tasks": .int(queue.counts.pending)])
        if let vaultError { logger.error("vault_unavailable", ["error": .string(vaultError)]) }
    }

    /// The module's clock: WebSocket frames every 2 s, inbox scans every 2 s, the SLA enforcer every 10 s,
    /// policy rules and session bookkeeping every 30 s, crypto re-verification every 10 minutes.
    private func everySecond() {
        let seconds = state.withLock { s -> Int in s.seconds += 1; return s.seconds }
        if seconds % 2 == 0 {
            broadcaster.broadcastState()
            scanInbox()
            sampleFeed()
        }
        if seconds % 10 == 0 { enforceSLA() }
        if seconds % 30 == 0 {
            _ = try? learning.suggest()
            sessions.flush()
        }
        if seconds % 600 == 0 {
            crypto.reverifyServedModel()
            crypto.verifyVault(vault)
        }
    }

    func scanInbox() {
        let found = folders.collect()
        let now = host.clock.now().timeIntervalSince1970
        for recording in found.recordings {
            if (try? ingestion.addRecording(type: recording.type, filename: recording.url.lastPathComponent, path: recording.url.path,
                                            sizeBytes: recording.bytes, at: now)) == true {
                publish("recording_registered", ["filename": .string(recording.url.lastPathComponent), "type": .string(recording.type)])
            }
        }
        guard !found.imports.isEmpty else { return }
        var newTasks: [NewTask] = []
        for file in found.imports {
            let jobID = TelemetryFormat.id("job")
            guard (try? ingestion.createJob(id: jobID, recordingID: nil, source: "filesystem", sizeBytes: file.bytes,
                                            estimatedSeconds: nil, at: now)) != nil else { continue }
            newTasks.append(NewTask(kind: .checksum, description: "Checksum \(file.url.lastPathComponent)", priority: .normal,
                                    sizeBytes: file.bytes, payload: TaskPayload(path: file.url.path, jobID: jobID)))
        }
        if let submitted = try? queue.submit(goal: "Import \(newTasks.count) file(s) from the inbox", origin: "filesystem", tasks: newTasks) {
            for task in submitted.tasks { if let job = task.payload.jobID { try? ingestion.attachTask(job: job, task: task.id) } }
        }
    }

    /// The SLA enforcer (thresholds of the original): past 100 % of its SLA a task becomes high priority,
    /// past 200 % critical; each step happens once.
    func enforceSLA() {
        let now = host.clock.now().timeIntervalSince1970
        guard let open = try? tasks.tasks(where: "status IN ('pending', 'active')") else { return }
        for task in open {
            let ratio = (now - task.createdAt) * 1000 / Double(max(1, task.slaMilliseconds))
            let target: TaskPriority? = ratio >= 2 ? .critical : ratio >= 1 ? .high : nil
            guard let target, task.priority < target else { continue }
            try? tasks.escalate(task.id, to: target, at: now)
            queue.raisePending(task.id, to: target, at: now)
            publish("htm_sla_escalated", ["task_id": .string(task.id), "old_priority": .string(task.priority.rawValue),
                                          "new_priority": .string(target.rawValue), "sla_ratio": TelemetryFormat.number(ratio)])
        }
    }

    private func sampleFeed() {
        let records = host.vitals().feed.totalRecords
        let now = host.clock.now().timeIntervalSince1970
        state.withLock { s in
            s.feedSamples.append((now, Int(records)))
            s.feedSamples.removeAll { $0.at < now - 300 }
        }
    }

    /// Feed records per minute over the last (up to) five minutes of samples; nil before two samples.
    var feedRecordsPerMinute: Double? {
        state.withLock { s in
            guard let first = s.feedSamples.first, let last = s.feedSamples.last, last.at > first.at else { return nil }
            return Double(last.records - first.records) / (last.at - first.at) * 60
        }
    }

    public func stop() {
        timer.cancel()
        subscription.withLock { $0?.cancel(); $0 = nil }
        stress.stop()
        queue.wakeAll(close: true)
        kernels.stopAll()
        work.sync {}
        sessions.flush()
        // Like the Argus database: fold the WAL in, so a stopped daemon leaves one self-contained file.
        database.close()
    }

    public func health() -> ModuleHealth {
        let running = kernels.runningKernelIDs().count
        let counts = queue.counts
        let status = vault == nil || running == 0 ? "degraded" : "healthy"
        return ModuleHealth(status: status, details: [
            ("kernels_running", .int(running)), ("queue_depth", .int(counts.pending + counts.active)),
            ("vault", .string(vault == nil ? "unavailable" : "ready")), ("crypto", .string(crypto.status)),
        ])
    }

    public func addRoutes(to router: Router<BasicRequestContext>) {
        let protected: [any Middleware<BasicRequestContext>] = [host.apiKeyAuth, SessionMiddleware(recorder: sessions)]
        let telemetry = router.group("/api/telemetry", middleware: protected)
        TelemetryOperationsRoutes(module: self).addRoutes(to: telemetry)
        TelemetryHTMRoutes(module: self).addRoutes(to: telemetry)
        TelemetryLearningRoutes(module: self).addRoutes(to: telemetry)
        let api = router.group("/api", middleware: protected)
        TelemetryDevOSRoutes(module: self).addRoutes(telemetry: telemetry, api: api)
        router.group("/ws", middleware: protected).webSocket("telemetry", docs: OpenAPIOperation(
            summary: "Live console metrics (WebSocket)", description: """
                On connect and every 2 s: {type:"telemetry", timestamp, kernels{total,active,idle,errors}, \
                htm{queue_depth,pending,active}, crypto{status,signatures_validated,signature_failures}}. Daemon and module \
                events as {type:"event", source, event, timestamp, payload}. Send the raw text "ping" for {"type":"pong"}.
                """, tags: ["telemetry"])) { [broadcaster] _, _ in broadcaster.handler() }
    }
}

/// Builds the WebSocket state frame from in-memory counters only (no database read per frame).
struct StateFrameSource: Sendable {
    let queue: HTMQueue
    let kernels: KernelRegistry
    let crypto: CryptoHealthMonitor

    func frame() -> JSONValue {
        let statuses = kernels.kernels.map(\.status)
        let counts = queue.counts
        let totals = crypto.current
        return [
            "type": "telemetry",
            "timestamp": .string(TelemetryFormat.iso(Date())),
            "kernels": ["total": .int(statuses.count), "active": .int(statuses.filter { $0.status == "active" }.count),
                        "idle": .int(statuses.filter { $0.status == "idle" }.count),
                        "errors": .int(statuses.filter { $0.status == "error" }.count)],
            "htm": ["queue_depth": .int(counts.pending + counts.active), "pending": .int(counts.pending), "active": .int(counts.active)],
            "crypto": ["status": .string(crypto.status), "signatures_validated": .int(totals.validated),
                       "signature_failures": .int(totals.failed)],
        ]
    }
}

/// The newest snapshot from the event flow.
final class SnapshotBox: Sendable {
    private let snapshot = Mutex<Snapshot?>(nil)
    var value: Snapshot? {
        get { snapshot.withLock { $0 } }
        set { snapshot.withLock { $0 = newValue } }
    }
}

/// The module's one-second timer. `@unchecked Sendable`: `source` is only touched under `lock`.
final class TimerBox: @unchecked Sendable {
    private let lock = NSLock()
    private var source: DispatchSourceTimer?

    func start(on queue: DispatchQueue, _ tick: @escaping @Sendable () -> Void) {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + 1, repeating: 1)
        timer.setEventHandler(handler: tick)
        lock.withLock { source = timer }
        timer.resume()
    }

    func cancel() {
        let timer = lock.withLock { () -> DispatchSourceTimer? in defer { source = nil }; return source }
        timer?.cancel()
    }
}
