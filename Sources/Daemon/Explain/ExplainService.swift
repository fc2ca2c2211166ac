import Foundation
import HTTPServer
import Synchronization
import TFTCore
import Training

/// `/explain/{server_name}` for the running daemon: explains the forecast of the latest snapshot, computed
/// on request from the same window the snapshot used, cached per server until the next snapshot (tick) or
/// model swap. One computation at a time (they share the model's lock anyway).
public final class ExplainService: Sendable {
    public let store: FeedStore
    public let models: ModelRegistry
    public let engine: InferenceEngine
    public let settings: ExplainSettings

    private struct Entry: Sendable {
        var tick: Int64
        var model: String
        var explanation: Explanation
    }
    private let cache = Mutex<[String: Entry]>([:])
    private let computing = Mutex<Void>(())

    public init(store: FeedStore, models: ModelRegistry, engine: InferenceEngine, settings: ExplainSettings = ExplainSettings()) {
        self.store = store; self.models = models; self.engine = engine; self.settings = settings
    }

    /// The JSON body for `server`; throws `HTTPError` 404 (unknown), 503 (no model / warming up).
    public func explain(server: String) throws -> JSONValue {
        guard let served = models.current else {
            throw HTTPError(.serviceUnavailable, "Model not loaded", extra: [("error", "no_model")])
        }
        guard store.window(server: server) != nil else { throw HTTPError(.notFound, "Server \(server) not found") }
        guard let snapshot = engine.latest, let i = snapshot.index[server] else {
            let warmup = store.warmup()
            throw HTTPError(.serviceUnavailable, "Server \(server) is warming up: no forecast to explain yet (\(warmup.progressText))",
                            extra: [("error", "insufficient_data"), ("progress", .string(warmup.progressText))])
        }
        let prediction = snapshot.servers[i]
        func body(_ e: Explanation, cached: Bool) -> JSONValue {
            e.json(snapshotRisk: prediction.risk.score, snapshotLevel: prediction.risk.level, tick: snapshot.tick,
                   model: snapshot.modelName, cached: cached)
        }
        let lookup = { () -> Explanation? in
            self.cache.withLock { c in
                guard let e = c[server], e.tick == snapshot.tick, e.model == served.name else { return nil }
                return e.explanation
            }
        }
        if let hit = lookup() { return body(hit, cached: true) }
        return try computing.withLock { _ -> JSONValue in
            if let hit = lookup() { return body(hit, cached: true) }
            let window = try self.window(server: server, until: prediction.lastObservationEpoch, model: served)
            let engine = ExplainEngine(model: served.model, builder: served.builder, scorer: self.engine.scorer, settings: settings)
            let explanation: Explanation
            do { explanation = try engine.explain(window) } catch let e as ExplainError {
                throw HTTPError(.serviceUnavailable, e.description, extra: [("error", "insufficient_data")])
            }
            cache.withLock { c in
                c = c.filter { $0.value.tick == snapshot.tick }
                c[server] = Entry(tick: snapshot.tick, model: served.name, explanation: explanation)
            }
            return body(explanation, cached: false)
        }
    }

    /// The server's window ending at the snapshot's last observation, long enough for the baseline.
    func window(server: String, until lastEpoch: Int64, model: ServedModel) throws -> ServerWindow {
        let steps = max(model.config.maxEncoderLength, settings.baselineSteps)
        guard let s = store.snapshot(lastSteps: steps, servers: [server]).servers.first else {
            throw HTTPError(.notFound, "Server \(server) not found")
        }
        // Drop steps newer than the snapshot's forecast origin (data that arrived after the tick).
        let keep = max(1, min(s.length, Int((lastEpoch - s.firstStepTimestamp) / s.stepSeconds) + 1))
        var values = [Float]()
        values.reserveCapacity(MetricField.count * keep)
        for m in 0..<MetricField.count { values += s.values[(m * s.length)..<(m * s.length + keep)] }
        return ServerWindow(serverName: s.serverName, profile: ServerProfile.resolve(serverName: s.serverName, override: s.profile),
                            firstEpoch: s.firstStepTimestamp, stepSeconds: Int(s.stepSeconds), feedValues: values,
                            status: Array(s.status[0..<keep]))
    }
}

/// `GET /explain/{server_name}`.
public struct ExplainRoutes: Sendable {
    public let service: ExplainService
    public init(service: ExplainService) { self.service = service }

    public func addRoutes<R: RouterMethods>(to router: R) {
        let service = self.service
        router.get("/explain/{server_name}", docs: OpenAPIOperation(
            summary: "Why the model forecasts this risk: Shapley attributions, attention focus, counterfactuals (re-runs the TFT)",
            tags: ["explain"],
            responses: [200: .init("Explanation of the latest forecast (cached per tick)"),
                        404: .init("Unknown server", schema: JSONSchema.errorDetail),
                        503: .init("No model, or the server is still warming up", schema: JSONSchema.errorDetail)])) { _, context in
            .json(try service.explain(server: try context.parameters.require("server_name")))
        }
    }
}
