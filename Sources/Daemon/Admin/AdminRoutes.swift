import Foundation
import HTTPServer
import Training

/// `/admin/*`: model listing, verified hot reload, background training with real progress and
/// cancellation, persisted training statistics. Every route needs the API key; the POSTs are rate
/// limited (spec: 10/minute).
struct AdminRoutes: Sendable {
    let daemon: ArgusDaemon

    static func iso(_ date: Date) -> String { ISO8601Timestamp.format(Int64(date.timeIntervalSince1970)) }

    func addReadRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get("models", docs: OpenAPIOperation(summary: "Model folders (size, created, is_current)", tags: ["admin"])) { [daemon] _, _ in
            let current = daemon.models.current
            let listing = ModelFolders.list(in: daemon.configuration.modelsDirectory)
            var w = JSONWriter(capacity: 256 + listing.count * 200)
            w.raw("{\"models\":[")
            var currentListed = false
            for (i, m) in listing.enumerated() {
                if i > 0 { w.comma() }
                let isCurrent = current.map { $0.path.standardizedFileURL.path == m.path.standardizedFileURL.path } ?? false
                currentListed = currentListed || isCurrent
                w.raw("{\"name\":"); w.string(m.name)
                w.raw(",\"path\":"); w.string(m.path.path)
                w.raw(",\"created\":"); w.string(Self.iso(m.created))
                w.raw(",\"size_mb\":"); w.number(Double(m.sizeBytes) / 1_048_576, decimals: 3)
                w.raw(",\"size_bytes\":"); w.int(m.sizeBytes)
                w.raw(",\"is_current\":"); w.bool(isCurrent)
                w.raw(",\"has_manifest\":"); w.bool(m.hasManifest)
                w.raw("}")
            }
            if let current, !currentListed {
                // Served from outside the models directory (`--model DIR`): still listed.
                if !listing.isEmpty { w.comma() }
                w.raw("{\"name\":"); w.string(current.name)
                w.raw(",\"path\":"); w.string(current.path.path)
                w.raw(",\"created\":"); w.string(Self.iso(current.created))
                w.raw(",\"size_mb\":null,\"is_current\":true,\"has_manifest\":true}")
            }
            w.raw("],\"current_model\":"); if let current { w.string(current.name) } else { w.null() }
            w.raw(",\"models_dir\":"); w.string(daemon.configuration.modelsDirectory.path)
            w.raw("}")
            return .json(bytes: w.bytes)
        }

        group.get("training-status", docs: OpenAPIOperation(summary: "Current training job: progress and ETA", tags: ["admin"])) { [daemon] _, _ in
            .json(bytes: daemon.training.status.json())
        }

