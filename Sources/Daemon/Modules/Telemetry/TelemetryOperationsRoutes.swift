import Foundation
import HTTPServer

/// Layer 1, the operations console: kernels, crypto health, ingestion throughput.
struct TelemetryOperationsRoutes: Sendable {
    let module: TelemetryModule

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get("kernels/status", docs: OpenAPIOperation(
            summary: "Kernel metrics and table (the module's worker threads)", tags: ["telemetry"],
            responses: [200: OpenAPIResponse("Kernel counts and one row per kernel")])) { _, _ in try kernelsStatus() }

        group.get("crypto/health", docs: OpenAPIOperation(
            summary: "Crypto health: model manifest signatures and vault seals", tags: ["telemetry"])) { _, _ in cryptoHealth() }

        group.get("ingestion/throughput", docs: OpenAPIOperation(
            summary: "Ingestion jobs (recordings and inbox imports) over the last `hours`, plus the feed rate", tags: ["telemetry"],
            queryParameters: [OpenAPIParameter(query: "hours", schema: JSONSchema.integer(in: 1...168), description: "default 24")],
            responses: [422: OpenAPIResponse("Invalid hours", schema: JSONSchema.validationError)])) { request, _ in
            var query = TelemetryQuery(request)
            let hours = query.int("hours", default: 24, in: 1...168)
            try query.finish()
            return try throughput(hours: hours)
        }

        group.post("kernels/{id}/control", docs: OpenAPIOperation(
            summary: "Start, stop, restart or stress a kernel", tags: ["telemetry"],
            queryParameters: [OpenAPIParameter(query: "action", schema: JSONSchema.enumeration(KernelRegistry.actions), required: true)],
            responses: [200: OpenAPIResponse("Done", example: ["kernel_id": "kern-a1b2c3d4", "action": "restart", "status": "success"]),
                        400: OpenAPIResponse("Invalid action", schema: JSONSchema.errorDetail),
                        404: OpenAPIResponse("Kernel not found", schema: JSONSchema.errorDetail),
                        409: OpenAPIResponse("Stress on a stopped kernel", schema: JSONSchema.errorDetail),
                        422: OpenAPIResponse("Missing action", schema: JSONSchema.validationError)])) { request, context in
            let id = try context.parameters.require("id")
            guard let action = request.query["action"] else { throw ValidationError.missing(location: ["query", "action"]) }
            guard KernelRegistry.actions.contains(action) else {
                throw telemetryError(.badRequest, "Invalid action '\(action)'; expected one of \(KernelRegistry.actions.joined(separator: ", "))",
                                     code: "INVALID_ACTION", extra: [("loc", ["query", "action"])])
            }
            guard let kernel = module.kernels.kernel(id) else {
                throw telemetryError(.notFound, "Kernel \(id) not found", code: "KERNEL_NOT_FOUND", extra: [("kernel_id", .string(id))])
            }
            let extra = try module.kernels.control(kernel, action: action)
            let status = kernel.status
            module.publish("kernel_control", ["kernel_id": .string(id), "action": .string(action), "status": .string(status.status)])
            return .json(.object([("kernel_id", .string(id)), ("action", .string(action)), ("status", "success"),
                                  ("kernel_status", .string(status.status))] + extra))
        }

