import Foundation
import HTTPServer

/// Layer 4, the Dev/OS view: the vault, recordings and their ingestion, remote sessions, deployment, stress tests.
struct TelemetryDevOSRoutes: Sendable {
    let module: TelemetryModule
    static let categories = ["api_key", "password", "token", "certificate"]

    func addRoutes(telemetry: RouterGroup<BasicRequestContext>, api: RouterGroup<BasicRequestContext>) {
        telemetry.get("secrets/status", docs: OpenAPIOperation(
            summary: "Vault health: every item opened and its GCM tag checked (values are never returned)", tags: ["telemetry"])) { _, _ in
            try secretsStatus()
        }

        api.post("secrets/store", docs: OpenAPIOperation(
            summary: "Store a secret (AES-256-GCM); needs consent_given", tags: ["telemetry"],
            requestBody: OpenAPIBody(schema: JSONSchema.object([
                "name": ["type": "string", "pattern": "^[A-Za-z0-9_.-]{1,128}$"], "value": JSONSchema.string(length: 1...65_536),
                "category": JSONSchema.enumeration(Self.categories),
                // false is a valid boolean the route answers 400 (the spec's "consent not given"), so the schema says true.
                "consent_given": ["type": "boolean", "const": true]], required: ["name", "value", "category", "consent_given"]),
                example: ["name": "OPENAI_API_KEY", "value": "sk-…", "category": "api_key", "consent_given": true]),
            responses: [400: OpenAPIResponse("Consent not given", schema: JSONSchema.errorDetail),
                        409: OpenAPIResponse("Secret name already exists", schema: JSONSchema.errorDetail),
                        422: OpenAPIResponse("Invalid body", schema: JSONSchema.validationError),
                        503: OpenAPIResponse("Vault unavailable (key file problem)", schema: JSONSchema.errorDetail)])) { request, context in
            try storeSecret(request, client: context.core.clientIdentity)
        }

        telemetry.get("recordings/pending", docs: OpenAPIOperation(
            summary: "Recordings dropped into the inbox and not yet ingested", tags: ["telemetry"],
            queryParameters: [OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: 1...500), description: "default 50")])) { request, _ in
            var query = TelemetryQuery(request)
            let limit = query.int("limit", default: 50, in: 1...500)
            try query.finish()
            let rows = try module.ingestion.recordings(status: "pending", limit: limit)
            return .json(["total": .int(rows.count), "recordings": .array(rows.map { r in
                ["recording_id": .string(r.id), "type": .string(r.type), "filename": .string(r.filename),
                 "size_mb": TelemetryFormat.number(TelemetryFormat.megabytes(r.sizeBytes), places: 3), "created_at": TelemetryFormat.iso(r.createdAt)]
            })])
        }

        api.post("recording/ingest/{id}", docs: OpenAPIOperation(
            summary: "Start ingesting a pending recording (an HTM task runs the pipeline)", tags: ["telemetry"],
            responses: [404: OpenAPIResponse("Recording not found", schema: JSONSchema.errorDetail),
                        409: OpenAPIResponse("Recording is not pending", schema: JSONSchema.errorDetail)])) { _, context in
            try startIngestion(try context.parameters.require("id"))
        }

        api.get("recording/ingest/{job_id}/status", docs: OpenAPIOperation(
            summary: "Poll an ingestion job", tags: ["telemetry"],
            responses: [404: OpenAPIResponse("Job not found", schema: JSONSchema.errorDetail)])) { _, context in
            // The router names a segment after its first registration (`{id}` above), so accept both names.
            let id = try context.parameters["job_id"] ?? context.parameters.require("id")
            return try ingestionStatus(id)
        }

        telemetry.get("remote_access/sessions", docs: OpenAPIOperation(
            summary: "Authenticated console sessions (API key fingerprint and address)", tags: ["telemetry"],
            queryParameters: [OpenAPIParameter(query: "active_only", schema: JSONSchema.boolean, description: "default true"),
                              OpenAPIParameter(query: "limit", schema: JSONSchema.integer(in: 1...500), description: "default 50")])) { request, _ in
            var query = TelemetryQuery(request)
            let activeOnly = query.bool("active_only", default: true)
            let limit = query.int("limit", default: 50, in: 1...500)
            try query.finish()
            return try sessions(activeOnly: activeOnly, limit: limit)
        }

        telemetry.get("deployment/status", docs: OpenAPIOperation(
            summary: "What is deployed: binary, model, environment, health rollup", tags: ["telemetry"])) { _, _ in deployment() }

        api.post("stress/run", docs: OpenAPIOperation(
            summary: "Run a stress test (real synthetic load through the HTM queue); one at a time", tags: ["telemetry"],
            requestBody: OpenAPIBody(schema: JSONSchema.object([
                "test_type": JSONSchema.enumeration(StressRunner.testTypes), "duration_minutes": ["type": "number", "exclusiveMinimum": 0, "maximum": 60],
                "intensity": JSONSchema.enumeration(StressRunner.intensities)], required: ["test_type", "duration_minutes", "intensity"]),
                example: ["test_type": "full_system", "duration_minutes": 1, "intensity": "medium"]),
            responses: [409: OpenAPIResponse("A stress test is already running", schema: JSONSchema.errorDetail),
                        422: OpenAPIResponse("Invalid body", schema: JSONSchema.validationError)])) { request, _ in
            var body = try TelemetryBody(request)
            let type = body.choice("test_type", StressRunner.testTypes)
            let minutes = body.number("duration_minutes", in: 0...60, exclusiveLower: true)
            let intensity = body.choice("intensity", StressRunner.intensities)
            try body.finish()
            guard let test = try module.stress.start(testType: type!, intensity: intensity!, durationMinutes: minutes!) else {
                throw telemetryError(.conflict, "Stress test \(module.stress.runningTestID ?? "") is still running", code: "STRESS_TEST_RUNNING")
            }
            module.publish("stress_started", ["stress_test_id": .string(test.id), "test_type": .string(test.testType)])
            return .json(["stress_test_id": .string(test.id), "status": "running", "started_at": TelemetryFormat.iso(test.startedAt),
                          "estimated_completion": TelemetryFormat.iso(test.estimatedCompletion)])
        }

        api.get("stress/{id}/status", docs: OpenAPIOperation(
            summary: "Poll a stress test", tags: ["telemetry"],
            responses: [404: OpenAPIResponse("Stress test not found", schema: JSONSchema.errorDetail)])) { _, context in
            try stressStatus(try context.parameters.require("id"))
        }
    }

    // MARK: Secrets

    private func secretsStatus() throws -> Response {
        let items = try module.vaultStore.items()
        let (verified, _) = module.crypto.verifyVault(module.vault, record: false)
        let vault = module.vault
        let health = vault == nil ? "unavailable" : verified == items.count ? "healthy" : "degraded"
        let byCategory = Dictionary(grouping: items, by: \.category).mapValues(\.count)
        return .json([
            "vault_health": .string(health), "total_secrets": .int(items.count), "encrypted_count": .int(verified),
            "by_category": .object(Self.categories.map { ($0, .int(byCategory[$0] ?? 0)) }),
            "last_stored_at": TelemetryFormat.iso(items.last?.createdAt), "algorithm": "AES-256-GCM",
            "key_id": vault.map { .string($0.keyID) } ?? .null,
            "key_age_days": vault.map { TelemetryFormat.number(module.host.clock.now().timeIntervalSince($0.keyCreatedAt) / 86_400) } ?? .null,
            "audit_entries": .int(try module.vaultStore.auditCount()),
            "error": module.vaultError.map { .string($0) } ?? .null,
        ])
    }

    private func storeSecret(_ request: Request, client: String) throws -> Response {
        var body = try TelemetryBody(request)
        let name = body.string("name", maxLength: 128)
        let value = body.string("value", maxLength: 65_536)
        let category = body.choice("category", Self.categories)
        let consent = body.bool("consent_given")
        try body.finish()
        guard name!.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
            throw ValidationError(location: ["body", "name"], message: "use letters, digits, '_', '.' and '-' only",
                                  type: "value_error.str.regex")
        }
        let now = module.host.clock.now().timeIntervalSince1970
        guard consent! else {
            try? module.vaultStore.audit(name: name!, action: "rejected_consent", client: client, at: now)
            throw telemetryError(.badRequest, "Consent required to store secret", code: "CONSENT_REQUIRED")
        }
        guard let vault = module.vault else {
            throw telemetryError(.serviceUnavailable, "The vault is unavailable: \(module.vaultError ?? "no key")", code: "VAULT_UNAVAILABLE")
        }
        let id = TelemetryFormat.id("sec")
        let associated = SecretVault.associatedData(id: id, name: name!, category: category!)
        let sealed = try vault.seal(Data(value!.utf8), associated: associated)
        let item = VaultStore.Item(id: id, name: name!, category: category!, keyID: vault.keyID, sealed: sealed, createdAt: now)
        guard try module.vaultStore.insert(item, client: client) == .stored else {
            throw telemetryError(.conflict, "Secret \(name!) already exists", code: "DUPLICATE_SECRET")
        }
        let ok = vault.verify(sealed, associated: associated)
        try? module.vaultStore.recordChecks([("vault/\(id)", "vault_seal", ok, ok ? nil : "GCM tag did not verify right after sealing")], at: now)
        module.publish("secret_stored", ["secret_id": .string(id), "name": .string(name!), "category": .string(category!)])
        return .json(["secret_id": .string(id), "name": .string(name!), "category": .string(category!), "encrypted": true,
                      "stored_at": TelemetryFormat.iso(now), "status": "success", "algorithm": "AES-256-GCM", "key_id": .string(vault.keyID)])
    }

    // MARK: Recordings

    private func startIngestion(_ id: String) throws -> Response {
        guard let recording = try module.ingestion.recording(id) else {
            throw telemetryError(.notFound, "Recording \(id) not found", code: "RECORDING_NOT_FOUND")
        }
        let now = module.host.clock.now().timeIntervalSince1970
        let rate = try module.ingestion.measuredBytesPerSecond()
        let estimate = rate.map { Double(recording.sizeBytes) / max($0, 1) }
        let jobID = TelemetryFormat.id("job")
        try module.database.writeTransaction { _ in
            guard try module.ingestion.claimRecording(id) else {
                throw telemetryError(.conflict, "Recording \(id) is \(recording.ingestionStatus), not pending", code: "RECORDING_NOT_PENDING")
            }
            try module.ingestion.createJob(id: jobID, recordingID: id, source: "recording", sizeBytes: recording.sizeBytes,
                                           estimatedSeconds: estimate, at: now)
            let submitted = try module.queue.submit(goal: "Ingest \(recording.type) recording \(recording.filename)", origin: "remote", tasks: [
                NewTask(kind: .recordingIngest, description: "Ingest \(recording.filename)", priority: .normal, sizeBytes: recording.sizeBytes,
                        payload: TaskPayload(recordingID: id, jobID: jobID)),
            ])
            try module.ingestion.attachTask(job: jobID, task: submitted.tasks[0].id)
        }
        module.publish("ingestion_started", ["recording_id": .string(id), "job_id": .string(jobID)])
        return .json(["recording_id": .string(id), "ingestion_job_id": .string(jobID), "status": "started",
                      "estimated_duration_minutes": TelemetryFormat.number(estimate.map { $0 / 60 }, places: 3)])
    }

    private func ingestionStatus(_ id: String) throws -> Response {
        guard let job = try module.ingestion.job(id) else { throw telemetryError(.notFound, "Ingestion job \(id) not found", code: "JOB_NOT_FOUND") }
        var members: [(String, JSONValue)] = [
            ("job_id", .string(job.id)), ("recording_id", job.recordingID.map { .string($0) } ?? .null),
            ("status", .string(job.status)), ("progress_percent", .int(job.progressPercent)),
            ("current_step", job.currentStep.map { .string($0) } ?? .null),
            ("estimated_completion", job.completedAt.map { TelemetryFormat.iso($0) } ?? TelemetryFormat.iso(job.estimatedSeconds.map { job.createdAt + $0 })),
            ("source", .string(job.source)), ("task_id", job.taskID.map { .string($0) } ?? .null),
        ]
        if job.status == "completed" {
            struct Stored: Decodable {
                var summary: String?
                var sha256: String?
                var bytes: Int?
                var chunks: [String]?
                var durationSeconds: Double?
                var format: String?
                var transcriptChars: Int?
            }
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let stored = job.result.flatMap { try? decoder.decode(Stored.self, from: Data($0.utf8)) }
            members.append(("result", [
                "transcript_url": .null, "summary": stored?.summary.map { .string($0) } ?? .null,
                "sha256": stored?.sha256.map { .string($0) } ?? .null, "chunks": .int(stored?.chunks?.count ?? 0),
                "media_duration_seconds": TelemetryFormat.number(stored?.durationSeconds, places: 3),
                "format": stored?.format.map { .string($0) } ?? .null, "transcript_chars": stored?.transcriptChars.map { .int($0) } ?? .null,
                "processing_seconds": TelemetryFormat.number(job.durationSeconds, places: 3),
            ]))
        }
        if let error = job.error { members.append(("error", .string(error))) }
        return .json(.object(members))
    }

    // MARK: Sessions, deployment, stress

    private func sessions(activeOnly: Bool, limit: Int) throws -> Response {
        let now = module.host.clock.now().timeIntervalSince1970
        let rows = try module.sessions.sessions(activeOnly: activeOnly, limit: limit)
        return .json(["total": .int(rows.count), "sessions": .array(rows.map { s in
            ["session_id": .string(s.id), "user": .string(s.user), "client_address": .string(s.clientAddress),
             "status": .string(s.endedAt == nil ? "active" : "ended"), "started_at": TelemetryFormat.iso(s.startedAt),
             "ended_at": TelemetryFormat.iso(s.endedAt), "last_seen_at": TelemetryFormat.iso(s.lastSeenAt),
             "duration_minutes": TelemetryFormat.number(((s.endedAt ?? now) - s.startedAt) / 60), "request_count": .int(s.requestCount)]
        })])
    }

    private func deployment() -> Response {
        let vitals = module.host.vitals()
        let environment = ProcessInfo.processInfo.environment
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
        let built = (try? FileManager.default.attributesOfItem(atPath: binary))?[.modificationDate] as? Date
        let health = vitals.mode == "tft" && vitals.lastInferenceError == nil ? "passing" : vitals.mode == "tft" ? "failing" : "unknown"
        return .json([
            "version": "1.0", "environment": .string(module.environment),
            "deployed_at": .string(TelemetryFormat.iso(vitals.startedAt)),
            "uptime_seconds": .int(Int(module.host.clock.now().timeIntervalSince(vitals.startedAt))),
            "health_check": .string(health),
            "build_info": [
                "commit_sha": environment["ARGUS_BUILD_COMMIT"].map { .string($0) } ?? .null,
                "branch": environment["ARGUS_BUILD_BRANCH"].map { .string($0) } ?? .null,
                "deployed_by": environment["ARGUS_DEPLOYED_BY"].map { .string($0) } ?? .null,
                "binary": .string(binary), "binary_built_at": built.map { .string(TelemetryFormat.iso($0)) } ?? .null,
                "binary_sha256": module.binaryDigest(binary).map { .string($0) } ?? .null,
            ],
            "model": ["mode": .string(vitals.mode), "name": vitals.modelName.map { .string($0) } ?? .null,
                      "servers_predicted": .int(vitals.serversPredicted),
                      "last_inference_ms": TelemetryFormat.number(vitals.lastInferenceMilliseconds),
                      "last_inference_error": vitals.lastInferenceError.map { .string($0) } ?? .null],
            "process": ["rss_mb": TelemetryFormat.number(vitals.process.residentBytes.map(TelemetryFormat.megabytes)),
                        "cpu_seconds": TelemetryFormat.number(vitals.process.cpuSeconds), "threads": vitals.process.threads.map { .int($0) } ?? .null,
                        "worker_threads": .int(vitals.workerThreads)],
        ])
    }

    private func stressStatus(_ id: String) throws -> Response {
        guard let test = try module.stress.store.test(id) else {
            throw telemetryError(.notFound, "Stress test \(id) not found", code: "STRESS_TEST_NOT_FOUND")
        }
        var members: [(String, JSONValue)] = [("stress_test_id", .string(test.id)), ("status", .string(test.status)),
                                              ("progress_percent", .int(test.progressPercent)), ("test_type", .string(test.testType)),
                                              ("intensity", .string(test.intensity)), ("started_at", TelemetryFormat.iso(test.startedAt))]
        let metrics = test.currentMetrics ?? [:]
        members.append(("current_metrics", [
            "queue_depth": .int(Int(metrics["queue_depth"] ?? 0)),
            "avg_response_time_ms": TelemetryFormat.number(metrics["avg_response_time_ms"] ?? 0),
            "error_rate_percent": TelemetryFormat.number(metrics["error_rate_percent"] ?? 0),
        ]))
        if test.status != "running" {
            members.append(("duration_minutes", TelemetryFormat.number(test.durationMinutes, places: 3)))
            members.append(("completed_at", TelemetryFormat.iso(test.completedAt)))
        }
        if let r = test.results {
            members.append(("results", [
                "max_queue_depth": .int(r.maxQueueDepth), "avg_response_time_ms": TelemetryFormat.number(r.avgResponseTimeMs),
                "p95_response_time_ms": TelemetryFormat.number(r.p95ResponseTimeMs),
                "error_rate_percent": TelemetryFormat.number(r.errorRatePercent), "bottlenecks": TelemetryFormat.strings(r.bottlenecks),
                "tasks_submitted": .int(r.tasksSubmitted), "tasks_completed": .int(r.tasksCompleted), "tasks_failed": .int(r.tasksFailed),
                "throughput_tasks_per_second": TelemetryFormat.number(r.throughputTasksPerSecond),
                "cpu_percent": TelemetryFormat.number(r.cpuPercent), "peak_rss_mb": TelemetryFormat.number(r.peakRSSMegabytes),
                "database_write_p95_ms": TelemetryFormat.number(r.databaseWriteP95Ms, places: 3),
            ]))
        }
        if let error = test.error { members.append(("error", .string(error))) }
        return .json(.object(members))
    }
}