        group.get("training-stats", docs: OpenAPIOperation(summary: "Statistics of all recorded training runs", tags: ["admin"])) { [daemon] _, _ in
            let runs = try daemon.training.runs()
            let completed = runs.filter { $0.status == "completed" }
            let durations = completed.compactMap { r in r.finishedAt.map { ($0 - r.startedAt) / 60 } }
            var w = JSONWriter(capacity: 512)
            w.raw("{\"last_training\":")
            if let last = runs.last(where: { $0.finishedAt != nil }), let f = last.finishedAt {
                w.string(ISO8601Timestamp.format(Int64(f)))
            } else { w.null() }
            w.raw(",\"total_trainings\":"); w.int(runs.count)
            w.raw(",\"avg_training_time_minutes\":")
            if durations.isEmpty { w.null() } else { w.number(durations.reduce(0, +) / Double(durations.count), decimals: 2) }
            w.raw(",\"models_produced\":"); w.int(runs.filter { $0.modelName != nil }.count)
            w.raw(",\"completed\":"); w.int(completed.count)
            w.raw(",\"cancelled\":"); w.int(runs.filter { $0.status == "cancelled" }.count)
            w.raw(",\"failed\":"); w.int(runs.filter { $0.status == "failed" || $0.status == "interrupted" }.count)
            w.raw(",\"recent\":[")
            for (i, r) in runs.suffix(10).reversed().enumerated() {
                if i > 0 { w.comma() }
                w.raw("{\"training_id\":"); w.string(r.id)
                w.raw(",\"status\":"); w.string(r.status)
                w.raw(",\"started_at\":"); w.string(ISO8601Timestamp.format(Int64(r.startedAt)))
                w.raw(",\"finished_at\":"); if let f = r.finishedAt { w.string(ISO8601Timestamp.format(Int64(f))) } else { w.null() }
                w.raw(",\"epochs\":"); w.int(r.epochs)
                w.raw(",\"epochs_run\":"); w.int(r.epochsRun)
                w.raw(",\"incremental\":"); w.bool(r.incremental)
                w.raw(",\"model\":"); if let m = r.modelName { w.string(m) } else { w.null() }
                w.raw(",\"best_val_loss\":"); if let l = r.bestValidationLoss { w.number(l, decimals: 4) } else { w.null() }
                w.raw(",\"error\":"); if let e = r.error { w.string(e) } else { w.null() }
                w.raw("}")
            }
            w.raw("]}")
            return .json(bytes: w.bytes)
        }
    }

    /// Resolves a requested model path: as given (absolute or relative to the working directory), else
    /// relative to the models directory (`tft_model_x` or `models/tft_model_x`).
    func resolve(_ requested: String) -> URL {
        let fm = FileManager.default
        let direct = URL(fileURLWithPath: requested)
        if fm.fileExists(atPath: direct.path) { return direct }
        let models = daemon.configuration.modelsDirectory
        let byName = models.appendingPathComponent(URL(fileURLWithPath: requested).lastPathComponent)
        return fm.fileExists(atPath: byName.path) ? byName : direct
    }

    func addWriteRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.post("reload-model", docs: OpenAPIOperation(
            summary: "Hot-reload a model (verified; on failure the current model keeps serving)", tags: ["admin"],
            queryParameters: [OpenAPIParameter(query: "model_path", description: "Model folder (default: the newest)")],
            requestBody: OpenAPIBody("Optional; a null `model_path` means none", schema: JSONSchema.object(["model_path": ["type": ["string", "null"]]]),
                                     required: false),
            responses: [404: .init("No such model folder (the current model keeps serving)"),
                        422: .init("A bad body, or a model folder that fails verification (the current model keeps serving)")])
        ) { [self] request, _ in
            var requested = request.query["model_path"]
            if !request.body.isEmpty {
                guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
                    throw ValidationError(location: ["body"], message: "JSON decode error: expected an object like {\"model_path\": \"models/…\"}",
                                          type: "json_invalid")
                }
                if let value = object["model_path"], !(value is NSNull) {
                    guard let path = value as? String else {
                        throw ValidationError(location: ["body", "model_path"], message: "Input should be a valid string", type: "string_type")
                    }
                    requested = path
                }
            }
            let previous = daemon.models.current
            let folder: URL
            if let requested, !requested.isEmpty {
                folder = resolve(requested)
            } else if let newest = ModelFolders.newest(in: daemon.configuration.modelsDirectory) {
                folder = newest
            } else {
                return failure(.notFound, model: nil, reason: "no model folders in \(daemon.configuration.modelsDirectory.path)", previous: previous)
            }
            do {
                let loaded = try daemon.models.load(folder: folder)
                daemon.logger.info("model_reloaded", ["model": .string(loaded.name), "previous": previous.map { .string($0.name) } ?? .null])
                daemon.engine.runNow()
                var w = JSONWriter(capacity: 256)
                w.raw("{\"success\":true,\"model\":"); w.string(loaded.name)
                w.raw(",\"message\":\"Model reloaded successfully\",\"path\":"); w.string(loaded.path.path)
                w.raw(",\"previous_model\":"); if let previous { w.string(previous.name) } else { w.null() }
                w.raw(",\"weights_sha256\":"); w.string(loaded.weightsSHA256)
                w.raw("}")
                return .json(bytes: w.bytes)
            } catch {
                daemon.logger.error("model_reload_failed", ["path": .string(folder.path), "error": .string("\(error)")])
                let missing = !FileManager.default.fileExists(atPath: folder.path)
                return failure(missing ? .notFound : .unprocessableEntity, model: folder.lastPathComponent, reason: "\(error)", previous: previous)
            }
        }

        group.post("trigger-training", docs: OpenAPIOperation(
            summary: "Start background training on the collected data (409 while one runs)", tags: ["admin"],
            queryParameters: [OpenAPIParameter(query: "epochs", schema: JSONSchema.integer(in: 1...1_000), description: "Epochs (default 10)"),
                              OpenAPIParameter(query: "incremental", schema: JSONSchema.boolean,
                                               description: "Continue from the model in service (default true)")],
            responses: [409: .init("A training job is already running", schema: JSONSchema.errorDetail),
                        // Two shapes: a bad query names its field; data that cannot be trained on says why.
                        422: .init("A bad query (the field named), or the collected data cannot be trained on (`detail` says why)",
                                   schema: ["anyOf": [JSONSchema.validationError, JSONSchema.errorDetail]])])
        ) { [daemon] request, _ in
            let query = request.query
            let epochs = try query.get("epochs", as: Int.self) ?? 10
            guard (1...1_000).contains(epochs) else {
                throw ValidationError(location: ["query", .key("epochs")], message: "Input should be between 1 and 1000", type: "less_than_equal")
            }
            var incremental = true
            if let text = query["incremental"] {
                switch text.lowercased() {
                case "true", "1", "yes": incremental = true
                case "false", "0", "no": incremental = false
                default: throw ValidationError(location: ["query", .key("incremental")], message: "Input should be a valid boolean", type: "bool_parsing")
                }
            }
            do {
                let (id, effective) = try daemon.training.start(epochs: epochs, incremental: incremental)
                var w = JSONWriter(capacity: 256)
                w.raw("{\"success\":true,\"training_id\":"); w.string(id)
                w.raw(",\"message\":\"Training started\",\"epochs\":"); w.int(epochs)
                w.raw(",\"incremental\":"); w.bool(effective)
                if incremental && !effective { w.raw(",\"note\":\"no model in service: training a fresh model\"") }
                w.raw("}")
                return .json(bytes: w.bytes)
            } catch let error as TrainingService.StartError {
                switch error {
                case .alreadyRunning(let id):
                    throw HTTPError(.conflict, error.description, extra: [("success", false), ("training_id", .string(id))])
                case .insufficientData, .invalid:
                    throw HTTPError(.unprocessableEntity, error.description, extra: [("success", false)])
                }
            }
        }

        group.post("cancel-training", docs: OpenAPIOperation(
            summary: "Cancel the running training job (stops within one step, leaves no model folder)", tags: ["admin"],
            responses: [409: .init("No training job is running")])
        ) { [daemon] _, _ in
            guard let stopped = daemon.training.cancel(wait: 30) else {
                throw HTTPError(.conflict, "No training job is running", extra: [("success", false), ("message", "No training job is running")])
            }
            let status = daemon.training.status
            var w = JSONWriter(capacity: 192)
            w.raw("{\"success\":true,\"message\":")
            w.string(stopped ? (status.state == "cancelled" ? "Training cancelled" : "Training already finished (\(status.state))")
                             : "Cancellation requested; the job stops after its current step")
            w.raw(",\"training_id\":"); if let id = status.id { w.string(id) } else { w.null() }
            w.raw(",\"status\":"); w.string(status.state)
            w.raw("}")
            return .json(bytes: w.bytes)
        }
    }

    func failure(_ status: HTTPStatus, model: String?, reason: String, previous: ServedModel?) -> Response {
        var w = JSONWriter(capacity: 256)
        let still = previous.map { "; still serving \($0.name)" } ?? "; no model is serving"
        w.raw("{\"success\":false,\"model\":"); if let model { w.string(model) } else { w.null() }
        w.raw(",\"message\":"); w.string("Model not reloaded: \(reason)\(still)")
        w.raw(",\"detail\":"); w.string(reason)
        w.raw(",\"current_model\":"); if let previous { w.string(previous.name) } else { w.null() }
        w.raw("}")
        return .json(bytes: w.bytes, status: status)
    }
}