        group.get("kernels/{id}/logs", docs: OpenAPIOperation(
            summary: "A kernel's recent log lines", tags: ["telemetry"],
            queryParameters: [OpenAPIParameter(query: "lines", schema: JSONSchema.integer(in: 1...1000), description: "default 100")],
            responses: [404: .init("Kernel not found")])) { request, context in
            let id = try context.parameters.require("id")
            var query = TelemetryQuery(request)
            let lines = query.int("lines", default: 100, in: 1...1000)
            try query.finish()
            guard let kernel = module.kernels.kernel(id) else {
                throw telemetryError(.notFound, "Kernel \(id) not found", code: "KERNEL_NOT_FOUND", extra: [("kernel_id", .string(id))])
            }
            let tail = kernel.log.tail(lines)
            return .json(["kernel_id": .string(id), "name": .string(kernel.name), "lines": TelemetryFormat.strings(tail),
                          "returned": .int(tail.count), "available": .int(kernel.log.count)])
        }
    }

    private func kernelsStatus() throws -> Response {
        let totals = try module.tasks.kernelTotals()
        let now = module.host.clock.now().timeIntervalSince1970
        let rows: [(Kernel, Kernel.Status)] = module.kernels.kernels.map { ($0, $0.status) }
        let boots = rows.compactMap(\.1.bootMilliseconds)
        let kernels: [JSONValue] = rows.map { kernel, s in
            [
                "kernel_id": .string(kernel.id), "name": .string(kernel.name), "status": .string(s.status),
                "boot_time_ms": TelemetryFormat.number(s.bootMilliseconds, places: 3),
                "uptime_seconds": .int(s.startedAt.map { Int(now - $0) } ?? 0),
                "last_heartbeat": TelemetryFormat.iso(s.lastHeartbeat), "health": .string(s.health),
                "stress_score": .int(s.stressScore), "task_count": .int(totals[kernel.id]?.tasks ?? 0),
                "error_count": .int(totals[kernel.id]?.errors ?? 0), "busy": .bool(s.busy),
                "current_task_id": s.currentTask.map { .string($0) } ?? .null,
            ]
        }
        return .json([
            "total_kernels": .int(rows.count),
            "active": .int(rows.filter { $0.1.status == "active" }.count),
            "idle": .int(rows.filter { $0.1.status == "idle" }.count),
            "errors": .int(rows.filter { $0.1.status == "error" }.count),
            "avg_boot_time_ms": TelemetryFormat.number(TelemetryFormat.mean(boots) ?? 0, places: 3),
            "kernels": .array(kernels),
        ])
    }

    private func cryptoHealth() -> Response {
        let totals = (try? module.vaultStore.checkTotals()) ?? .init()
        let vault = module.vault
        let (verified, items) = module.crypto.verifyVault(vault, record: false)
        let keyAgeDays = vault.map { module.host.clock.now().timeIntervalSince($0.keyCreatedAt) / 86_400 }
        let model = module.crypto.current.lastModelCheckOK
        return .json([
            "overall_health": .string(module.crypto.status),
            "signatures_validated": .int(totals.validated),
            "signature_failures": .int(totals.failed),
            "key_rotation_due": keyAgeDays.map { .bool($0 > LearningLoop.keyRotationDays) } ?? .null,
            "last_key_rotation": vault.map { .string(TelemetryFormat.iso($0.keyCreatedAt)) } ?? .null,
            "encrypted_items": .int(items),
            "last_check_at": TelemetryFormat.iso(totals.lastCheckAt),
            "last_failure": totals.lastFailure.map { .string($0) } ?? .null,
            "components": [
                "signature_service": .string(model == nil ? "unknown" : model! ? "healthy" : "unhealthy"),
                "encryption_vault": .string(vault == nil ? "unavailable" : verified == items ? "healthy" : "degraded"),
                "key_manager": .string(vault == nil ? "unavailable" : (keyAgeDays ?? 0) > LearningLoop.keyRotationDays ? "rotation_due" : "healthy"),
            ],
            "served_model": module.crypto.servedModelFolder.map { .string($0.lastPathComponent) } ?? .null,
            "vault_key_id": vault.map { .string($0.keyID) } ?? .null,
        ])
    }

    private func throughput(hours: Int) throws -> Response {
        let now = module.host.clock.now().timeIntervalSince1970
        let t = try module.ingestion.throughput(since: now - Double(hours) * 3_600)
        let megabytes = TelemetryFormat.megabytes(t.bytes)
        let vitals = module.host.vitals()
        return .json([
            "period_hours": .int(hours), "total_jobs": .int(t.jobs), "completed_jobs": .int(t.completed), "failed_jobs": .int(t.failed),
            "total_mb": TelemetryFormat.number(megabytes), "avg_duration_seconds": TelemetryFormat.number(t.averageDuration ?? 0, places: 3),
            "max_duration_seconds": TelemetryFormat.number(t.maxDuration ?? 0, places: 3),
            "throughput_mb_per_hour": TelemetryFormat.number(megabytes / Double(hours), places: 4),
            "feed": [
                "total_records": .int(Int(vitals.feed.totalRecords)), "servers_tracked": .int(vitals.feed.serversTracked),
                "records_per_minute": TelemetryFormat.number(module.feedRecordsPerMinute),
                "last_inference_ms": TelemetryFormat.number(vitals.lastInferenceMilliseconds),
            ],
        ])
    }
}
